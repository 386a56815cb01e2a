import CloudreveAPI
import Foundation

/// The durable record of what is local, what the server holds, and which upload sessions and chunks are
/// in flight: the only state shared between scanner, watcher and upload workers, and what survives kill -9.
///
/// Every method is atomic (a write is its own savepoint in a transaction shared with concurrent writes) on one
/// connection behind a lock, so any plain thread may
/// call any method; each blocks on disk I/O (a write waits for its group's fsync, `GroupCommit`), so keep them
/// off Swift's cooperative pool.
/// Every method throws `SQLiteError`.
///
/// Methods that change one file by row id do nothing when the row is gone: the file vanished locally and
/// `forget` won the race with whoever was working on it.
///
/// `@unchecked Sendable`: all state is the connection, and every use of it is under `lock`.
public final class Journal: @unchecked Sendable {
    public let path: String
    let database: SQLiteDatabase
    /// The mutex every use of the connection holds; writers also wait on it for their group's commit.
    private let lock = CommitLock()
    /// Guarded by `lock`.
    private var group = GroupCommit()
    /// Writers that have asked for `lock` and not yet added their work, guarded by `arrivals`: they count
    /// themselves before they hold `lock`, so that a committer can wait for them.
    private var arriving = 0
    /// `learnSetting`'s memory of values this process wrote or read.
    private var learned: [String: String] = [:]
    private let arrivals = NSLock()

    /// Opens the journal at `path`, creating its folder (0700) and file (0600) if needed, and migrates
    /// its schema to the current version. `check`: run `PRAGMA quick_check` first and throw a corruption
    /// error (SQLITE_CORRUPT) when it finds any, so that damage is found at open, not mid-pass.
    public init(path: String, check: Bool = false) throws {
        self.path = path
        try JournalFile.createPrivately(at: path)
        database = try SQLiteDatabase(path: path)
        if check, let problem = try database.quickCheck().first {
            throw SQLiteError(path: path, statement: "PRAGMA quick_check", code: 11 /* SQLITE_CORRUPT */, message: problem)
        }
        try JournalSchema.migrate(database)
    }

    // MARK: Files

    public func record(root: String, path: String) throws -> FileRecord? {
        try locked {
            try fileRecord(root: root, path: path)
        }
    }

    /// The record with row id `id`, e.g. to tell whether a session's file was forgotten.
    public func record(id: Int64) throws -> FileRecord? {
        try locked {
            try database.query("SELECT \(JournalRows.fileColumns) FROM files WHERE id = ?1",
                               [.integer(id)], read: JournalRows.file).first
        }
    }

    /// All records under `root`, ordered by the bytes of their paths.
    public func records(root: String) throws -> [FileRecord] {
        try locked {
            try database.query("SELECT \(JournalRows.fileColumns) FROM files WHERE root = ?1 ORDER BY path",
                               [.text(root)], read: JournalRows.file)
        }
    }

    /// What a whole pass compares its scan with, read in one statement: per path only what tells an
    /// unchanged file from a changed one. A full `FileRecord` per file (ten more fields, four of them
    /// strings) made this read and the comparison a third of a no-change pass.
    public func scanBaselines(root: String) throws -> [ExactPath: ScanBaseline] {
        try locked {
            let statement = try database.prepare("SELECT path, id, state, device, inode, size, mtime_ns FROM files WHERE root = ?1")
            try statement.bind([.text(root)])
            var baselines: [ExactPath: ScanBaseline] = [:]
            while try statement.step() {
                let row = statement.row
                baselines[ExactPath(row.string(0) ?? "")] = ScanBaseline(
                    id: row.int64(1), local: JournalRows.identity(row, from: 3), synced: row.string(2) == FileState.synced.rawValue)
            }
            return baselines
        }
    }

    /// Records what a scan saw. A new path, or an identity that differs from the recorded one, becomes `pending`
    /// (attempts reset, permanent failure cleared); an unchanged file keeps its state. Returns the record after.
    public func noteScanned(root: String, path: String, identity: FileIdentity) throws -> FileRecord {
        // A file the pass already noted (every scanned file) is read, not written: a write, even one that
        // changes nothing, joins a group commit and waits for it.
        if let known = try locked({ try fileRecord(root: root, path: path) }), known.local == identity { return known }
        return try writing {
            try noteOne(root: root, path: path, identity: identity)
        }
    }

