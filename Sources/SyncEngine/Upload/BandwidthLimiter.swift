import Foundation

/// One upload budget in bytes per second shared by every worker thread: a token bucket holding about a
/// quarter second of the rate (at least 64 KiB), so a burst stays short and a steady stream is smooth.
///
/// A caller may take more than the bucket holds: the balance goes negative and the next caller waits until
/// the debt is repaid, so a large piece is never starved and the long-run rate still holds. Waiting threads
/// sleep in short slices and ask the limit again each time, so a timetable that switches (or a reload that
/// lifts the limit) takes effect within a fraction of a second, even for a thread already waiting.
public final class BandwidthLimiter: @unchecked Sendable {
    /// The smallest burst: one curl upload buffer, so a limit far below it still lets whole buffers through.
    public static let minimumBurst: Int64 = 64 << 10
    /// Longest single sleep before the limit is asked again.
    static let longestSleep: TimeInterval = 0.1

    private let lock = NSLock()
    private var limit: @Sendable (Date) -> Int64?
    private let clock: @Sendable () -> Date
    private let sleep: @Sendable (TimeInterval) -> Void
    /// Bytes that may be sent now; negative while earlier callers are in debt.
    private var tokens: Double = 0
    /// When `tokens` was last brought up to date and the rate in force then; nil while unlimited, so that a
    /// limit coming into force starts with a full bucket rather than credit for the unlimited time.
    private var refilled: (at: Date, rate: Int64)?

    /// `limit` is asked for the bytes-per-second limit in force at a date (nil = unlimited; zero or less is
    /// taken as unlimited too, as rclone does); it is re-asked as time passes, so a timetable switches at its
    /// minute without a restart. `clock` and `sleep` are injectable for tests.
    public init(limit: @escaping @Sendable (Date) -> Int64?, clock: @escaping @Sendable () -> Date = { Date() },
                sleep: @escaping @Sendable (TimeInterval) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        self.limit = limit
        self.clock = clock
        self.sleep = sleep
    }

    /// Replaces the limit (a SIGHUP reload); threads already waiting follow the new one from their next slice.
    public func setLimit(_ limit: @escaping @Sendable (Date) -> Int64?) {
        lock.withLock { self.limit = limit }
    }

    /// The bytes-per-second limit in force now; nil when unlimited.
    public var currentLimit: Int64? {
        let now = clock()
        return Self.normalized(lock.withLock { limit }(now))
    }

    /// Blocks the calling thread until `bytes` may be sent under the current limit.
    public func consume(_ bytes: Int64) {
        guard bytes > 0 else { return }
        while true {
            let wait: TimeInterval = lock.withLock {
                let now = clock()
                guard let rate = Self.normalized(limit(now)) else {
                    refilled = nil
                    return 0
                }
                let burst = Double(Self.burst(for: rate))
                if let last = refilled {
                    // Time since the last look is credited at the rate in force then: a sleeper that woke
                    // across a switch is paid what it waited for, and the new rate counts from now on.
                    tokens = min(burst, tokens + max(0, now.timeIntervalSince(last.at)) * Double(last.rate))
                } else {
                    tokens = burst
                }
                refilled = (now, rate)
                if tokens >= 0 {
                    tokens -= Double(bytes)
                    return 0
                }
                return min(-tokens / Double(rate), Self.longestSleep)
            }
            if wait <= 0 { return }
            sleep(wait)
        }
    }

    /// A `BodyProgress`-shaped adapter for one request: charges the bytes sent since the previous call, so
    /// each buffer is paid for before the next one goes. Returns true always.
    ///
    /// curl asks for no more data once the promised Content-Length is sent, so without `bodyLength` the last
    /// buffer of every request (up to 64 KiB) goes unpaid: for small chunks that is several percent. Given
    /// the request's body length, the callback charges each buffer before it is sent instead (one curl
    /// upload buffer ahead, never past the length), and a whole request is paid for exactly.
    ///
    /// A request retried with the same callback starts again from zero: the re-sent bytes are charged again.
    public func progressCallback(bodyLength: Int64? = nil) -> (Int64) -> Bool {
        var lastSent: Int64 = 0
        var charged: Int64 = 0
        return { sent in
            // A retry starts from zero; what the failed attempt sent was charged (or went) with it.
            if sent < lastSent { charged = 0 }
            lastSent = sent
            var target = sent
            if let bodyLength { target = max(sent, min(sent + Self.minimumBurst, bodyLength)) }
            if target > charged {
                self.consume(target - charged)
                charged = target
            }
            return true
        }
    }

    static func burst(for rate: Int64) -> Int64 { max(rate / 4, minimumBurst) }

    static func normalized(_ limit: Int64?) -> Int64? {
        guard let limit, limit > 0 else { return nil }
        return limit
    }
}
