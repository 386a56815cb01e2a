import XCTest
@testable import SyncEngine

final class WatcherTableTests: XCTestCase {
    private func b(_ path: String) -> [UInt8] { Array(path.utf8) }

    private func table(_ entries: [(Int32, String)]) -> WatcherTable {
        var table = WatcherTable()
        for (watch, path) in entries { table.insert(watch, at: b(path)) }
        return table
    }

    func testMovingADirectoryRekeysEverythingBelowItButNotItsNamesakes() {
        var watches = table([(1, ""), (2, "a"), (3, "a/x"), (4, "a/x/y"), (5, "ab"), (6, "b")])
        watches.markUnwatched(b("a/x/deep"))
        watches.moveSubtree(from: b("a"), to: b("b/moved"))

        XCTAssertEqual(watches.path(of: 2), b("b/moved"))
        XCTAssertEqual(watches.path(of: 4), b("b/moved/x/y"))
        XCTAssertEqual(watches.watch(at: b("b/moved/x")), 3)
        XCTAssertNil(watches.watch(at: b("a")))
        XCTAssertEqual(watches.path(of: 5), b("ab"), "“ab” is not inside “a”")
        XCTAssertEqual(watches.unwatched, [b("b/moved/x/deep")])
        XCTAssertEqual(watches.count, 6)
    }

    func testRemovingASubtreeReturnsItsWatches() {
        var watches = table([(1, ""), (2, "a"), (3, "a/x"), (5, "ab")])
        watches.markUnwatched(b("a/x/deep"))
        XCTAssertEqual(Set(watches.removeSubtree(b("a"))), [2, 3])
        XCTAssertEqual(watches.count, 2)
        XCTAssertEqual(watches.unwatched, [])
        XCTAssertEqual(Set(watches.watches(within: [])), [1, 5])
    }

    func testAKnownWatchSeenUnderANewPathReplacesItsOldEntry() {
        var watches = table([(1, ""), (2, "old")])
        watches.insert(2, at: b("new"))
        XCTAssertNil(watches.watch(at: b("old")))
        XCTAssertEqual(watches.path(of: 2), b("new"))
        XCTAssertEqual(watches.count, 2)
    }

    func testNFCAndNFDDirectoriesAreTwoEntries() {
        let watches = table([(1, "caf\u{e9}"), (2, "cafe\u{301}")])
        XCTAssertEqual(watches.count, 2)
        XCTAssertEqual(watches.watch(at: b("cafe\u{301}")), 2)
    }

    func testIgnoredWatchIsForgottenOnlyIfStillCurrent() {
        var watches = table([(1, ""), (2, "d")])
        watches.moveSubtree(from: b("d"), to: b("e"))
        watches.insert(3, at: b("d"))  // a new directory where the old one was
        watches.remove(2)
        XCTAssertEqual(watches.watch(at: b("d")), 3)
        XCTAssertNil(watches.watch(at: b("e")))
    }
}
