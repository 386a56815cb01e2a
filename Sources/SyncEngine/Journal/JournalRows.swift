import Foundation

/// How journal rows map to records and back: the column lists and the conversions, kept in one place so
/// that the SELECTs in `Journal` and the decoding here cannot drift apart.
enum JournalRows {
    static let fileColumns = """
        id, root, path, state, device, inode, size, mtime_ns,
        remote_file_id, remote_entity, remote_size, remote_mtime_ns,
        attempts, next_attempt_at, last_error, permanent_failure, failure_code
        """

    static func file(_ row: SQLiteRow) -> FileRecord {
        let remote: RemoteBaseline? = row.isNull(8) ? nil : RemoteBaseline(
            fileID: row.string(8) ?? "", entity: row.string(9) ?? "",
            size: row.int64(10), mtimeNs: row.int64(11))
        return FileRecord(
            id: row.int64(0),
            root: row.string(1) ?? "",
            path: row.string(2) ?? "",
            // The CHECK constraint admits only the three states.
            state: FileState(rawValue: row.string(3) ?? "") ?? .pending,
            local: identity(row, from: 4),
            remote: remote,
            attempts: Int(row.int64(12)),
            nextAttemptAt: row.isNull(13) ? nil : Date(timeIntervalSince1970: row.double(13)),
            lastError: row.string(14),
            permanentFailure: row.int64(15) != 0,
            failureCode: row.isNull(16) ? nil : Int(row.int64(16)))
    }

    static let sessionColumns = """
        file_id, session_id, uri, session_json, server_version, chunk_size, chunk_count, expires,
        device, inode, size, mtime_ns, created_at
        """

    /// The session row without its acknowledged chunks, which live in their own table.
    static func session(_ row: SQLiteRow) -> SessionRecord {
        SessionRecord(
            fileRowID: row.int64(0),
            sessionID: row.string(1) ?? "",
            uri: row.string(2) ?? "",
            sessionJSON: row.bytes(3) ?? [],
            serverVersion: row.string(4) ?? "",
            chunkSize: row.int64(5),
            chunkCount: Int(row.int64(6)),
            expires: Date(timeIntervalSince1970: row.double(7)),
            identity: identity(row, from: 8),
            createdAt: Date(timeIntervalSince1970: row.double(12)))
    }

    /// Values for `sessionColumns`, in order.
    static func sessionValues(_ session: SessionRecord) -> [SQLiteValue] {
        [.integer(session.fileRowID), .text(session.sessionID), .text(session.uri), .blob(session.sessionJSON),
         .text(session.serverVersion), .integer(session.chunkSize), .integer(Int64(session.chunkCount)),
         .real(session.expires.timeIntervalSince1970)]
            + identityValues(session.identity)
            + [.real(session.createdAt.timeIntervalSince1970)]
    }

    /// Four values for device, inode, size, mtime_ns. Device and inode are UInt64 kept by bit pattern,
    /// because SQLite integers are signed 64-bit.
    static func identityValues(_ identity: FileIdentity) -> [SQLiteValue] {
        [.integer(Int64(bitPattern: identity.device)), .integer(Int64(bitPattern: identity.inode)),
         .integer(identity.size), .integer(identity.mtimeNs)]
    }

    static func identity(_ row: SQLiteRow, from column: Int32) -> FileIdentity {
        FileIdentity(device: UInt64(bitPattern: row.int64(column)), inode: UInt64(bitPattern: row.int64(column + 1)),
                     size: row.int64(column + 2), mtimeNs: row.int64(column + 3))
    }

    static func date(_ date: Date?) -> SQLiteValue {
        date.map { .real($0.timeIntervalSince1970) } ?? .null
    }

    static func text(_ text: String?) -> SQLiteValue {
        text.map { .text($0) } ?? .null
    }
}
