import Foundation
import XCTest
@testable import SyncEngine

final class ChangeTrackerTests: XCTestCase {
    private let start = Date(timeIntervalSince1970: 1_700_000_000)

    private func at(_ seconds: TimeInterval) -> Date { start.addingTimeInterval(seconds) }

    func testQuietFileIsDueAfterTheQuietPeriodAndNotBefore() {
        var tracker = ChangeTracker()
        tracker.noteChange("a.txt", at: at(0))
        XCTAssertEqual(tracker.takeDue(at: at(1.999)), [])
        XCTAssertEqual(tracker.pendingCount, 1)
        XCTAssertEqual(tracker.takeDue(at: at(2)), ["a.txt"])
        XCTAssertEqual(tracker.pendingCount, 0)
        XCTAssertEqual(tracker.takeDue(at: at(10)), [], "handed out once")
    }

    func testEachChangeRestartsTheQuietPeriod() {
        var tracker = ChangeTracker()
        tracker.noteChange("a.txt", at: at(0))
        tracker.noteChange("a.txt", at: at(1.5))
        XCTAssertEqual(tracker.takeDue(at: at(3)), [])
        XCTAssertEqual(tracker.nextDeadline(), at(3.5))
        XCTAssertEqual(tracker.takeDue(at: at(3.5)), ["a.txt"])
    }

    func testFileChangedEvery100msFor30sIsHandedOutOncePerMaxDelay() {
        var tracker = ChangeTracker(quietPeriod: 2, maxDelay: 10)
        var handOuts: [TimeInterval] = []
        for step in 0...400 {  // 40 s: 30 s of appends, then quiet
            let now = Double(step) / 10
            if now < 30 { tracker.noteChange("app.log", at: at(now)) }
            if !tracker.takeDue(at: at(now)).isEmpty { handOuts.append(now) }
        }
        XCTAssertLessThanOrEqual(handOuts.count, 4, "\(handOuts)")
        XCTAssertGreaterThanOrEqual(handOuts.count, 3, "\(handOuts)")
        XCTAssertEqual(handOuts.first ?? -1, 10, accuracy: 0.01, "first window ends maxDelay after the first change")
        for (earlier, later) in zip(handOuts, handOuts.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later - earlier, 10 - 0.01, "\(handOuts)")
        }
        XCTAssertEqual(tracker.pendingCount, 0, "the last appends went out once the file fell quiet")
    }

    func testChangeNotedWithATimeBeforeTheHandOutStillWaitsAFullWindow() {
        var tracker = ChangeTracker(quietPeriod: 2, maxDelay: 10)
        for step in 0...100 { tracker.noteChange("app.log", at: at(Double(step) / 10)) }
        XCTAssertEqual(tracker.takeDue(at: at(10)), ["app.log"])
        // A watcher batch read just before the hand-out but noted just after it.
        tracker.noteChange("app.log", at: at(9.95))
        for step in 101...199 { tracker.noteChange("app.log", at: at(Double(step) / 10)) }
        XCTAssertEqual(tracker.takeDue(at: at(19.97)), [], "the window opens at the hand-out, not at 9.95")
        XCTAssertEqual(tracker.takeDue(at: at(20)), ["app.log"])
    }

    func testNextDeadlineIsTheEarliestOfQuietAndMaxDelay() {
        var tracker = ChangeTracker(quietPeriod: 2, maxDelay: 5)
        XCTAssertNil(tracker.nextDeadline())
        tracker.noteChange("b", at: at(4))
        tracker.noteChange("a", at: at(0))
        XCTAssertEqual(tracker.nextDeadline(), at(2))
        tracker.noteChange("a", at: at(1.9))
        tracker.noteChange("a", at: at(3.8))
        XCTAssertEqual(tracker.nextDeadline(), at(5), "a: maxDelay (0 + 5) comes before quiet (3.8 + 2)")
        XCTAssertEqual(tracker.takeDue(at: at(5)), ["a"])
        XCTAssertEqual(tracker.nextDeadline(), at(6))
        XCTAssertEqual(tracker.takeDue(at: at(6)), ["b"])
        XCTAssertNil(tracker.nextDeadline())
    }

    func testDueFilesComeOldestChangeFirst() {
        var tracker = ChangeTracker()
        tracker.noteChange("z", at: at(0))
        tracker.noteChange("a", at: at(0.5))
        tracker.noteChange("m", at: at(0))
        XCTAssertEqual(tracker.takeDue(at: at(3)), ["m", "z", "a"])
    }

    func testForgetDropsAPendingFile() {
        var tracker = ChangeTracker()
        tracker.noteChange("gone.txt", at: at(0))
        tracker.noteChange("kept.txt", at: at(0))
        tracker.forget("gone.txt")
        XCTAssertEqual(tracker.pendingCount, 1)
        XCTAssertEqual(tracker.takeDue(at: at(5)), ["kept.txt"])
    }

    func testNFCAndNFDSpellingsAreTrackedSeparately() {
        let nfc = "caf\u{e9}", nfd = "cafe\u{301}"
        var tracker = ChangeTracker()
        tracker.noteChange(nfc, at: at(0))
        tracker.noteChange(nfd, at: at(1))
        XCTAssertEqual(tracker.pendingCount, 2)
        tracker.forget(nfd)
        let due = tracker.takeDue(at: at(5))
        XCTAssertEqual(due.map { Array($0.utf8) }, [Array(nfc.utf8)])
    }
}
