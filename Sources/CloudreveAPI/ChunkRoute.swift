import Foundation
import Transport

/// Where a session's chunks go, read from the session as the server created it (reference §4, §5).
public enum ChunkRoute: Sendable, Equatable {
    /// Local, or any policy in relay mode: `POST /file/upload/{id}/{index}` on the server.
    case server
    /// A slave node: `POST {url}?chunk=N` with `Authorization: <credential>`, completed by the node.
    case remote(url: String, credential: String)
    /// A OneDrive upload session: `Content-Range` PUTs to `url`, then the client's callback.
    case oneDrive(url: String, sessionID: String, callbackSecret: String)
    /// A policy crsync cannot send to (yet); `type` names it.
    case unsupported(type: String)

    /// The route of a session, from the JSON the journal keeps.
    public init(sessionJSON: [UInt8]) {
        guard let fields = try? JSONDecoder().decode(DirectSessionFields.self, from: Data(sessionJSON)) else {
            self = .unsupported(type: "unreadable session")
            return
        }
        self.init(fields)
    }

    init(_ fields: DirectSessionFields) {
        let policy = fields.storagePolicy
        if policy == nil || policy?.type == "local" || policy?.relay == true {
            self = .server
            return
        }
        let type = policy?.type ?? ""
        switch (type, fields.uploadURLs?.first) {
        case ("remote", let url?) where fields.credential?.isEmpty == false:
            self = .remote(url: url, credential: fields.credential!)
        case ("onedrive", let url?):
            self = .oneDrive(url: url, sessionID: fields.sessionID, callbackSecret: fields.callbackSecret ?? "")
        default:
            self = .unsupported(type: type)
        }
    }

    /// Graph takes the ranges of one upload session in order, one at a time.
    public var allowsParallelChunks: Bool {
        if case .oneDrive = self { return false }
        return true
    }

    /// The policy's name for messages and `crsync sessions`.
    public var policyName: String {
        switch self {
        case .server: return "local/relay"
        case .remote: return "remote"
        case .oneDrive: return "onedrive"
        case .unsupported(let type): return type
        }
    }
}

/// The fields of `UploadSessionResponse` that direct policies use. `credential` is a secret: it is
/// sent as is and never printed.
struct DirectSessionFields: Decodable {
    var sessionID: String
    var uploadURLs: [String]?
    var credential: String?
    var callbackSecret: String?
    var storagePolicy: StoragePolicy?

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", uploadURLs = "upload_urls", credential, callbackSecret = "callback_secret"
        case storagePolicy = "storage_policy"
    }
}

extension CloudreveClient {
    /// Sends one chunk along `route`. Returns normally only when the receiver acknowledged it.
    public func uploadChunk(route: ChunkRoute, sessionID: String, index: Int, fd: Int32, offset: Int64, length: Int64, total: Int64,
                            expectedDuration: TimeInterval, progress: BodyProgress? = nil) throws {
        switch route {
        case .server:
            try uploadChunk(sessionID: sessionID, index: index, fd: fd, offset: offset, length: length, expectedDuration: expectedDuration,
                            progress: progress)
        case .remote(let url, let credential):
            try uploadRemoteChunk(url: url, credential: credential, index: index, fd: fd, offset: offset, length: length, progress: progress)
        case .oneDrive(let url, _, _):
            try uploadOneDriveRange(url: url, fd: fd, offset: offset, length: length, total: total, progress: progress)
        case .unsupported(let type):
            throw CloudreveError.usage("the storage policy '\(type)' is not supported yet")
        }
    }
}
