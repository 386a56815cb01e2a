import Foundation

/// Holds local deletions until they have settled, so that removing a folder (its files first, the folder
/// last, in separate inotify batches) reaches the server as one removal of the folder, not as one call per
/// file. Deletions are handed out together once none has arrived for `settle`, or once the oldest has
/// waited `maxWait` (a process deleting files for minutes must not hold the first ones back for ever).
///
/// A pure value: the caller passes the clock in and asks `nextDeadline()` when to wake up.
public struct PendingRemovals: Sendable {
    public struct Removal: Sendable, Equatable {
        public var path: String
        public var isDirectory: Bool
    }

    public let settle: TimeInterval
    public let maxWait: TimeInterval
    private var queued: [Removal] = []
    private var oldest: Date?
    private var newest: Date?

    public init(settle: TimeInterval = 1, maxWait: TimeInterval = 10) {
        self.settle = settle
        self.maxWait = maxWait
    }

    public var isEmpty: Bool { queued.isEmpty }

    public mutating func add(_ path: String, isDirectory: Bool, at time: Date) {
        queued.append(Removal(path: path, isDirectory: isDirectory))
        oldest = min(oldest ?? time, time)
        newest = max(newest ?? time, time)
    }

    /// When the queued removals become due, or nil when none is queued.
    public func nextDeadline() -> Date? {
        guard let oldest, let newest else { return nil }
        return min(newest.addingTimeInterval(settle), oldest.addingTimeInterval(maxWait))
    }

    /// Every queued removal, in the order they happened, if they are due at `now`; otherwise none.
    public mutating func takeDue(at now: Date) -> [Removal] {
        guard let deadline = nextDeadline(), deadline <= now else { return [] }
        return takeAll()
    }

    /// Every queued removal regardless of time: before a move, a removal queued earlier must be applied
    /// first, or it would hit the moved path.
    public mutating func takeAll() -> [Removal] {
        defer { queued = []; oldest = nil; newest = nil }
        return queued
    }
}
