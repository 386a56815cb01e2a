import XCTest
@testable import SyncEngine

final class EventAggregatorTests: XCTestCase {
    private let start = ContinuousClock.now

    private func held(_ cookie: UInt32, _ from: String, dir: Bool = false) -> EventAggregator.HeldMove {
        .init(cookie: cookie, from: Array(from.utf8), isDirectory: dir, deadline: start + EventAggregator.moveWindow)
    }

    func testEventsBehindAnUnpairedMoveWaitAndKeepTheirOrder() {
        var events = EventAggregator()
        events.append(.changed("before"))
        events.hold(held(7, "a"))
        events.append(.changed("a"))  // recreated at once after moving out
        XCTAssertEqual(events.takeReady(), [.changed("before")])
        XCTAssertEqual(events.takeReady(), [])
        XCTAssertEqual(events.nextDeadline(), start + .milliseconds(100))

        XCTAssertEqual(events.expire(at: start + .milliseconds(99)), [])
        XCTAssertEqual(events.expire(at: start + .milliseconds(100)).map(\.cookie), [7])
        XCTAssertEqual(events.takeReady(), [.removed("a", isDirectory: false), .changed("a")])
        XCTAssertNil(events.nextDeadline())
    }

    func testPairedMoveTakesTheHeldPlace() {
        var events = EventAggregator()
        events.hold(held(1, "old", dir: true))
        events.append(.changed("x"))
        XCTAssertEqual(events.heldMove(cookie: 1)?.from, Array("old".utf8))
        XCTAssertNil(events.heldMove(cookie: 2))
        events.resolve(cookie: 1, with: [.moved(from: "old", to: "new", isDirectory: true)])
        XCTAssertNil(events.heldMove(cookie: 1))
        XCTAssertEqual(events.takeReady(), [.moved(from: "old", to: "new", isDirectory: true), .changed("x")])
    }

    func testResolvingWithNothingDropsTheHold() {
        var events = EventAggregator()
        events.hold(held(1, "a"))
        events.append(.changed("b"))
        events.resolve(cookie: 1, with: [])
        XCTAssertEqual(events.takeReady(), [.changed("b")])
    }

    func testRepeatedChangesInARowAreReportedOnce() {
        var events = EventAggregator()
        for _ in 0..<50 { events.append(.changed("big.iso")) }
        events.append(.changed("other"))
        events.append(.changed("big.iso"))
        XCTAssertEqual(events.takeReady(), [.changed("big.iso"), .changed("other"), .changed("big.iso")])
    }

    func testNFCAndNFDChangesAreNotMerged() {
        var events = EventAggregator()
        events.append(.changed("caf\u{e9}"))
        events.append(.changed("cafe\u{301}"))
        let paths = events.takeReady().map { event -> [UInt8] in
            guard case .changed(let path) = event else { return [] }
            return Array(path.utf8)
        }
        XCTAssertEqual(paths, [Array("caf\u{e9}".utf8), Array("cafe\u{301}".utf8)])
    }
}
