import CloudreveAPI
import Transport
import Foundation

/// Whether `info` (the file at a session's path) is that session's upload, completed: no open session, the
/// session's size, and not the version that was there before it started (which a lost session leaves).
func isCompletedUpload(_ info: FileInfo, of session: SessionRecord, replacing previous: RemoteBaseline?) -> Bool {
    info.uploadSessionID == nil && info.size == session.identity.size && (previous == nil || info.primaryEntity != previous?.entity)
}

extension RemoteBaseline {
    /// What the server holds once `session` completed as `info`.
    init(completed info: FileInfo, session: SessionRecord) {
        self.init(fileID: info.id, entity: info.primaryEntity ?? "", size: info.size, mtimeNs: session.identity.mtimeNs)
    }
}

/// Uploads one file through a Cloudreve upload session, journaling the session before the first chunk
/// and every acknowledged chunk, so that a crash costs at most the chunks in flight (reference §8).
/// Runs on a worker thread; every call in it blocks.
struct FileUploader {
    let client: CloudreveClient
    let journal: Journal
    let server: ServerSnapshot
    let options: SyncOptions
    let throughput: Throughput
    let control: UploadControl
    /// The file never went quiet (a growing log): its first `size` bytes are sent even if it grows
    /// meanwhile; appending cannot change them. Any other change still stops the upload.
    var allowAppends = false
    /// Set when this one upload must stop (its file was deleted or moved while it uploads).
    var cancel: CancelFlag? = nil

    /// Whether to stop now: the whole run stops, or this upload was cancelled. What was sent stays resumable.
    private var shouldStop: Bool { control.isStopping || (cancel?.isSet ?? false) }
    /// Told of a stall as it happens, so that a person sees it before the file is given up.
    var warn: @Sendable (String) -> Void = { _ in }

    /// What the server holds once the upload completed.
    struct Done {
        var remote: RemoteBaseline
        var identity: FileIdentity
        var bytesSent: Int64
        /// Where ours went when the server copy had changed since our last upload.
        var conflictCopy: CloudrevePath?
    }

    /// Uploads `record` from `localPath` to `remote`, resuming a journaled session when it still can.
    /// Throws `UploadFailure`.
    func upload(record: FileRecord, localPath: String, remote: CloudrevePath) throws -> Done {
        let file = try LocalFile(path: localPath)
        if let interrupted = try journal.session(fileRowID: record.id), interrupted.uri != remote.uri {
            // A journaled session for another name of this file: a conflict copy a crash interrupted.
            // Finish it; their version, still at `remote`, is what the path holds.
            let copy = try CloudrevePath(uri: interrupted.uri)
            let theirs = try client.fileInfoIfExists(remote)
            return try uploadConflictCopy(record: record, file: file, copy: copy, theirs: theirs?.uploadSessionID == nil ? theirs : nil)
        }
        do {
            var record = record
            if let baseline = record.remote, baseline.isUnconfirmed {
                record.remote = try confirmBaseline(baseline, record: record, remote: remote)
            }
            return try withRestarts(Job(record: record, file: file, remote: remote))
        } catch let conflict as Conflict {
            // Never overwrite their version (retention keeps one, so it would be gone): ours goes beside it.
            let copy = remote.parent.appending(conflictName(for: remote.name, at: Date(), host: hostName()))
            return try uploadConflictCopy(record: record, file: file, copy: copy, theirs: conflict.theirs)
        }
    }

    /// The id and entity of our last upload of this file, which its completing chunk's reply proved but did
    /// not carry (UnconfirmedBaseline.swift), asked for now that the next version needs them as `previous`
    /// (4.11+) or to compare with (before 4.11). Another file there means someone changed it since: a conflict.
    private func confirmBaseline(_ baseline: RemoteBaseline, record: FileRecord, remote: CloudrevePath) throws -> RemoteBaseline? {
        guard let info = try client.fileInfoIfExists(remote) else { return nil }  // deleted on the server: ours is new there
        if isUnconfirmedUpload(info, baseline: baseline, version: server.version) {
            let learned = RemoteBaseline(learned: info, from: baseline)
            try journal.learnBaselines([(record.id, baseline, learned)])
            return learned
        }
        // An upload of someone else's still open, or a folder: left to the session's own refusal.
        if info.uploadSessionID != nil || info.isFolder { return baseline }
        throw Conflict(theirs: info)
    }

