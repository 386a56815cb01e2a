import CloudreveAPI
import Foundation
import Logging

/// `crsync run`: keeps every root uploaded as it changes. A file goes once it has been quiet for
/// `quietPeriod` (or, if it never goes quiet, at most once per `maxDelay`); moves and renames become
/// server-side moves; deletions follow each root's policy; lost events (queue overflow, the watch limit)
/// are answered by rescans, never by silence; a full reconcile runs at start-up and every `rescanInterval`.
///
/// One coordinator thread (the caller of `run`) owns all decisions; watcher threads only post events to
/// the inbox; uploads run on RootSync's worker threads.
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
    /// Set when a root cannot go on (sign-in gone): `run` returns it.
    public private(set) var fatalError: CloudreveError?

    public init(roots: [RootSync], settings: Settings, control: UploadControl, log: Logger) {
        self.roots = roots.map { Root(sync: $0, settings: settings) }
        self.settings = settings
        self.control = control
        self.log = log
    }

    /// Runs until `stop()`; returns then, or when a root hits an error no retry can fix.
    public func run() {
        for (index, root) in roots.enumerated() { startWatching(root, index: index) }
        while !isStopping && fatalError == nil {
            for (index, events) in takeInbox() { handle(events, root: roots[index]) }
            let now = Date()
            for root in roots where now >= root.retryAt { step(root, now: now) }
            waitForWork()
        }
        for root in roots { root.watcher?.stop() }
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
        for event in events {
            switch event {
            case .changed(let path):
                root.tracker.noteChange(path, at: now)
            case .directoryAppeared:
                break  // its files arrive as .changed
            case .removed(let path, let isDirectory):
                root.tracker.forget(path)
                root.removals.add(path, isDirectory: isDirectory, at: now)
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

    /// A move inside the root: done on the server when the server holds the source; otherwise the
    /// destination is uploaded and the source handled as a deletion.
    private func moved(from: String, to: String, isDirectory: Bool, root: Root, now: Date) {
        applyRemovals(root.removals.takeAll(), root)  // a removal queued before the move must not hit its new path
        do {
            root.tracker.forget(from)
            if try root.sync.move(from: from, to: to) {
                log.info("moved \(from) to \(to) on the server")
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
            applyRemovals(root.removals.takeDue(at: now), root)
            if root.needsRescan || now >= root.nextRescan || now >= root.nextUnwatchedRescan {
                if root.watcher == nil, FileManager.default.fileExists(atPath: root.sync.root.local) {
                    startWatching(root, index: roots.firstIndex { $0 === root }!)
                }
                root.needsRescan = false
                let report = try root.sync.reconcile()
                logReport(report, root: root, what: "rescan")
                root.nextRescan = Date().addingTimeInterval(settings.rescanInterval)
                let unwatched = !(root.watcher?.unwatched.isEmpty ?? false)
                root.nextUnwatchedRescan = unwatched ? Date().addingTimeInterval(settings.unwatchedRescan) : .distantFuture
            }
            let due = root.tracker.takeDue(at: Date())
            if !due.isEmpty {
                // A file modified within the quiet period was handed out by max_delay: it is growing.
                let growing = due.filter { modifiedWithin(settings.quietPeriod, root.sync.root.local + "/" + $0) }
                let quiet = due.filter { !modifiedWithin(settings.quietPeriod, root.sync.root.local + "/" + $0) }
                logReport(try root.sync.upload(paths: quiet), root: root, what: nil)
                logReport(try root.sync.upload(paths: growing, allowAppends: true), root: root, what: nil)
            }
            root.retryAt = .distantPast
        } catch let error as CloudreveError {
            if case .notSignedIn = error {
                log.critical("\(error)")
                fatalError = error
                return
            }
            retryLater(root, error)
        } catch {
            retryLater(root, error)
        }
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
        }
        inbox.lock()
        if pending.isEmpty && !stopping && deadline > now { _ = inbox.wait(until: deadline) }
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
