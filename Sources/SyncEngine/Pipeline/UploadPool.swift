import CloudreveAPI
import Foundation

/// The standing pool of upload workers that every root shares: a worker that finishes a file takes the
/// next due one at once (`nextToStart`), and whoever queues work never waits for an upload. The daemon
/// keeps one for its whole life; `crsync sync` runs one until its queue is empty. Work is journaled
/// (`Journal.enqueue`) before it is submitted here, and finished in the journal when done, so what this
/// holds in memory is only a mirror of the journal's queue.
///
/// Workers are threads of their own: every upload blocks on curl, file reads and SQLite.
public final class UploadPool: @unchecked Sendable {
    /// What became of one upload, for the daemon's log or the pass's summary.
    public struct Finished: Sendable {
        public var root: RootSync
        public var item: WorkItem
        public var report: SyncReport
        /// A root-wide error (no server, sign-in gone): the root backs off, or the daemon stops.
        public var rootError: CloudreveError?
    }

    /// A queued or running upload, for `crsync status`.
    public struct QueueStatus: Codable, Sendable {
        public var root: String
        public var pending: Int
        public var pendingBytes: Int64
        public var running: Int
        /// Changed files waiting for their quiet period (the daemon's count).
        public var waiting = 0
        public var backingOffUntil: Date?

        public init(root: String, pending: Int, pendingBytes: Int64, running: Int, waiting: Int = 0, backingOffUntil: Date? = nil) {
            self.root = root
            self.pending = pending
            self.pendingBytes = pendingBytes
            self.running = running
            self.waiting = waiting
            self.backingOffUntil = backingOffUntil
        }

        enum CodingKeys: String, CodingKey {
            case root, pending, running, waiting
            case pendingBytes = "pending_bytes", backingOffUntil = "backing_off_until"
        }
    }

    private struct Job {
        var item: WorkItem
        var root: RootSync
        var size: Int64
    }
    private typealias Entry = UploadQueue<Job>.Entry

    private struct Running {
        var entry: Entry
        var cancel: CancelFlag
    }

    public let workers: Int
    private let control: UploadControl
    private let condition = NSCondition()
    /// What `waitUntilIdle` sleeps on, told only when the pool may have become idle: on `condition` it was
    /// woken by every finished file (a context switch and a contended lock per small file, perf).
    private let idleCondition = NSCondition()
    /// Counts `idleCondition`'s tellings, so that one between a waiter's check and its wait is not lost.
    private var idleTellings = 0
    private var queue = UploadQueue<Job>()
    private var running: [PathKey: Running] = [:]
    private var paused: [String: Date] = [:]
    private var stopping = false
    private var threads: [Thread] = []
    private let finishedGroup = DispatchGroup()
    private let onFinished: @Sendable (Finished) -> Void
    private var finishedSoFar = SyncReport()

    /// Every finished upload's report merged: what a `crsync sync` pass did.
    public var report: SyncReport { condition.withLock { finishedSoFar } }

    /// The daemon's pool tries failed files again when their backoff ends; a one-shot pass reports them.
    private let retries: Bool

    public init(workers: Int, control: UploadControl, retries: Bool = false, onFinished: @escaping @Sendable (Finished) -> Void = { _ in }) {
        self.retries = retries
        self.workers = max(1, workers)
        self.control = control
        self.onFinished = onFinished
    }

