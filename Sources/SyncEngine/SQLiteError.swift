import CSQLite

/// A failure of the journal's database, carrying what a person needs to act on it:
/// which database file, which statement, SQLite's own message and, for the common causes, what to do.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// The database file.
    public var path: String
    /// The first words of the statement that failed ("INSERT INTO chunks"), or what was being done ("open").
    public var statement: String
    /// SQLite's extended result code, or 0 when the failure did not come from SQLite (e.g. creating the folder).
    public var code: Int32
    /// SQLite's message (`sqlite3_errmsg`), or the system's.
    public var message: String

    public init(path: String, statement: String, code: Int32, message: String) {
        self.path = path
        self.statement = statement
        self.code = code
        self.message = message
    }

    public var description: String {
        var text = "journal \(path): \(statement): \(message)"
        if code != 0 { text += " (sqlite code \(code))" }
        if let hint = SQLiteError.hint(forCode: code) { text += "; \(hint)" }
        return text
    }

    /// What to do next, for the result codes a person can do something about.
    static func hint(forCode code: Int32) -> String? {
        switch code & 0xff {  // primary code: the low byte of an extended one
        case SQLITE_BUSY, SQLITE_LOCKED:
            return "another process holds the journal locked; is a second crsync running for this configuration?"
        case SQLITE_FULL:
            return "the disk holding the journal is full; free space and start crsync again"
        case SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
            return "check that the user running crsync owns the journal file and its folder"
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return "the journal is damaged; move it aside and crsync will rebuild it from a full scan"
        case SQLITE_IOERR:
            return "the disk reported an I/O error; check the system log"
        default:
            return nil
        }
    }

    /// The first few words of a statement: enough to recognise it in a log line without dumping the whole SQL.
    static func firstWords(of sql: String, count: Int = 3) -> String {
        sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            .prefix(count)
            .joined(separator: " ")
    }
}
