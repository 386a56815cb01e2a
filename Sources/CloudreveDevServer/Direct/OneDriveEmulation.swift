import Foundation

/// A Graph upload session as the dev server emulates it: bytes arrive in order, as ranges.
struct OneDriveSession {
    /// The next byte expected (`nextExpectedRanges: ["N-"]`).
    var received: Int64 = 0
    /// The last range arrived: Graph created the item and the upload URL is gone.
    var complete = false
}

extension Store {
    /// `GET {upload_url}`: how far the upload got, Graph's resume query; 404 once it is gone.
    func oneDriveStatus(_ id: String) -> Reply {
        guard let state = direct.oneDrive[id], !state.complete, let session = liveSession(id) else { return Store.graphError(404, "itemNotFound") }
        return .plainJSON(.object([("expirationDateTime", .string(session.expires.rfc3339)),
                                   ("nextExpectedRanges", .array([.string("\(state.received)-")]))]))
    }

    /// `POST /callback/onedrive/{id}/{secret}` (the client, after the last range): checks the item's size
    /// against the session's and completes the upload.
    func oneDriveCallback(_ request: Request, sessionID: String, secret: String) throws -> Reply {
        guard let session = liveSession(sessionID) else { throw APIError.sessionExpired }
        guard constantTimeEqual(Array(secret.utf8), Array(session.callbackSecret.utf8)) else {
            throw APIError.credentialInvalid("invalid callback secret")
        }
        let state = direct.oneDrive[sessionID] ?? OneDriveSession()
        guard state.complete, state.received == session.size else {
            throw APIError(40055, "File size not match, expected: \(session.size), actual: \(state.received)")
        }
        try completeUpload(session)
        direct.oneDrive[sessionID] = nil
        return .ok()
    }

    static func graphError(_ status: Int, _ code: String, _ message: String = "") -> Reply {
        var reply = Reply.plainJSON(.object([("error", .object([("code", .string(code)), ("message", .string(message))]))]))
        reply.status = status
        return reply
    }
}

/// `PUT {upload_url}` with `Content-Range: bytes a-b/total`: the range must start at the next expected
/// byte and match the session's size; 202 with `nextExpectedRanges`, 201 with the item on the last one.
/// Graph refuses an `Authorization` header on upload URLs (401): the URL itself is the credential.
final class OneDriveRangeUpload: BodyReceiver {
    private let store: Store
    private let sessionID: String
    private var refusal: Reply?
    private var fd: Int32 = -1
    private var start: Int64 = 0
    private var length: Int64 = 0
    private var total: Int64 = 0
    private var received: Int64 = 0
    /// `/__dev/faults`: Graph's own faults (a cut connection, a 5xx, a late answer).
    private var drawn: DrawnFault?

    init(store: Store, request: Request, sessionID: String) {
        self.store = store
        self.sessionID = sessionID
        store.sync {
            store.stats.chunkRequests += 1
            drawn = DrawnFault(&store.faults, declaredLength: request.declaredBodyLength)
            refusal = validate(request)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    private func validate(_ request: Request) -> Reply? {
        if request.headers.first(name: "Authorization") != nil {
            return Store.graphError(401, "unauthenticated", "upload URLs take no Authorization header")
        }
        guard let state = store.direct.oneDrive[sessionID], !state.complete, let session = store.liveSession(sessionID) else {
            return Store.graphError(404, "itemNotFound")
        }
        guard let range = request.headers.first(name: "Content-Range"), let parsed = parseContentRange(range) else {
            return Store.graphError(400, "invalidRequest", "Content-Range required")
        }
        (start, total) = (parsed.start, parsed.total)
        length = parsed.end - parsed.start + 1
        guard total == session.size, parsed.end < total, length == request.declaredBodyLength, start == state.received else {
            return Store.graphError(416, "invalidRange", "expected bytes \(state.received)-/\(session.size)")
        }
        if drawn?.storesNothing == true { return nil }
        fd = store.blobs.openForWriting(session.entityID, truncate: false)
        return fd >= 0 ? nil : Store.graphError(500, "generalException")
    }

    func receive(_ all: UnsafeRawBufferPointer) -> Bool {
        let (bytes, cutNow) = drawn?.admit(all, received: received) ?? (all, false)
        store.sync { store.stats.chunkBytes += Int64(bytes.count) }
        if fd >= 0 && refusal == nil {
            let room = max(0, length - received)
            let part = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(min(Int64(bytes.count), room))])
            if !part.isEmpty && !pwriteAll(fd, part, offset: start + received) { refusal = Store.graphError(500, "generalException") }
        }
        received += Int64(bytes.count)
        return !cutNow
    }

    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    func finish() -> Reply {
        let reply = answer()
        return drawn?.shape(reply) ?? reply
    }

    private func answer() -> Reply {
        if fd >= 0 { close(fd); fd = -1 }
        if let refusal { return refusal }
        // Graph's answer to a failure of its own: 5xx, the range not taken (it is asked for again).
        if drawn?.storesNothing == true { return Store.graphError(500, "generalException") }
        guard received == length else { return Store.graphError(400, "invalidRequest", "body shorter than its range") }
        return store.sync {
            guard var state = store.direct.oneDrive[sessionID], state.received == start else { return Store.graphError(416, "invalidRange") }
            state.received = start + length
            state.complete = state.received == total
            store.direct.oneDrive[sessionID] = state
            if state.complete {
                var reply = Reply.plainJSON(.object([("id", .string(sessionID)), ("size", .int(total))]))
                reply.status = 201
                return reply
            }
            var reply = Reply.plainJSON(.object([("nextExpectedRanges", .array([.string("\(state.received)-")]))]))
            reply.status = 202
            return reply
        }
    }
}

/// `bytes a-b/total` → (a, b, total).
func parseContentRange(_ text: String) -> (start: Int64, end: Int64, total: Int64)? {
    guard text.hasPrefix("bytes ") else { return nil }
    let parts = text.dropFirst(6).split(separator: "/")
    guard parts.count == 2, let total = Int64(parts[1]) else { return nil }
    let ends = parts[0].split(separator: "-")
    guard ends.count == 2, let a = Int64(ends[0]), let b = Int64(ends[1]), a >= 0, b >= a else { return nil }
    return (a, b, total)
}
