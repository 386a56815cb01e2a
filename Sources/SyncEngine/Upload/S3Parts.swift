import CloudreveAPI
import Foundation

/// The message for a policy whose flow crsync does not speak: permanent, naming the type, saying what works.
func unsupportedPolicyMessage(type: String) -> String {
    "the storage policy '\(type)' uploads straight to its provider in a way crsync does not support yet "
        + "(direct uploads work for \(S3Session.supportedTypes.union(["remote", "onedrive"]).sorted().joined(separator: ", ")); "
        + "ask the admin to enable relay mode for it, or to give your group a supported policy"
}

/// What to do with a callback answer (reference §8c): done, ask again shortly, or start over.
enum CallbackVerdict: Equatable {
    case done
    /// -1: the storage does not show the object complete yet.
    case retry
    /// 40055: the object's size is not the session's; the session is cancelled and a new one made.
    case restart
    /// 40011: the session is gone (used by an earlier callback whose answer we lost); the file itself tells.
    case askFile
    case fail
}

func callbackVerdict(code: Int?) -> CallbackVerdict {
    switch code {
    case 0: return .done
    case -1: return .retry
    case 40055: return .restart
    case 40011: return .askFile
    default: return .fail
    }
}

/// The chunk indexes still to send as parts: those without a journaled ETag.
func partsToSend(count: Int, etags: [Int: String]) -> [Int] {
    (0..<count).filter { etags[$0] == nil }
}

/// ETags collected by the part threads.
private final class PartETags: @unchecked Sendable {
    private let lock = NSLock()
    private var etags: [Int: String]
    init(_ etags: [Int: String]) { self.etags = etags }
    func set(_ index: Int, _ etag: String) { lock.withLock { etags[index] = etag } }
    var all: [Int: String] { lock.withLock { etags } }
}

/// Sends an S3-family session's parts straight to the storage, each to its presigned URL with exactly its
/// length, journaling each part's ETag as it is acknowledged; then completes the multipart upload and calls
/// Cloudreve's GET callback (reference §5, §8c). A resumed session sends only the parts without an ETag.
struct S3Parts {
    let client: CloudreveClient
    let journal: Journal
    let options: SyncOptions
    let control: UploadControl
    let s3: S3Session
    let allowAppends: Bool
    let shouldStop: () -> Bool

    /// The session cannot be finished: cancel it and make a new one.
    struct Restart: Error { var reason: String }
    /// The session cannot be finished and a new one at once would likely fail the same way (the storage's
    /// callback to Cloudreve failed): cancel it and leave the file for the next pass.
    struct GiveUp: Error { var reason: String }
    /// The local file changed under the upload.
    struct FileChanged: Error {}

    /// Sends the missing parts, completes, calls back. Returns the body bytes sent.
    func run(_ session: SessionRecord, file: LocalFile, fileRowID: Int64) throws -> Int64 {
        let plan = ChunkPlan(size: session.identity.size, chunkSize: session.chunkSize)
        guard s3.uploadURLs.count == plan.count else {
            throw Restart(reason: "the server handed out \(s3.uploadURLs.count) part URLs for \(plan.count) parts of \(session.uri)")
        }
        let journaled = try journal.partETags(sessionID: session.sessionID)
        // Parts may go in any order and side by side: the storage assembles them only at the completion.
        let acknowledged = Set(0..<plan.count).subtracting(partsToSend(count: plan.count, etags: journaled))
        let progress = ChunkProgress(plan: plan, acknowledged: acknowledged, version: S3Parts.anyOrder,
                                     concurrency: partConcurrency(session, plan: plan))
        let collected = PartETags(journaled)
        let work = {
            while let index = progress.take() {
                do {
                    if self.shouldStop() { throw Stopped() }
                    guard file.isUnchanged(since: session.identity, allowingAppends: self.allowAppends) else { throw FileChanged() }
                    let (etag, bytes) = try self.sendPart(index, of: plan, file: file, fileRowID: fileRowID)
                    CrashHook.reached(.afterReply)
                    if index == plan.lastIndex { CrashHook.reached(.afterLastReply) }
                    // Acknowledged only once the ETag is durably journaled: the completion needs it after a crash.
                    try self.journal.acknowledgePart(sessionID: session.sessionID, index: index, etag: etag)
                    if index == plan.lastIndex { CrashHook.reached(.afterLastAck) }
                    collected.set(index, etag)
                    progress.finish(index, sent: bytes)
                } catch {
                    progress.fail(index, error)
                }
            }
        }
        runAlongside(progress.concurrency - 1, work)
        if let error = progress.error { throw error }
        let etags = collected.all
        let sent = progress.sent
        if shouldStop() { throw Stopped() }
        if S3Flavor.of(s3.policyType).providerCallsBack {
            // OSS, OBS: the storage runs Cloudreve's callback inside the completion (ProviderCallbackCompletion.swift).
            try completeWithProviderCallback(etags: etags, session: session)
            CrashHook.reached(.afterStorageComplete)
            return sent
        }
        let completion = try complete(etags: etags, session: session)
        CrashHook.reached(.afterStorageComplete)
        switch completion {
        case .done: try callBack(session, attempts: options.maxChunkAttempts)
        case .failed(let error):
            do {
                try callBack(session, attempts: 1)
            } catch is UploadFailure {
                throw UploadFailure(reason: "could not complete the upload of \(session.uri): \(error)", permanent: false)
            }
        }
        return sent
    }