    /// `noteScanned` for many files in one transaction: one fsync for a whole scan instead of one per file.
    public func noteScanned(root: String, files: [ScannedFile]) throws -> [FileRecord] {
        try writing {
            try files.map { try noteOne(root: root, path: $0.path, identity: $0.identity) }
        }
    }

    /// The file's content `identity` is now on the server as `remote`. Also deletes its session and the
    /// session's chunks, in the same transaction, so a crash cannot leave a finished upload resumable.
    /// `finishing`: the queue items done with it, deleted in the same transaction (one fsync, not two).
    public func markSynced(fileRowID: Int64, identity: FileIdentity, remote: RemoteBaseline, finishing: [WorkItem] = []) throws {
        try writing {
            try deleteWork(finishing)
            // `identity` is what was uploaded, which may be older than what a scan noted meanwhile:
            // recording it makes the next scan see the difference and mark the file pending again.
            try database.run("""
                UPDATE files SET state = 'synced', device = ?2, inode = ?3, size = ?4, mtime_ns = ?5,
                    remote_file_id = ?6, remote_entity = ?7, remote_size = ?8, remote_mtime_ns = ?9,
                    attempts = 0, next_attempt_at = NULL, last_error = NULL, permanent_failure = 0
                WHERE id = ?1
                """,
                [.integer(fileRowID)] + JournalRows.identityValues(identity)
                    + [.text(remote.fileID), .text(remote.entity), .integer(remote.size), .integer(remote.mtimeNs)])
            try database.run("DELETE FROM sessions WHERE file_id = ?1", [.integer(fileRowID)])
        }
    }

    /// Files of `root` recorded as uploaded whose server id and entity are not learned yet (UnconfirmedBaseline.swift).
    func unconfirmedRecords(root: String) throws -> [FileRecord] {
        try locked {
            try database.query("""
                SELECT \(JournalRows.fileColumns) FROM files
                WHERE root = ?1 AND state = 'synced' AND remote_file_id = ''
                ORDER BY path
                """, [.text(root)], read: JournalRows.file)
        }
    }

    /// Records the id and entity learned for unconfirmed baselines, in one transaction. A record whose
    /// baseline changed meanwhile (a newer upload) is left alone.
    func learnBaselines(_ learned: [(fileRowID: Int64, was: RemoteBaseline, now: RemoteBaseline)]) throws {
        guard !learned.isEmpty else { return }
        try writing {
            for item in learned {
                try database.run("""
                    UPDATE files SET remote_file_id = ?2, remote_entity = ?3
                    WHERE id = ?1 AND remote_file_id = '' AND remote_size = ?4 AND remote_mtime_ns = ?5
                    """, [.integer(item.fileRowID), .text(item.now.fileID), .text(item.now.entity),
                          .integer(item.was.size), .integer(item.was.mtimeNs)])
            }
        }
    }

    /// An attempt failed: attempts += 1. `permanent` when retrying cannot help (§8 step 6); `nextAttemptAt`
    /// is when a retry may start (nil: at once, or never if permanent).
    public func markFailed(fileRowID: Int64, reason: String, permanent: Bool, nextAttemptAt: Date?, code: Int? = nil) throws {
        try writing {
            try database.run("""
                UPDATE files SET state = 'failed', attempts = attempts + 1, last_error = ?2,
                    permanent_failure = ?3, next_attempt_at = ?4, failure_code = ?5
                WHERE id = ?1
                """,
                [.integer(fileRowID), .text(reason), .integer(permanent ? 1 : 0), JournalRows.date(nextAttemptAt),
                 code.map { .integer(Int64($0)) } ?? .null])
        }
    }

    /// Back to `pending` with a clean slate (e.g. `crsync retry`). `lastError` is kept as history.
    public func markPending(fileRowID: Int64) throws {
        try writing {
            try database.run("UPDATE files SET \(Self.backToPending) WHERE id = ?1", [.integer(fileRowID)])
        }
    }

