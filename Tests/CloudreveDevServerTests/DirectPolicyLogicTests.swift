@testable import CloudreveDevServer
import XCTest

/// The dev server's slave-node signature and OneDrive range parsing, without I/O.
final class DirectPolicyLogicTests: XCTestCase {
    /// A fault drawn for a node's chunk or a OneDrive range cuts the body where the plan says and shapes
    /// the answer as on a local chunk: late, or lost once the request was processed.
    func testDrawnFaultCutsTheBodyAndShapesTheAnswer() {
        var plan = FaultPlan()
        plan.next = [.cut(afterBytes: 10), .delay(milliseconds: 250)]
        let cut = DrawnFault(&plan, declaredLength: 16)
        let bytes = [UInt8](repeating: 1, count: 8)
        bytes.withUnsafeBytes { raw in
            let first = cut.admit(raw, received: 0)
            XCTAssertEqual(first.usable.count, 8)
            XCTAssertFalse(first.cutNow)
            let second = cut.admit(raw, received: 8)
            XCTAssertEqual(second.usable.count, 2, "only the bytes before the cut arrive")
            XCTAssertTrue(second.cutNow)
        }
        XCTAssertTrue(cut.shape(.ok()).dropConnection)

        let late = DrawnFault(&plan, declaredLength: 16)
        XCTAssertNil(late.fault)
        XCTAssertEqual(late.shape(.ok()).delayMilliseconds, 250)
        XCTAssertFalse(late.shape(.ok()).dropConnection)
        let none = DrawnFault(&plan, declaredLength: 16)
        XCTAssertEqual(none.shape(.ok()).delayMilliseconds, 0, "one-shot faults are used up")
    }

    /// S3 lists keys XML-escaped: the callback's check must compare the key as text (a file named
    /// `semi;colon&amp.txt` is listed `semi;colon&amp;amp.txt`).
    func testListedS3KeysAreUnescaped() {
        XCTAssertEqual(S3Storage.xmlUnescaped("odd/semi;colon&amp;amp.txt"), "odd/semi;colon&amp.txt")
        XCTAssertEqual(S3Storage.xmlUnescaped("a&lt;b&gt;c&quot;d&apos;e&#39;f"), "a<b>c\"d'e'f")
    }

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
