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

    public init(from decoder: Decoder) throws {
        session = try UploadSession(from: decoder)
        route = ChunkRoute(try DirectSessionFields(from: decoder))
        s3 = (try? S3Session(from: decoder)).flatMap(S3Session.ifSupported)
    }

    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(SessionReply.self, from: Data(json))
    }
}
