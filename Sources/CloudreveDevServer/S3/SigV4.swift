import Foundation

/// AWS Signature Version 4 query presigning (the form Cloudreve's S3 driver hands out as `upload_urls`
/// and `completeURL`, reference §8c): the signature covers method, path, query and the signed headers.
/// moto does not check it; a real S3 would. Pure, so it is tested against AWS's published example.
struct SigV4 {
    var accessKey: String
    var secretKey: String
    var region = "us-east-1"
    var service = "s3"

    /// `url` with the X-Amz-* parameters added. `headers` are the signed headers besides `host`
    /// (e.g. `content-length`, so that a part must carry exactly its length).
    func presign(method: String, scheme: String = "http", host: String, path: String, query: [(String, String)],
                 headers: [(String, String)] = [], expires: Int, date: Date) -> String {
        let stamp = SigV4.timestamp(date)
        let day = String(stamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let allHeaders = (headers.map { ($0.0.lowercased(), $0.1) } + [("host", host)]).sorted { $0.0 < $1.0 }
        let signedHeaders = allHeaders.map(\.0).joined(separator: ";")
        var params = query
        params += [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", "\(accessKey)/\(scope)"), ("X-Amz-Date", stamp),
                   ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedHeaders)]
        let canonicalQuery = params.map { (SigV4.encode($0.0), SigV4.encode($0.1)) }.sorted { $0 < $1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalPath = path.split(separator: "/", omittingEmptySubsequences: false).map { SigV4.encode(String($0)) }
            .joined(separator: "/")
        let canonicalRequest = [method, canonicalPath, canonicalQuery,
                                allHeaders.map { "\($0.0):\($0.1.trimmingCharacters(in: .whitespaces))\n" }.joined(),
                                signedHeaders, "UNSIGNED-PAYLOAD"].joined(separator: "\n")
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, Hex.encode(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SHA256.hmac(key: Array("AWS4\(secretKey)".utf8), message: Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = SHA256.hmac(key: key, message: Array(part.utf8)) }
        let signature = Hex.encode(SHA256.hmac(key: key, message: Array(stringToSign.utf8)))
        return "\(scheme)://\(host)\(canonicalPath)?\(canonicalQuery)&X-Amz-Signature=\(signature)"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: only unreserved characters stay.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
