import CloudreveAPI
import Foundation
import Logging

/// `crsync run`: keeps every root uploaded as it changes. A file goes once it has been quiet for
/// `quietPeriod` (or, if it never goes quiet, at most once per `maxDelay`); moves and renames become
/// server-side moves; deletions follow each root's policy; lost events (queue overflow, the watch limit)
/// are answered by rescans, never by silence; a full reconcile runs at start-up and every `rescanInterval`.
///
/// A pipeline: watcher threads post events to the inbox; one coordinator thread (the caller of `run`)
/// turns them into journaled work (uploads when due, deletions once settled), applies moves and deletions,
/// and runs rescans; one standing `UploadPool` shared by every root uploads what is queued. The
/// coordinator never waits for an upload: work on a path that is uploading waits for that path alone.
public final class Daemon: @unchecked Sendable {
    public struct Settings: Sendable {
        public var quietPeriod: TimeInterval = 2
        public var maxDelay: TimeInterval = 300
        public var rescanInterval: TimeInterval = 3600
        /// How often subtrees left unwatched by the inotify watch limit are rescanned.
        public var unwatchedRescan: TimeInterval = 60
        public init() {}
    }

    private final class Root {
        let sync: RootSync
        var watcher: Watcher?
        var tracker: ChangeTracker
        var removals = PendingRemovals()
        var needsRescan = true
        var nextRescan = Date.distantPast
        var nextUnwatchedRescan = Date.distantFuture
        var warnedWatchLimit = false
        var retryAt = Date.distantPast
        /// Paths whose change is journaled as queued work, so later events of a busy file write nothing.
        var journaled = Set<[UInt8]>()
        /// Moves waiting for uploads under their source to stop.
        var movesWaiting: [(from: String, to: String, isDirectory: Bool)] = []

        init(sync: RootSync, settings: Settings) {
            self.sync = sync
            tracker = ChangeTracker(quietPeriod: settings.quietPeriod, maxDelay: settings.maxDelay)
        }
    }

    private let roots: [Root]
    private let settings: Settings
    private let log: Logger
    private let control: UploadControl
    private let inbox = NSCondition()
    private var pending: [(root: Int, events: [WatchEvent])] = []
    private var stopping = false
    private var eventsSeen = 0
    private var droppingUntil: Date?
    private var overflowReported = false
    private var fatal: CloudreveError?
    /// Files waiting for their quiet period, per root key, as the coordinator last counted them (for status).
    private var waitingCounts: [String: Int] = [:]
    private var pool: UploadPool!
    /// Roots whose sign-in is gone (by key); the daemon stops only when it is every root.
    private var signInLostRoots = Set<String>()
    /// Roots a worker asked to rescan (by key), taken by the coordinator with the inbox.
    private var rescanWanted = Set<String>()

    /// Set when a root cannot go on (sign-in gone): `run` returns it.
    public var fatalError: CloudreveError? { inbox.lock(); defer { inbox.unlock() }; return fatal }

    public init(roots: [RootSync], settings: Settings, control: UploadControl, log: Logger) {
        self.roots = roots.map { Root(sync: $0, settings: settings) }
        self.settings = settings
        self.control = control
        self.log = log
        pool = UploadPool(workers: roots.first?.options.workers ?? 4, control: control, retries: true) { [weak self] finished in
            self?.finished(finished)
        }
    }

    /// Runs until `stop()`; returns then, or when a root hits an error no retry can fix.
    public func run() {
        for (index, root) in roots.enumerated() { startWatching(root, index: index) }
        pool.start()
        resumeJournaledWork()
        while !isStopping && fatalError == nil {
            for (index, events) in takeInbox() { handle(events, root: roots[index]) }
            let wanted = inbox.withLock { () -> Set<String> in defer { rescanWanted = [] }; return rescanWanted }
            for root in roots where wanted.contains(root.sync.root.key) { root.needsRescan = true }
            let now = Date()
            for root in roots where now >= root.retryAt { step(root, now: now) }
            publishWaiting()
            waitForWork()
        }
        control.stop()
        pool.stop()
        for root in roots { root.watcher?.stop() }
    }

    /// The queue as `crsync status` shows it: per root, what is queued, running, backing off, and waiting
    /// for its quiet period.
    public func queueStatus() -> [UploadPool.QueueStatus] {
        var status = pool.status()
        let waiting = inbox.withLock { waitingCounts }
        for (root, count) in waiting where count > 0 {
            if let index = status.firstIndex(where: { $0.root == root }) {
                status[index].waiting = count
            } else {
                status.append(UploadPool.QueueStatus(root: root, pending: 0, pendingBytes: 0, running: 0, waiting: count))
            }
        }
        return status.sorted { $0.root < $1.root }
    }

