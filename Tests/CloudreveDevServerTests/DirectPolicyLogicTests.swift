@testable import CloudreveDevServer
import XCTest

/// The dev server's slave-node signature and OneDrive range parsing, without I/O.
final class DirectPolicyLogicTests: XCTestCase {
    func testContentRangeIsParsedStrictly() {
        XCTAssertEqual(parseContentRange("bytes 0-99/1000")?.end, 99)
        XCTAssertEqual(parseContentRange("bytes 900-999/1000")?.total, 1000)
        XCTAssertNil(parseContentRange("bytes 10-5/1000"), "end before start")
        XCTAssertNil(parseContentRange("bytes */1000"))
        XCTAssertNil(parseContentRange("0-99/1000"))
    }

    func testTheCredentialSignsThePathAndTheExpiry() {
        let credential = NodeSignature.credential(path: "/api/v4/slave/upload/s", expires: 100, secret: "k")
        XCTAssertTrue(credential.hasPrefix("Bearer Cr ") && credential.hasSuffix(":100"))
        XCTAssertEqual(credential, NodeSignature.credential(path: "/api/v4/slave/upload/s", expires: 100, secret: "k"))
        XCTAssertNotEqual(credential, NodeSignature.credential(path: "/api/v4/slave/upload/t", expires: 100, secret: "k"))
        XCTAssertNotEqual(credential, NodeSignature.credential(path: "/api/v4/slave/upload/s", expires: 101, secret: "k"))
        XCTAssertNotEqual(credential, NodeSignature.credential(path: "/api/v4/slave/upload/s", expires: 100, secret: "j"))
    }
}
