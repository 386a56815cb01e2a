import Foundation

/// A Cloudreve release as `GET /site/ping` reports it, and the upload behaviours that follow from it
/// (reference §0 version table, §4, §8.3).
public struct ServerVersion: Comparable, CustomStringConvertible, Sendable, Codable {
    public var major: Int
    public var minor: Int
    public var patch: Int
    public var isPro: Bool

    public init(major: Int, minor: Int, patch: Int = 0, isPro: Bool = false) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.isPro = isPro
    }

    /// Parses "4.18.0", "4.11.2-pro", "v4.0.0". Nil for anything else.
    public init?(_ text: String) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("v") { body = body.dropFirst() }
        let isPro = body.hasSuffix("-pro")
        if isPro { body = body.dropLast(4) }
        if let dash = body.firstIndex(of: "-") { body = body[..<dash] }
        let parts = body.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil }) else { return nil }
        self.init(major: parts[0]!, minor: parts[1]!, patch: parts.count == 3 ? parts[2]! : 0, isPro: isPro)
    }

    public var description: String { "\(major).\(minor).\(patch)" + (isPro ? "-pro" : "") }

    public static func < (a: ServerVersion, b: ServerVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public static func v(_ minor: Int) -> ServerVersion { ServerVersion(major: 4, minor: minor) }

    /// ≤ 4.17 completes an upload as soon as the last index arrives, holes or not (§4 "Completion").
    public var completesOnLastIndex: Bool { self < .v(18) }
    /// < 4.7 truncates the blob when chunk 0 is written, and has no parallel chunks.
    public var chunkZeroTruncates: Bool { self < .v(7) }
    /// ≤ 4.10 rejects an upload session without a `policy_id`.
    public var requiresPolicyID: Bool { self < .v(11) }
    /// 4.11 added `previous` on `PUT /file/upload` (40076 on a stale primary entity).
    public var supportsPrevious: Bool { self >= .v(11) }
    /// 4.4 sets the file's `updated_at` from our `last_modified`; before that it is the completion time.
    public var keepsLastModified: Bool { self >= .v(4) }
    /// 4.0–4.3 answer a rejected name with code -1, which looks retryable (§0, 4.4 row).
    public var rejectsNamesWithMinusOne: Bool { self < .v(4) }
}
