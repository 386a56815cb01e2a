import CloudreveAPI
import Foundation

/// Cancels upload sessions that will never finish, because the server never does (§4 "Stale
/// placeholders are never cleaned up automatically"): each holds a placeholder, a lock on the path and
/// quota until someone calls `DELETE /file/upload`.
public struct Janitor {
    let client: CloudreveClient
    public let journal: Journal

    public init(client: CloudreveClient, journal: Journal) {
        self.client = client
        self.journal = journal
    }

    /// The server's session lifetime, learned from our own sessions (`expires` minus creation); 24 h, the
    /// server default, until one was seen.
    public var sessionTTL: TimeInterval {
        (try? journal.setting(Janitor.ttlKey)).flatMap { $0.flatMap(Double.init) } ?? 86400
    }

    static let ttlKey = "session_ttl_seconds"
    static let rootKeyPrefix = "remote_root:"

    /// A placeholder on the server, and whose it is.
    public struct OpenUpload: Sendable {
        public var path: String
        public var sessionID: String
        /// Journaled by this crsync; nil for another client's or a lost one.
        public var ours: SessionRecord?
        public var age: TimeInterval
    }

    /// Journaled sessions that cannot finish: expired, or their file was forgotten or has changed since.
    public func staleJournalSessions(now: Date = Date()) throws -> [SessionRecord] {
        try journal.sessions().filter { session in
            guard now < session.expires, let record = try journal.record(id: session.fileRowID) else { return true }
            return record.local != session.identity
        }
    }

    /// Cancels a journaled session on the server (which never cleans up by itself, §4) and forgets it. The
    /// one way every part of crsync gives a session up. Throws, leaving it journaled for the next sweep,
    /// when the server cannot be asked.
    public func cancel(_ session: SessionRecord) throws {
        do {
            try client.cancelUploadSession(id: session.sessionID, uri: session.uri)
        } catch CloudreveError.api(-1, _, _, _) where session.s3 != nil {
            // After our own multipart completion the storage has no upload to abort: the server removed the
            // placeholder anyway and answers -1 (§8c). Done.
        }
        try journal.deleteSession(sessionID: session.sessionID)
    }

    /// Every placeholder under `folder` (a recursive search, §6), with its age and owner.
    /// `onlyOlderThan`: the caller only cares whether another client's upload is older than that; one whose
    /// file was created more recently is younger still (an upload starts after its file's `created_at`),
    /// so its age is that bound and costs no request (the sweep, while our own uploads create placeholders
    /// faster than the journal can be read).
    public func openUploads(under folder: CloudrevePath, now: Date = Date(), onlyOlderThan: TimeInterval? = nil) throws -> [OpenUpload] {
        let found: [FileInfo]
        do {
            found = try client.list(folder, search: "meta_sys:upload_session_id=").files
        } catch CloudreveError.api(40016, _, _, _) {
            return []
        }
        // Read after the search: a session is journaled right after the server created it, so the uploads
        // running meanwhile are known as ours. Their age is the journal's; only another client's (or a lost
        // one) costs a request to learn when it began.
        let ours = Dictionary(try journal.sessions().map { ($0.sessionID, $0) }, uniquingKeysWith: { a, _ in a })
        return try found.compactMap { info in
            guard let id = info.uploadSessionID else { return nil }
            if let session = ours[id] {
                return OpenUpload(path: info.path, sessionID: id, ours: session, age: now.timeIntervalSince(session.createdAt))
            }
            if let limit = onlyOlderThan, let created = info.createdAtDate, now.timeIntervalSince(created) <= limit {
                return OpenUpload(path: info.path, sessionID: id, ours: nil, age: now.timeIntervalSince(created))
            }
            return OpenUpload(path: info.path, sessionID: id, ours: nil, age: now.timeIntervalSince(try uploadStarted(info) ?? now))
        }
    }

    /// Cancels stale journaled sessions, then (when `orphans`) placeholders under `roots` that no session
    /// of ours owns and that are older than the session lifetime, so they cannot be another client's live
    /// upload. Returns what was cancelled, as paths or session ids, for the report.
    @discardableResult
    public func sweep(roots: [CloudrevePath], orphans: Bool = true, now: Date = Date(), skip: (SessionRecord) -> Bool = { _ in false }) throws -> [String] {
        var cancelled: [String] = []
        for session in try staleJournalSessions(now: now) where !skip(session) {
            try cancel(session)
            cancelled.append(session.uri)
        }
        guard orphans else { return cancelled }
        let ttl = sessionTTL
        for root in roots {
            for upload in try openUploads(under: root, now: now, onlyOlderThan: ttl) where upload.ours == nil && upload.age > ttl {
                try client.cancelUploadSession(id: upload.sessionID, uri: upload.path)
                cancelled.append(upload.path)
            }
        }
        return cancelled
    }

    /// When the upload behind a placeholder began: its newest entity's creation (a new version of an
    /// old file keeps the file's own old `created_at`).
    private func uploadStarted(_ info: FileInfo) throws -> Date? {
        let extended = try client.fileInfo(try CloudrevePath(uri: info.path), extended: true)
        let entityDates = (extended.extendedInfo?.entities ?? []).compactMap { $0.createdAt.flatMap(parseRFC3339) }
        return entityDates.max() ?? info.createdAtDate
    }

    /// Remembers a root so that `crsync sessions` can search it later without configuration.
    public func remember(root: CloudrevePath) throws {
        // Written only when new: a pass that changes nothing writes nothing.
        try journal.learnSetting(Janitor.rootKeyPrefix + root.description, root.uri) { $0 == root.uri }
    }

    /// Every remote root a sync pass has used.
    public func rememberedRoots() throws -> [CloudrevePath] {
        try journal.settings(withPrefix: Janitor.rootKeyPrefix).compactMap { try? CloudrevePath(uri: $0.value) }
    }

    /// Records the session lifetime a new session shows.
    static func learnTTL(from session: UploadSession, createdAt: Date, journal: Journal) throws {
        let ttl = Int((TimeInterval(session.expires) - createdAt.timeIntervalSince1970).rounded())
        // Written only when it changes by more than a minute: `expires` is in whole seconds and `createdAt`
        // is ours, so the span wobbles by a second from session to session, which would cost one more
        // fsync for every other file; the sweep does not need it closer than that.
        try journal.learnSetting(Janitor.ttlKey, String(ttl)) { known in
            ttl <= 0 || abs(ttl - (known.flatMap { Int($0) } ?? -3600)) <= 60
        }
    }
}
