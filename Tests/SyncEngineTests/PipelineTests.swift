import Foundation
import XCTest
@testable import SyncEngine

/// The pool's fairness rule and the journal's queue, without any network.
final class PipelineTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_000_000)

    func candidate(_ path: String, root: String = "A", due: TimeInterval = -1, large: Bool = false) -> DispatchCandidate {
        DispatchCandidate(key: PathKey(root: root, path: path), due: now.addingTimeInterval(due), large: large)
    }

    func testASmallFileStartsWhileLargeFilesHoldAllButOneWorker() {
        let queue = [candidate("big5", large: true), candidate("note.txt", due: 0)]
        XCTAssertEqual(nextToStart(queue, inFlight: [], inFlightLarge: 3, workers: 4, pausedRoots: [:], now: now), 1,
                       "three large uploads of four workers: the last worker is the small files' lane")
        XCTAssertEqual(nextToStart(queue, inFlight: [], inFlightLarge: 2, workers: 4, pausedRoots: [:], now: now), 0,
                       "a large file may take a worker while one stays free")
        XCTAssertEqual(nextToStart([candidate("big", large: true)], inFlight: [], inFlightLarge: 0, workers: 1, pausedRoots: [:], now: now), 0,
                       "a single worker takes large files too")
    }

    func testOnePathIsNeverUploadedTwiceAtOnce() {
        let queue = [candidate("a.txt", due: -5), candidate("b.txt")]
        XCTAssertEqual(nextToStart(queue, inFlight: [PathKey(root: "A", path: "a.txt")], inFlightLarge: 0, workers: 4, pausedRoots: [:], now: now), 1)
        XCTAssertEqual(nextToStart(queue, inFlight: [PathKey(root: "B", path: "a.txt")], inFlightLarge: 0, workers: 4, pausedRoots: [:], now: now), 0,
                       "the same name in another root is another file")
    }

    func testNotYetDueAndBackingOffRootsWait() {
        let queue = [candidate("later", due: 5), candidate("down", root: "B"), candidate("up", root: "C", due: -0.5)]
        XCTAssertEqual(nextToStart(queue, inFlight: [], inFlightLarge: 0, workers: 2, pausedRoots: ["B": now.addingTimeInterval(20)], now: now), 2)
        XCTAssertNil(nextToStart([candidate("later", due: 5)], inFlight: [], inFlightLarge: 0, workers: 2, pausedRoots: [:], now: now))
        XCTAssertEqual(nextToStart([candidate("down", root: "B")], inFlight: [], inFlightLarge: 0, workers: 2,
                                   pausedRoots: ["B": now.addingTimeInterval(-1)], now: now), 0, "a pause that ended holds nothing back")
    }

    func testTheEarliestDueGoesFirst() {
        let queue = [candidate("b", due: -1), candidate("a", due: -3), candidate("c", due: -2)]
        XCTAssertEqual(nextToStart(queue, inFlight: [], inFlightLarge: 0, workers: 2, pausedRoots: [:], now: now), 1)
    }

    func testPathKeysCompareFoldersByBytes() {
        let folder = PathKey(root: "A", path: "docs")
        XCTAssertTrue(PathKey(root: "A", path: "docs").isAtOrUnder(folder))
        XCTAssertTrue(PathKey(root: "A", path: "docs/x/y.txt").isAtOrUnder(folder))
        XCTAssertFalse(PathKey(root: "A", path: "docs2/y.txt").isAtOrUnder(folder))
        XCTAssertFalse(PathKey(root: "B", path: "docs/y.txt").isAtOrUnder(folder))
        XCTAssertFalse(PathKey(root: "A", path: "cafe\u{301}").isAtOrUnder(PathKey(root: "A", path: "caf\u{e9}")), "NFD is not NFC")
    }

    func testTheQueueSurvivesAReopenAndFinishingNeverDropsANewerRequest() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        var first: WorkItem
        do {
            let journal = try Journal(path: path)
            first = try journal.enqueue([WorkItem(root: "R", path: "a.txt", kind: .upload, due: now),
                                         WorkItem(root: "R", path: "gone", kind: .delete, isDirectory: true, due: now)])[0]
            // The file changed again while its upload ran: a newer request replaces the row.
            try journal.enqueue([WorkItem(root: "R", path: "a.txt", kind: .upload, due: now.addingTimeInterval(2), appends: true)])
            try journal.finish([first])
        }
        let reopened = try Journal(path: path)
        let uploads = try reopened.queued(.upload, root: "R")
        XCTAssertEqual(uploads.map(\.path), ["a.txt"], "finishing the older request left the newer one")
        XCTAssertEqual(uploads.first?.appends, true)
        XCTAssertEqual(uploads.first?.due, now.addingTimeInterval(2))
        XCTAssertEqual(try reopened.queued(.delete).map(\.isDirectory), [true])
        try reopened.finish(uploads)
        try reopened.dropQueued(root: "R", under: "gone")
        XCTAssertEqual(try reopened.queued(.upload).count + reopened.queued(.delete).count, 0)
        first.seq = 0
    }

    func testTheQueueKeepsOneItemPerPathAndASmallFileVisibleBehindThousandsOfLargeOnes() {
        var queue = UploadQueue<Int>()
        for i in 0..<5000 {
            queue.put(.init(key: PathKey(root: "A", path: "big\(i)"), due: now, large: true, payload: i), now: now)
        }
        queue.put(.init(key: PathKey(root: "A", path: "note"), due: now, large: false, payload: -1), now: now)
        queue.put(.init(key: PathKey(root: "A", path: "big7"), due: now, large: true, payload: 7_000), now: now)  // saved again
        XCTAssertEqual(queue.count, 5001)
        let candidates = queue.candidates()
        XCTAssertTrue(candidates.contains { $0.key == PathKey(root: "A", path: "note") })
        XCTAssertEqual(candidates.filter { $0.key == PathKey(root: "A", path: "big7") }.count, 0, "its old slot is stale, its new one is far back")
        let pick = nextToStart(candidates, inFlight: [], inFlightLarge: 3, workers: 4, pausedRoots: [:], now: now)
        XCTAssertEqual(pick.map { candidates[$0].key }, PathKey(root: "A", path: "note"))
        XCTAssertEqual(queue.remove(PathKey(root: "A", path: "big7"))?.payload, 7_000)
        queue.put(.init(key: PathKey(root: "B", path: "later"), due: now.addingTimeInterval(5), large: false, payload: 1), now: now)
        XCTAssertFalse(queue.candidates().contains { $0.key.root == "B" })
        XCTAssertEqual(queue.promote(now: now), now.addingTimeInterval(5))
        XCTAssertNil(queue.promote(now: now.addingTimeInterval(6)))
        XCTAssertTrue(queue.candidates().contains { $0.key.root == "B" })
        queue.removeAll { $0.root == "A" }
        XCTAssertEqual(queue.count, 1)
    }
}
