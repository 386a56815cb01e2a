/// `text` made safe for a person's terminal or a log line: every control character (ESC, newline, CR,
/// tab, …) and every byte of invalid UTF-8 shown as `\xNN`, the rest as is. A file name can then neither
/// clear the screen, move the cursor, nor forge a line of output, and the name can still be found and
/// renamed from the message. Escaping twice changes nothing (a backslash is not a control character).
/// The one escaping function of every human output: pass lines, summaries, log lines, failures.
public func printable(_ text: String) -> String {
    // Fast path: nearly every line has nothing to escape.
    if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return text }
    return PathBytes.display(Array(text.utf8))
}
