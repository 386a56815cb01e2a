import Glibc

/// The watched tree: turns inotify records into `WatchEvent`s and keeps one watch on every included
/// directory under the root as directories come, go and move. `Watcher` runs it on its thread.
///
/// Not thread-safe: `Watcher` serializes every call.
final class WatchedTree {
    /// The root's absolute, symlink-free path, as bytes.
    let root: [UInt8]
    let filter: PathFilter
    let inotify: Inotify
    private var table = WatcherTable()
    private var events = EventAggregator()
    private var limitReported = false
    private var rootIsGone = false

    /// Watches `root` and every included directory below it; a shortage of watches is queued as
    /// `.watchLimitReached` for the first batch. Throws if the root itself cannot be watched.
    init(root: String, filter: PathFilter, watchLimit: Int?) throws {
        // The root is the one path followed through symbolic links, as the scanner's open(2) does; watches
        // below it do not follow links (IN_DONT_FOLLOW).
        guard let resolved = realpath(root, nil) else {
            throw WatcherError(path: root, reason: Scanner.rootReason(errno))
        }
        self.root = Array(String(cString: resolved).utf8)
        free(resolved)
        self.filter = filter
        inotify = try Inotify(limit: watchLimit)
        if case .failure(let failure) = inotify.addWatch(self.root) {
            inotify.close()
            throw WatcherError(path: root, reason: Self.rootWatchReason(failure.code))
        }
        watchTree(from: [], report: false)
    }

    var watchCount: Int { table.count }

    var unwatched: [String] {
        table.unwatched.sorted { $0.lexicographicallyPrecedes($1) }.map(Self.text)
    }

    /// Applies one read's records, in order.
    func handle(_ records: [InotifyRecord], now: ContinuousClock.Instant) {
        for record in records where !rootIsGone {
            handle(record, now: now)
        }
    }

    /// Events were lost (IN_Q_OVERFLOW, or the test hook): tells the caller to rescan, and rebuilds the
    /// table from the disk, since directories may have been created (unwatched) or moved (stale paths)
    /// unseen. The kernel hands back the existing watch for a directory it already watches, so only the
    /// missing ones are added, and watches no longer found are removed.
    func overflow() {
        guard !rootIsGone else { return }
        events.append(.overflow)
        let old = table
        table = WatcherTable()
        watchTree(from: [], report: false)
        for watch in old.pathByWatch.keys where table.path(of: watch) == nil {
            inotify.removeWatch(watch)
        }
    }

    /// Turns moves held past their window into removals (they left the root).
    func expire(at now: ContinuousClock.Instant) {
        for move in events.expire(at: now) where move.isDirectory {
            dropSubtree(Self.limbo(move.cookie))
        }
    }

    func nextDeadline() -> ContinuousClock.Instant? { events.nextDeadline() }

    func takeReady() -> [WatchEvent] { events.takeReady() }

    // MARK: - One record

    private func handle(_ record: InotifyRecord, now: ContinuousClock.Instant) {
        if record.watch == -1 || record.has(IN_Q_OVERFLOW) {
            overflow()
            return
        }
        if record.has(IN_IGNORED) {
            table.remove(record.watch)
            inotify.watchEnded(record.watch)
            return
        }
        // Unknown: a watch already dropped whose last events were still queued.
        guard let directory = table.path(of: record.watch) else { return }
        if record.name.isEmpty {
            // A subdirectory's events about itself are reported by its parent, by name; only the root has
            // no watched parent.
            if directory.isEmpty && (record.has(IN_DELETE_SELF) || record.has(IN_MOVE_SELF) || record.has(IN_UNMOUNT)) {
                rootIsGone = true
                events.append(.rootGone)
            }
            return
        }
        // Inside a directory whose IN_MOVED_FROM awaits its pair: it may be leaving the root (see limbo).
        if directory.first == 0 { return }
        // A name that is not UTF-8 cannot be a `String` path; the scanner reports it, so it is skipped here.
        guard PathBytes.decodedUTF8(record.name) != nil else { return }
        let path = WatcherTable.child(record.name, of: directory)
        let isDirectory = record.isDirectory
        let excluded = filter.excludes(Self.text(path), isDirectory: isDirectory)

        if record.has(IN_MOVED_FROM) {
            // An excluded source needs no hold: its IN_MOVED_TO, unpaired, reads as "moved in", which is right.
            if excluded { return }
            if isDirectory { table.moveSubtree(from: path, to: Self.limbo(record.cookie)) }
            events.hold(.init(cookie: record.cookie, from: path, isDirectory: isDirectory,
                              deadline: now + EventAggregator.moveWindow))
        } else if record.has(IN_MOVED_TO) {
            movedIn(path, isDirectory: isDirectory, excluded: excluded, cookie: record.cookie)
        } else if excluded {
            return
        } else if record.has(IN_DELETE) {
            if isDirectory { table.removeSubtree(path) }
            events.append(.removed(Self.text(path), isDirectory: isDirectory))
        } else if isDirectory {
            if record.has(IN_CREATE) { watchTree(from: path, report: true) }
        } else if record.has(IN_CREATE) || record.has(IN_MODIFY) || record.has(IN_CLOSE_WRITE) || record.has(IN_ATTRIB) {
            events.append(.changed(Self.text(path)))
        }
    }

