import Foundation
import Transport

extension CloudreveClient {
    /// Sends one request and unwraps the envelope `{code, data, msg}` (§1): code 0 gives `data` (nil when
    /// absent), any other code an `.api` error, and a body that is not an envelope an `.http` error naming
    /// the status (a proxy's 502 page, a 413).
    func call<T: Decodable>(_ method: String, _ path: String, query: [(String, String)] = [], json: (any Encodable)? = nil,
                            body: RequestBody = .none, token: String?, timeout: Int = 60, acceptCodes: Set<Int> = [0],
                            progress: BodyProgress? = nil) throws -> T? {
        var url = api + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\(encodeQueryValue($0.1))" }.joined(separator: "&")
        }
        var headers = [("Accept", "application/json"), ("X-Cr-Client-Id", clientID)]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var requestBody = body
        if let json {
            requestBody = .bytes(Array(try JSONEncoder().encode(json)))
            headers.append(("Content-Type", "application/json"))
        } else if case .fileRange = body {
            headers.append(("Content-Type", "application/octet-stream"))
        }
        let transport = transports.take()
        defer { transports.give(transport) }
        var response: HTTPResponse?
        var attempt = 0
        while response == nil {
            do {
                response = try transport.perform(HTTPRequest(method: method, url: url, headers: headers, body: requestBody, timeout: timeout),
                                                 progress: progress)
            } catch let error as TransportError {
                attempt += 1
                if asksAgain(method: method, path: path, curlCode: error.curlCode, attempt: attempt) {
                    Thread.sleep(forTimeInterval: 0.5 * Double(1 << (attempt - 1)))
                    continue
                }
                // The full address (without the query, which may be long), the session id shortened: the first
                // thing to check is which server and port were tried.
                var named = error
                named.url = method + " " + api + shortenedSessionPath(path)
                throw CloudreveError.transport(named)
            }
        }
        return try decodeEnvelope(response!, path: path, acceptCodes: acceptCodes)
    }

    func decodeEnvelope<T: Decodable>(_ response: HTTPResponse, path: String, acceptCodes: Set<Int>) throws -> T? {
        let data = Data(response.body)
        guard let head = try? JSONDecoder().decode(EnvelopeHead.self, from: data) else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
                .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
            throw CloudreveError.http(status: response.status, path: path, snippet: text)
        }
        guard acceptCodes.contains(head.code) else {
            var tokens: [String] = []
            if head.code == 40073, let detail = try? JSONDecoder().decode(EnvelopeData<[LockConflict]>.self, from: data) {
                tokens = (detail.data ?? []).compactMap(\.token)
            }
            throw CloudreveError.api(code: head.code, message: head.msg ?? "", path: path, lockTokens: tokens)
        }
        if T.self == Empty.self { return nil }
        do {
            return try JSONDecoder().decode(EnvelopeData<T>.self, from: data).data
        } catch {
            throw CloudreveError.malformed(path: path, detail: "\(error)")
        }
    }
}

struct EnvelopeHead: Decodable {
    var code: Int
    var msg: String?
}

struct EnvelopeData<T: Decodable>: Decodable {
    var data: T?
}

/// For calls whose `data` we ignore.
struct Empty: Decodable {}

struct LockConflict: Decodable {
    var path: String?
    var token: String?
}

/// curl's codes for a connection refused, or closed or reset before a whole answer arrived: what a server
/// restart looks like from outside. Not a timeout or a stall, which already waited long.
/// Whether a request that failed to reach the server is sent again (0.5 to 4 s apart, 7.5 s in all) rather
/// than failing the file. A server restarting, or a proxy reconnecting, refuses or drops connections for a
/// few seconds. A read is always safe to repeat. A refused connection (curl 7) carried nothing, so any call
/// is, e.g. creating an upload session while the server restarts. Never the first contact (`/site/ping`), so
/// a wrong address is still named at once.
func asksAgain(method: String, path: String, curlCode: Int, attempt: Int) -> Bool {
    guard path != "/site/ping", attempt < 5 else { return false }
    return curlCode == 7 || (method == "GET" && retryableConnectionFailure(curlCode))
}

func retryableConnectionFailure(_ curlCode: Int) -> Bool {
    [7 /* COULDNT_CONNECT */, 52 /* GOT_NOTHING */, 55 /* SEND_ERROR */, 56 /* RECV_ERROR */].contains(curlCode)
}
