/// A parsed TOML file: the subset real configuration files use. Comments, `[table]` and `[a.b]` headers,
/// `[[array.of.tables]]`, bare, quoted and dotted keys, "basic" and 'literal' strings, integers (with `_`,
/// and 0x/0o/0b), floats, booleans, arrays (across lines, trailing comma allowed) and `{ inline = tables }`.
/// Not supported, with an error saying so: multi-line strings and dates.
///
/// Written here rather than taken from a package because a configuration error must point at its line,
/// and the packages at hand either lose line numbers after parsing or cost a C++ build.
public struct TOMLDocument: Sendable, Equatable {
    /// The top-level table; every value in it remembers its line.
    public var root: TOMLTable

    /// Throws `TOMLError` naming `path`, the line and the column, and what was expected there.
    public init(parsing text: String, path: String) throws {
        var scanner = TOMLScanner(text, file: path)
        var root = TOMLTable(line: 1, origin: .header)
        // The table that `key = value` lines go into: the last header's key.
        var current: [TOMLKeyPart] = []
        while true {
            scanner.skipBlankLines()
            if scanner.atEnd { break }
            if scanner.current == "[" {
                let headerLine = scanner.line
                scanner.advance()
                let isArray = scanner.current == "["
                if isArray { scanner.advance() }
                scanner.skipSpaces()
                let key = try scanner.key()
                let close = isArray ? "]]" : "]"
                for _ in close.unicodeScalars {
                    guard scanner.current == "]" else {
                        throw scanner.error("expected '\(close)' to close the header \(isArray ? "[[" : "[")\(key.dotted), found \(scanner.found)")
                    }
                    scanner.advance()
                }
                if isArray {
                    try root.appendTable(at: key, line: headerLine, file: path)
                } else {
                    try root.defineTable(at: key, line: headerLine, file: path)
                }
                current = key
                try scanner.expectLineEnd(after: "the header \(isArray ? "[[" : "[")\(key.dotted)\(close)")
            } else {
                let key = try scanner.key()
                guard scanner.current == "=" else {
                    throw scanner.error("expected '=' after key '\(key.dotted)', found \(scanner.found)")
                }
                scanner.advance()
                scanner.skipSpaces()
                let value = try scanner.value()
                try root.withTable(at: current[...], creating: .implied, mayEnter: { _ in true }, file: path) { table in
                    try table.setValue(value, at: key, file: path)
                }
                try scanner.expectLineEnd(after: "the value of '\(key.dotted)'")
            }
        }
        self.root = root
    }
}
