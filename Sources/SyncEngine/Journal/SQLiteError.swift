import CSQLite
import Glibc

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
    /// The operating system's errno behind an I/O failure (`sqlite3_system_errno`), 0 when none: SQLite
    /// reports a full disk as SQLITE_FULL on the database, but as an I/O error on its -shm file.
    public var systemErrno: Int32

    public init(path: String, statement: String, code: Int32, message: String, systemErrno: Int32 = 0) {
        self.path = path
        self.statement = statement
        self.code = code
        self.message = message
        self.systemErrno = systemErrno
    }

    /// The file is not a database, or its pages contradict each other: only rebuilding it helps.
    public var isCorruption: Bool { SQLiteError.isCorruption(code: code) }

    /// The disk holding the journal (the state directory) has no room left.
    public var isDiskFull: Bool { SQLiteError.isDiskFull(code: code, systemErrno: systemErrno) }

    static func isCorruption(code: Int32) -> Bool {
        code & 0xff == SQLITE_CORRUPT || code & 0xff == SQLITE_NOTADB
    }

    static func isDiskFull(code: Int32, systemErrno: Int32) -> Bool {
        code & 0xff == SQLITE_FULL || (code != 0 && (systemErrno == ENOSPC || systemErrno == EDQUOT))
    }

    public var description: String {
        var text = "journal \(path): \(statement): \(message)"
        if code != 0 { text += " (sqlite code \(code))" }
        if let hint = SQLiteError.hint(forCode: isDiskFull ? SQLITE_FULL : code) { text += "; \(hint)" }
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
            return "the journal is damaged; run `crsync sync` or `crsync run` again: it moves the damaged journal aside "
                + "and rebuilds it from a scan and the server's listing, without sending again what the server holds"
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
