/// TOML's define-once rules, applied while a document is read: a key is set once, a table is defined once,
/// `[[name]]` appends only to arrays that `[[name]]` made, and inline tables are closed.

/// One part of a dotted key (`a."b c".d`), with where it was written.
struct TOMLKeyPart {
    var name: String
    var line: Int
    var column: Int
}

extension Array where Element == TOMLKeyPart {
    /// The key as a person would write it back: `servers.work.url`, quoting parts that need it.
    var dotted: String { map { tomlKey($0.name) }.joined(separator: ".") }
}

extension TOMLTable {
    /// Runs `body` on the table at `path` below this one. Missing tables on the way are created with
    /// `origin`; existing ones are entered when `mayEnter` accepts their origin. An array of tables is
    /// entered at its last element, as TOML says a header or key under `[[name]]` refers to it.
    /// `walked` is the part of the key already behind us, for messages.
    mutating func withTable(
        at path: ArraySlice<TOMLKeyPart>, walked: [TOMLKeyPart] = [], creating origin: Origin,
        mayEnter: (Origin) -> Bool, file: String, body: (inout TOMLTable) throws -> Void
    ) throws {
        guard let part = path.first else { return try body(&self) }
        let here = walked + [part]
        var value = self[part.name]
            ?? TOMLValue(.table(TOMLTable(line: part.line, origin: origin)), line: part.line, column: part.column)
        switch value.content {
        case .table(var table):
            guard mayEnter(table.origin) else {
                throw TOMLError(path: file, line: part.line, column: part.column,
                                message: "table '\(here.dotted)' is already defined on line \(table.line)"
                                    + (table.origin == .inline ? " as an inline table, which cannot be extended" : ""))
            }
            try table.withTable(at: path.dropFirst(), walked: here, creating: origin, mayEnter: mayEnter, file: file, body: body)
            value.content = .table(table)
        case .array(var items) where value.isArrayOfTables:
            guard case .table(var last)? = items.last?.content else { preconditionFailure("[[ ]] arrays hold tables") }
            try last.withTable(at: path.dropFirst(), walked: here, creating: origin, mayEnter: mayEnter, file: file, body: body)
            items[items.count - 1].content = .table(last)
            value.content = .array(items)
        default:
            throw TOMLError(path: file, line: part.line, column: part.column,
                            message: "key '\(here.dotted)' is already \(value.kindName) on line \(value.line), not a table")
        }
        self[part.name] = value
    }

    /// `key = value` inside this table; a dotted key makes (or extends) tables defined by dotted keys.
    mutating func setValue(_ value: TOMLValue, at key: [TOMLKeyPart], file: String) throws {
        let last = key[key.count - 1]
        try withTable(at: key.dropLast()[...], creating: .dottedKeys, mayEnter: { $0 == .dottedKeys }, file: file) { table in
            if let existing = table[last.name] {
                throw TOMLError(path: file, line: last.line, column: last.column,
                                message: "key '\(key.dotted)' is already set on line \(existing.line); each key may appear once per table")
            }
            table[last.name] = value
        }
    }

    /// A `[a.b.c]` header: defines table `a.b.c`, which may already exist only as implied by a longer header.
    mutating func defineTable(at key: [TOMLKeyPart], line: Int, file: String) throws {
        let last = key[key.count - 1]
        try withTable(at: key.dropLast()[...], creating: .implied, mayEnter: { $0 != .inline }, file: file) { table in
            guard let existing = table[last.name] else {
                table[last.name] = TOMLValue(.table(TOMLTable(line: line, origin: .header)), line: line, column: last.column)
                return
            }
            if case .table(var defined) = existing.content, defined.origin == .implied {
                defined.origin = .header
                defined.line = line
                table[last.name]!.content = .table(defined)
                return
            }
            let hint = existing.isArrayOfTables ? ": it is an array of tables, so write [[\(key.dotted)]]" : ""
            throw TOMLError(path: file, line: last.line, column: last.column,
                            message: "'\(key.dotted)' is already defined on line \(existing.line)\(hint); each table may be defined once")
        }
    }

    /// A `[[a.b.c]]` header: appends a new table to the array of tables `a.b.c`, making the array if needed.
    mutating func appendTable(at key: [TOMLKeyPart], line: Int, file: String) throws {
        let last = key[key.count - 1]
        try withTable(at: key.dropLast()[...], creating: .implied, mayEnter: { $0 != .inline }, file: file) { table in
            let element = TOMLValue(.table(TOMLTable(line: line, origin: .header)), line: line, column: last.column)
            guard var existing = table[last.name] else {
                var array = TOMLValue(.array([element]), line: line, column: last.column)
                array.isArrayOfTables = true
                table[last.name] = array
                return
            }
            guard case .array(var items) = existing.content, existing.isArrayOfTables else {
                throw TOMLError(path: file, line: last.line, column: last.column,
                                message: "'\(key.dotted)' is already \(existing.kindName) on line \(existing.line), so [[\(key.dotted)]] cannot add to it")
            }
            items.append(element)
            existing.content = .array(items)
            table[last.name] = existing
        }
    }
}