    /// Uploads ours as `copy`. Their version is then the one at the original path: it becomes the
    /// baseline, so the conflict is reported once and the local file owns the path again from its next
    /// change on. With no version of theirs left at the path, the copy's is the baseline.
    private func uploadConflictCopy(record: FileRecord, file: LocalFile, copy: CloudrevePath, theirs: FileInfo?) throws -> Done {
        var ours = record
        ours.remote = nil
        var done = try withRestarts(Job(record: ours, file: file, remote: copy))
        if let theirs {
            done.remote = RemoteBaseline(fileID: theirs.id, entity: theirs.primaryEntity ?? "", size: theirs.size, mtimeNs: done.identity.mtimeNs)
        }
        done.conflictCopy = copy
        return done
    }

    private func withRestarts(_ job: Job) throws -> Done {
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
        var job = job
        let identity = try job.file.identity()
        var session = try journal.session(fileRowID: job.record.id)
        if let existing = session {
            let plan = ChunkPlan(size: existing.identity.size, chunkSize: existing.chunkSize)
            let left = plan.remaining(acknowledged: existing.acknowledged).count
            let decision = resumeDecision(sessionExpires: existing.expires, sessionIdentity: existing.identity,
                                          currentIdentity: identity, now: Date(),
                                          timeToFinish: Double(left) * throughput.expectedSeconds(for: existing.chunkSize))
            if case .restart = decision {
                if let info = try client.fileInfoIfExists(job.remote), isOurCompletedUpload(info, session: existing, job: job) {
                    // The server completed it before a crash let us record it: that version is now the one
                    // the next replaces (`previous`), or it would look like someone else's change (40076).
                    let baseline = RemoteBaseline(completed: info, session: existing)
                    try journal.markSynced(fileRowID: job.record.id, identity: existing.identity, remote: baseline)
                    job.record.remote = baseline
                } else {
                    try cancel(existing)
                }
                session = nil
            } else if try completedOnServer(existing, job: job) {
                // A crash can come after the server completed the file but before we recorded it: asking
                // costs one small request, re-sending the last chunk a whole chunk (§8.5).
                return try confirmCompleted(existing, job: job, bytesSent: 0)
            }
        }
        let current = try session ?? createSession(job, identity: identity)
        let previous = job.record.remote.flatMap { $0.isUnconfirmed ? nil : $0.entity }
        if let done = try uploadedEmptyInstead(current, previous: server.version.supportsPrevious ? previous : nil) {
            return done
        }
        var sent: Int64 = 0
        do {
            if let s3 = current.s3 {
                sent = try sendParts(current, s3: s3, job: job)
            } else {
                // A direct policy's storage may know better than the journal what arrived, and may need the
                // client's callback at the end (DirectUploadSteps.swift).
                let retried = Counter()
                sent = try sendChunks(session == nil ? current : try reconciledWithStorage(current), job: job, retried: retried)
                try finishOnStorage(current)
                if acknowledgementsProveCompletion(route: current.route,
                                                   createdInThisAttempt: session == nil, chunksRetried: retried.count) {
                    // Complete without asking: its id and entity are learned later (UnconfirmedBaseline.swift).
                    return Done(remote: .unconfirmed(size: current.identity.size, mtimeNs: current.identity.mtimeNs),
                                identity: current.identity, bytesSent: sent)
                }
            }
        } catch is Completed {
            // A chunk whose reply was lost had completed the file; confirmCompleted checks it.
        } catch let lost as SessionLost {
            do { try settle(lost, session: current, job: job) } catch is Completed {}
        }
        return try confirmCompleted(current, job: job, bytesSent: sent)
    }

