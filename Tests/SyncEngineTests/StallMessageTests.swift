import XCTest
@testable import SyncEngine

final class StallMessageTests: XCTestCase {
    func testNamesFileServerShortSessionAndChunkCountingFromOne() {
        XCTAssertEqual(stallMessage(path: "docs/a b.bin", server: "https://cloud.example", sessionID: "2031f8a8-d0e6-4748-bedd-06cf8b3327cd",
                                    chunk: 0, chunks: 3, seconds: 30),
                       "upload of docs/a b.bin to https://cloud.example stalled: no progress for 30 s (session 2031f8a8…, chunk 1 of 3)")
    }

    func testGiveUpIsBoundedByDefault() {
        // At most maxStalls × 30 s of silence per file in a pass.
        let options = SyncOptions()
        XCTAssertLessThanOrEqual(options.maxStalls * 30, 120)
        XCTAssertLessThan(options.maxStalls, options.maxChunkAttempts)
    }
}
