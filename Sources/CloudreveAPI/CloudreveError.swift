import Transport

/// Every way a call to the server can fail, carrying what a person needs to act on it. Messages never
/// contain a token, password or upload credential.
public enum CloudreveError: Error, CustomStringConvertible, Sendable {
    /// The server answered with an envelope whose code is not 0 (§1).
    case api(code: Int, message: String, path: String, lockTokens: [String] = [])
    /// Not an envelope: a proxy's HTML 502, a 413, a plain-text 404 (§1, §7).
    case http(status: Int, path: String, snippet: String)
    /// No answer at all: connection refused or reset, timeout.
    case transport(TransportError)
    /// A JSON envelope with code 0 whose data is not what the reference says.
    case malformed(path: String, detail: String)
    /// No usable sign-in: run `crsync login`.
    case notSignedIn(String)
    case usage(String)

    public var description: String {
        switch self {
        case .api(let code, let message, let path, _):
            let meaning = CloudreveError.meaning[code] ?? "error"
            let detail = message.isEmpty ? meaning : "\(message)"
            return "server answered \(code) (\(detail)) to \(path)"
        case .http(let status, let path, let snippet):
            return "server answered HTTP \(status) without a Cloudreve reply to \(path)" + (snippet.isEmpty ? "" : ": \(snippet)")
                + (status == 413 ? " (a reverse proxy limits the request body size: raise it, e.g. nginx client_max_body_size)" : "")
        case .transport(let error): return error.description
        case .malformed(let path, let detail): return "server sent an unexpected reply to \(path): \(detail)"
        case .notSignedIn(let why): return "\(why); run `crsync login` first"
        case .usage(let message): return message
        }
    }

    /// The envelope code, if the server sent one.
    public var code: Int? {
        if case .api(let code, _, _, _) = self { return code }
        return nil
    }

    /// Whether the same request may succeed later (reference §8.6): -1, 409, 50004, anything below HTTP,
    /// any non-JSON answer. Everything else needs a different request or a person.
    public var isRetryable: Bool {
        switch self {
        case .api(let code, _, _, _): return [-1, 409, 50001, 50004, 50005].contains(code)
        case .http, .transport: return true
        case .malformed: return true
        case .notSignedIn, .usage: return false
        }
    }

    /// Codes after which this file must not be tried again until it, or the server's quota, changes.
    public var isPermanentForFile: Bool {
        guard let code else { return false }
        return [40049, 40051, 40052, 40082, 403].contains(code)
    }

    static let meaning: [Int: String] = [
        -1: "unclassified server error", 203: "two-factor code needed", 401: "login required",
        403: "not permitted", 404: "not found", 409: "conflict, retry", 40001: "parameter error",
        40004: "object already exists", 40006: "storage policy not allowed",
        40011: "upload session expired or not found", 40012: "invalid chunk index",
        40013: "invalid Content-Length", 40016: "path does not exist", 40017: "user banned",
        40018: "user not activated", 40020: "credential invalid", 40022: "wrong two-factor code",
        40026: "captcha required", 40049: "file too large for the storage policy", 40051: "storage quota exceeded",
        40052: "name rejected by the server", 40073: "locked by another operation", 40074: "too many files in one batch",
        40076: "changed on the server since we last saw it", 40080: "wrong email or password",
        40081: "batch partially failed", 40082: "only the owner may do this", 50001: "server database error",
        50004: "server storage I/O failed", 50005: "server setting error",
    ]
}