    private func createSession(_ job: Job, identity: FileIdentity) throws -> SessionRecord {
        let remote = job.remote
        var request = UploadSessionRequest(uri: remote.uri, size: identity.size, lastModified: identity.mtimeMs,
                                           policyID: server.version.requiresPolicyID ? server.policyID : nil, previous: nil)
        if let baseline = job.record.remote {
            if baseline.isUnconfirmed {
                // Nothing to compare with: the server copy was busy or a folder when asked (confirmBaseline).
            } else if server.version.supportsPrevious {
                request.previous = baseline.entity
            } else if let theirs = try client.fileInfoIfExists(remote), theirs.uploadSessionID == nil,
                      theirs.primaryEntity != baseline.entity {
                // Before 4.11 the server cannot check `previous`, so the listing is compared here (§4).
                throw Conflict(theirs: theirs)
            }
        }
        let created: (reply: SessionReply, json: [UInt8])
        let interruptedBefore = try journal.noteCreatingSession(fileRowID: job.record.id)
        do {
            created = try client.createUploadSession(request)
        } catch CloudreveError.api(40073, _, _, _) where interruptedBefore {
            // We crashed after the server created a session but before the journal had it: its placeholder
            // holds the lock. It is provably ours, so cancel it and ask again (§8.6, 40073 on create).
            if let placeholder = try client.fileInfoIfExists(remote), let orphan = placeholder.uploadSessionID {
                try client.cancelUploadSession(id: orphan, uri: remote.uri)
            }
            try journal.clearCreatingSession(fileRowID: job.record.id)
            throw Restart(reason: "cancelled the upload session a crash left behind for \(remote)")
        } catch CloudreveError.api(40076, _, _, _) {
            guard let theirs = try client.fileInfoIfExists(remote) else {
                throw Restart(reason: "\(remote) changed on the server while we looked")
            }
            throw Conflict(theirs: theirs)
        } catch let error as CloudreveError where error.code == 40004 || error.code == 403 {
            // 40004: something of another type already has the name; 403 (ErrNotSupportedAction): a file
            // stands where a folder of the path should be.
            throw UploadFailure(reason: try obstacle(at: remote, error), permanent: false, code: error.code)
        } catch let error as CloudreveError {
            var failure = UploadFailure(reason: reason(for: error, path: job.record.path, size: identity.size), permanent: error.isPermanentForFile,
                                        code: error.code)
            if case .transport = error { failure.unreachable = true }
            throw failure
        }
        let session = created.reply.session
        CrashHook.reached(.afterCreate)
        throughput.chunkSize = session.chunkSize
        let record = SessionRecord(fileRowID: job.record.id, sessionID: session.sessionID, uri: remote.uri, sessionJSON: created.json, reply: created.reply,
                                   serverVersion: server.version.description, chunkSize: session.chunkSize,
                                   chunkCount: ChunkPlan(size: identity.size, chunkSize: session.chunkSize).count,
                                   expires: Date(timeIntervalSince1970: TimeInterval(session.expires)), identity: identity,
                                   createdAt: Date(), acknowledged: [])
        if case .unsupported(let type) = record.route, record.s3 == nil {
            try? client.cancelUploadSession(id: session.sessionID, uri: remote.uri)
            throw UploadFailure(reason: unsupportedPolicyMessage(type: type), permanent: true)
        }
        // Journaled before the first chunk, so that a crash from here on leaves a session we can finish or cancel.
        try journal.saveSession(record)
        try Janitor.learnTTL(from: session, createdAt: record.createdAt, journal: journal)
        try UploadMode.learn(from: created.reply, journal: journal)
        return record
    }

    /// What stands where the file should go, when the server answered 40004 ("object existed") or 403: a folder
    /// of the same name, or a file where one of its folders should be (a folder replaced by a file locally,
    /// or the reverse, while the server keeps the old one).
    private func obstacle(at remote: CloudrevePath, _ error: CloudreveError) throws -> String {
        let advice = "crsync removes a server item only when it was deleted here and the folder's deletes = \"trash\"; "
            + "move or delete it on the server (or rename the local one) and the file goes on the next pass"
        if let info = try client.fileInfoIfExists(remote), info.isFolder {
            return "a folder \(remote) is in the way on the server, where this file goes; " + advice
        }
        var folder = remote.parent
        while !folder.segments.isEmpty {
            if let info = try client.fileInfoIfExists(folder), !info.isFolder {
                return "a file \(folder) is in the way on the server, where this file's folder goes; " + advice
            }
            folder = folder.parent
        }
        return "the server refused to create \(remote): \(error)"
    }

    /// Sends every chunk not yet acknowledged, in the order the server version allows, over up to the
    /// policy's `chunk_concurrency` connections (capped by `options.chunkConcurrency`), so one large file
    /// does not crawl on one connection. Decisions about the session as a whole (gone, lock lost, file
    /// changed) are made once, after every chunk thread has stopped. Returns the body bytes sent.
    /// `retried` counts the chunks that needed more than one request.
    private func sendChunks(_ session: SessionRecord, job: Job, retried: Counter) throws -> Int64 {
        let plan = ChunkPlan(size: session.identity.size, chunkSize: session.chunkSize)
        let progress = ChunkProgress(plan: plan, acknowledged: session.acknowledged, version: server.version,
                                     concurrency: chunkConcurrency(session, plan: plan))
        let work = {
            while let index = progress.take() {
                do {
                    if self.shouldStop { throw Stopped() }
                    guard job.file.isUnchanged(since: session.identity, allowingAppends: self.allowAppends) else { throw FileChanged() }
                    let sent = try self.sendChunk(index, of: plan, session: session, job: job, retried: retried)
                    CrashHook.reached(.afterReply)
                    if index == plan.lastIndex { CrashHook.reached(.afterLastReply) }
                    // Acknowledged only after HTTP 200 with code 0, durably, before the chunk counts as done.
                    // Not the last index: the file is recorded as synced right after it (one fsync less per
                    // small file), and until then a resumed session asks the server first whether it
                    // completed (`attempt`), so the acknowledgement would change nothing.
                    if index != plan.lastIndex { try self.journal.acknowledgeChunk(sessionID: session.sessionID, index: index) }
                    if index == plan.lastIndex { CrashHook.reached(.afterLastAck) }
                    progress.finish(index, sent: sent)
                } catch {
                    progress.fail(index, error)
                }
            }
        }
        runAlongside(progress.concurrency - 1, work)
        if let error = progress.error {
            try settle(error, session: session, job: job)
        }
        return progress.sent
    }

