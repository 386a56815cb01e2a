/// What the watcher saw change under its root. Paths are relative to the root, "/"-separated, and exactly
/// the bytes on disk (compare them as `Array(path.utf8)`: `String ==` merges NFC and NFD spellings).
public enum WatchEvent: Equatable, Sendable {
    /// A file (or anything that is not a directory) was created, written, closed after writing, or had its
    /// attributes changed: (re)consider it. Often reported several times in a row; debounce with
    /// `ChangeTracker`.
    case changed(String)
    /// A directory was created or moved in from outside the root. It is already watched, and everything in
    /// it has already been reported (subdirectories as `.directoryAppeared`, the rest as `.changed`).
    case directoryAppeared(String)
    /// Deleted, or moved out of the root (or to an excluded name).
    case removed(String, isDirectory: Bool)
    /// Renamed or moved within the root; for a directory, everything inside moved with it.
    case moved(from: String, to: String, isDirectory: Bool)
    /// The kernel's queue overflowed and events were lost: rescan the whole root. The watcher has already
    /// re-established its watches.
    case overflow
    /// The system's inotify watch limit was hit. `firstUnwatched` and the rest of `Watcher.unwatched`
    /// are not watched; `watchesNeeded` is how many directories were left unwatched, i.e. how far at least
    /// `fs.inotify.max_user_watches` must be raised. Reported once per watcher.
    case watchLimitReached(firstUnwatched: String, watchesNeeded: Int)
    /// The root itself was deleted, moved or unmounted; nothing more will be reported.
    case rootGone
}

/// Why a root cannot be watched, with what to do about it.
public struct WatcherError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String {
        path.isEmpty ? reason : "cannot watch \(path): \(reason)"
    }
}
