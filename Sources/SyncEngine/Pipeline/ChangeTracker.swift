import Foundation

/// Decides when a changed file may be uploaded: once it has been left alone for `quietPeriod`, so a file
/// being written is not sent half done; or, for a file that is never left alone (a log appended to every
/// 100 ms), once per `maxDelay`, so it still reaches the server.
///
/// A pure value: the caller passes the clock in and asks `nextDeadline()` when to wake up. Paths are kept
/// by their UTF-8 bytes, because `String` equality would merge an NFC and an NFD name into one file.
public struct ChangeTracker: Sendable {
    public let quietPeriod: TimeInterval
    public let maxDelay: TimeInterval

    private struct Pending: Sendable {
        var path: String
        /// The first change since the file was last handed out: the `maxDelay` window counts from here.
        var firstChange: Date
        var lastChange: Date
    }

    private var pending: [[UInt8]: Pending] = [:]
    /// When each recently handed-out file left, so a change noted late (with a time before the hand-out)
    /// still cannot open a window that ends sooner than `maxDelay` after it.
    private var handedOut: [[UInt8]: Date] = [:]

    public init(quietPeriod: TimeInterval = 2, maxDelay: TimeInterval = 300) {
        self.quietPeriod = quietPeriod
        self.maxDelay = maxDelay
    }

    /// Files changed and not yet handed out.
    public var pendingCount: Int { pending.count }

    /// Records that `path` changed at `time`.
    public mutating func noteChange(_ path: String, at time: Date) {
        let key = Array(path.utf8)
        if var entry = pending[key] {
            entry.lastChange = max(entry.lastChange, time)
            entry.firstChange = min(entry.firstChange, time)
            pending[key] = entry
        } else {
            pending[key] = Pending(path: path, firstChange: time, lastChange: time)
        }
    }

    /// The files due at `now`, oldest change first; they are no longer pending. A file that changes again
    /// starts a new window.
    public mutating func takeDue(at now: Date) -> [String] {
        handedOut = handedOut.filter { $0.value.addingTimeInterval(maxDelay) > now }
        let due = pending.filter { key, entry in deadline(of: entry, key: key) <= now }
            .sorted { a, b in
                a.value.firstChange != b.value.firstChange ? a.value.firstChange < b.value.firstChange
                    : a.key.lexicographicallyPrecedes(b.key)
            }
        for (key, _) in due {
            pending[key] = nil
            handedOut[key] = now
        }
        return due.map(\.value.path)
    }

    /// When the next file falls due, or nil when nothing is pending.
    public func nextDeadline() -> Date? {
        pending.map { deadline(of: $0.value, key: $0.key) }.min()
    }

    /// Drops `path` (deleted, or moved away: the caller notes the new name as a change of its own).
    public mutating func forget(_ path: String) {
        let key = Array(path.utf8)
        pending[key] = nil
        handedOut[key] = nil
    }

    private func deadline(of entry: Pending, key: [UInt8]) -> Date {
        Self.deadline(firstChange: entry.firstChange, lastChange: entry.lastChange, handedOut: handedOut[key],
                      quietPeriod: quietPeriod, maxDelay: maxDelay)
    }

    /// Due when quiet for `quietPeriod`, or `maxDelay` after the window opened, whichever comes first. The
    /// window opens at the first change not yet handed out, and never before the last hand-out.
    static func deadline(firstChange: Date, lastChange: Date, handedOut: Date?,
                         quietPeriod: TimeInterval, maxDelay: TimeInterval) -> Date {
        let windowStart = max(firstChange, handedOut ?? firstChange)
        return min(lastChange.addingTimeInterval(quietPeriod), windowStart.addingTimeInterval(maxDelay))
    }
}