    /// An S3-family session (S3Parts.swift): parts to the storage, completion, callback. Its restarts and
    /// file changes take the same ways as a chunked session's.
    private func sendParts(_ session: SessionRecord, s3: S3Session, job: Job) throws -> Int64 {
        let parts = S3Parts(client: client, journal: journal, options: options, control: control, s3: s3,
                            allowAppends: allowAppends, shouldStop: { self.shouldStop })
        do {
            return try parts.run(session, file: job.file, fileRowID: job.record.id)
        } catch is S3Parts.FileChanged {
            try settle(FileChanged(), session: session, job: job)
            return 0
        } catch let restart as S3Parts.Restart {
            if try completedOnServer(session, job: job) { throw Completed() }
            try cancel(session)
            throw Restart(reason: restart.reason)
        } catch let giveUp as S3Parts.GiveUp {
            if try completedOnServer(session, job: job) { throw Completed() }
            try cancel(session)
            throw UploadFailure(reason: giveUp.reason, permanent: false)
        }
    }

    /// How many chunk requests of this session may be in flight.
    private func chunkConcurrency(_ session: SessionRecord, plan: ChunkPlan) -> Int {
        guard plan.count > 2, !server.version.chunkZeroTruncates, session.route.allowsParallelChunks else { return 1 }
        return max(1, min(session.policy?.chunkConcurrency ?? 1, options.chunkConcurrency))
    }

    /// Turns what stopped the chunks into the session's fate: finished after all, restarted, or failed.
    private func settle(_ error: Error, session: SessionRecord, job: Job) throws {
        switch error {
        case is FileChanged:
            try cancel(session)
            if LocalKind.of(job.file.path) == .none { throw FileVanished(path: job.file.path) }
            throw UploadFailure(reason: "\(job.file.path) changed while it was uploading; it will be sent again once it is quiet",
                                permanent: false)
        case let lost as SessionLost:
            // Gone (40011/40016) or locked out (40073): a last chunk whose reply we lost may have completed
            // the file, so the server is asked before anything is cancelled (§8.4–8.5).
            if try completedOnServer(session, job: job) { throw Completed() }
            try cancel(session)
            throw Restart(reason: "\(lost.reason) for \(job.file.path)")
        default:
            throw error
        }
    }

