import CloudreveAPI
import Foundation

/// Uploads one file through a Cloudreve upload session, journaling the session before the first chunk
/// and every acknowledged chunk, so that a crash costs at most the chunks in flight (reference §8).
/// Runs on a worker thread; every call in it blocks.
struct FileUploader {
    let client: CloudreveClient
    let journal: Journal
    let server: ServerSnapshot
    let options: SyncOptions
    let throughput: Throughput

    /// What the server holds once the upload completed.
    struct Done {
        var remote: RemoteBaseline
        var identity: FileIdentity
        var bytesSent: Int64
    }

    /// Uploads `record` from `localPath` to `remote`, resuming a journaled session when it still can.
    /// Throws `UploadFailure`.
    func upload(record: FileRecord, localPath: String, remote: CloudrevePath) throws -> Done {
        let job = Job(record: record, file: try LocalFile(path: localPath), remote: remote)
        var restarts = 0
        while true {
            do {
                return try attempt(job)
            } catch let restart as Restart {
                // A session that cannot be finished is cancelled and replaced; twice in one pass means
                // something keeps breaking it, so the file is retried later rather than looping here.
                restarts += 1
                if restarts > 2 { throw UploadFailure(reason: restart.reason, permanent: false) }
            }
        }
    }

    /// One go with one session; throws `Restart` when the session must be replaced.
    private func attempt(_ job: Job) throws -> Done {
        let identity = try job.file.identity()
        var session = try journal.session(fileRowID: job.record.id)
        if let existing = session {
            let plan = ChunkPlan(size: existing.identity.size, chunkSize: existing.chunkSize)
            let left = plan.remaining(acknowledged: existing.acknowledged).count
            let decision = resumeDecision(sessionExpires: existing.expires, sessionIdentity: existing.identity,
                                          currentIdentity: identity, now: Date(),
                                          timeToFinish: Double(left) * throughput.expectedSeconds(for: existing.chunkSize))
            if case .restart = decision {
                try cancel(existing)
                session = nil
            }
        }
        let current = try session ?? createSession(job, identity: identity)
        var sent: Int64 = 0
        do {
            sent = try sendChunks(current, job: job)
        } catch is Completed {
            // A chunk whose reply was lost had completed the file; confirmCompleted checks it.
        }
        return try confirmCompleted(current, job: job, bytesSent: sent)
    }

    private func createSession(_ job: Job, identity: FileIdentity) throws -> SessionRecord {
        let remote = job.remote
        var request = UploadSessionRequest(uri: remote.uri, size: identity.size, lastModified: identity.mtimeMs,
                                           policyID: server.version.requiresPolicyID ? server.policyID : nil, previous: nil)
        if server.version.supportsPrevious, let baseline = job.record.remote {
            request.previous = baseline.entity
        }
        let created: (session: UploadSession, json: [UInt8])
        do {
            created = try client.createUploadSession(request)
        } catch let error as CloudreveError {
            throw UploadFailure(reason: error.description, permanent: error.isPermanentForFile)
        }
        let session = created.session
        try Janitor.learnTTL(from: session, createdAt: Date(), journal: journal)
        let record = SessionRecord(fileRowID: job.record.id, sessionID: session.sessionID, uri: remote.uri, sessionJSON: created.json,
                                   serverVersion: server.version.description, chunkSize: session.chunkSize,
                                   chunkCount: ChunkPlan(size: identity.size, chunkSize: session.chunkSize).count,
                                   expires: Date(timeIntervalSince1970: TimeInterval(session.expires)), identity: identity,
                                   createdAt: Date(), acknowledged: [])
        guard session.uploadsThroughServer else {
            try? client.cancelUploadSession(id: session.sessionID, uri: remote.uri)
            let type = session.storagePolicy?.type ?? "unknown"
            throw UploadFailure(reason: "the storage policy '\(type)' uploads straight to its provider, which crsync does not support yet; "
                                + "ask the admin to enable relay mode for it", permanent: true)
        }
        // Journaled before the first chunk, so that a crash from here on leaves a session we can finish or cancel.
        try journal.saveSession(record)
        return record
    }

    /// Sends every chunk not yet acknowledged, in the order the server version allows, one at a time.
    /// Returns the body bytes sent.
    private func sendChunks(_ session: SessionRecord, job: Job) throws -> Int64 {
        let file = job.file
        let plan = ChunkPlan(size: session.identity.size, chunkSize: session.chunkSize)
        var acknowledged = session.acknowledged
        var sent: Int64 = 0
        while let index = plan.sendable(acknowledged: acknowledged, inFlight: [], version: server.version, concurrency: 1).first {
            guard file.isUnchanged(since: session.identity) else {
                try cancel(session)
                throw UploadFailure(reason: "\(file.path) changed while it was uploading; it will be sent again once it is quiet", permanent: false)
            }
            sent += try sendChunk(index, of: plan, session: session, job: job)
            try journal.acknowledgeChunk(sessionID: session.sessionID, index: index)
            acknowledged.insert(index)
        }
        return sent
    }