    /// Work journaled before a crash or a stop starts at once, beside the start-up rescan, instead of
    /// waiting for the rescan to find it again.
    private func resumeJournaledWork() {
        let now = Date()
        for root in roots {
            do {
                let uploads = try root.sync.journal.queued(.upload, root: root.sync.root.key)
                root.journaled.formUnion(uploads.map { Array($0.path.utf8) })
                pool.submit(uploads.map { item in
                    var item = item
                    item.due = min(item.due, now)
                    return item
                }, root: root.sync)
                for removal in try root.sync.journal.queued(.delete, root: root.sync.root.key) {
                    root.removals.add(removal.path, isDirectory: removal.isDirectory, at: now)
                }
                if !uploads.isEmpty { log.info("resuming \(uploads.count) queued upload(s) under \(root.sync.root.local)") }
            } catch {
                log.error("cannot read the queued work of \(root.sync.root.local): \(error); the start-up rescan finds it")
            }
        }
    }

    /// Called on a pool worker when one upload is done.
    private func finished(_ finished: UploadPool.Finished) {
        guard let root = roots.first(where: { $0.sync === finished.root }) else { return }
        // Uploads and failures were logged as they happened (SyncEvents); the rest is logged here. Root
        // state belongs to the coordinator: a halt only asks it for a rescan.
        let report = finished.report
        for conflict in report.conflicts {
            log.warning("conflict: \(conflict.path) changed on the server; theirs kept, ours uploaded as \(conflict.copy)")
        }
        for note in report.notes { log.notice("\(note)") }
        for warning in report.warnings { log.warning("\(warning)") }
        if let halted = report.halted {
            log.error("\(halted)")
            inbox.withLock { _ = rescanWanted.insert(root.sync.root.key) }  // what was not uploaded is found again
            wake()
        }
        if let error = finished.rootError {
            if case .notSignedIn = error {
                signInLost(error, root: root)
                wake()
            } else {
                log.error("\(root.sync.root.local): \(error); its uploads back off for 30 s, other folders go on")
            }
        }
    }

    /// A root whose sign-in is gone backs off alone (its profile's `crsync login` brings it back); when no
    /// root is signed in any more, the daemon stops with the error (exit 4).
    private func signInLost(_ error: CloudreveError, root: Root) {
        log.critical("\(root.sync.root.local): \(error); its uploads wait, other folders go on")
        pool.pause(root: root.sync.root.key, until: Date().addingTimeInterval(300))
        let allLost = inbox.withLock { () -> Bool in
            signInLostRoots.insert(root.sync.root.key)
            return signInLostRoots.count == roots.count
        }
        if allLost { inbox.withLock { fatal = error } }
    }

    private func wake() {
        inbox.lock()
        inbox.broadcast()
        inbox.unlock()
    }

    private func publishWaiting() {
        let counts = Dictionary(roots.map { ($0.sync.root.key, $0.tracker.pendingCount) }, uniquingKeysWith: { a, _ in a })
        inbox.withLock { waitingCounts = counts }
    }

    public func stop() {
        control.stop()
        inbox.lock()
        stopping = true
        inbox.broadcast()
        inbox.unlock()
    }

    private var isStopping: Bool {
        inbox.lock()
        defer { inbox.unlock() }
        return stopping
    }

    // MARK: Events

    private func startWatching(_ root: Root, index: Int) {
        root.watcher?.stop()
        do {
            let watcher = try Watcher(root: root.sync.root.local, filter: root.sync.filter, watchLimit: TestHooks.watchLimit)
            watcher.start { [weak self] events in self?.post(events, root: index) }
            root.watcher = watcher
        } catch {
            log.error("cannot watch \(root.sync.root.local): \(error); it will be rescanned every \(Int(settings.unwatchedRescan)) s instead")
            root.watcher = nil
            root.nextUnwatchedRescan = Date().addingTimeInterval(settings.unwatchedRescan)
        }
    }

    private func post(_ events: [WatchEvent], root: Int) {
        inbox.lock()
        var events = events
        if let limit = TestHooks.overflowAfter {
            // Emulates a kernel queue overflow: events past the limit are lost for two seconds, then
            // the overflow is reported, as IN_Q_OVERFLOW would be.
            eventsSeen += events.count
            if eventsSeen > limit, droppingUntil == nil { droppingUntil = Date().addingTimeInterval(2) }
            if let until = droppingUntil, !overflowReported {
                if Date() < until {
                    events = []
                } else {
                    events = [.overflow] + events
                    overflowReported = true
                }
            }
        }
        pending.append((root, events))
        inbox.broadcast()
        inbox.unlock()
    }

