import Foundation
import Glibc

/// Watches one sync root recursively with inotify and reports what changed, in order, in batches.
///
/// Set it up before the initial scan (watch first, then scan: nothing changes unseen in between), then
/// `start` it. Reading blocks, so it runs on a thread of its own, never on Swift's cooperative pool, and
/// the handler is called on that thread. The watcher knows nothing of the server: it hands on paths.
///
/// Each included directory costs one inotify watch. When `fs.inotify.max_user_watches` runs out, the rest
/// go unwatched: one `.watchLimitReached` event says how many, and `unwatched` lists them for the caller
/// to rescan now and then.
public final class Watcher: @unchecked Sendable {
    private enum State { case idle, running, stopping, stopped }

    /// Guards everything below; signalled when the thread has ended.
    private let condition = NSCondition()
    private let tree: WatchedTree
    /// A pipe whose write end wakes the thread from poll(2) for `stop` and `simulateOverflow`.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private var state = State.idle
    private var overflowRequested = false
    private var thread: Thread?

    /// Watches `root` and every directory below it that `filter` does not exclude.
    /// - Parameter watchLimit: test hook: behave as if at most this many watches could be added.
    /// - Throws: `WatcherError` saying why, if the root cannot be watched (missing, not a folder, no
    ///   permission, no inotify instances or watches left).
    public init(root: String, filter: PathFilter = .none, watchLimit: Int? = nil) throws {
        tree = try WatchedTree(root: root, filter: filter, watchLimit: watchLimit)
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            let code = errno
            tree.inotify.close()
            throw WatcherError(path: root, reason: "cannot create a pipe: " + PathBytes.systemError(code))
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
    }

    deinit {
        // A running watcher's thread holds it, so here it was never started or has stopped.
        if state == .idle { closeDescriptors() }
    }

    /// Starts reading on a thread of its own; `handler` gets each batch of events, in order, on that
    /// thread. Call once.
    public func start(_ handler: @escaping @Sendable ([WatchEvent]) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        precondition(state == .idle, "Watcher.start called twice or after stop")
        state = .running
        let thread = Thread { [self] in run(handler) }
        thread.name = "crsync watcher"
        self.thread = thread
        thread.start()
    }

    /// Stops reading, and returns once the thread has ended and the descriptors are closed. Called from
    /// the handler itself, it returns at once and the thread ends when the handler returns.
    public func stop() {
        condition.lock()
        defer { condition.unlock() }
        switch state {
        case .idle:
            state = .stopped
            closeDescriptors()
            return
        case .running:
            state = .stopping
            wake()
        case .stopping, .stopped:
            break
        }
        if Thread.current === thread { return }
        while state != .stopped { condition.wait() }
    }

    /// Subtrees left unwatched because the watch limit was reached (relative paths, sorted by bytes).
    public var unwatched: [String] {
        condition.lock()
        defer { condition.unlock() }
        return tree.unwatched
    }

    /// How many directories are watched, the root included.
    public var watchCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return tree.watchCount
    }

    /// Test hook: behave as if the kernel had reported IN_Q_OVERFLOW.
    public func simulateOverflow() {
        condition.lock()
        defer { condition.unlock() }
        guard state == .idle || state == .running else { return }
        overflowRequested = true
        wake()
    }

    // MARK: - The thread

    private func run(_ handler: @Sendable ([WatchEvent]) -> Void) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        var descriptors = [pollfd(fd: tree.inotify.descriptor, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while true {
            condition.lock()
            if state == .stopping {
                condition.unlock()
                break
            }
            if overflowRequested {
                overflowRequested = false
                tree.overflow()
            }
            if descriptors[0].revents != 0 {
                tree.handle(tree.inotify.read(into: buffer), now: .now)
            }
            tree.expire(at: .now)
            let batch = tree.takeReady()
            let deadline = tree.nextDeadline()
            condition.unlock()

            if !batch.isEmpty { handler(batch) }

            descriptors[0].revents = 0
            descriptors[1].revents = 0
            if poll(&descriptors, 2, Self.milliseconds(until: deadline)) < 0 {
                // EINTR: go round again. Anything else means a descriptor is broken, which only a bug here
                // can cause; ending beats spinning.
                if errno != EINTR { break }
                descriptors[0].revents = 0
                continue
            }
            if descriptors[1].revents != 0 { drainWakePipe() }
        }
        condition.lock()
        closeDescriptors()
        state = .stopped
        thread = nil  // the Thread holds this closure, which holds self
        condition.broadcast()
        condition.unlock()
    }

    /// poll(2)'s timeout for `deadline`: rounded up, so the thread never wakes a hair early and spins;
    /// -1 (wait for an event) when there is none.
    static func milliseconds(until deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return -1 }
        let (seconds, attoseconds) = (deadline - .now).components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already wakes the thread: EAGAIN is fine
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &bytes, bytes.count) > 0 {}
    }

    private func closeDescriptors() {
        tree.inotify.close()
        close(wakeRead)
        close(wakeWrite)
    }
}
