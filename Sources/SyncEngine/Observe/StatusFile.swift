import Foundation

/// What a running crsync publishes for `crsync status`: written atomically to `status.json` in the state
/// directory when it changes (looked at twice a second), so another process reads it without touching the
/// running one. Pending and
/// failed files come from the journal itself (WAL lets it be read while it is written).
public struct RunningStatus: Codable, Sendable {
    public var pid: Int32
    public var command: String
    public var started: Date
    public var updated: Date
    public var serverVersion: String?
    public var inFlight: [ProgressBoard.Entry]
    /// Bytes per second over the last interval, all uploads together.
    public var rate: Double
    /// The upload queue per root: queued, running, waiting for a quiet period, backing off.
    public var queue: [UploadPool.QueueStatus]?

    enum CodingKeys: String, CodingKey {
        case pid, command, started, updated, rate, queue
        case serverVersion = "server_version", inFlight = "in_flight"
    }
}

/// Writes `RunningStatus` every second on a thread of its own until stopped.
public final class StatusPublisher: @unchecked Sendable {
    private let path: String
    private let board: ProgressBoard
    private let command: String
    private let started = Date()
    private let lock = NSLock()
    private var running = true
    private var serverVersion: String?
    private let done = DispatchSemaphore(value: 0)

    public init(stateDirectory: String, board: ProgressBoard, command: String) {
        path = stateDirectory + "/status.json"
        self.board = board
        self.command = command
    }

    public func setServerVersion(_ version: String) { lock.withLock { serverVersion = version } }

    /// Where the queue's state comes from (the daemon's or a pass's pool), read at every write.
    public func setQueue(_ source: @escaping @Sendable () -> [UploadPool.QueueStatus]) { lock.withLock { queueSource = source } }
    private var queueSource: (@Sendable () -> [UploadPool.QueueStatus])?

    public func start() {
        let thread = Thread { [self] in
            var lastSent: Int64 = 0
            var lastTime = Date()
            var lastWritten: Data?
            while lock.withLock({ running }) {
                let entries = board.snapshot()
                let sent = entries.reduce(0) { $0 + $1.sent }
                let now = Date()
                let rate = max(0, Double(sent - lastSent)) / max(0.001, now.timeIntervalSince(lastTime))
                (lastSent, lastTime) = (sent, now)
                var status = RunningStatus(pid: getpid(), command: command, started: started, updated: started,
                                           serverVersion: lock.withLock { serverVersion }, inFlight: entries, rate: rate,
                                           queue: lock.withLock { queueSource }?())
                // Written only when something a reader sees changed: an idle daemon writes nothing, so a
                // NAS disk can spin down and flash is not worn for nothing.
                let content = try? StatusPublisher.encoder.encode(status)
                if content != lastWritten {
                    status.updated = now
                    write(status)
                    lastWritten = content
                }
                wakeup.lock()
                if lock.withLock({ running }) { _ = wakeup.wait(until: Date().addingTimeInterval(0.5)) }
                wakeup.unlock()
            }
            unlink(path)
            done.signal()
        }
        thread.name = "crsync-status"
        thread.start()
    }

    /// Stops at once (a one-shot pass does not wait out the half-second tick) and removes the file.
    public func stop() {
        lock.withLock { running = false }
        wakeup.lock()
        wakeup.broadcast()
        wakeup.unlock()
        done.wait()
    }

    private let wakeup = NSCondition()

    private func write(_ status: RunningStatus) {
        guard let data = try? StatusPublisher.encoder.encode(status) else { return }
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        rename(temp, path)
    }

    /// The status a live crsync published, or nil when none runs (a stale file from a crash is ignored).
    public static func read(stateDirectory: String) -> RunningStatus? {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/status.json"),
              let status = try? decoder.decode(RunningStatus.self, from: data),
              kill(status.pid, 0) == 0 || errno == EPERM else { return nil }
        return status
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()
}
