import CloudreveAPI
import Foundation

/// An upload session as persisted before its first chunk is sent (§8): enough to resume it after a crash,
/// or to cancel it on the server when it can no longer be resumed.
public struct SessionRecord: Sendable {
    public var fileRowID: Int64
    public var sessionID: String
    /// The target `cloudreve://` URI the session was created for.
    public var uri: String
    /// The server's whole UploadSessionResponse, kept verbatim: fields this build does not model
    /// (upload_urls, credential, callback_secret, encrypt_metadata) may be needed to resume or cancel.
    public let sessionJSON: [UInt8]
    /// `sessionJSON` read once (nil if it cannot be read): where chunks go, bucket parts, the policy.
    public let reply: SessionReply?
    /// From `/site/ping` when the session was created; chunk ordering rules depend on it (§8 step 3).
    public var serverVersion: String
    /// Bytes per chunk; 0 means the whole file in one request (relay mode).
    public var chunkSize: Int64
    public var chunkCount: Int
    public var expires: Date
    /// The local file's identity when the session was created: if it differs now, the session is void.
    public var identity: FileIdentity
    public var createdAt: Date
    /// Chunk indexes the server answered with success; filled on read, ignored by `saveSession`.
    public var acknowledged: Set<Int>

    /// `reply`, when the caller has just decoded `sessionJSON`, saves decoding it again.
    public init(fileRowID: Int64, sessionID: String, uri: String, sessionJSON: [UInt8], reply: SessionReply? = nil,
                serverVersion: String, chunkSize: Int64, chunkCount: Int, expires: Date, identity: FileIdentity, createdAt: Date,
                acknowledged: Set<Int> = []) {
        self.fileRowID = fileRowID
        self.sessionID = sessionID
        self.uri = uri
        self.sessionJSON = sessionJSON
        self.reply = reply ?? (try? SessionReply(json: sessionJSON))
        self.serverVersion = serverVersion
        self.chunkSize = chunkSize
        self.chunkCount = chunkCount
        self.expires = expires
        self.identity = identity
        self.createdAt = createdAt
        self.acknowledged = acknowledged
    }

    public var route: ChunkRoute { reply?.route ?? .unsupported(type: "unreadable session") }
    public var s3: S3Session? { reply?.s3 }
    public var policy: StoragePolicy? { reply?.session.storagePolicy }
}
