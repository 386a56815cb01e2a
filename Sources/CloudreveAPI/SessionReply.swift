import Foundation

/// What crsync reads from an upload session's JSON (`PUT /file/upload`'s `data`), decoded in one pass:
/// the session, where its chunks go, and its bucket parts if it has any. The journal keeps the JSON
/// verbatim and reads it through this once per session; before, each question (route? bucket? policy?)
/// decoded it again, five decodes per small file, and JSON decoding was the largest item in a profile of
/// small-file uploads.
public struct SessionReply: Decodable, Sendable {
    public var session: UploadSession
    public var route: ChunkRoute
    /// Set for a session whose parts go straight to a bucket (s3, ks3, cos, oss, obs).
    public var s3: S3Session?

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", chunkSize = "chunk_size", expires, uri, storagePolicy = "storage_policy"
        case uploadURLs = "upload_urls", credential, callbackSecret = "callback_secret", uploadID = "upload_id", completeURL
    }

    /// Each key read once, into the three views (a decode of each view on its own read the JSON thrice).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let sessionID = try c.decode(String.self, forKey: .sessionID)
        let policy = try c.decodeIfPresent(StoragePolicy.self, forKey: .storagePolicy)
        let uploadURLs = try c.decodeIfPresent([String].self, forKey: .uploadURLs)
        let callbackSecret = try c.decodeIfPresent(String.self, forKey: .callbackSecret)
        session = UploadSession(sessionID: sessionID, chunkSize: try c.decode(Int64.self, forKey: .chunkSize),
                                expires: try c.decode(Int64.self, forKey: .expires), uri: try c.decode(String.self, forKey: .uri),
                                storagePolicy: policy, uploadURLs: uploadURLs)
        route = ChunkRoute(DirectSessionFields(sessionID: sessionID, uploadURLs: uploadURLs,
                                               credential: try c.decodeIfPresent(String.self, forKey: .credential),
                                               callbackSecret: callbackSecret, storagePolicy: policy))
        s3 = S3Session.ifSupported(S3Session(sessionID: sessionID, uploadID: try c.decodeIfPresent(String.self, forKey: .uploadID),
                                             uploadURLs: uploadURLs ?? [],
                                             completeURL: try c.decodeIfPresent(String.self, forKey: .completeURL) ?? "",
                                             callbackSecret: callbackSecret ?? "", policyType: policy?.type ?? ""))
    }

    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(SessionReply.self, from: Data(json))
    }
}
