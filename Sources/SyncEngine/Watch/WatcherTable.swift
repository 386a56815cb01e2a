/// Which directory each inotify watch stands for, and which subtrees went unwatched for lack of watches.
///
/// Paths are raw bytes relative to the root ([] is the root itself), so NFC and NFD spellings stay two
/// directories. Moving or deleting a directory touches every entry below it; that is a linear pass over
/// all watches, cheap next to the system calls that accompany it.
struct WatcherTable: Sendable {
    private(set) var pathByWatch: [Int32: [UInt8]] = [:]
    private var watchByPath: [[UInt8]: Int32] = [:]
    /// Roots of subtrees left unwatched by the watch limit.
    private(set) var unwatched: Set<[UInt8]> = []

    var count: Int { pathByWatch.count }

    func path(of watch: Int32) -> [UInt8]? { pathByWatch[watch] }
    func watch(at path: [UInt8]) -> Int32? { watchByPath[path] }

    /// Records that `watch` stands for `path`. The kernel hands back the same watch for a directory it
    /// already watches, so a known watch under another path means the directory moved unseen (events were
    /// lost): the old entry is replaced.
    mutating func insert(_ watch: Int32, at path: [UInt8]) {
        if let old = pathByWatch[watch], watchByPath[old] == watch { watchByPath[old] = nil }
        if let other = watchByPath[path], other != watch { pathByWatch[other] = nil }
        pathByWatch[watch] = path
        watchByPath[path] = watch
        unwatched.remove(path)
    }

    /// Forgets a watch the kernel dropped (IN_IGNORED).
    mutating func remove(_ watch: Int32) {
        guard let path = pathByWatch.removeValue(forKey: watch) else { return }
        if watchByPath[path] == watch { watchByPath[path] = nil }
    }

    mutating func markUnwatched(_ path: [UInt8]) {
        unwatched.insert(path)
    }

    /// Forgets `path` and everything below it; returns the watches that stood for them.
    @discardableResult
    mutating func removeSubtree(_ path: [UInt8]) -> [Int32] {
        let gone = pathByWatch.filter { Self.isWithin($0.value, path) }
        for (watch, old) in gone {
            pathByWatch[watch] = nil
            watchByPath[old] = nil
        }
        unwatched = unwatched.filter { !Self.isWithin($0, path) }
        return Array(gone.keys)
    }

    /// Re-keys `from` and everything below it to `to`, after the directory was moved within the root.
    mutating func moveSubtree(from: [UInt8], to: [UInt8]) {
        // rename(2) may replace an empty directory at `to`; its watch ends with IN_IGNORED.
        removeSubtree(to)
        let moving = pathByWatch.filter { Self.isWithin($0.value, from) }
        for (_, old) in moving { watchByPath[old] = nil }
        for (watch, old) in moving {
            let new = to + old.dropFirst(from.count)
            pathByWatch[watch] = new
            watchByPath[new] = watch
        }
        unwatched = Set(unwatched.map { Self.isWithin($0, from) ? to + $0.dropFirst(from.count) : $0 })
    }

    /// The watches for `path` and everything below it.
    func watches(within path: [UInt8]) -> [Int32] {
        pathByWatch.filter { Self.isWithin($0.value, path) }.map(\.key)
    }

    /// Whether `path` is `ancestor` or lies below it ([] contains everything).
    static func isWithin(_ path: [UInt8], _ ancestor: [UInt8]) -> Bool {
        if ancestor.isEmpty { return true }
        return path.count == ancestor.count ? path == ancestor
            : path.count > ancestor.count && path[ancestor.count] == PathBytes.slash && path.starts(with: ancestor)
    }

    /// `parent`/`name`, or `name` at the root.
    static func child(_ name: [UInt8], of parent: [UInt8]) -> [UInt8] {
        parent.isEmpty ? name : parent + [PathBytes.slash] + name
    }
}
