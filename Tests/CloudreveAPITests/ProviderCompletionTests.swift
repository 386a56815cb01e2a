import XCTest
@testable import CloudreveAPI

/// What each S3-family type sends (read from Cloudreve 4.18's drivers and web client), and what an OSS or
/// OBS completion answer means, without I/O.
final class ProviderCompletionTests: XCTestCase {
    func testEachPolicyTypeSendsWhatItsURLsSign() {
        let oss = S3Flavor.of("oss")
        XCTAssertEqual(oss.partContentType, "application/octet-stream")
        XCTAssertEqual(oss.completionHeaders.map { "\($0.0): \($0.1)" },
                       ["Content-Type: application/octet-stream", "x-oss-forbid-overwrite: true", "x-oss-complete-all: yes"])
        XCTAssertFalse(oss.completionListsParts, "OSS completes every part it holds from an empty body")
        XCTAssertTrue(oss.providerCallsBack)

        let obs = S3Flavor.of("obs")
        XCTAssertEqual(obs.partContentType, "application/octet-stream")
        XCTAssertEqual(obs.completionHeaders.map { "\($0.0): \($0.1)" }, ["Content-Type: application/octet-stream"])
        XCTAssertTrue(obs.completionListsParts)
        XCTAssertTrue(obs.providerCallsBack)

        for type in ["s3", "ks3", "cos"] {
            let flavor = S3Flavor.of(type)
            XCTAssertNil(flavor.partContentType, type)
            XCTAssertTrue(flavor.completionListsParts, type)
            XCTAssertFalse(flavor.providerCallsBack, "\(type): the client calls the GET callback")
        }
        XCTAssertTrue(S3Flavor.of("cos").completionHeaders.contains { $0 == ("x-cos-forbid-overwrite", "true") })
        XCTAssertFalse(S3Flavor.of("s3").completionHeaders.contains { $0.0.hasPrefix("x-") })
    }

    func testCompletionAnswers() {
        func verdict(_ status: Int, _ body: String) -> ProviderCompletion { providerCompletion(status: status, body: Array(body.utf8)) }
        // The storage relays Cloudreve's answer to its callback.
        XCTAssertEqual(verdict(200, #"{"code":0,"msg":""}"#), .done)
        XCTAssertEqual(verdict(200, "<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>"), .askFile)
        XCTAssertEqual(verdict(200, #"{"code":40011,"msg":"gone"}"#), .callbackFailed("Cloudreve's callback answered code 40011 gone"))
        // OSS's documented callback failure, and OBS's JSON form.
        XCTAssertEqual(verdict(203, "<Error><Code>CallbackFailed</Code><Message>Error status : 401.</Message></Error>"),
                       .callbackFailed("CallbackFailed: Error status : 401."))
        XCTAssertEqual(verdict(203, #"{"code":"CallbackFailed","message":"Error status : -1.","request_id":"r"}"#),
                       .callbackFailed("CallbackFailed: Error status : -1."))
        XCTAssertEqual(verdict(203, ""), .callbackFailed("HTTP 203 CallbackFailed"))
        // The storage's own errors.
        XCTAssertEqual(verdict(404, "<Error><Code>NoSuchUpload</Code></Error>"), .uploadGone)
        XCTAssertEqual(verdict(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message></Error>"),
                       .refused("HTTP 403 SignatureDoesNotMatch (m)"))
        XCTAssertEqual(verdict(400, "<Error><Code>InvalidPart</Code></Error>"), .refused("HTTP 400 InvalidPart"))
        XCTAssertEqual(verdict(200, "<Error><Code>InternalError</Code></Error>"), .retry("HTTP 200 InternalError"))
        XCTAssertEqual(verdict(503, "<Error><Code>ServiceUnavailable</Code></Error>"), .retry("HTTP 503 ServiceUnavailable"))
        XCTAssertEqual(verdict(429, ""), .retry("HTTP 429"))
    }
}
