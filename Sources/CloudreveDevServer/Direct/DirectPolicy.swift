import Foundation
import Transport

/// How this instance takes part in direct uploads, where chunks bypass the master (reference §5): the dev
/// server's stand-ins for a Cloudreve slave node and for a OneDrive upload session.
public struct DirectPolicyConfig {
    /// "remote": sessions hand out a slave node's upload URL and HMAC credential; "onedrive": a Graph-style
    /// upload URL served by this server; nil: the local policy (or whatever another option chose).
    public var policy: String? = nil
    /// The node a `remote` master sends chunks to (`--node URL`).
    public var nodeURL: String? = nil
    /// This instance is a slave node (`--role node`): it serves `/api/v4/slave/upload`.
    public var isNode = false
    /// Shared by master and node (Cloudreve's node secret). Taken from the environment, never from argv.
    public var nodeSecret = "crsync-dev-node-secret"
    public init() {}
}

/// What this instance keeps about direct uploads, in memory like every session (a restart loses it).
struct DirectState {
    /// On a node: sessions the master opened here.
    var slaveSessions: [String: SlaveSession] = [:]
    /// On a `onedrive` master: how far each Graph-style upload session got.
    var oneDrive: [String: OneDriveSession] = [:]
    /// On a node (`POST /__dev/node`): a refused chunk's connection is closed without an answer.
    var resetRefusedChunks = false
}

/// A slave node's own copy of an upload session (Cloudreve keeps one in the slave's KV).
struct SlaveSession {
    let id: String
    let size: Int64
    let chunkSize: Int64
    /// Unix seconds; the credential dies with it.
    let expires: Int64
    let callbackSecret: String
    /// The master's base URL, which the node calls when the last chunk is in.
    let master: String
    let file: String
    var received = Set<Int>()
    var plan: ChunkPlan { ChunkPlan(size: size, chunkSize: chunkSize) }
}

/// `Bearer Cr <sign>:<expires>`: an HMAC-SHA256 over the URL path (and any `X-Cr-*` header, which we
/// never sign, so any such header breaks it: 40071), as Cloudreve's `pkg/auth` signs node requests.
enum NodeSignature {
    static func credential(path: String, expires: Int64, secret: String) -> String {
        "Bearer Cr \(sign(path: path, expires: expires, secret: secret)):\(expires)"
    }

    static func sign(path: String, expires: Int64, secret: String) -> String {
        Base64URL.encode(SHA256.hmac(key: Array(secret.utf8), message: Array("\(path):\(expires)".utf8)))
    }

    /// nil when `request` carries a valid, unexpired signature of its path.
    static func refusal(_ request: Request, secret: String, now: Int64) -> APIError? {
        guard let header = request.headers.first(name: "Authorization"), !header.isEmpty else {
            return APIError(403, "Sign required")
        }
        if request.headers.contains(where: { $0.name.lowercased().hasPrefix("x-cr-") }) {
            return APIError(40071, "invalid sign: X-Cr-* headers are signed and none were")
        }
        guard header.hasPrefix("Bearer Cr ") else { return APIError(40071, "invalid sign") }
        let parts = header.dropFirst("Bearer Cr ".count).split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let expires = Int64(parts[1]) else { return APIError(40071, "invalid sign") }
        guard expires > now else { return APIError(40071, "signature expired") }
        let expected = sign(path: request.pathString, expires: expires, secret: secret)
        guard constantTimeEqual(Array(expected.utf8), Array(parts[0].utf8)) else { return APIError(40071, "invalid sign") }
        return nil
    }
}

/// A signed call between master and node. Blocking (libcurl), with a short limit: the dev server's
/// event loop waits on it, which is tolerable on loopback and keeps the handlers synchronous.
func nodeCall(_ method: String, base: String, path: String, secret: String, expires: Int64, body: JSON?) throws {
    let headers = [("Authorization", NodeSignature.credential(path: path, expires: expires, secret: secret)),
                   ("Content-Type", "application/json")]
    let response: HTTPResponse
    do {
        response = try HTTPTransport().perform(HTTPRequest(method: method, url: base + path, headers: headers,
                                                           body: body.map { .bytes($0.encoded()) } ?? .none, timeout: 15))
    } catch {
        throw APIError(-1, "node \(base) unreachable: \(error)")
    }
    guard let reply = try? JSON.parse(response.body), let code = reply["code"]?.int64Value else {
        throw APIError(-1, "node \(base) answered HTTP \(response.status) without a Cloudreve reply")
    }
    if code != 0 { throw APIError(Int(code), reply["msg"]?.stringValue ?? "") }
}