    /// 4.18's rules are "any order": what parts on a storage need, whatever the Cloudreve release.
    static let anyOrder = ServerVersion(major: 4, minor: 18)

    /// The policy's `chunk_concurrency` (capped by the configuration's), as for chunks to the server.
    private func partConcurrency(_ session: SessionRecord, plan: ChunkPlan) -> Int {
        guard plan.count > 1 else { return 1 }
        return max(1, min(session.policy?.chunkConcurrency ?? 1, options.chunkConcurrency))
    }

    private func sendPart(_ index: Int, of plan: ChunkPlan, file: LocalFile, fileRowID: Int64) throws -> (String, Int64) {
        let (offset, length) = plan.range(of: index)
        var attempt = 0
        var sent: Int64 = 0
        while true {
            attempt += 1
            var bytes: Int64 = 0
            do {
                let etag = try client.putPart(url: s3.uploadURLs[index], fd: file.fd, offset: offset, length: length,
                                              contentType: S3Flavor.of(s3.policyType).partContentType) { n in
                    if index == plan.lastIndex, bytes < length / 2, n >= length / 2 { CrashHook.reached(.lastChunk) }
                    self.control.board.add(fileRowID, n - bytes)
                    self.control.throttle(min(64 << 10, length - n))
                    bytes = n
                    return !self.shouldStop()
                }
                return (etag, sent + length)
            } catch {
                sent += bytes
                control.board.add(fileRowID, -bytes)
                if shouldStop() { throw Stopped() }
                if case CloudreveError.transport(let transport) = error, transport.isLocalReadError { throw FileChanged() }
                if let storage = error as? StorageError, storage.isNoSuchUpload || storage.isSignatureRefused {
                    // Aborted on the storage, or the presigned URL expired: this session cannot take parts any more.
                    throw Restart(reason: "\(storage) for part \(index + 1) of \(plan.count)")
                }
                let retryable = (error as? StorageError)?.isRetryable ?? (error as? CloudreveError)?.isRetryable ?? false
                guard retryable else { throw UploadFailure(reason: "part \(index + 1) of \(plan.count): \(error)", permanent: false) }
                guard attempt < options.maxChunkAttempts else {
                    var failure = UploadFailure(reason: "gave up on part \(index + 1) of \(plan.count) after \(attempt) attempts: \(error)",
                                                permanent: false)
                    if case CloudreveError.transport = error { failure.unreachable = true }
                    throw failure
                }
                control.metrics?.add(.chunkRetries)
                Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                           random: Double.random(in: 0..<1)))
            }
        }
    }

    /// `POST completeURL`. NoSuchUpload here most often means an earlier completion went through and a crash
    /// lost its answer: the callback then finds the object complete (or says it is not, and we restart).
    private func complete(etags: [Int: String], session: SessionRecord) throws -> Completion {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try client.completeMultipart(url: s3.completeURL, etags: etags, policyType: s3.policyType)
                return .done
            } catch let storage as StorageError where storage.isNoSuchUpload {
                return .done
            } catch let storage as StorageError where storage.isSignatureRefused {
                throw Restart(reason: "\(storage) completing \(session.uri)")
            } catch let storage as StorageError where !storage.isRetryable {
                // e.g. InvalidPart or EntityTooSmall: the parts as journaled do not make the object.
                throw Restart(reason: "\(storage) completing \(session.uri)")
            } catch {
                guard attempt < S3Parts.completionAttempts else { return .failed(error) }
                Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                           random: Double.random(in: 0..<1)))
            }
        }
    }

    /// Tries of a failing completion before Cloudreve's callback (or, for OSS and OBS, the next pass) is asked instead.
    static let completionAttempts = 3

    enum Completion {
        case done
        /// The storage kept failing (5xx, network). It may still hold the object from an earlier completion whose
        /// answer a crash lost (a storage may refuse to complete the same upload twice): the callback tells.
        case failed(Error)
    }

    /// The GET callback, asked again while the storage does not show the object complete yet (-1).
    private func callBack(_ session: SessionRecord, attempts: Int) throws {
        var attempt = 0
        while true {
            attempt += 1
            var code: Int? = 0
            var failure: Error? = nil
            do {
                try client.storageCallback(type: s3.policyType, sessionID: session.sessionID, secret: s3.callbackSecret)
            } catch let error as CloudreveError {
                code = error.code
                failure = error
                if code == nil, error.isRetryable { code = -1 }   // a transport error or a proxy's page: ask again
            }
            switch callbackVerdict(code: code) {
            case .done, .askFile:
                return
            case .restart:
                throw Restart(reason: "\(failure.map { "\($0)" } ?? "size mismatch") after completing \(session.uri)")
            case .retry where attempt < attempts:
                Thread.sleep(forTimeInterval: min(Double(attempt), 5))
            case .retry, .fail:
                throw UploadFailure(reason: "the server's callback for \(session.uri) failed: \(failure.map { "\($0)" } ?? "")",
                                    permanent: false)
            }
        }
    }
}
