import Foundation

/// Strings and numbers: the parts of TOML where one wrong character makes the difference.
extension TOMLScanner {
    /// A "basic string" with backslash escapes, on one line.
    mutating func basicString() throws -> String {
        let (startLine, startColumn) = (line, column)
        advance()   // "
        var out = ""
        while true {
            guard let scalar = current, scalar != "\n", scalar != "\r" else {
                throw error("the string that starts at column \(startColumn) has no closing '\"' on its line", line: startLine)
            }
            advance()
            switch scalar {
            case "\"": return out
            case "\\": out.unicodeScalars.append(try escape())
            case _ where isControl(scalar):
                throw error("control character U+\(hex(scalar.value)) in a string: write it as an escape like \\t", column: column - 1)
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    /// A 'literal string': no escapes, so a Windows path or a regular expression stays as written.
    mutating func literalString() throws -> String {
        let (startLine, startColumn) = (line, column)
        advance()   // '
        var out = ""
        while true {
            guard let scalar = current, scalar != "\n", scalar != "\r" else {
                throw error("the string that starts at column \(startColumn) has no closing \"'\" on its line", line: startLine)
            }
            advance()
            if scalar == "'" { return out }
            if isControl(scalar) {
                throw error("control character U+\(hex(scalar.value)) in a 'literal string'; use a \"basic string\" with an escape", column: column - 1)
            }
            out.unicodeScalars.append(scalar)
        }
    }

    /// The character after a backslash (already consumed).
    private mutating func escape() throws -> Unicode.Scalar {
        let escapeColumn = column - 1
        let letter = current
        advance()
        switch letter {
        case "b"?: return "\u{08}"
        case "t"?: return "\t"
        case "n"?: return "\n"
        case "f"?: return "\u{0C}"
        case "r"?: return "\r"
        case "e"?: return "\u{1B}"
        case "\""?: return "\""
        case "\\"?: return "\\"
        case "u"?, "U"?:
            let count = letter == "u" ? 4 : 8
            var digits = ""
            for _ in 0..<count {
                guard let scalar = current, scalar.properties.isASCIIHexDigit else { break }
                digits.unicodeScalars.append(scalar)
                advance()
            }
            guard digits.count == count, let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else {
                throw error("\\\(letter!) must be followed by \(count) hex digits naming a Unicode character", column: escapeColumn)
            }
            return scalar
        default:
            let shown = letter.map { "\\\($0)" } ?? "\\"
            throw error("unknown escape \(shown) in a \"string\": write \\\\ for a backslash, or use a 'literal string' (single quotes), which has no escapes",
                        column: escapeColumn)
        }
    }

    /// An integer (`42`, `-7`, `1_000`, `0x1F`, `0o17`, `0b101`) or a float (`2.5`, `1e3`, `-inf`).
    mutating func number() throws -> TOMLValue.Content {
        let startColumn = column
        var token = ""
        while let scalar = current, isBareKeyScalar(scalar) || scalar == "+" || scalar == "." || scalar == ":" {
            token.unicodeScalars.append(scalar)
            advance()
        }
        func bad(_ why: String) -> TOMLError {
            error("'\(token)' is not a number: \(why)", column: startColumn)
        }
        if token.contains(":") || token.range(of: #"^\d{4}-\d{2}"#, options: .regularExpression) != nil {
            throw error("dates and times are not supported here; quote it as a string, like \"\(token)\"", column: startColumn)
        }
        var body = Substring(token)
        var negative = false
        if let sign = body.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        if body == "inf" { return .float(negative ? -.infinity : .infinity) }
        if body == "nan" { return .float(.nan) }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard token.first != "+", token.first != "-" else { throw bad("a sign is not allowed before \(prefix)") }
            let digits = try withoutUnderscores(body.dropFirst(2), token: token, startColumn: startColumn, isDigit: { $0.properties.isASCIIHexDigit })
            guard let value = Int64(digits, radix: radix) else { throw bad("expected base-\(radix) digits after \(prefix)") }
            return .integer(value)
        }
        let plain = try withoutUnderscores(body, token: token, startColumn: startColumn, isDigit: { ("0"..."9").contains($0) })
        let integerPart = plain.prefix { $0.isASCII && $0.isNumber }
        guard !integerPart.isEmpty else { throw bad("expected digits") }
        if integerPart.count > 1, integerPart.first == "0" { throw bad("leading zeros are not allowed") }
        let isFloat = plain.contains(".") || plain.contains("e") || plain.contains("E")
        if isFloat {
            guard plain.range(of: #"^\d+(\.\d+)?([eE][+-]?\d+)?$"#, options: .regularExpression) != nil, let value = Double(plain) else {
                throw bad("expected digits on both sides of '.', like 2.5, or an exponent like 1e6")
            }
            return .float(negative ? -value : value)
        }
        guard integerPart.count == plain.count else { throw bad("expected only digits") }
        guard let value = Int64((negative ? "-" : "") + plain) else { throw bad("it does not fit in 64 bits") }
        return .integer(value)
    }

    /// Digits with TOML's `_` separators removed; each `_` must sit between two digits.
    private func withoutUnderscores(
        _ text: Substring, token: String, startColumn: Int, isDigit: (Unicode.Scalar) -> Bool
    ) throws -> String {
        let scalars = Array(text.unicodeScalars)
        for (offset, scalar) in scalars.enumerated() where scalar == "_" {
            let before = offset > 0 ? scalars[offset - 1] : nil
            let after = offset + 1 < scalars.count ? scalars[offset + 1] : nil
            guard let before, let after, isDigit(before), isDigit(after) else {
                throw error("'\(token)' is not a number: each '_' must sit between two digits, like 1_000", column: startColumn)
            }
        }
        return String(String.UnicodeScalarView(scalars.filter { $0 != "_" }))
    }
}

private func isControl(_ scalar: Unicode.Scalar) -> Bool {
    (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
