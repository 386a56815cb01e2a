/// One value of a TOML document together with where it was written, so that a setting that is valid TOML
/// but a wrong setting can still be reported at its line.
public struct TOMLValue: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([TOMLValue])
        case table(TOMLTable)
    }

    public var content: Content
    /// 1-based line and column of the value's first character (of the header, for a `[table]`).
    public var line: Int
    public var column: Int
    /// True for an array made by `[[name]]` headers, the only kind a later `[[name]]` may append to.
    var isArrayOfTables = false

    public init(_ content: Content, line: Int, column: Int) {
        self.content = content
        self.line = line
        self.column = column
    }

    /// What kind of value this is, in the words an error message uses: "a string", "a table".
    public var kindName: String {
        switch content {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .boolean: return "a boolean"
        case .array: return isArrayOfTables ? "an array of tables" : "an array"
        case .table: return "a table"
        }
    }
}

/// A TOML table: its keys in the order written, each with its value.
public struct TOMLTable: Sendable, Equatable {
    /// How the table came to exist. TOML lets a table be defined once: by its `[header]`, by dotted keys
    /// (`a.b = 1`), or inline (`{...}`); a table only implied by a longer header (`[a]` in `[a.b]`) may
    /// still get its own header later.
    enum Origin: Sendable, Equatable {
        case implied, header, dottedKeys, inline
    }

    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]
    /// The line of the table's header, inline `{`, or first dotted key.
    public internal(set) var line: Int
    var origin: Origin

    init(line: Int, origin: Origin) {
        self.line = line
        self.origin = origin
    }

    public subscript(key: String) -> TOMLValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    /// The entries in the order written.
    public var entries: [(key: String, value: TOMLValue)] {
        keys.map { ($0, values[$0]!) }
    }
}
