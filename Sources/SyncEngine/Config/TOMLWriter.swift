/// Writing values back as TOML text, for `crsync config` output and for quoting what a person wrote in
/// error messages (`(got "four")`).

/// A key as TOML needs it written: bare when it is only letters, digits, `_` and `-`, else quoted.
func tomlKey(_ key: String) -> String {
    let bare = !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar)
    return bare ? key : tomlString(key)
}

func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
    default: return false
    }
}

/// A basic "string" with the escapes TOML requires (quote, backslash, control characters).
func tomlString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// A float in a form TOML reads back to the same value.
func tomlFloat(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    let text = "\(value)"   // Swift prints the shortest text that reads back exactly: "2.5", "1e-05"
    return text.contains(".") || text.contains("e") ? text : text + ".0"
}

extension TOMLValue {
    /// The value as TOML text on one line; a table becomes an inline table.
    public var tomlText: String {
        switch content {
        case .string(let text): return tomlString(text)
        case .integer(let number): return String(number)
        case .float(let number): return tomlFloat(number)
        case .boolean(let flag): return flag ? "true" : "false"
        case .array(let items): return "[" + items.map(\.tomlText).joined(separator: ", ") + "]"
        case .table(let table):
            if table.keys.isEmpty { return "{}" }
            return "{ " + table.entries.map { tomlKey($0.key) + " = " + $0.value.tomlText }.joined(separator: ", ") + " }"
        }
    }
}
