import Foundation

/// `POST /file/upload/{session_id}/{index}` (reference §4; `service/explorer/upload.go LocalUpload`,
/// `processChunkUpload`, `manager/upload.go ConfirmUploadSession / MarkChunkUploaded`).
///
/// Every check runs when the head arrives, in the server's order; a failing request still has its
/// body drained before the error is answered, like `request.BlackHole`. Accepted bytes are written
/// at the chunk's offset as they stream in, so a dropped connection leaves them in place.
final class ChunkUpload: BodyReceiver {
    private let store: Store
    private let sessionID: String
    private let index: Int
    /// The session as it was when the request was validated (the handler's KV copy).
    private var session: UploadSession?
    private var failure: APIError?
    private var drawn: DrawnFault?
    private var fd: Int32 = -1
    private var offset: Int64 = 0
    private var expected: Int64 = 0
    private var received: Int64 = 0

    init(store: Store, request: Request, sessionID: String, indexText: String) {
        self.store = store
        self.sessionID = sessionID
        self.index = Int(indexText) ?? -1
        store.sync {
            store.stats.chunkRequests += 1
            drawn = DrawnFault(&store.faults, declaredLength: request.declaredBodyLength)
            do {
                try validate(request)
            } catch let e as APIError {
                failure = e
            } catch {
                failure = .unclassified
            }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    private func validate(_ request: Request) throws {
        // The CurrentUser middleware runs first (40020 for a refresh token), then `index` binding (min=0).
        let signedIn = try store.isSignedIn(request)
        guard index >= 0 else { throw APIError.param() }
        // A missing session and a caller who is not its owner look the same: 40011. An expired
        // access token makes the caller anonymous, so it lands here too (§2, the trap).
        guard let session = store.liveSession(sessionID), signedIn else { throw APIError.sessionExpired }
        self.session = session

        // ConfirmUploadSession: placeholder, lock (4.11+), chunk index.
        guard store.tree.lookup(session.path).node != nil else { throw APIError.pathNotExist }
        if store.version.chunksConfirmLock,
           !store.locks.confirm(token: session.lockToken, path: session.path, now: store.now) {
            throw APIError.lockExpired
        }
        // Only local and relay policies take chunks here; a direct policy's go to its storage (§4).
        guard session.s3 == nil, ["local", "relay"].contains(store.config.policy) else { throw APIError(40006, "Storage policy not supported") }
        let plan = session.chunkPlan
        guard plan.isIndexValid(index) else {
            throw APIError(40012, plan.chunkSize == 0 ? "Chunk index cannot be greater than 0"
                                                     : "Chunk offset cannot be greater than file size")
        }
        expected = plan.expectedLength(index)
        guard request.declaredBodyLength == expected else {
            throw APIError(40013, "Invalid Content-Length (expected: \(expected))")
        }
        // Faults that answer without storing anything skip the write entirely.
        if drawn?.storesNothing == true { return }

        // driver/local Put: < 4.7 truncates on chunk 0; the blob must already reach the offset.
        offset = plan.offset(index)
        fd = store.blobs.openForWriting(session.entityID, truncate: store.version.chunkZeroTruncates && index == 0)
        guard fd >= 0 else { throw APIError.io("Failed to upload file") }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) >= offset else {
            close(fd)
            fd = -1
            throw APIError.io("Failed to upload file")
        }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let (usable, cutNow) = drawn?.admit(bytes, received: received) ?? (bytes, false)
        store.sync { store.stats.chunkBytes += Int64(usable.count) }
        if fd >= 0 && failure == nil {
            // Like io.LimitReader: nothing past the chunk's declared length is stored.
            let room = max(0, expected - received)
            let part = UnsafeRawBufferPointer(rebasing: usable[0..<Int(min(Int64(usable.count), room))])
            if !part.isEmpty && !pwriteAll(fd, part, offset: offset + received) {
                failure = .io("Failed to upload file")
            }
        }
        received += Int64(usable.count)
        return !cutNow
    }

    func finish() -> Reply {
        // A cut at or past the body's end: the chunk was processed (it may even have completed the
        // upload) but the answer is lost, the "unknown outcome" of reference §8 step 5.
        let reply = answer()
        return drawn?.shape(reply) ?? reply
    }

    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    private func answer() -> Reply {
        if fd >= 0 { close(fd); fd = -1 }
        if let failure { return .error(failure) }
        switch drawn?.fault {
        case .minus1?: return .error(.unclassified)
        case .ioError?: return .error(.io("Failed to upload file"))
        default: break
        }
        guard let session else { return .error(.sessionExpired) }
        guard received == expected else { return .error(.io("Uploaded data does not match purposed size")) }
        do {
            try store.sync { try finishChunk(session) }
            return .ok()
        } catch let e as APIError {
            return .error(e)
        } catch {
            return .error(.unclassified)
        }
    }

    /// Up to 4.17 the last index completes the upload at once, whatever else arrived; 4.18 records
    /// the index and completes when every index is in, exactly once (`MarkChunkUploaded`).
    private func finishChunk(_ copy: UploadSession) throws {
        if store.version.completesWhenAllChunksArrive {
            guard var live = store.liveSession(copy.id) else { return }
            let total = live.chunkPlan.chunkCount
            let alreadyComplete = live.chunksReceived.count >= total
            live.chunksReceived.insert(index)
            store.sessions[copy.id] = live
            if !alreadyComplete && live.chunksReceived.count >= total { try store.completeUpload(live) }
        } else if copy.chunkPlan.isLast(index) {
            // The request's own copy: a session completed meanwhile fails here on its lock (40073).
            try store.completeUpload(copy)
        }
    }
}
