import Foundation

/// What runs alongside uploads and is shared by every worker: the stop request (SIGTERM), the bandwidth
/// throttle, and the progress board that `crsync status` reads.
public final class UploadControl: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var throttleBytes: (@Sendable (Int64) -> Void)?
    public let board = ProgressBoard()
    /// Counters for `/metrics`, when enabled.
    public let metrics: Metrics?

    public init(metrics: Metrics? = nil) {
        self.metrics = metrics
    }

    /// Asks every upload to stop: requests in flight are aborted (their chunk is simply not acknowledged)
    /// and no new file starts.
    public func stop() { lock.withLock { stopping = true } }
    public var isStopping: Bool { lock.withLock { stopping } }

    /// Called with each run of body bytes about to be sent; blocks to keep under a bandwidth limit.
    public func setThrottle(_ throttle: (@Sendable (Int64) -> Void)?) { lock.withLock { throttleBytes = throttle } }
    func throttle(_ bytes: Int64) {
        guard bytes > 0, let throttle = lock.withLock({ throttleBytes }) else { return }
        throttle(bytes)
    }
}

/// Files being uploaded right now, with bytes sent, for `crsync status`.
public final class ProgressBoard: @unchecked Sendable {
    public struct Entry: Codable, Sendable {
        public var root: String
        public var path: String
        public var size: Int64
        public var sent: Int64
        public var started: Date
        /// Set when a chunk of this file stalled, until a chunk is acknowledged again: what `crsync status` shows.
        public var stalled: String?
    }

    private let lock = NSLock()
    private var entries: [Int64: Entry] = [:]

    func begin(_ id: Int64, root: String, path: String, size: Int64, alreadySent: Int64) {
        lock.withLock { entries[id] = Entry(root: root, path: path, size: size, sent: alreadySent, started: Date()) }
    }

    func add(_ id: Int64, _ bytes: Int64) {
        lock.withLock { entries[id]?.sent += bytes }
    }

    func stalled(_ id: Int64, _ message: String?) {
        lock.withLock { entries[id]?.stalled = message }
    }

    func end(_ id: Int64) { _ = lock.withLock { entries.removeValue(forKey: id) } }

    public func snapshot() -> [Entry] { lock.withLock { Array(entries.values) }.sorted { $0.started < $1.started } }
}

/// The run was asked to stop; what was in flight stays resumable.
struct Stopped: Error {}
