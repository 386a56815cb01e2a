import XCTest
@testable import CloudreveDevServer

/// What the stand-in for OSS's and OBS's completion refuses before completing anything, as their
/// signatures would (Cloudreve 4.18's drivers sign these headers into the completion URL).
final class ProviderRefusalTests: XCTestCase {
    func refusal(_ type: String, _ headers: [String: String], empty: Bool = true) -> String? {
        Store.providerRefusal(type: type, header: { headers[$0] }, bodyIsEmpty: empty).map { "\($0.status) \($0.code)" }
    }

    func testOSSNeedsItsSignedHeadersAndAnEmptyBody() {
        let good = ["Content-Type": "application/octet-stream", "x-oss-forbid-overwrite": "true", "x-oss-complete-all": "yes"]
        XCTAssertNil(refusal("oss", good))
        XCTAssertEqual(refusal("oss", good, empty: false), "400 InvalidArgument")
        for name in good.keys {
            var missing = good
            missing[name] = nil
            XCTAssertEqual(refusal("oss", missing), "403 SignatureDoesNotMatch", name)
        }
        XCTAssertEqual(refusal("oss", good.merging(["Content-Type": "application/xml"]) { $1 }), "403 SignatureDoesNotMatch")
    }

    func testOBSNeedsTheSignedContentTypeAndTakesTheParts() {
        XCTAssertNil(refusal("obs", ["Content-Type": "application/octet-stream"], empty: false))
        XCTAssertEqual(refusal("obs", ["Content-Type": "application/xml"], empty: false), "403 SignatureDoesNotMatch")
        XCTAssertEqual(refusal("obs", [:], empty: false), "403 SignatureDoesNotMatch")
    }
}
