import Foundation

/// A queued upload as the dispatcher sees it.
struct DispatchCandidate: Equatable {
    /// Root key and path: work on one path is serialized, work on different paths is not.
    var key: PathKey
    var due: Date
    /// More than one chunk: may not take the last free worker.
    var large: Bool
}

/// A root's key and a path in it, compared as bytes (NFC and NFD spellings are different files).
struct PathKey: Hashable {
    let root: String
    let path: [UInt8]
    /// Hashed once: every worker's pick looks up dozens of queued keys (the look-ahead window), and
    /// hashing root and path again each time was most of the pick's cost (perf).
    private let digest: Int

    init(root: String, path: String) {
        self.root = root
        self.path = Array(path.utf8)
        var hasher = Hasher()
        hasher.combine(root)
        hasher.combine(self.path)
        digest = hasher.finalize()
    }

    func hash(into hasher: inout Hasher) { hasher.combine(digest) }

    static func == (a: PathKey, b: PathKey) -> Bool { a.digest == b.digest && a.path == b.path && a.root == b.root }

    /// Whether this path is `folder` or lies under it, in the same root.
    func isAtOrUnder(_ folder: PathKey) -> Bool {
        root == folder.root && (path == folder.path || (path.count > folder.path.count && path.starts(with: folder.path + [0x2f])))
    }
}

/// The fairness rule, pure: which queued upload a free worker starts next, if any.
/// - It must be due, its root not backing off, and no upload of the same path in flight.
/// - Large files (more than one chunk) occupy at most `workers - 1` workers, so a small change always finds a
///   free one and never waits behind big uploads; with a single worker there is no such lane.
/// - Among those, the one due first (then the one queued first).
func nextToStart(_ queue: [DispatchCandidate], inFlight: Set<PathKey>, inFlightLarge: Int, workers: Int,
                 pausedRoots: [String: Date], now: Date) -> Int? {
    let largeAllowed = workers <= 1 || inFlightLarge < workers - 1
    var best: Int?
    for (index, candidate) in queue.enumerated() where candidate.due <= now && !inFlight.contains(candidate.key) {
        if let until = pausedRoots[candidate.key.root], until > now { continue }
        if candidate.large && !largeAllowed { continue }
        if let current = best, queue[current].due <= candidate.due { continue }
        best = index
    }
    return best
}
