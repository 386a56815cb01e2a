import Glibc

/// An inotify descriptor: the thin layer of system calls under `Watcher`, and nothing else.
///
/// Not thread-safe: one thread (the watcher's) uses it at a time.
final class Inotify {
    /// What every directory watch asks for. IN_ONLYDIR and IN_DONT_FOLLOW make a directory replaced by a
    /// symbolic link fail to watch rather than watch the link's target (the scanner does not follow links
    /// either); IN_EXCL_UNLINK stops events for files already deleted but still held open.
    static let directoryMask = UInt32(bitPattern: IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE
        | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

    let descriptor: Int32
    /// Test hook: at most this many watches; more fail with ENOSPC as if `max_user_watches` were reached.
    private let limit: Int?
    private var added = Set<Int32>()

    init(limit: Int?) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else {
            let code = errno
            let hint = code == EMFILE
                ? "too many inotify instances for this user; raise fs.inotify.max_user_instances (sysctl)"
                : PathBytes.systemError(code)
            throw WatcherError(path: "", reason: "cannot create an inotify instance: " + hint)
        }
        self.limit = limit
    }

    /// Adds (or, for a directory already watched, returns) the watch on `path`, or the errno.
    func addWatch(_ path: [UInt8]) -> Result<Int32, WatchFailure> {
        let watch = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { inotify_add_watch(descriptor, $0.baseAddress!, Self.directoryMask) }
        }
        guard watch >= 0 else { return .failure(WatchFailure(code: errno)) }
        if let limit, !added.contains(watch), added.count >= limit {
            inotify_rm_watch(descriptor, watch)
            return .failure(WatchFailure(code: ENOSPC))
        }
        added.insert(watch)
        return .success(watch)
    }

    /// Removes a watch the kernel still holds (a directory moved out of the root keeps its watch).
    func removeWatch(_ watch: Int32) {
        inotify_rm_watch(descriptor, watch)
        added.remove(watch)
    }

    /// Forgets a watch the kernel dropped by itself (IN_IGNORED).
    func watchEnded(_ watch: Int32) {
        added.remove(watch)
    }

    /// Reads what is queued into `buffer`: the records, or [] when nothing is (the descriptor never blocks).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> [InotifyRecord] {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count > 0 { return InotifyRecord.parse(UnsafeRawBufferPointer(rebasing: buffer[..<count])) }
            if count < 0 && errno == EINTR { continue }
            return []
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

/// Why `inotify_add_watch` failed.
struct WatchFailure: Error, Equatable {
    var code: Int32
}
