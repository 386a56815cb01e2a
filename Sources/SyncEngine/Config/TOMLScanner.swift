/// Reads TOML text scalar by scalar, keeping line and column, and turns keys and values into
/// `TOMLKeyPart` and `TOMLValue`. The line structure (headers, one `key = value` per line) is
/// `TOMLDocument`'s.
struct TOMLScanner {
    let file: String
    private let text: [Unicode.Scalar]
    private(set) var index = 0
    private(set) var line = 1
    private var lineStart = 0

    init(_ text: String, file: String) {
        self.text = Array(text.unicodeScalars)
        self.file = file
    }

    var column: Int { index - lineStart + 1 }
    var current: Unicode.Scalar? { index < text.count ? text[index] : nil }
    var atEnd: Bool { index >= text.count }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    mutating func advance() {
        if current == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    func error(_ message: String, line: Int? = nil, column: Int? = nil) -> TOMLError {
        TOMLError(path: file, line: line ?? self.line, column: column ?? self.column, message: message)
    }

    /// The current character as an error message shows it.
    var found: String {
        switch current {
        case nil: return "the end of the file"
        case "\n"?, "\r"?: return "the end of the line"
        case let scalar?: return "'\(scalar)'"
        }
    }

    // MARK: Whitespace, comments, line ends

    mutating func skipSpaces() {
        while current == " " || current == "\t" { advance() }
    }

    mutating func skipComment() {
        guard current == "#" else { return }
        while let scalar = current, scalar != "\n", !(scalar == "\r" && peek(1) == "\n") { advance() }
    }

    /// Consumes one line break (`\n` or `\r\n`); false when there is none here.
    mutating func takeLineBreak() -> Bool {
        if current == "\n" { advance(); return true }
        if current == "\r", peek(1) == "\n" { advance(); advance(); return true }
        return false
    }

    /// Spaces, comments and line breaks, as allowed between the elements of an array.
    mutating func skipBlankLines() {
        while true {
            skipSpaces()
            skipComment()
            if !takeLineBreak() { return }
        }
    }

    /// After a header or `key = value` only a comment may follow on the same line.
    mutating func expectLineEnd(after what: String) throws {
        skipSpaces()
        skipComment()
        guard atEnd || takeLineBreak() else {
            throw error("expected the end of the line after \(what), found \(found)")
        }
    }

    // MARK: Keys

    /// `a`, `"a b"`, `'a'`, or dotted: `servers.work."my key"`.
    mutating func key() throws -> [TOMLKeyPart] {
        var parts = [try keyPart()]
        skipSpaces()
        while current == "." {
            advance()
            skipSpaces()
            parts.append(try keyPart())
            skipSpaces()
        }
        return parts
    }

    private mutating func keyPart() throws -> TOMLKeyPart {
        let (startLine, startColumn) = (line, column)
        switch current {
        case "\""?:
            if peek(1) == "\"", peek(2) == "\"" { throw error("a key cannot be a multi-line string") }
            return TOMLKeyPart(name: try basicString(), line: startLine, column: startColumn)
        case "'"?:
            return TOMLKeyPart(name: try literalString(), line: startLine, column: startColumn)
        case let scalar? where isBareKeyScalar(scalar):
            var name = ""
            while let scalar = current, isBareKeyScalar(scalar) {
                name.unicodeScalars.append(scalar)
                advance()
            }
            return TOMLKeyPart(name: name, line: startLine, column: startColumn)
        default:
            throw error("expected a key (letters, digits, '_' and '-', or a quoted \"string\"), found \(found)")
        }
    }

    // MARK: Values

    /// One value, starting at the current character.
    mutating func value() throws -> TOMLValue {
        let (startLine, startColumn) = (line, column)
        func made(_ content: TOMLValue.Content) -> TOMLValue { TOMLValue(content, line: startLine, column: startColumn) }
        switch current {
        case "\""?:
            if peek(1) == "\"", peek(2) == "\"" {
                throw error("multi-line strings (\"\"\") are not supported here; write the text on one line, with \\n for line breaks")
            }
            return made(.string(try basicString()))
        case "'"?:
            if peek(1) == "'", peek(2) == "'" {
                throw error("multi-line strings (''') are not supported here; write the text on one line")
            }
            return made(.string(try literalString()))
        case "["?:
            return made(.array(try array()))
        case "{"?:
            return made(.table(try inlineTable()))
        case let scalar? where ("0"..."9").contains(scalar) || scalar == "+" || scalar == "-":
            return made(try number())
        case let scalar? where isBareKeyScalar(scalar):
            var word = ""
            while let scalar = current, isBareKeyScalar(scalar) || scalar == "." {
                word.unicodeScalars.append(scalar)
                advance()
            }
            switch word {
            case "true": return made(.boolean(true))
            case "false": return made(.boolean(false))
            case "inf", "nan": return made(.float(word == "inf" ? .infinity : .nan))
            default:
                throw error("expected a value, found the bare word '\(word)': quote text, like \"\(word)\"",
                            line: startLine, column: startColumn)
            }
        default:
            throw error("expected a value (a \"string\", a number, true or false, an [array] or an { inline = table }), found \(found)")
        }
    }

    private mutating func array() throws -> [TOMLValue] {
        let openLine = line
        advance()   // [
        var items: [TOMLValue] = []
        while true {
            skipBlankLines()
            if current == "]" { advance(); return items }
            items.append(try value())
            skipBlankLines()
            if current == "," { advance(); continue }
            if current == "]" { advance(); return items }
            throw error("expected ',' or ']' in the array that starts on line \(openLine), found \(found)")
        }
    }

    /// `{ a = 1, b.c = "x" }`. As TOML 1.1 allows, it may span lines and end with a comma.
    private mutating func inlineTable() throws -> TOMLTable {
        let openLine = line
        advance()   // {
        var table = TOMLTable(line: openLine, origin: .inline)
        while true {
            skipBlankLines()
            if current == "}" { advance(); return table }
            let key = try key()
            guard current == "=" else { throw error("expected '=' after key '\(key.dotted)', found \(found)") }
            advance()
            skipSpaces()
            try table.setValue(try value(), at: key, file: file)
            skipBlankLines()
            if current == "," { advance(); continue }
            if current == "}" { advance(); return table }
            throw error("expected ',' or '}' in the inline table that starts on line \(openLine), found \(found)")
        }
    }
}
