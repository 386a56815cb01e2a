import Foundation
import XCTest
@testable import CloudreveAPI

/// Where a session's chunks go, read from the session JSON as the server sent it (§5, §8c).
final class ChunkRouteTests: XCTestCase {
    func route(_ json: String) -> ChunkRoute { ChunkRoute(sessionJSON: Array(json.utf8)) }

    func testLocalAndRelayGoToTheServer() {
        XCTAssertEqual(route(#"{"session_id":"s","chunk_size":5,"expires":1,"storage_policy":{"id":"p","type":"local"}}"#), .server)
        XCTAssertEqual(route(#"{"session_id":"s","storage_policy":{"id":"p","type":"s3","relay":true}}"#), .server)
        XCTAssertEqual(route(#"{"session_id":"s"}"#), .server, "no policy: as local")
    }

    func testRemoteCarriesItsURLAndCredentialVerbatim() {
        let json = #"{"session_id":"s","upload_urls":["http://node:1/api/v4/slave/upload/s"],"credential":"Bearer Cr abc:99","#
            + #""storage_policy":{"id":"p","type":"remote"}}"#
        XCTAssertEqual(route(json), .remote(url: "http://node:1/api/v4/slave/upload/s", credential: "Bearer Cr abc:99"))
        XCTAssertTrue(route(json).allowsParallelChunks)
        XCTAssertEqual(route(#"{"session_id":"s","upload_urls":["u"],"storage_policy":{"id":"p","type":"remote"}}"#),
                       .unsupported(type: "remote"), "no credential: cannot be sent")
    }

    func testOneDriveTakesItsRangesInOrder() {
        let json = #"{"session_id":"s","upload_urls":["https://graph/up"],"callback_secret":"k","storage_policy":{"id":"p","type":"onedrive"}}"#
        XCTAssertEqual(route(json), .oneDrive(url: "https://graph/up", sessionID: "s", callbackSecret: "k"))
        XCTAssertFalse(route(json).allowsParallelChunks)
    }

    func testOtherPoliciesAreNamedAsUnsupported() {
        XCTAssertEqual(route(#"{"session_id":"s","upload_urls":["u"],"storage_policy":{"id":"p","type":"qiniu"}}"#), .unsupported(type: "qiniu"))
        XCTAssertEqual(route(#"{"session_id":"s","upload_urls":["u"],"storage_policy":{"id":"p","type":"upyun"}}"#), .unsupported(type: "upyun"))
        XCTAssertEqual(route("not json"), .unsupported(type: "unreadable session"))
    }

    func testNextExpectedRangesGiveTheFirstMissingByte() {
        XCTAssertEqual(nextExpectedOffset(["12345-"]), 12345)
        XCTAssertEqual(nextExpectedOffset(["300-", "100-199"]), 100)
        XCTAssertNil(nextExpectedOffset([]))
        XCTAssertNil(nextExpectedOffset(["garbage"]))
    }

    func testUploadURLsAreShortenedInMessages() {
        XCTAssertEqual(nodeURLForMessages("http://n:1/api/v4/slave/upload/0123456789abcdef"), "http://n:1/api/v4/slave/upload/01234567…")
        XCTAssertEqual(nodeURLForMessages("https://x.sharepoint.com/_api/v2.0/uploadSession?guid=1&tempauth=SECRET"),
                       "https://x.sharepoint.com/_api/v2.0/uploadSe…", "a Graph URL's query holds its credential")
    }
}