    public func start() {
        for n in 0..<workers {
            finishedGroup.enter()
            let thread = Thread { [self] in
                work()
                finishedGroup.leave()
            }
            thread.name = "crsync-worker-\(n)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    /// Queues journaled upload items of `root`; one already queued for the same path is replaced.
    public func submit(_ items: [WorkItem], root: RootSync) {
        guard !items.isEmpty else { return }
        let entries = items.map { item -> Entry in
            var st = stat()
            let size = lstat(root.root.local + "/" + item.path, &st) == 0 ? Int64(st.st_size) : 0
            // Keyed by bytes: NFC and NFD spellings are different files.
            return Entry(key: PathKey(root: item.root, path: item.path), due: item.due, large: size > root.smallFileLimit,
                         payload: Job(item: item, root: root, size: size))
        }
        condition.withLock {
            let now = Date()
            for entry in entries { queue.put(entry, now: now) }
            condition.broadcast()
        }
    }

    /// Holds back `root`'s queued uploads until `until` (its server is unreachable); other roots go on.
    public func pause(root: String, until: Date) {
        condition.withLock {
            paused[root] = until
            condition.broadcast()
        }
    }

    /// Asks every upload in flight at or under `path` of `root` to stop, and drops what is queued there.
    /// Returns whether any was in flight: the caller (a deletion, a move) waits until none is.
    @discardableResult
    public func cancel(root: String, under path: String) -> Bool {
        let folder = PathKey(root: root, path: path)
        let (any, idle) = condition.withLock {
            queue.removeAll { $0.isAtOrUnder(folder) }
            var any = false
            for (key, run) in running where key.isAtOrUnder(folder) {
                run.cancel.set()
                any = true
            }
            return (any, isIdle)
        }
        if idle { tellIdleWaiters() }
        return any
    }

    /// Whether an upload at or under `path` of `root` is in flight.
    public func isRunning(root: String, under path: String) -> Bool {
        let folder = PathKey(root: root, path: path)
        return condition.withLock { running.keys.contains { $0.isAtOrUnder(folder) } }
    }

    /// Blocks until nothing is queued or running (`crsync sync`), or the run is stopping.
    public func waitUntilIdle() {
        while true {
            let seen = idleCondition.withLock { idleTellings }
            if condition.withLock({ isIdle || (control.isStopping && running.isEmpty) }) { return }
            // `control.stop()` does not tell: the timeout notices it.
            idleCondition.withLock {
                if idleTellings == seen { _ = idleCondition.wait(until: Date().addingTimeInterval(0.2)) }
            }
        }
    }

    /// Nothing queued or running, or stopping with nothing running. Under `condition`.
    private var isIdle: Bool { (queue.isEmpty && running.isEmpty) || (stopping && running.isEmpty) }

    private func tellIdleWaiters() {
        idleCondition.withLock {
            idleTellings += 1
            idleCondition.broadcast()
        }
    }

    /// Stops the workers once their current uploads return (`control.stop()` makes them return at once).
    public func stop() {
        let idle = condition.withLock {
            stopping = true
            condition.broadcast()
            return isIdle
        }
        if idle { tellIdleWaiters() }
        finishedGroup.wait()
    }

    /// Per root: what is queued and running, and whether it backs off.
    public func status(now: Date = Date()) -> [QueueStatus] {
        condition.withLock {
            var byRoot: [String: QueueStatus] = [:]
            for entry in queue.entries.values {
                byRoot[entry.key.root, default: QueueStatus(root: entry.key.root, pending: 0, pendingBytes: 0, running: 0)].pending += 1
                byRoot[entry.key.root]!.pendingBytes += entry.payload.size
            }
            for key in running.keys {
                byRoot[key.root, default: QueueStatus(root: key.root, pending: 0, pendingBytes: 0, running: 0)].running += 1
            }
            for (root, until) in paused where until > now {
                byRoot[root, default: QueueStatus(root: root, pending: 0, pendingBytes: 0, running: 0)].backingOffUntil = until
            }
            return byRoot.values.sorted { $0.root < $1.root }
        }
    }

    public var queuedCount: Int { condition.withLock { queue.count } }

    // MARK: Workers

    private func work() {
        while let (entry, cancel) = take() {
            let job = entry.payload
            let finished = job.root.perform(job.item, cancel: cancel)
            // Tried again later (daemon): after the root's pause when its server was unreachable, or when the
            // file's own backoff ends. Re-journaled first, so a restart keeps the schedule.
            var again: Entry?
            let newer = condition.withLock { queue.contains(entry.key) }
            if retries, !newer, !finished.interrupted,
               let at = finished.retryAt ?? (finished.rootError != nil ? Date().addingTimeInterval(30) : nil) {
                var item = job.item
                item.due = at
                if let saved = try? job.root.journal.enqueue([item]).first {
                    again = entry
                    again?.due = at
                    again?.payload.item = saved
                }
            }
            let idle = condition.withLock {
                // The journal cannot be written (full disk, damage): every further file would fail the same
                // way, so nothing more starts; what is queued stays journaled for the next pass.
                if finished.report.halted != nil { queue.removeAll { _ in true } }
                finishedSoFar.merge(finished.report)
                running[entry.key] = nil
                if finished.rootError != nil {
                    paused[entry.key.root] = Date().addingTimeInterval(30)
                }
                if let again, !queue.contains(again.key) { queue.put(again, now: Date()) }
                condition.broadcast()
                return isIdle
            }
            control.metrics?.set(.filesPending, Double(queuedCount))
            onFinished(Finished(root: job.root, item: job.item, report: finished.report, rootError: finished.rootError))
            if idle { tellIdleWaiters() }
        }
    }

    /// The next upload this worker may start, waiting for one; nil once stopping.
    private func take() -> (Entry, CancelFlag)? {
        condition.withLock {
            while true {
                if stopping || control.isStopping { return nil }
                let now = Date()
                let nextDelayed = queue.promote(now: now)
                let large = running.values.filter(\.entry.large).count
                let candidates = queue.candidates()
                if let index = nextToStart(candidates, inFlight: Set(running.keys), inFlightLarge: large, workers: workers,
                                           pausedRoots: paused, now: now),
                   let entry = queue.remove(candidates[index].key) {
                    let cancel = CancelFlag()
                    running[entry.key] = Running(entry: entry, cancel: cancel)
                    return (entry, cancel)
                }
                // Nothing may start now: wake for the next due item, a root's pause ending, or a change (every
                // change broadcasts). No timer beyond those, so idle workers stay asleep.
                // (Never `wait(until: .distantFuture)`: here it did not block, and this loop spun
                // holding the lock that every submit and finish needs.)
                if let wake = [nextDelayed, candidates.map(\.due).filter { $0 > now }.min(), paused.values.filter { $0 > now }.min()]
                    .compactMap({ $0 }).min() {
                    _ = condition.wait(until: wake)
                } else {
                    condition.wait()
                }
            }
        }
    }
}

/// Set when one upload must stop (its file was deleted or moved): checked between request bodies' buffers.
public final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.withLock { value = true } }
    public var isSet: Bool { lock.withLock { value } }
}
