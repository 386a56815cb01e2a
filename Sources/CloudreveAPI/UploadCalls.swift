import Foundation
import Transport

extension CloudreveClient {
    /// `PUT /file/upload`: creates an upload session (and the placeholder, and the path lock, §4). Returns
    /// the parsed session and the raw JSON of `data`, which the journal keeps whole.
    public func createUploadSession(_ request: UploadSessionRequest) throws -> (session: UploadSession, json: [UInt8]) {
        guard let raw: RawJSON = try authed("PUT", "/file/upload", json: request) else {
            throw CloudreveError.malformed(path: "/file/upload", detail: "no session")
        }
        do {
            return (try JSONDecoder().decode(UploadSession.self, from: Data(raw.bytes)), raw.bytes)
        } catch {
            throw CloudreveError.malformed(path: "/file/upload", detail: "\(error)")
        }
    }

    /// `POST /file/upload/{id}/{index}`: streams `length` bytes of `fd` from `offset` with an exact
    /// Content-Length. Returns normally only on HTTP 200 with code 0. An expired access token shows up here
    /// as 40011, like a dead session (§2), so 40011 is answered by one refresh and one retry.
    /// `progress` may abort the request (return false) between buffers.
    public func uploadChunk(sessionID: String, index: Int, fd: Int32, offset: Int64, length: Int64,
                            expectedDuration: TimeInterval, progress: BodyProgress? = nil) throws {
        let _: Empty? = try authed("POST", "/file/upload/\(sessionID)/\(index)",
                                   body: .fileRange(fd: fd, offset: offset, length: length),
                                   expectedDuration: expectedDuration, timeout: 0, retryOn: [401, 40011], progress: progress)
    }

    /// `DELETE /file/upload`: cancels a session, deleting a new file's placeholder or the new version, and
    /// releasing quota and lock. 40016 means it is already gone, which is what we wanted (§4, §8.6).
    public func cancelUploadSession(id: String, uri: String) throws {
        do {
            let _: Empty? = try authed("DELETE", "/file/upload", json: CancelRequest(id: id, uri: uri))
        } catch CloudreveError.api(40016, _, _, _) {
            return
        }
    }
}

/// Keeps a reply's `data` as raw bytes.
struct RawJSON: Decodable {
    var bytes: [UInt8]
    init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer().decode(JSONValue.self)
        bytes = Array(try JSONEncoder().encode(value))
    }
}

/// Any JSON value, for round-tripping data we keep but do not interpret.
indirect enum JSONValue: Codable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n == n.rounded(), abs(n) < 9e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
