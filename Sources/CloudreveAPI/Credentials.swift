import Foundation

/// A signed-in account: the server, the email and the current token pair. Lives in a 0600 file in the
/// state directory; never printed, logged or passed on a command line.
public struct Credentials: Codable, Sendable {
    public var server: String
    public var email: String
    public var accessToken: String
    public var refreshToken: String
    public var accessExpires: Date
    public var refreshExpires: Date
    /// Local time the pair was received: with `accessExpires` it gives the token's lifetime, which decides
    /// how early to refresh.
    public var receivedAt: Date

    enum CodingKeys: String, CodingKey {
        case server, email
        case accessToken = "access_token", refreshToken = "refresh_token"
        case accessExpires = "access_expires", refreshExpires = "refresh_expires", receivedAt = "received_at"
    }

    /// Whether to refresh before a request expected to take `expectedDuration` seconds: FE refreshes with
    /// less than 10 minutes left (§2); with short-lived tokens, at half the lifetime. A chunk that could
    /// outlast the token would fail with 40011, not 401 (§2 "trap"), so its duration counts too.
    public func needsRefresh(now: Date, expectedDuration: TimeInterval) -> Bool {
        let lifetime = accessExpires.timeIntervalSince(receivedAt)
        let margin = min(600, max(lifetime / 2, 0)) + expectedDuration
        return accessExpires.timeIntervalSince(now) < margin
    }
}

/// Reads and writes the credentials file atomically with mode 0600.
public struct CredentialFile: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public func load() throws -> Credentials? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try Credentials.decoder.decode(Credentials.self, from: data)
        } catch {
            throw CloudreveError.notSignedIn("the saved sign-in at \(path) is unreadable (\(error.localizedDescription))")
        }
    }

    public func save(_ credentials: Credentials) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try Credentials.encoder.encode(credentials)
        let temp = path + ".tmp.\(getpid())"
        // Created 0600 from the start: the secret is never readable by others, not even for a moment.
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CloudreveError.usage("cannot write \(temp): \(String(cString: strerror(errno)))") }
        let ok = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count } && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            unlink(temp)
            throw CloudreveError.usage("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    public func delete() { unlink(path) }
}

extension Credentials {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
