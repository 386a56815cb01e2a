import Foundation

/// A slave node's side of the `remote` policy (reference §5, §8c): the master opens a session here, the
/// client sends chunks here with the session's credential, and the node reports completion to the master
/// inside the last chunk's request.
extension Store {
    var slaveDirectory: String { config.dataDir + "/slave" }

    /// `PUT /api/v4/slave/upload` (master → node, signed): opens the node's copy of a session.
    func createSlaveSession(_ request: Request) throws -> Reply {
        if let refusal = NodeSignature.refusal(request, secret: config.direct.nodeSecret, now: now.seconds) { throw refusal }
        let body = try request.jsonBody()
        guard let id = body["session_id"]?.stringValue, let size = body["size"]?.int64Value,
              let chunkSize = body["chunk_size"]?.int64Value, let expires = body["expires"]?.int64Value,
              let secret = body["callback_secret"]?.stringValue, let master = body["master"]?.stringValue
        else { throw APIError.param() }
        try FileManager.default.createDirectory(atPath: slaveDirectory, withIntermediateDirectories: true)
        // Sessions that expired unfinished go with their partial files (the master cannot cancel them on
        // the node once its own copy has expired, §4).
        for id in Array(direct.slaveSessions.keys) { _ = liveSlaveSession(id) }
        let file = slaveDirectory + "/" + id
        let fd = open(file, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw APIError.io("Failed to create placeholder file") }
        defer { close(fd) }
        if size > 0, ftruncate(fd, off_t(size)) != 0 { throw APIError.io("Failed to allocate file") }
        direct.slaveSessions[id] = SlaveSession(id: id, size: size, chunkSize: chunkSize, expires: expires, callbackSecret: secret,
                                                master: master, file: file)
        stats.sessionsCreated += 1
        return .ok()
    }

    /// `DELETE /api/v4/slave/upload/{id}` (master → node, signed): the master cancelled the session.
    func deleteSlaveSession(_ request: Request, id: String) throws -> Reply {
        if let refusal = NodeSignature.refusal(request, secret: config.direct.nodeSecret, now: now.seconds) { throw refusal }
        if let session = direct.slaveSessions.removeValue(forKey: id) {
            unlink(session.file)
            stats.sessionsCancelled += 1
        }
        return .ok()
    }

    /// The node's live session, or nil once it expired, completed or was cancelled.
    func liveSlaveSession(_ id: String) -> SlaveSession? {
        guard let session = direct.slaveSessions[id] else { return nil }
        if session.expires <= now.seconds {
            direct.slaveSessions[id] = nil
            unlink(session.file)
            return nil
        }
        return session
    }
}

/// `POST /api/v4/slave/upload/{id}?chunk=N` from the client, with `Authorization: <credential>`. Same
/// length rules as a local chunk; errors are HTTP 200 with a code. Counted in the node's own stats, so
/// tests can count what reached the node.
final class SlaveChunkUpload: BodyReceiver {
    private let store: Store
    private let sessionID: String
    private var index = -1
    private var session: SlaveSession?
    private var failure: APIError?
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    private var expected: Int64 = 0
    private var received: Int64 = 0
    private var declaredLength: Int64 = 0
    private var resetInstead = false
    /// `/__dev/faults` on the node: the storage's own faults, as on a local policy's chunks.
    private var drawn: DrawnFault?

