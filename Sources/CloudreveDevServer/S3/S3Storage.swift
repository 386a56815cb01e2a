import Foundation
import Transport

/// The dev server's side of an S3 policy: the multipart upload it creates on a real S3-compatible server
/// (moto on loopback in the tests), the presigned URLs it hands out, and the checks Cloudreve makes before
/// it accepts the callback. The dev server calls the storage as its owner; moto checks no signature.
struct S3Storage {
    /// e.g. `http://127.0.0.1:5000` (path-style addressing, as §8c's setup).
    let endpoint: String
    let bucket: String
    let signer: SigV4

    init(endpoint: String, bucket: String, accessKey: String = "crsync-dev", secretKey: String = "crsync-dev-secret") {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base
        self.bucket = bucket
        self.signer = SigV4(accessKey: accessKey, secretKey: secretKey)
    }

    struct Failure: Error, CustomStringConvertible {
        var status: Int
        var code: String
        var description: String { "S3 answered HTTP \(status) \(code)" }
    }

    private var host: String { String(endpoint.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? "") }
    private var scheme: String { endpoint.hasPrefix("https") ? "https" : "http" }
    func objectPath(_ key: String) -> String { "/\(bucket)/\(key)" }
    private func url(_ key: String, _ query: String = "") -> String {
        endpoint + objectPath(key).split(separator: "/", omittingEmptySubsequences: false).map { SigV4.encode(String($0)) }
            .joined(separator: "/") + query
    }

    @discardableResult
    private func request(_ method: String, _ url: String, body: [UInt8] = [], responseFile: Int32? = nil,
                         accept: Set<Int> = [200, 204]) throws -> HTTPResponse {
        let response = try HTTPTransport().perform(HTTPRequest(method: method, url: url, body: body.isEmpty && method != "PUT" && method != "POST" ? .none : .bytes(body),
                                                               timeout: 120), responseFile: responseFile)
        guard accept.contains(response.status) else {
            throw Failure(status: response.status, code: S3Storage.tag("Code", in: response.body) ?? "")
        }
        return response
    }

    /// `CreateMultipartUpload`, creating the bucket first if needed. Returns the upload id.
    func createMultipartUpload(key: String) throws -> String {
        _ = try? request("PUT", endpoint + "/" + bucket, accept: [200, 409])
        let response = try request("POST", url(key, "?uploads"))
        guard let id = S3Storage.tag("UploadId", in: response.body) else { throw Failure(status: response.status, code: "NoUploadId") }
        return id
    }

    /// `upload_urls`: one presigned PUT per part, its exact length signed (S3, OBS), and the Content-Type
    /// where the policy's driver signs one (OSS, OBS sign `application/octet-stream`).
    func partURLs(key: String, uploadID: String, lengths: [Int64], expires: Int, now: Date, signsLength: Bool = true,
                  contentType: String? = nil) -> [String] {
        lengths.enumerated().map { index, length in
            var headers = signsLength ? [("content-length", String(length))] : []
            if let contentType { headers.append(("content-type", contentType)) }
            return signer.presign(method: "PUT", scheme: scheme, host: host, path: objectPath(key),
                                  query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                                  headers: headers, expires: expires, date: now)
        }
    }

    /// `completeURL`.
    func completeURL(key: String, uploadID: String, expires: Int, now: Date) -> String {
        signer.presign(method: "POST", scheme: scheme, host: host, path: objectPath(key), query: [("uploadId", uploadID)],
                       expires: expires, date: now)
    }

    /// `ListParts`: size and ETag of each part the storage holds, by part number; nil when the upload is gone.
    func parts(key: String, uploadID: String) throws -> [Int: (size: Int64, etag: String)]? {
        let response: HTTPResponse
        do {
            response = try request("GET", url(key, "?uploadId=\(SigV4.encode(uploadID))"))
        } catch let failure as Failure where failure.status == 404 {
            return nil
        }
        let text = String(decoding: response.body, as: UTF8.self)
        var parts: [Int: (size: Int64, etag: String)] = [:]
        for part in text.components(separatedBy: "<Part>").dropFirst() {
            let bytes = Array(part.utf8)
            if let n = S3Storage.tag("PartNumber", in: bytes).flatMap(Int.init), let size = S3Storage.tag("Size", in: bytes).flatMap(Int64.init) {
                parts[n] = (size, S3Storage.tag("ETag", in: bytes) ?? "")
            }
        }
        return parts
    }

    /// `CompleteMultipartUpload` as the bucket's owner, with the parts' ETags as listed (entities kept).
    func complete(key: String, uploadID: String, etags: [Int: String]) throws {
        let body = "<CompleteMultipartUpload>" + etags.sorted { $0.key < $1.key }
            .map { "<Part><PartNumber>\($0.key)</PartNumber><ETag>\($0.value)</ETag></Part>" }.joined() + "</CompleteMultipartUpload>"
        let response = try request("POST", url(key, "?uploadId=\(SigV4.encode(uploadID))"), body: Array(body.utf8))
        if let code = S3Storage.tag("Code", in: response.body) { throw Failure(status: response.status, code: code) }
    }

    /// The object's size (from `ListObjectsV2`, as a HEAD would), nil when it does not exist: the multipart
    /// upload is not complete.
    func objectSize(key: String) throws -> Int64? {
        let response = try request("GET", endpoint + "/" + bucket + "?list-type=2&prefix=" + SigV4.encode(key))
        guard S3Storage.tag("Key", in: response.body).map(S3Storage.xmlUnescaped) == key else { return nil }
        return S3Storage.tag("Size", in: response.body).flatMap(Int64.init)
    }

    /// The object's ETag as listed (quotes and entities kept), nil when it does not exist.
    func objectETag(key: String) throws -> String? {
        let response = try request("GET", endpoint + "/" + bucket + "?list-type=2&prefix=" + SigV4.encode(key))
        guard S3Storage.tag("Key", in: response.body).map(S3Storage.xmlUnescaped) == key else { return nil }
        return S3Storage.tag("ETag", in: response.body)
    }

    /// `GetObject` into `fd`: the dev server keeps a copy so its own download links keep working.
    func download(key: String, into fd: Int32) throws {
        try request("GET", url(key), responseFile: fd)
    }

    /// `AbortMultipartUpload`. Throws NoSuchUpload when it was completed or aborted already.
    func abort(key: String, uploadID: String) throws {
        try request("DELETE", url(key, "?uploadId=\(SigV4.encode(uploadID))"))
    }

    /// `ListMultipartUploads`: how many are open in the bucket (tests check none is left behind).
    func openUploads() throws -> Int {
        let response = try request("GET", endpoint + "/" + bucket + "?uploads")
        return String(decoding: response.body, as: UTF8.self).components(separatedBy: "<Upload>").count - 1
    }

    /// A listed key as text: S3 escapes `&`, `<`, `>`, quotes in XML, so `a&b.txt` is listed `a&amp;b.txt`.
    static func xmlUnescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func tag(_ name: String, in body: [UInt8]) -> String? {
        let text = String(decoding: body, as: UTF8.self)
        guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
        else { return nil }
        return String(text[start.upperBound..<end.lowerBound])
    }
}
