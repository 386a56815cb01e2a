import CSQLite

/// A value bound to a statement parameter.
public enum SQLiteValue: Sendable {
    case integer(Int64)
    case real(Double)
    /// Bound as exactly the string's UTF-8 bytes: no normalization, so "é" (NFC) and "e\u{301}" (NFD)
    /// stay different keys under BINARY collation, as they are different names on Linux and on the server.
    case text(String)
    case blob([UInt8])
    case null
}

/// A compiled statement. Finalized when released; must not outlive its `SQLiteDatabase`.
public final class SQLiteStatement {
    let database: SQLiteDatabase
    let sql: String
    let handle: OpaquePointer
    /// Handed back to the connection for the next use of the same SQL instead of being finalized.
    var reusable = false

    init(database: SQLiteDatabase, sql: String, reusing handle: OpaquePointer) {
        self.database = database
        self.sql = sql
        self.handle = handle
        reusable = true
    }

    init(database: SQLiteDatabase, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(database.handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw database.error(rc, sql)
        }
        self.database = database
        self.sql = sql
        self.handle = statement
    }

    deinit {
        if reusable {
            // Reset now: a query left mid-way would otherwise keep its read snapshot open.
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            if database.putBack(sql, handle) { return }
        }
        sqlite3_finalize(handle)
    }

    /// Binds `values` to parameters 1…n, after clearing earlier bindings and resetting the statement.
    public func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .integer(let number):
                rc = sqlite3_bind_int64(handle, index, number)
            case .real(let number):
                rc = sqlite3_bind_double(handle, index, number)
            case .text(let text):
                rc = Array(text.utf8).withUnsafeBytes { buffer in
                    // An empty string must be bound as '' (non-NULL pointer), not as SQL NULL.
                    let pointer = (buffer.baseAddress ?? UnsafeRawPointer(emptyBytes)).assumingMemoryBound(to: CChar.self)
                    return sqlite3_bind_text(handle, index, pointer, Int32(buffer.count), crsync_sqlite_transient())
                }
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes { buffer in
                    sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(emptyBytes),
                                      Int32(buffer.count), crsync_sqlite_transient())
                }
            case .null:
                rc = sqlite3_bind_null(handle, index)
            }
            if rc != SQLITE_OK { throw database.error(rc, sql) }
        }
    }

    /// Advances to the next row: true when a row is ready in `row`, false when the statement is done.
    public func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        case let rc:
            // The statement's error is reported by step in v2 interfaces; reset so the connection is free.
            let error = database.error(rc, sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// The current row; valid until the next `step`.
    public var row: SQLiteRow { SQLiteRow(handle: handle) }
}

/// One zero byte that lives as long as the process: a non-NULL pointer for empty text and blobs,
/// which SQLite would otherwise store as NULL.
private let emptyBytes: UnsafeMutablePointer<UInt8> = {
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return pointer
}()

/// Reads the columns of the current row, by 0-based column index.
public struct SQLiteRow {
    let handle: OpaquePointer

    public func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    public func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    public func double(_ column: Int32) -> Double {
        sqlite3_column_double(handle, column)
    }

    /// The column's text, decoded from exactly its stored UTF-8 bytes; nil for NULL.
    public func string(_ column: Int32) -> String? {
        guard let bytes = bytes(column) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The column's bytes; nil for NULL, [] for an empty blob or text.
    public func bytes(_ column: Int32) -> [UInt8]? {
        if isNull(column) { return nil }
        // Ask for the pointer before the length, as SQLite's documentation prescribes.
        let pointer = sqlite3_column_blob(handle, column)
        let count = Int(sqlite3_column_bytes(handle, column))
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