    init(store: Store, request: Request, sessionID: String) {
        self.store = store
        self.sessionID = sessionID
        store.sync {
            store.stats.chunkRequests += 1
            resetInstead = store.direct.resetRefusedChunks
            drawn = DrawnFault(&store.faults, declaredLength: request.declaredBodyLength)
            do { try validate(request) } catch let e as APIError { failure = e } catch { failure = .unclassified }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// A refused chunk with a large body is answered at once and its connection closed unread, as a real
    /// slave does (§8c); the client sees a broken pipe or a reset more often than the answer.
    var answerAtHead: Reply? {
        guard let failure, declaredLength > 64 << 10 else { return nil }
        var reply = Reply.error(failure)
        reply.dropConnection = resetInstead
        return reply
    }

    private func validate(_ request: Request) throws {
        declaredLength = request.declaredBodyLength
        if let refusal = NodeSignature.refusal(request, secret: store.config.direct.nodeSecret, now: store.now.seconds) { throw refusal }
        guard let text = request.queryValue("chunk"), let n = Int(text), n >= 0 else { throw APIError.param() }
        index = n
        guard let session = store.liveSlaveSession(sessionID) else { throw APIError.sessionExpired }
        self.session = session
        let plan = session.plan
        expected = plan.isIndexValid(index) ? plan.expectedLength(index) : session.size - plan.offset(index)
        guard plan.isIndexValid(index), request.declaredBodyLength == expected else {
            throw APIError(40013, "Invalid Content-Length (expected: \(expected))")
        }
        offset = plan.offset(index)
        if drawn?.storesNothing == true { return }
        fd = open(session.file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw APIError.io("Failed to upload file") }
    }

    func receive(_ all: UnsafeRawBufferPointer) -> Bool {
        let (bytes, cutNow) = drawn?.admit(all, received: received) ?? (all, false)
        store.sync { store.stats.chunkBytes += Int64(bytes.count) }
        if fd >= 0 && failure == nil {
            let room = max(0, expected - received)
            let part = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(min(Int64(bytes.count), room))])
            if !part.isEmpty && !pwriteAll(fd, part, offset: offset + received) { failure = .io("Failed to upload file") }
        }
        received += Int64(bytes.count)
        return !cutNow
    }

    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    /// On a thread of its own: the last chunk waits for the master's callback, and the master may be
    /// waiting on this node meanwhile (a session being created), so the event loop must stay free.
    func finish(then answer: @escaping (Reply) -> Void) {
        Thread.detachNewThread { answer(self.finish()) }
    }

    func finish() -> Reply {
        let reply = answer()
        return drawn?.shape(reply) ?? reply
    }

    private func answer() -> Reply {
        if fd >= 0 { close(fd); fd = -1 }
        if let failure { return .error(failure) }
        switch drawn?.fault {
        case .minus1?: return .error(.unclassified)
        case .ioError?: return .error(.io("Failed to upload file"))
        default: break
        }
        guard session != nil else { return .error(.sessionExpired) }
        guard received == expected else { return .error(.io("Uploaded data does not match purposed size")) }
        // Up to 4.17 the last index completes at once; 4.18 completes when every index is in, once.
        let ready: SlaveSession? = store.sync {
            guard var live = store.liveSlaveSession(sessionID) else { return nil }
            let wasComplete = live.received.count >= live.plan.chunkCount
            live.received.insert(index)
            store.direct.slaveSessions[sessionID] = live
            let complete = store.version.completesWhenAllChunksArrive ? live.received.count >= live.plan.chunkCount : live.plan.isLast(index)
            return complete && !wasComplete ? live : nil
        }
        guard let ready else { return .ok() }
        // The master's callback, inside this request and outside the node's lock: its answer is ours.
        let path = "/api/v4/callback/remote/\(ready.id)/\(ready.callbackSecret)"
        do {
            try nodeCall("POST", base: ready.master, path: path, secret: store.config.direct.nodeSecret, expires: store.now.seconds + 60,
                         body: .object([("blob", .string(ready.file)), ("size", .int(ready.size))]))
        } catch let e as APIError {
            // Not completed: the index goes out again, so a retried last chunk retries the callback.
            store.sync {
                if var live = store.direct.slaveSessions[sessionID] {
                    live.received.remove(index)
                    store.direct.slaveSessions[sessionID] = live
                }
            }
            return .error(e)
        } catch {
            return .error(.unclassified)
        }
        store.sync {
            store.direct.slaveSessions[sessionID] = nil
            unlink(ready.file)
        }
        return .ok()
    }
}