    /// A file, or a folder and everything under it, was moved within the root (and on the server):
    /// the records follow, keeping what the server holds. Returns how many records moved.
    @discardableResult
    public func move(root: String, from: String, to: String) throws -> Int {
        try writing {
            // substr on bytes (BLOB casts) so that a prefix test never folds NFC and NFD together.
            try database.run("""
                UPDATE files SET path = ?3 || CAST(substr(CAST(path AS BLOB), length(CAST(?2 AS BLOB)) + 1) AS TEXT)
                WHERE root = ?1 AND (path = ?2 OR substr(CAST(path AS BLOB), 1, length(CAST(?2 AS BLOB)) + 1) = CAST(?2 || '/' AS BLOB))
                """, [.text(root), .text(from), .text(to)])
        }
    }

    /// Records of `path` and, if it is a folder, of everything under it.
    public func records(root: String, under path: String) throws -> [FileRecord] {
        try locked {
            try database.query("""
                SELECT \(JournalRows.fileColumns) FROM files
                WHERE root = ?1 AND (path = ?2 OR substr(CAST(path AS BLOB), 1, length(CAST(?2 AS BLOB)) + 1) = CAST(?2 || '/' AS BLOB))
                ORDER BY path
                """, [.text(root), .text(path)], read: JournalRows.file)
        }
    }

    /// Every root the journal has records of.
    public func rootKeys() throws -> [String] {
        try locked {
            try database.query("SELECT DISTINCT root FROM files ORDER BY root") { $0.string(0) ?? "" }
        }
    }

    /// Every failed file back to `pending` (`crsync retry`); returns how many.
    @discardableResult
    public func retryFailed() throws -> Int {
        try writing {
            try database.run("UPDATE files SET \(Self.backToPending) WHERE state = 'failed'")
        }
    }

    /// The file vanished locally. Its session, if any, stays journaled (see `sessions()`) so that it can
    /// still be cancelled on the server, which would otherwise keep the placeholder, its lock and its quota
    /// charge (§8 step 7); `deleteSession` removes it after that.
    public func forget(fileRowID: Int64) throws {
        try writing {
            try database.run("DELETE FROM files WHERE id = ?1", [.integer(fileRowID)])
        }
    }

    // MARK: Sessions

    /// Persists `session` before its first chunk is sent, replacing any other session of that file (and its
    /// chunks). `acknowledged` is ignored; saving again under the same session id keeps the chunks already
    /// acknowledged, because a ≤4.6 server must never be sent a chunk twice (§8 step 3).
    public func saveSession(_ session: SessionRecord) throws {
        try writing {
            // The session is known now: the intent noted before asking the server for it is done with.
            try database.run("DELETE FROM settings WHERE key = ?1", [.text(Journal.creatingKey(session.fileRowID))])
            try database.run("DELETE FROM sessions WHERE file_id = ?1 AND session_id <> ?2",
                             [.integer(session.fileRowID), .text(session.sessionID)])
            try database.run("""
                INSERT INTO sessions (\(JournalRows.sessionColumns))
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                ON CONFLICT (session_id) DO UPDATE SET
                    file_id = excluded.file_id, uri = excluded.uri, session_json = excluded.session_json,
                    server_version = excluded.server_version, chunk_size = excluded.chunk_size,
                    chunk_count = excluded.chunk_count, expires = excluded.expires, device = excluded.device,
                    inode = excluded.inode, size = excluded.size, mtime_ns = excluded.mtime_ns,
                    created_at = excluded.created_at
                """, JournalRows.sessionValues(session))
        }
    }

    /// Notes, before `PUT /file/upload`, that a session is being created for this file. A crash between
    /// the server creating it and `saveSession` leaves this marker, which proves that the placeholder
    /// (and the lock that blocks the next attempt with 40073) is ours to cancel. Returns whether the marker
    /// was already there: a creation was under way when crsync last stopped.
    @discardableResult
    public func noteCreatingSession(fileRowID: Int64) throws -> Bool {
        let key = Journal.creatingKey(fileRowID)
        return try writing {
            let before = try database.query("SELECT 1 FROM settings WHERE key = ?1", [.text(key)]) { _ in true }.first ?? false
            try storeSetting(key, String(Date().timeIntervalSince1970))
            return before
        }
    }

