import XCTest
@testable import SyncEngine

/// OneDrive resume: the chunks a storage already holds, from the first byte it still expects.
final class DirectResumeTests: XCTestCase {
    func testChunksWhollyBeforeTheNextExpectedByteCountAsSent() {
        let plan = ChunkPlan(size: 1000, chunkSize: 300)   // 0-299, 300-599, 600-899, 900-999
        XCTAssertEqual(plan.acknowledged(upTo: 0), [])
        XCTAssertEqual(plan.acknowledged(upTo: 300), [0])
        XCTAssertEqual(plan.acknowledged(upTo: 450), [0], "a partly received chunk goes again")
        XCTAssertEqual(plan.acknowledged(upTo: 900), [0, 1, 2])
        XCTAssertEqual(plan.acknowledged(upTo: 1000), [0, 1, 2, 3])
    }

    func testAnEmptyFileHasNoRangeToAcknowledge() {
        XCTAssertEqual(ChunkPlan(size: 0, chunkSize: 300).acknowledged(upTo: 0), [])
    }
}
