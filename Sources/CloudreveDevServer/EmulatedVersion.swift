/// The Cloudreve release whose behaviour the server reproduces. Behaviour switches at the releases
/// the reference lists in §0 ("Version changes that matter to an uploader"); any 4.N or 4.N.M works.
struct EmulatedVersion: Comparable, CustomStringConvertible {
    let major: Int
    let minor: Int
    let patch: Int

    init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }), parts[0] == 4 else { return nil }
        self.init(parts[0]!, parts[1]!, parts.count == 3 ? parts[2]! : 0)
    }

    static func < (a: EmulatedVersion, b: EmulatedVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    /// What `GET /site/ping` answers.
    var description: String { "\(major).\(minor).\(patch)" }

    /// 4.4: bad names answer 40052 (before: code -1, empty msg) and `updated_at` takes `last_modified`.
    var hasNameErrorCode: Bool { self >= EmulatedVersion(4, 4) }
    var updatedAtFollowsLastModified: Bool { self >= EmulatedVersion(4, 4) }
    /// 4.7: chunk 0 no longer truncates the blob; `storage_policy.chunk_concurrency` appears.
    var chunkZeroTruncates: Bool { self < EmulatedVersion(4, 7) }
    var reportsChunkConcurrency: Bool { self >= EmulatedVersion(4, 7) }
    /// 4.11: `policy_id` optional, `previous` accepted, every chunk re-confirms the upload lock.
    var requiresPolicyID: Bool { self < EmulatedVersion(4, 11) }
    var acceptsPrevious: Bool { self >= EmulatedVersion(4, 11) }
    var chunksConfirmLock: Bool { self >= EmulatedVersion(4, 11) }
    /// 4.18: completion waits for every chunk index; before, the last index completes at once.
    var completesWhenAllChunksArrive: Bool { self >= EmulatedVersion(4, 18) }
}