    private func takeInbox() -> [(Int, [WatchEvent])] {
        inbox.lock()
        defer { inbox.unlock() }
        let taken = pending
        pending.removeAll()
        return taken.map { ($0.root, $0.events) }
    }

    private func handle(_ events: [WatchEvent], root: Root) {
        let now = Date()
        var noticed: [WorkItem] = []
        defer { journal(noticed, root: root) }
        for event in events {
            switch event {
            case .changed(let path):
                root.tracker.noteChange(path, at: now)
                if root.journaled.insert(Array(path.utf8)).inserted {
                    noticed.append(WorkItem(root: root.sync.root.key, path: path, kind: .upload, due: now.addingTimeInterval(settings.quietPeriod)))
                }
            case .directoryAppeared:
                break  // its files arrive as .changed
            case .removed(let path, let isDirectory):
                root.tracker.forget(path)
                root.journaled.remove(Array(path.utf8))
                root.removals.add(path, isDirectory: isDirectory, at: now)
                noticed.append(WorkItem(root: root.sync.root.key, path: path, kind: .delete, isDirectory: isDirectory, due: now))
            case .moved(let from, let to, let isDirectory):
                moved(from: from, to: to, isDirectory: isDirectory, root: root, now: now)
            case .overflow:
                log.warning("inotify queue overflowed under \(root.sync.root.local): rescanning it")
                root.needsRescan = true
            case .watchLimitReached(let first, let needed):
                if !root.warnedWatchLimit {
                    root.warnedWatchLimit = true
                    let current = (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8))?
                        .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
                    log.warning("""
                        inotify watch limit reached at \(root.sync.root.local)/\(first): raise fs.inotify.max_user_watches \
                        from \(current) by at least \(needed) (sysctl -w fs.inotify.max_user_watches=N; persist it in \
                        /etc/sysctl.d/). Until then unwatched folders are rescanned every \(Int(settings.unwatchedRescan)) s.
                        """)
                }
                root.nextUnwatchedRescan = min(root.nextUnwatchedRescan, now.addingTimeInterval(settings.unwatchedRescan))
            case .rootGone:
                // The files' own deletions arrive before the root's: they were the root going, not the
                // user deleting files, so none of them may reach the server.
                root.removals = PendingRemovals()
                root.tracker = ChangeTracker(quietPeriod: settings.quietPeriod, maxDelay: settings.maxDelay)
                log.error("\(root.sync.root.local) was deleted or moved away: nothing is trashed; watching again when it returns")
                root.watcher?.stop()
                root.watcher = nil
                root.nextUnwatchedRescan = now.addingTimeInterval(settings.unwatchedRescan)
            }
        }
    }

    /// Notes noticed work in the journal before anything acts on it, in one transaction per batch of events.
    private func journal(_ items: [WorkItem], root: Root) {
        do {
            try root.sync.journal.enqueue(items)
        } catch {
            log.error("cannot journal queued work under \(root.sync.root.local): \(error); a rescan finds it")
        }
    }

    /// A move inside the root: done on the server when the server holds the source; otherwise the
    /// destination is uploaded and the source handled as a deletion. An upload in flight under the source
    /// is stopped first, and the move waits for it (in `movesWaiting`), so the server ends with the final
    /// names and no orphaned session.
    private func moved(from: String, to: String, isDirectory: Bool, root: Root, now: Date) {
        applyRemovals(root.removals.takeAll(), root)  // a removal queued before the move must not hit its new path
        root.tracker.forget(from)
        root.journaled.remove(Array(from.utf8))
        if pool.cancel(root: root.sync.root.key, under: from) || !root.movesWaiting.isEmpty {
            root.movesWaiting.append((from, to, isDirectory))
            return
        }
        do {
            if try root.sync.move(from: from, to: to) {
                log.info("moved \(from) to \(to) on the server")
                // What under it was still to be uploaded (a changed file, a stopped upload) goes under its new name.
                let unsynced = try root.sync.journal.records(root: root.sync.root.key, under: to).filter { $0.state != .synced }
                queueNow(unsynced.map(\.path), root: root, appends: false)
                return
            }
        } catch {
            log.warning("could not move \(from) to \(to): \(error)")
        }
        root.removals.add(from, isDirectory: isDirectory, at: now)
        if isDirectory {
            root.needsRescan = true
        } else {
            root.tracker.noteChange(to, at: now)
        }
    }

    // MARK: Work

    private func step(_ root: Root, now: Date) {
        do {
            retryWaitingMoves(root)
            applyRemovals(root.removals.takeDue(at: now), root)
            // Due changes before a rescan: a small file saved now must not wait for a large tree's scan.
            queueDueChanges(root)
            if root.needsRescan || now >= root.nextRescan || now >= root.nextUnwatchedRescan {
                if root.watcher == nil, FileManager.default.fileExists(atPath: root.sync.root.local) {
                    startWatching(root, index: roots.firstIndex { $0 === root }!)
                }
                root.needsRescan = false
                // The ids and entities of files uploaded since the last rescan, one listing per folder
                // (UnconfirmedBaseline.swift); a file still uploading is not among them.
                _ = try? root.sync.learnUploadedBaselines()
                let key = root.sync.root.key
                let report = try root.sync.plan(feed: { [pool] queued in pool!.submit(queued, root: root.sync) },
                                                busy: { [pool] in pool!.isRunning(root: key, under: $0) })
                // A pass over a large tree peaks at a few hundred bytes per file (the scan and the journal's
                // rows, side by side); glibc keeps those pages mapped after they are freed unless asked,
                // and a daemon then idles at its peak for ever.
                returnFreedMemory()
                try root.sync.notePassCompleted()
                logReport(report, root: root, what: "rescan")
                root.nextRescan = Date().addingTimeInterval(settings.rescanInterval)
                let unwatched = !(root.watcher?.unwatched.isEmpty ?? false)
                root.nextUnwatchedRescan = unwatched ? Date().addingTimeInterval(settings.unwatchedRescan) : .distantFuture
            }
            root.retryAt = .distantPast
            inbox.withLock { _ = signInLostRoots.remove(root.sync.root.key) }
        } catch let error as CloudreveError {
            if case .notSignedIn = error {
                signInLost(error, root: root)
                root.retryAt = Date().addingTimeInterval(300)
                root.needsRescan = true
                return
            }
            retryLater(root, error)
        } catch {
            retryLater(root, error)
        }
    }

    /// Hands the files whose quiet period (or max delay) is over to the pool.
    private func queueDueChanges(_ root: Root) {
        let due = root.tracker.takeDue(at: Date())
        guard !due.isEmpty else { return }
        // A file modified within the quiet period was handed out by max_delay: it is growing.
        let growing = due.filter { modifiedWithin(settings.quietPeriod, root.sync.root.local + "/" + $0) }
        let quiet = due.filter { !modifiedWithin(settings.quietPeriod, root.sync.root.local + "/" + $0) }
        queueNow(quiet, root: root, appends: false)
        queueNow(growing, root: root, appends: true)
    }

    /// Journals uploads of `paths` as due now and gives them to the pool.
    private func queueNow(_ paths: [String], root: Root, appends: Bool) {
        guard !paths.isEmpty else { return }
        let now = Date()
        do {
            let items = try root.sync.journal.enqueue(paths.map { WorkItem(root: root.sync.root.key, path: $0, kind: .upload, due: now, appends: appends) })
            for path in paths { root.journaled.remove(Array(path.utf8)) }
            pool.submit(items, root: root.sync)
        } catch {
            log.error("cannot queue uploads under \(root.sync.root.local): \(error); a rescan finds them")
            root.needsRescan = true
        }
    }

    private func retryWaitingMoves(_ root: Root) {
        guard !root.movesWaiting.isEmpty else { return }
        let key = root.sync.root.key
        guard !root.movesWaiting.contains(where: { pool.isRunning(root: key, under: $0.from) }) else { return }
        let moves = root.movesWaiting
        root.movesWaiting = []
        for move in moves { moved(from: move.from, to: move.to, isDirectory: move.isDirectory, root: root, now: Date()) }
    }

    private func retryLater(_ root: Root, _ error: Error) {
        log.error("\(root.sync.root.local): \(error); trying again in 30 s")
        root.needsRescan = true
        root.retryAt = Date().addingTimeInterval(30)
    }

    private func applyRemovals(_ removals: [PendingRemovals.Removal], _ root: Root) {
        // A name deleted and created again before its deletion was applied (`rm a; echo b > a`, a tool that
        // replaces a file) is not trashed: its pending change uploads it as a new version, and trashing it
        // after that upload would lose it from the server. A folder that is back is left to a rescan,
        // which trashes only what is really gone from it.
        var ready: [PendingRemovals.Removal] = []
        for removal in removals {
            switch LocalKind.of(root.sync.root.local + "/" + removal.path) {
            case .file where !removal.isDirectory:
                continue
            case .directory where removal.isDirectory:
                root.needsRescan = true
            default:
                ready.append(removal)
            }
        }
        // An upload in flight at or under a deleted path is stopped first; its deletion waits for it (the
        // next loop), then cancels its session and applies.
        let key = root.sync.root.key
        // Asked once per topmost path: `rm -r` of a big folder is one question to the pool, not one per file.
        let busy = topmostPaths(ready.map(\.path)).filter { pool.cancel(root: key, under: $0) }.map { PathKey(root: key, path: $0) }
        let waiting = ready.filter { removal in busy.contains { PathKey(root: key, path: removal.path).isAtOrUnder($0) } }
        for removal in waiting {
            root.removals.add(removal.path, isDirectory: removal.isDirectory, at: Date().addingTimeInterval(0.1 - root.removals.settle))
        }
        let waitingPaths = Set(waiting.map { Array($0.path.utf8) })
        // Every other deletion is decided now (applied, or dropped because the name is back): off the queue.
        try? root.sync.journal.dropQueued(root: key, paths: removals.filter { !waitingPaths.contains(Array($0.path.utf8)) }.map(\.path),
                                          kind: .delete)
        ready.removeAll { waitingPaths.contains(Array($0.path.utf8)) }
        guard !ready.isEmpty else { return }
        do {
            let report = try root.sync.remove(ready.map { ($0.path, $0.isDirectory) })
            for warning in report.warnings { log.warning("\(warning)") }
            for path in report.trashed { log.info("moved \(path) to the server's trash") }
            for failure in report.failed { log.error("\(failure.path): \(failure.reason)") }
        } catch {
            log.error("could not apply deletions under \(root.sync.root.local): \(error)")
        }
    }

    private func logReport(_ report: SyncReport, root: Root, what: String?) {
        for conflict in report.conflicts {
            log.warning("conflict: \(conflict.path) changed on the server; theirs kept, ours uploaded as \(conflict.copy)")
        }
        for path in report.trashed { log.info("moved \(path) to the server's trash") }
        for failure in report.failed { log.error("not uploaded: \(failure.path): \(failure.reason)") }
        for cancelled in report.cancelledSessions { log.info("cancelled stale upload session \(cancelled)") }
        // A rescan's notes (symlinks skipped, …) repeat every pass: only worth a debug line.
        for note in report.notes { what == nil ? log.notice("\(note)") : log.debug("\(note)") }
        for warning in report.warnings { log.warning("\(warning)") }
        if let halted = report.halted {
            log.error("\(halted)")
            root.needsRescan = true  // what was not uploaded is found again by the next scan
        }
        if let what {
            log.info("\(what) of \(root.sync.root.local): \(report.uploaded.count) uploaded, \(report.unchanged + report.adopted) unchanged, \(report.failed.count) failed")
        }
    }

    private func waitForWork() {
        let now = Date()
        var deadline = now.addingTimeInterval(60)
        for root in roots {
            if let next = root.tracker.nextDeadline() { deadline = min(deadline, next) }
            if let next = root.removals.nextDeadline() { deadline = min(deadline, next) }
            deadline = min(deadline, root.nextRescan, root.nextUnwatchedRescan)
            if root.retryAt > now { deadline = min(deadline, root.retryAt) }
            if root.needsRescan { deadline = now }
            // Work waiting for an upload to stop is looked at again soon.
            if !root.movesWaiting.isEmpty { deadline = min(deadline, now.addingTimeInterval(0.1)) }
        }
        inbox.lock()
        if pending.isEmpty && !stopping && fatal == nil && deadline > now { _ = inbox.wait(until: deadline) }
        inbox.unlock()
    }
}

private func modifiedWithin(_ seconds: TimeInterval, _ path: String) -> Bool {
    var st = stat()
    guard stat(path, &st) == 0 else { return false }
    let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
    return Date().timeIntervalSince1970 - mtime < seconds
}

/// Test hooks, read from the environment once: the two conditions tests cannot cause safely on a
/// shared machine (a kernel queue overflow, the system-wide watch limit).
enum TestHooks {
    /// `CRSYNC_TEST_OVERFLOW_AFTER=N`: lose the events after the first N, then report an overflow.
    static let overflowAfter = ProcessInfo.processInfo.environment["CRSYNC_TEST_OVERFLOW_AFTER"].flatMap(Int.init)
    /// `CRSYNC_TEST_WATCH_LIMIT=N`: behave as if at most N inotify watches could be added.
    static let watchLimit = ProcessInfo.processInfo.environment["CRSYNC_TEST_WATCH_LIMIT"].flatMap(Int.init)
}
