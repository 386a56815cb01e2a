import Foundation
import Transport

/// What a direct-to-storage session of the S3 family carries beyond `UploadSession` (reference §5, §8c):
/// one presigned PUT URL per part, the presigned completion URL (camelCase `completeURL`), and the secret
/// of Cloudreve's callback route. Decoded from the session JSON the journal keeps whole.
public struct S3Session: Decodable, Sendable {
    public var sessionID: String
    public var uploadID: String?
    public var uploadURLs: [String]
    public var completeURL: String
    public var callbackSecret: String
    public var policyType: String

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", uploadID = "upload_id", uploadURLs = "upload_urls", completeURL
        case callbackSecret = "callback_secret", storagePolicy = "storage_policy"
    }
    struct Policy: Decodable { var type: String }

    init(sessionID: String, uploadID: String?, uploadURLs: [String], completeURL: String, callbackSecret: String, policyType: String) {
        self.sessionID = sessionID
        self.uploadID = uploadID
        self.uploadURLs = uploadURLs
        self.completeURL = completeURL
        self.callbackSecret = callbackSecret
        self.policyType = policyType
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sessionID = try c.decode(String.self, forKey: .sessionID)
        uploadID = try c.decodeIfPresent(String.self, forKey: .uploadID)
        uploadURLs = try c.decodeIfPresent([String].self, forKey: .uploadURLs) ?? []
        completeURL = try c.decodeIfPresent(String.self, forKey: .completeURL) ?? ""
        callbackSecret = try c.decodeIfPresent(String.self, forKey: .callbackSecret) ?? ""
        policyType = try c.decodeIfPresent(Policy.self, forKey: .storagePolicy)?.type ?? ""
    }

    /// Policy types whose flow crsync speaks: presigned part PUTs, then the completion; then Cloudreve's GET
    /// callback (s3, ks3, cos), or the storage calls Cloudreve itself (oss, obs). What differs: `S3Flavor`.
    public static let supportedTypes: Set<String> = ["s3", "ks3", "cos", "oss", "obs"]

    /// The session JSON as an S3-family session, or nil when it is not one crsync can drive.
    public static func parse(_ json: [UInt8]) -> S3Session? {
        (try? JSONDecoder().decode(S3Session.self, from: Data(json))).flatMap(ifSupported)
    }

    static func ifSupported(_ session: S3Session) -> S3Session? {
        supportedTypes.contains(session.policyType) && !session.uploadURLs.isEmpty && !session.completeURL.isEmpty ? session : nil
    }
}

/// The body of `POST completeURL`: every part with its ETag exactly as the storage gave it (quotes included).
public func completeMultipartXML(_ etags: [Int: String]) -> String {
    var xml = "<CompleteMultipartUpload>"
    for (index, etag) in etags.sorted(by: { $0.key < $1.key }) {
        xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(xmlEscaped(etag))</ETag></Part>"
    }
    return xml + "</CompleteMultipartUpload>"
}

func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

/// A storage's own error answer (not Cloudreve's envelope): its HTTP status and `<Code>`.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public var status: Int
    public var code: String
    /// The URL without its query: presigned signatures are credentials and stay out of messages.
    public var url: String
    public var description: String { "the storage answered HTTP \(status)\(code.isEmpty ? "" : " \(code)") to \(url)" }
    /// Worth the same request again later: the storage's own trouble, not ours.
    public var isRetryable: Bool { status >= 500 || status == 408 || status == 429 || code == "SlowDown" }
    /// The multipart upload is gone (aborted, completed, or never there).
    public var isNoSuchUpload: Bool { code == "NoSuchUpload" || status == 404 }
    /// The presigned URL is refused: expired, or signed for other headers.
    public var isSignatureRefused: Bool { status == 403 }
}

/// The URL up to its query, for messages.
public func withoutQuery(_ url: String) -> String { String(url.split(separator: "?", maxSplits: 1).first ?? "") }

extension CloudreveClient {
    /// `PUT upload_urls[i]`: one part, exactly `length` bytes (Content-Length is signed). No Authorization
    /// header: the URL carries its signature. `contentType` when the URL signs one (OSS, OBS: `S3Flavor`).
    /// Returns the part's ETag, as given.
    public func putPart(url: String, fd: Int32, offset: Int64, length: Int64, contentType: String? = nil,
                        progress: BodyProgress? = nil) throws -> String {
        let response = try storageRequest(HTTPRequest(method: "PUT", url: url, headers: contentType.map { [("Content-Type", $0)] } ?? [],
                                                      body: .fileRange(fd: fd, offset: offset, length: length), timeout: 0),
                                          progress: progress)
        guard let etag = response.headers["etag"], !etag.isEmpty else {
            throw CloudreveError.malformed(path: withoutQuery(url), detail: "the storage accepted a part but sent no ETag")
        }
        return etag
    }

    /// `POST completeURL` with the parts XML. A storage may answer 200 with an `<Error>` body; that is a failure too.
    /// Headers per `S3Flavor` (COS gets `x-cos-forbid-overwrite: true`, as Cloudreve's web client sends, §5).
    public func completeMultipart(url: String, etags: [Int: String], policyType: String = "s3") throws {
        let body = Array(completeMultipartXML(etags).utf8)
        let response = try storageRequest(HTTPRequest(method: "POST", url: url, headers: S3Flavor.of(policyType).completionHeaders,
                                                      body: .bytes(body), timeout: 120))
        if let code = storageErrorCode(response.body) {
            throw StorageError(status: response.status, code: code, url: withoutQuery(url))
        }
    }

    /// `GET /callback/{type}/{session_id}/{secret}`: tells Cloudreve the object is complete. No Authorization
    /// (the secret is the credential). Errors come as HTTP 400/401 with an envelope: -1 not complete yet,
    /// 40055 size mismatch, 40011 session already used, 40020 wrong secret.
    public func storageCallback(type: String, sessionID: String, secret: String) throws {
        let _: Empty? = try call("GET", "/callback/\(type)/\(sessionID)/\(secret)", token: nil)
    }

    private func storageRequest(_ request: HTTPRequest, progress: BodyProgress? = nil) throws -> HTTPResponse {
        let transport = transports.take()
        defer { transports.give(transport) }
        let response: HTTPResponse
        do {
            response = try transport.perform(request, progress: progress)
        } catch var error as TransportError {
            error.url = withoutQuery(error.url)
            throw CloudreveError.transport(error)
        }
        guard (200..<300).contains(response.status) else {
            throw StorageError(status: response.status, code: storageErrorCode(response.body) ?? "", url: withoutQuery(request.url))
        }
        return response
    }
}

/// The `<Code>` of an S3 `<Error>` document, if the body is one.
func storageErrorCode(_ body: [UInt8]) -> String? {
    let text = String(decoding: body.prefix(4096), as: UTF8.self)
    guard text.contains("<Error>"), let start = text.range(of: "<Code>"), let end = text.range(of: "</Code>"),
          start.upperBound <= end.lowerBound else { return nil }
    return String(text[start.upperBound..<end.lowerBound])
}
