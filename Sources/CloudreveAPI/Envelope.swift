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
        // A chunk's acknowledgement (no data) and a session (data kept as bytes) need no decoder at all when
        // the code is accepted: the envelope's shape is checked by `scanEnvelope`.
        if T.self == Empty.self || T.self == RawJSON.self, let scan = scanEnvelope(response.body), let code = scan.code,
           acceptCodes.contains(code) {
            guard T.self == RawJSON.self, let span = scan.data else { return nil }
            let bytes = Array(response.body[span])
            return bytes == Array("null".utf8) ? nil : RawJSON(bytes: bytes) as? T
        }
        let data = Data(response.body)
        // The common case in one decode: an accepted code and a `data` of the expected shape. Anything else
        // is read again below, only to say exactly what was wrong.
        if T.self != RawJSON.self, let envelope = try? JSONDecoder().decode(Envelope<T>.self, from: data), acceptCodes.contains(envelope.code) {
            return T.self == Empty.self ? nil : envelope.data
        }
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
        if T.self == RawJSON.self {
            // An accepted code the scanner could not read: JSON it does not expect (it skips, not parses).
            throw CloudreveError.malformed(path: path, detail: "a reply whose data could not be cut out")
        }
        do {
            return try JSONDecoder().decode(EnvelopeData<T>.self, from: data).data
        } catch {
            throw CloudreveError.malformed(path: path, detail: "\(error)")
        }
    }
}

/// What `scanEnvelope` finds in a reply: its integer `code` and where its `data` value lies.
struct EnvelopeScan {
    var code: Int?
    var data: Range<Int>?
}

/// Walks a reply's top-level object without decoding it: nil unless the body is one object whose members
/// all have well-formed keys and balanced values, with nothing after it but white space. A scanner, not a
/// parser: it checks strings, brackets and commas, and reads only `code`'s digits.
func scanEnvelope(_ body: [UInt8]) -> EnvelopeScan? {
    var i = 0
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
    func skipSpace() { while i < body.count, isSpace(body[i]) { i += 1 } }
    /// From an opening quote to just past its closing quote.
    func skipString() -> Bool {
        i += 1
        while i < body.count {
            if body[i] == 0x5C { i += 2; continue }
            i += 1
            if body[i - 1] == 0x22 { return true }
        }
        return false
    }
    func skipValue() -> Bool {
        guard i < body.count else { return false }
        switch body[i] {
        case 0x22:
            return skipString()
        case 0x7B, 0x5B:
            var closers: [UInt8] = []
            while i < body.count {
                switch body[i] {
                case 0x22:
                    guard skipString() else { return false }
                    continue
                case 0x7B: closers.append(0x7D)
                case 0x5B: closers.append(0x5D)
                case 0x7D, 0x5D:
                    guard closers.popLast() == body[i] else { return false }
                    if closers.isEmpty { i += 1; return true }
                default:
                    break
                }
                i += 1
            }
            return false
        default:
            let start = i
            while i < body.count, body[i] != 0x2C, body[i] != 0x7D, body[i] != 0x5D, !isSpace(body[i]) { i += 1 }
            return i > start
        }
    }
    var scan = EnvelopeScan()
    skipSpace()
    guard i < body.count, body[i] == 0x7B else { return nil }
    i += 1
    skipSpace()
    if i < body.count, body[i] == 0x7D {
        i += 1
    } else {
        while true {
            skipSpace()
            guard i < body.count, body[i] == 0x22 else { return nil }
            let keyStart = i + 1
            guard skipString() else { return nil }
            let key = body[keyStart..<(i - 1)]
            skipSpace()
            guard i < body.count, body[i] == 0x3A else { return nil }
            i += 1
            skipSpace()
            let valueStart = i
            guard skipValue() else { return nil }
            if key.elementsEqual("data".utf8) {
                scan.data = valueStart..<i
            } else if key.elementsEqual("code".utf8) {
                scan.code = Int(String(decoding: body[valueStart..<i], as: UTF8.self))
            }
            skipSpace()
            guard i < body.count else { return nil }
            if body[i] == 0x2C { i += 1; continue }
            guard body[i] == 0x7D else { return nil }
            i += 1
            break
        }
    }
    skipSpace()
    return i == body.count ? scan : nil
}

/// A whole reply in one decode, for the common case.
struct Envelope<T: Decodable>: Decodable {
    var code: Int
    var data: T?
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
