import CSQLite
import Foundation

/// One connection to an SQLite database file, set up for an acknowledgement journal.
///
/// Statements on one connection may come from any thread (the connection is opened FULLMUTEX), but a
/// `transaction` is not isolated from statements other threads issue meanwhile on the same connection:
/// callers that share a connection serialize whole transactions themselves (`Journal` holds a lock).
public final class SQLiteDatabase {
    public let path: String
    let handle: OpaquePointer
    /// Compiled statements of `run` and `query`, by SQL text, ready for the next use: parsing a statement
    /// costs more than running it on a small table (issue 11: a pass spent its time in the parser). A
    /// statement in use is taken out, so two threads never share one.
    private var idle: [String: OpaquePointer] = [:]
    private let idleLock = NSLock()

    /// Opens (creating if needed) the database at `path`.
    ///
    /// WAL lets readers proceed while a writer commits. `synchronous=FULL` because in WAL mode NORMAL
    /// may lose the last commits on power loss: an acknowledged chunk must still be acknowledged after
    /// any crash, or a ≤4.6 server would be sent that chunk twice (§8 of the protocol notes).
    public init(path: String) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            let systemErrno = db.map { sqlite3_system_errno($0) } ?? 0
            sqlite3_close_v2(db)
            throw SQLiteError(path: path, statement: "open", code: rc, message: message, systemErrno: systemErrno)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        do {
            // journal_mode answers with the mode in force; a file system without shared memory may refuse
            // WAL and stay in rollback mode, which is slower but equally durable with synchronous=FULL.
            _ = try query("PRAGMA journal_mode=WAL") { $0.string(0) }
            try execute("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        } catch {
            sqlite3_close_v2(db)
            throw error
        }
    }

    deinit {
        for statement in idle.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters and return no rows worth reading.
    public func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(errorMessage)
            throw SQLiteError(path: path, statement: SQLiteError.firstWords(of: sql), code: rc, message: message,
                              systemErrno: sqlite3_system_errno(handle))
        }
    }

    /// Compiles one statement. It must not outlive this connection.
    public func prepare(_ sql: String) throws -> SQLiteStatement {
        try SQLiteStatement(database: self, sql: sql)
    }

    /// A statement for `sql`, compiled before if it was used before; handed back to `idle` when released.
    func reusable(_ sql: String) throws -> SQLiteStatement {
        if let handle = idleLock.withLock({ idle.removeValue(forKey: sql) }) {
            return SQLiteStatement(database: self, sql: sql, reusing: handle)
        }
        let statement = try prepare(sql)
        statement.reusable = true
        return statement
    }

    /// Takes back a statement after use (reset, so it holds no read snapshot); false if one is kept already.
    func putBack(_ sql: String, _ statement: OpaquePointer) -> Bool {
        idleLock.withLock {
            guard idle[sql] == nil else { return false }
            idle[sql] = statement
            return true
        }
    }

    /// Runs one statement with `values` bound to its parameters ?1, ?2, …; returns how many rows it changed.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int {
        let statement = try reusable(sql)
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs one query and turns each row into a value with `read`.
    public func query<T>(_ sql: String, _ values: [SQLiteValue] = [], read: (SQLiteRow) throws -> T) throws -> [T] {
        let statement = try reusable(sql)
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() {
            rows.append(try read(statement.row))
        }
        return rows
    }

    public enum TransactionKind: String, Sendable {
        /// Takes the write lock up front, so two processes that both read then write wait on busy_timeout
        /// at BEGIN instead of one failing with SQLITE_BUSY half way through.
        case immediate = "BEGIN IMMEDIATE"
        /// For transactions that only read: a consistent snapshot that never waits for writers in WAL mode.
        case deferred = "BEGIN DEFERRED"
    }

    /// Whether a transaction is open (not in autocommit mode).
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` inside BEGIN … COMMIT, rolling back if it throws. Transactions do not nest.
    @discardableResult
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try run(kind.rawValue)
        let result: T
        do {
            result = try body()
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        do {
            try run("COMMIT")
        } catch {
            // A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY); never leave it dangling.
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
        return result
    }

    /// `PRAGMA user_version`: the schema version the journal's migrations have reached.
    public var userVersion: Int {
        get throws { try query("PRAGMA user_version") { Int($0.int64(0)) }.first ?? 0 }
    }

    /// `PRAGMA quick_check`: the problems it finds, [] when the file is sound. It reads every page (but
    /// skips index-to-table cross checks), so its cost grows with the journal: see README for figures.
    public func quickCheck() throws -> [String] {
        let rows = try query("PRAGMA quick_check") { $0.string(0) ?? "" }
        return rows == ["ok"] ? [] : rows
    }

    public func setUserVersion(_ version: Int) throws {
        // PRAGMA takes no bound parameters; an Int cannot inject anything.
        try execute("PRAGMA user_version = \(version)")
    }

    func error(_ code: Int32, _ sql: String) -> SQLiteError {
        SQLiteError(path: path, statement: SQLiteError.firstWords(of: sql), code: code,
                    message: String(cString: sqlite3_errmsg(handle)), systemErrno: sqlite3_system_errno(handle))
    }
}
