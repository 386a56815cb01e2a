import Foundation
import XCTest
@testable import SyncEngine

final class PendingRemovalsTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func at(_ seconds: TimeInterval) -> Date { start.addingTimeInterval(seconds) }

    /// `rm -r dir` reaches the daemon as the files' deletions, then the folder's in a later batch: the
    /// folder must not be left out of the batch its files went in, or each file costs its own call.
    func testAFolderDeletedAfterItsFilesJoinsTheirBatch() {
        var removals = PendingRemovals(settle: 1, maxWait: 10)
        removals.add("gone.txt", isDirectory: false, at: at(0))
        removals.add("dir/inner1.txt", isDirectory: false, at: at(0.01))
        removals.add("dir/inner2.txt", isDirectory: false, at: at(0.01))
        XCTAssertEqual(removals.nextDeadline(), at(1.01))
        removals.add("dir", isDirectory: true, at: at(0.9))
        XCTAssertEqual(removals.takeDue(at: at(1.01)), [], "a deletion 0.9 s later restarts the settle time")
        XCTAssertEqual(removals.nextDeadline(), at(1.9))
        XCTAssertEqual(removals.takeDue(at: at(1.9)).map(\.path), ["gone.txt", "dir/inner1.txt", "dir/inner2.txt", "dir"])
        XCTAssertTrue(removals.isEmpty)
        XCTAssertNil(removals.nextDeadline())
    }

    func testSteadyDeletionsAreAppliedAfterMaxWait() {
        var removals = PendingRemovals(settle: 1, maxWait: 10)
        var applied: [(time: TimeInterval, count: Int)] = []
        for step in 0..<300 {  // one deletion every 100 ms for 30 s
            let now = Double(step) / 10
            removals.add("f\(step)", isDirectory: false, at: at(now))
            let due = removals.takeDue(at: at(now))
            if !due.isEmpty { applied.append((now, due.count)) }
        }
        XCTAssertEqual(applied.map(\.time), [10, 20.1], "held at most maxWait, never for ever")
        XCTAssertEqual(applied.first?.count, 101)
    }

    func testTakeAllEmptiesTheQueueInOrder() {
        var removals = PendingRemovals()
        removals.add("b", isDirectory: false, at: at(5))
        removals.add("a", isDirectory: true, at: at(4))
        XCTAssertEqual(removals.takeDue(at: at(5.5)), [])
        XCTAssertEqual(removals.takeAll(), [.init(path: "b", isDirectory: false), .init(path: "a", isDirectory: true)])
        XCTAssertEqual(removals.takeAll(), [])
        XCTAssertEqual(removals.takeDue(at: at(100)), [])
    }
}