    private func movedIn(_ path: [UInt8], isDirectory: Bool, excluded: Bool, cookie: UInt32) {
        guard let held = events.heldMove(cookie: cookie) else {
            // From outside the root (or from an excluded name): new to the caller.
            if excluded { return }
            if isDirectory {
                watchTree(from: path, report: true)
            } else {
                events.append(.changed(Self.text(path)))
            }
            return
        }
        if excluded {
            // Renamed to an excluded name: gone as far as the caller is concerned.
            events.resolve(cookie: cookie, with: [.removed(Self.text(held.from), isDirectory: isDirectory)])
            if isDirectory { dropSubtree(Self.limbo(cookie)) }
            return
        }
        events.resolve(cookie: cookie, with: [.moved(from: Self.text(held.from), to: Self.text(path), isDirectory: isDirectory)])
        guard isDirectory else { return }
        table.moveSubtree(from: Self.limbo(cookie), to: path)
        if filter.dependsOnLocation {
            // Anchored patterns may judge the moved contents differently at their new place: drop what is
            // now excluded, and watch (and report) what is now included.
            for watch in table.watches(within: path) {
                if let inside = table.path(of: watch), inside != path,
                   filter.excludes(Self.text(inside), isDirectory: true) {
                    dropSubtree(inside)
                }
            }
            watchTree(from: path, report: true)
        }
    }

    // MARK: - Watching directories

    /// Where a directory's watches wait while its IN_MOVED_FROM awaits a pair. Real paths never contain
    /// a NUL byte, so events from there are recognisable (and dropped: had they come from inside the root
    /// they would be reported again after the move) and a move out of the root drops the lot at once.
    private static func limbo(_ cookie: UInt32) -> [UInt8] {
        [0] + Array("moving \(cookie)".utf8)
    }

    /// Removes the watches for `path` and below, which the kernel still holds (the directory still exists,
    /// somewhere outside the root or under an excluded name).
    private func dropSubtree(_ path: [UInt8]) {
        for watch in table.removeSubtree(path) { inotify.removeWatch(watch) }
    }

    /// Watches the directory at `path` and every included directory below it. With `report`, each
    /// directory not watched before is reported with its contents, after its watch exists: a file created
    /// before is seen by the listing, one created after by the watch (sometimes both; a duplicate
    /// `.changed` is harmless, a missing one is not).
    private func watchTree(from path: [UInt8], report: Bool) {
        var shortage = Shortage()
        watch(directory: path, report: report, shortage: &shortage)
        if let first = shortage.first, !limitReported {
            limitReported = true
            events.append(.watchLimitReached(firstUnwatched: Self.text(first), watchesNeeded: shortage.directories))
        }
    }

    /// Directories left unwatched by one walk for lack of watches.
    private struct Shortage {
        var first: [UInt8]?
        var directories = 0
    }

    private func watch(directory path: [UInt8], report: Bool, shortage: inout Shortage) {
        let watch: Int32
        switch inotify.addWatch(full(path)) {
        case .success(let added):
            watch = added
        case .failure(let failure):
            if failure.code == ENOSPC {
                table.markUnwatched(path)
                if shortage.first == nil { shortage.first = path }
                shortage.directories += countDirectories(path)
            }
            // Anything else: gone already (its deletion is reported), or unreadable (the scanner reports it).
            return
        }
        let isNew = table.path(of: watch) != path
        table.insert(watch, at: path)
        let reportContents = report && isNew
        if reportContents && !path.isEmpty { events.append(.directoryAppeared(Self.text(path))) }
        for entry in WatcherDirectory.entries(full(path)) ?? [] {
            guard entry.isDirectory || reportContents, PathBytes.decodedUTF8(entry.name) != nil else { continue }
            let child = WatcherTable.child(entry.name, of: path)
            if filter.excludes(Self.text(child), isDirectory: entry.isDirectory) { continue }
            if entry.isDirectory {
                self.watch(directory: child, report: report, shortage: &shortage)
            } else {
                events.append(.changed(Self.text(child)))
            }
        }
    }

    /// How many included directories `path` holds, itself included: the watches it would need.
    private func countDirectories(_ path: [UInt8]) -> Int {
        var count = 1
        for entry in WatcherDirectory.entries(full(path)) ?? [] where entry.isDirectory {
            guard PathBytes.decodedUTF8(entry.name) != nil else { continue }
            let child = WatcherTable.child(entry.name, of: path)
            if !filter.excludes(Self.text(child), isDirectory: true) { count += countDirectories(child) }
        }
        return count
    }

    private func full(_ path: [UInt8]) -> [UInt8] {
        path.isEmpty ? root : root + [PathBytes.slash] + path
    }

    /// Every component was checked to be UTF-8 before it entered a path, so this decodes exactly.
    private static func text(_ path: [UInt8]) -> String {
        String(decoding: path, as: UTF8.self)
    }

    private static func rootWatchReason(_ code: Int32) -> String {
        switch code {
        case ENOSPC:
            return "the inotify watch limit is reached; raise fs.inotify.max_user_watches "
                + "(e.g. sysctl fs.inotify.max_user_watches=524288)"
        case ENOMEM: return "the kernel is out of memory for inotify watches"
        default: return Scanner.rootReason(code)
        }
    }
}