    public func clearCreatingSession(fileRowID: Int64) throws {
        try writing {
            try database.run("DELETE FROM settings WHERE key = ?1", [.text(Journal.creatingKey(fileRowID))])
        }
    }

    static func creatingKey(_ fileRowID: Int64) -> String { "creating_session:\(fileRowID)" }

    /// The file's session with its acknowledged chunks, if one is journaled.
    public func session(fileRowID: Int64) throws -> SessionRecord? {
        try reading {
            try database.query("SELECT \(JournalRows.sessionColumns) FROM sessions WHERE file_id = ?1",
                               [.integer(fileRowID)], read: JournalRows.session)
                .first.map(withAcknowledged)
        }
    }

    /// Every journaled session, including those whose file was forgotten (no record with that row id).
    public func sessions() throws -> [SessionRecord] {
        try reading {
            try database.query("SELECT \(JournalRows.sessionColumns) FROM sessions ORDER BY created_at, session_id",
                               read: JournalRows.session)
                .map(withAcknowledged)
        }
    }

    /// Records that the server acknowledged chunk `index`: one tiny durable transaction, nothing else in it,
    /// so that the acknowledgement is on disk before the next chunk is sent. Acknowledging twice is harmless.
    /// Throws when `sessionID` is not journaled (deleted meanwhile, or never saved).
    public func acknowledgeChunk(sessionID: String, index: Int) throws {
        try writing {
            do {
                // ON CONFLICT, unlike INSERT OR IGNORE, leaves
                // the CHECK on idx and the foreign key to sessions in force.
                try database.run("INSERT INTO chunks (session_id, idx) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                                 [.text(sessionID), .integer(Int64(index))])
            } catch var error as SQLiteError where error.code == 787 /* SQLITE_CONSTRAINT_FOREIGNKEY */ {
                error.message = "no journaled upload session \(shortSessionID(sessionID)): it was deleted or never saved"
                throw error
            }
        }
    }

    /// Deletes the session and its chunk rows; deleting an unknown session does nothing.
    public func deleteSession(sessionID: String) throws {
        try writing {
            try database.run("DELETE FROM sessions WHERE session_id = ?1", [.text(sessionID)])
        }
    }

    // MARK: Inside the lock

    /// The columns a file returns to when it must be uploaded (again) from a clean slate.
    private static let backToPending = "state = 'pending', attempts = 0, permanent_failure = 0, next_attempt_at = NULL"

    private func noteOne(root: String, path: String, identity: FileIdentity) throws -> FileRecord {
        // An unchanged file is not even offered to the upsert below: on an AUTOINCREMENT table an INSERT
        // that ends in a no-op update still rewrites sqlite_sequence, one WAL commit and fsync per file.
        if let known = try fileRecord(root: root, path: path), known.local == identity { return known }
        // The WHERE makes an unchanged identity a no-op, so rescanning an unchanged tree writes nothing.
        try database.run("""
            INSERT INTO files (root, path, state, device, inode, size, mtime_ns)
            VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)
            ON CONFLICT (root, path) DO UPDATE SET
                device = excluded.device, inode = excluded.inode, size = excluded.size,
                mtime_ns = excluded.mtime_ns, \(Self.backToPending)
            WHERE (device, inode, size, mtime_ns)
                <> (excluded.device, excluded.inode, excluded.size, excluded.mtime_ns)
            """, [.text(root), .text(path)] + JournalRows.identityValues(identity))
        guard let record = try fileRecord(root: root, path: path) else {
            throw SQLiteError(path: self.path, statement: "noteScanned", code: 0,
                              message: "the record of \(path) vanished inside its own transaction")
        }
        return record
    }

    private func fileRecord(root: String, path: String) throws -> FileRecord? {
        try database.query("SELECT \(JournalRows.fileColumns) FROM files WHERE root = ?1 AND path = ?2",
                           [.text(root), .text(path)], read: JournalRows.file).first
    }

    private func withAcknowledged(_ session: SessionRecord) throws -> SessionRecord {
        var session = session
        let indexes = try database.query("SELECT idx FROM chunks WHERE session_id = ?1",
                                         [.text(session.sessionID)]) { Int($0.int64(0)) }
        session.acknowledged = Set(indexes)
        return session
    }

    @discardableResult
    // MARK: Settings

    public func setting(_ key: String) throws -> String? {
        try locked {
            try database.query("SELECT value FROM settings WHERE key = ?1", [.text(key)]) { $0.string(0) }.first ?? nil
        }
    }

    /// Every setting whose key starts with `prefix`, by key.
    public func settings(withPrefix prefix: String) throws -> [(key: String, value: String)] {
        try locked {
            try database.query("SELECT key, value FROM settings WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key", [.text(prefix)]) {
                ($0.string(0) ?? "", $0.string(1) ?? "")
            }
        }
    }

    /// For a value learned again from every session (the upload mode, the session lifetime): written only
    /// when `unchanged(known)` is false. The known value is what this process last wrote or read for the
    /// key, so the common case (unchanged) costs neither a write nor a read.
    public func learnSetting(_ key: String, _ value: String, unchanged: (_ known: String?) -> Bool) throws {
        let known = try locked { try learned[key] ?? database.query("SELECT value FROM settings WHERE key = ?1", [.text(key)]) { $0.string(0) }.first ?? nil }
        if unchanged(known) {
            locked { learned[key] = known }
            return
        }
        try setSetting(key, value)
        locked { learned[key] = value }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try writing { try storeSetting(key, value) }
    }

    /// `setSetting` inside a write the caller holds.
    private func storeSetting(_ key: String, _ value: String) throws {
        try database.run("INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
                         [.text(key), .text(value)])
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Runs `body` as one atomic write and returns once it is durable, sharing the transaction and its
    /// fsync with the writes of other threads that arrive meanwhile (`GroupCommit`). `body` must not call
    /// back into the journal's locked methods.
    @discardableResult
    func writing<T>(_ body: () throws -> T) throws -> T {
        arrivals.withLock { arriving += 1 }
        lock.lock()
        defer { lock.unlock() }
        arrivals.withLock { arriving -= 1 }
        if group.committing { lock.signalArrival() }  // the committer waiting for arrivals re-counts them
        if !group.open {
            try database.run(SQLiteDatabase.TransactionKind.immediate.rawValue)
            group.opened()
        }
        // A write that fails undoes itself but still sees its group committed: an open transaction left
        // without a committer would hold SQLite's write lock against every other process.
        let result = Result<T, Error> {
            try database.run("SAVEPOINT write")
            do {
                let value = try body()
                try database.run("RELEASE write")
                return value
            } catch {
                try? database.execute("ROLLBACK TO write")
                try? database.execute("RELEASE write")
                throw error
            }
        }
        let mine = group.current
        while !mine.committed {
            if group.committing {
                lock.waitForCommit()
                continue
            }
            group.startCommitting()
            // Writers queued for the lock add their work to this group first; each wakes us when it has.
            while arrivals.withLock({ arriving }) > 0 { lock.waitForArrivals() }
            var failure: Error?
            do {
                try database.run("COMMIT")
            } catch {
                failure = error
                if database.inTransaction { try? database.execute("ROLLBACK") }
            }
            group.finished(error: failure)
            lock.broadcastCommit()
        }
        if let error = mine.error { throw error }
        return try result.get()
    }

    /// How many groups were committed so far (a test's and a benchmark's figure).
    var commitGroups: Int { locked { group.finishedCount } }

    /// Reads that span several statements see one snapshot, even while another process writes. Inside an
    /// open group they see its writes, as this process's next reads must.
    func reading<T>(_ body: () throws -> T) throws -> T {
        try locked { group.open ? try body() : try database.transaction(.deferred, body) }
    }
}