    /// Sends one chunk until the server acknowledges it, retrying what may pass later with backoff.
    private func sendChunk(_ index: Int, of plan: ChunkPlan, session: SessionRecord, job: Job) throws -> Int64 {
        let file = job.file
        let (offset, length) = plan.range(of: index)
        var attempt = 0
        var sent: Int64 = 0
        var lockRetried = false
        while true {
            attempt += 1
            let started = Date()
            var bytes: Int64 = 0
            do {
                try client.uploadChunk(sessionID: session.sessionID, index: index, fd: file.fd, offset: offset, length: length,
                                       expectedDuration: throughput.expectedSeconds(for: length)) { n in
                    bytes = n
                    return true
                }
                sent += length
                throughput.record(bytes: length, seconds: Date().timeIntervalSince(started))
                return sent
            } catch let error as CloudreveError {
                sent += bytes
                switch error.code {
                case 40011, 40016:
                    // The session is gone: completed already (a last chunk whose reply we lost), expired, or
                    // cancelled by someone (§8.4–8.5).
                    if try completedOnServer(session, job: job) { throw Completed() }
                    try cancel(session)
                    throw Restart(reason: "the upload session of \(file.path) is gone on the server (\(error))")
                case 40073:
                    // Rarely a race of two chunk requests validating the lock (§6); otherwise the lock was
                    // lost, e.g. to a server restart, or the last chunk had completed the file.
                    if !lockRetried {
                        lockRetried = true
                        Thread.sleep(forTimeInterval: 1.5)
                        continue
                    }
                    if try completedOnServer(session, job: job) { throw Completed() }
                    try cancel(session)
                    throw Restart(reason: "the server lost the upload lock of \(file.path) (\(error))")
                case 40012, 40013:
                    try cancel(session)
                    throw Restart(reason: "the server disagreed about chunk lengths for \(file.path) (\(error))")
                default:
                    if case .transport(let transport) = error, transport.isLocalReadError {
                        throw UploadFailure(reason: "\(file.path): \(transport.message)", permanent: false)
                    }
                    guard error.isRetryable else { throw UploadFailure(reason: error.description, permanent: error.isPermanentForFile) }
                    guard attempt < options.maxChunkAttempts else {
                        throw UploadFailure(reason: "gave up after \(attempt) attempts: \(error)", permanent: false)
                    }
                    Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                               random: Double.random(in: 0..<1)))
                }
            }
        }
    }

    /// After the last chunk: the reply carries no file data, and a 4.18 server whose completion failed
    /// still answers 0, so the file itself is asked (§4 "Retries after completion", §8.8).
    private func confirmCompleted(_ session: SessionRecord, job: Job, bytesSent: Int64) throws -> Done {
        guard let info = try client.fileInfoIfExists(job.remote), isOurCompletedUpload(info, session: session, job: job) else {
            try cancel(session)
            throw Restart(reason: "the server did not complete the upload of \(job.remote)")
        }
        let baseline = RemoteBaseline(fileID: info.id, entity: info.primaryEntity ?? "", size: info.size, mtimeNs: session.identity.mtimeNs)
        return Done(remote: baseline, identity: session.identity, bytesSent: bytesSent)
    }

    /// Whether the file at the session's URI is complete with our size and no open session.
    private func completedOnServer(_ session: SessionRecord, job: Job) throws -> Bool {
        guard let info = try client.fileInfoIfExists(job.remote) else { return false }
        return isOurCompletedUpload(info, session: session, job: job)
    }

    /// No open session, our size, and not the version that was there before we started (which a lost
    /// session would leave in place).
    private func isOurCompletedUpload(_ info: FileInfo, session: SessionRecord, job: Job) -> Bool {
        info.uploadSessionID == nil && info.size == session.identity.size
            && (job.record.remote == nil || info.primaryEntity != job.record.remote?.entity)
    }

    /// Cancels on the server (which never cleans up by itself, §4) and forgets the session.
    private func cancel(_ session: SessionRecord) throws {
        do {
            try client.cancelUploadSession(id: session.sessionID, uri: session.uri)
        } catch let error as CloudreveError where error.isRetryable {
            // Left in the journal: the stale-session sweep cancels it later.
            throw UploadFailure(reason: "could not cancel upload session: \(error)", permanent: false)
        }
        try journal.deleteSession(sessionID: session.sessionID)
    }

    private struct Job {
        var record: FileRecord
        var file: LocalFile
        var remote: CloudrevePath
    }

    private struct Restart: Error { var reason: String }
    struct Completed: Error {}
}
