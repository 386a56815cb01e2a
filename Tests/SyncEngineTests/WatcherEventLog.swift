import Foundation
import XCTest
@testable import SyncEngine

/// Collects a watcher's batches for a test, and waits for what the test expects to see.
final class WatcherEventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WatchEvent] = []
    private var batchCount = 0

    func append(_ batch: [WatchEvent]) {
        lock.lock()
        events += batch
        batchCount += 1
        lock.unlock()
    }

    var all: [WatchEvent] {
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    /// Polls until `condition` holds for the events so far, or `timeout` passes; returns the events either
    /// way, so that the test's own assertions say what was missing.
    @discardableResult
    func wait(timeout: TimeInterval = 5, until condition: ([WatchEvent]) -> Bool) -> [WatchEvent] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let seen = all
            if condition(seen) || Date() >= deadline { return seen }
            usleep(5_000)
        }
    }

    /// Waits until a `.changed` for `path` (compared as bytes) arrives.
    @discardableResult
    func waitForChange(of path: String, timeout: TimeInterval = 5) -> [WatchEvent] {
        wait(timeout: timeout) { $0.contains(where: changeOf(path)) }
    }
}

extension WatchEvent {
    /// The event's paths as bytes: `WatchEvent ==` compares `String`s, which equates NFC and NFD.
    var pathBytes: [[UInt8]] {
        switch self {
        case .changed(let path), .directoryAppeared(let path), .removed(let path, _): return [Array(path.utf8)]
        case .moved(let from, let to, _): return [Array(from.utf8), Array(to.utf8)]
        case .watchLimitReached(let first, _): return [Array(first.utf8)]
        case .overflow, .rootGone: return []
        }
    }

    /// Whether the event names `path` (as bytes) at all.
    func mentions(_ path: String) -> Bool {
        pathBytes.contains(Array(path.utf8))
    }
}

/// Whether an event is `.changed(path)` with exactly these bytes.
func changeOf(_ path: String) -> (WatchEvent) -> Bool {
    { event in
        if case .changed(let seen) = event { Array(seen.utf8) == Array(path.utf8) } else { false }
    }
}

extension Array where Element == WatchEvent {
    /// The events before the first `.changed(sentinel)`: everything a test's actions caused, once the
    /// sentinel written after them has been seen.
    func before(sentinel: String) -> [WatchEvent] {
        Array(prefix { !changeOf(sentinel)($0) })
    }
}
