import XCTest
@testable import Transport

final class StallSecondsTests: XCTestCase {
    /// A stalled chunk must be reported within a minute: the default threshold is 30 s, and the test hook
    /// can only shorten it, never disable or lengthen it past 60 s.
    func testDefaultIsHalfAMinuteAndTheTestHookStaysWithinAMinute() {
        XCTAssertEqual(HTTPTransport.stallSeconds(environment: [:]), 30)
        XCTAssertEqual(HTTPTransport.stallSeconds(environment: ["CRSYNC_TEST_STALL_SECONDS": "2"]), 2)
        XCTAssertEqual(HTTPTransport.stallSeconds(environment: ["CRSYNC_TEST_STALL_SECONDS": "0"]), 30)
        XCTAssertEqual(HTTPTransport.stallSeconds(environment: ["CRSYNC_TEST_STALL_SECONDS": "600"]), 30)
        XCTAssertEqual(HTTPTransport.stallSeconds(environment: ["CRSYNC_TEST_STALL_SECONDS": "soon"]), 30)
    }
}