    /// Sends one chunk until the server acknowledges it, retrying what may pass later with backoff.
    /// Returns the body bytes sent, retries included.
    private func sendChunk(_ index: Int, of plan: ChunkPlan, session: SessionRecord, job: Job, retried: Counter) throws -> Int64 {
        let (offset, length) = plan.range(of: index)
        var attempt = 0
        var sent: Int64 = 0
        var lockRetried = false
        while true {
            attempt += 1
            let started = Date()
            var bytes: Int64 = 0
            do {
                try client.uploadChunk(route: session.route, sessionID: session.sessionID, index: index,
                                       fd: job.file.fd, offset: offset, length: length, total: plan.size,
                                       expectedDuration: throughput.expectedSeconds(for: length)) { n in
                    if index == plan.lastIndex, bytes < length / 2, n >= length / 2 { CrashHook.reached(.lastChunk) }
                    self.control.board.add(job.record.id, n - bytes)
                    // Charged before the next buffer goes: curl asks for it right after this returns.
                    self.control.throttle(min(64 << 10, length - n))
                    bytes = n
                    return !self.shouldStop
                }
                throughput.record(bytes: length, seconds: Date().timeIntervalSince(started))
                control.board.stalled(job.record.id, nil)
                if attempt > 1 || lockRetried { _ = retried.increment() }
                return sent + length
            } catch let error as CloudreveError {
                sent += bytes
                control.board.add(job.record.id, -bytes)
                if shouldStop { throw Stopped() }
                switch error.code {
                case 40011, 40016:
                    throw SessionLost(reason: "the upload session is gone on the server (\(error))")
                case 40073 where !lockRetried:
                    // Rarely a race of two chunk requests validating the lock at once (§6): one retry.
                    lockRetried = true
                    Thread.sleep(forTimeInterval: 1.5)
                case 40073:
                    throw SessionLost(reason: "the server lost the upload lock (\(error))")
                case 40071:
                    // A slave node refused the session's credential (expired with the session, or tampered with).
                    throw SessionLost(reason: "the storage node refused the upload credential (\(error))")
                case 40012, 40013:
                    throw SessionLost(reason: "the server disagreed about chunk lengths (\(error))")
                default:
                    if case .transport(let transport) = error, transport.isLocalReadError {
                        // The file shrank (or its disk failed) under the read: a change like any other, so
                        // the session is cancelled now, not left holding a placeholder and quota.
                        throw FileChanged()
                    }
                    if case .transport(let transport) = error, transport.isStall {
                        try noteStall(index: index, of: plan, session: session, job: job)
                    }
                    guard error.isRetryable else { throw UploadFailure(reason: error.description, permanent: error.isPermanentForFile) }
                    guard attempt < options.maxChunkAttempts else {
                        var failure = UploadFailure(reason: "gave up after \(attempt) attempts: \(error)", permanent: false)
                        if case .transport = error { failure.unreachable = true }
                        throw failure
                    }
                    control.metrics?.add(.chunkRetries)
                    Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                               random: Double.random(in: 0..<1)))
                }
            }
        }
    }

    /// A chunk stalled: a warning now (log, output, `crsync status`), and the file left for the next pass
    /// once it has stalled `options.maxStalls` times, so that a stalled server costs it a bounded time.
    private func noteStall(index: Int, of plan: ChunkPlan, session: SessionRecord, job: Job) throws {
        let count = job.stalls.increment()
        let what = stallMessage(path: job.record.path, server: client.server, sessionID: session.sessionID, chunk: index,
                                chunks: plan.count, seconds: HTTPTransport.stallSeconds)
        control.board.stalled(job.record.id, what)
        guard count < options.maxStalls else {
            throw UploadFailure(reason: "\(what); gave up for this pass after \(count) stalls, it is tried again on the next pass",
                                permanent: false)
        }
        warn("\(what); retrying (stall \(count) of \(options.maxStalls) before the file is left for the next pass)")
    }

    /// After the last chunk: the reply carries no file data, and a 4.18 server whose completion failed
    /// still answers 0, so the file itself is asked (§4 "Retries after completion", §8.8).
    private func confirmCompleted(_ session: SessionRecord, job: Job, bytesSent: Int64) throws -> Done {
        guard let info = try client.fileInfoIfExists(job.remote), isOurCompletedUpload(info, session: session, job: job) else {
            try cancel(session)
            throw Restart(reason: "the server did not complete the upload of \(job.remote)")
        }
        return Done(remote: RemoteBaseline(completed: info, session: session), identity: session.identity, bytesSent: bytesSent)
    }

    /// Whether the file at the session's URI is complete with our size and no open session.
    private func completedOnServer(_ session: SessionRecord, job: Job) throws -> Bool {
        guard let info = try client.fileInfoIfExists(job.remote) else { return false }
        return isOurCompletedUpload(info, session: session, job: job)
    }

    private func isOurCompletedUpload(_ info: FileInfo, session: SessionRecord, job: Job) -> Bool {
        isCompletedUpload(info, of: session, replacing: job.record.remote)
    }

    /// Cancels on the server (which never cleans up by itself, §4) and forgets the session.
    func cancel(_ session: SessionRecord) throws {
        do {
            try Janitor(client: client, journal: journal).cancel(session)
        } catch let error as CloudreveError where error.isRetryable {
            // Left in the journal: the stale-session sweep cancels it later.
            throw UploadFailure(reason: "could not cancel upload session: \(error)", permanent: false)
        }
    }

    private struct Job {
        var record: FileRecord
        var file: LocalFile
        var remote: CloudrevePath
        /// Stalls so far, over every chunk thread and restart of this file.
        let stalls = Counter()
    }

    private struct Restart: Error { var reason: String }
    private struct Conflict: Error { var theirs: FileInfo }
    struct SessionLost: Error { var reason: String }
    private struct FileChanged: Error {}
    struct Completed: Error {}
}
