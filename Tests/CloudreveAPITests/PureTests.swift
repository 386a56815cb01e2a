import Foundation
import XCTest
@testable import CloudreveAPI

final class URIEncodingTests: XCTestCase {
    func testSegmentsAreEncodedLikeEncodeURIComponent() {
        let path = CloudrevePath(segments: ["a b", "100%", "#1+2", "it's (x)!~*", "é"])
        XCTAssertEqual(path.uri, "cloudreve://my/a%20b/100%25/%231%2B2/it's%20(x)!~*/%C3%A9")
    }

    func testNFCAndNFDStayDistinctBytes() {
        let nfc = CloudrevePath(segments: ["\u{E9}"]).uri
        let nfd = CloudrevePath(segments: ["e\u{301}"]).uri
        XCTAssertEqual(nfc, "cloudreve://my/%C3%A9")
        XCTAssertEqual(nfd, "cloudreve://my/e%CC%81")
    }

    func testQueryValueEncodesTheEncodedURIAgain() {
        XCTAssertEqual(encodeQueryValue("cloudreve://my/a%20b?meta_x="), "cloudreve%3A%2F%2Fmy%2Fa%2520b%3Fmeta_x%3D")
    }

    func testParsingWhatAPersonTypes() throws {
        XCTAssertEqual(try CloudrevePath(parsing: "cloudreve://my/My Docs/x/").segments, ["My Docs", "x"])
        XCTAssertEqual(try CloudrevePath(parsing: "cloudreve://my").segments, [])
        XCTAssertThrowsError(try CloudrevePath(parsing: "/home/me"))
        XCTAssertThrowsError(try CloudrevePath(parsing: "cloudreve://my/a?b"))
        XCTAssertThrowsError(try CloudrevePath(parsing: "cloudreve://my/../x"))
        XCTAssertThrowsError(try CloudrevePath(parsing: "cloudreve://myfiles"))
    }
}

final class ServerVersionTests: XCTestCase {
    func testParsesReleaseAndProStrings() {
        XCTAssertEqual(ServerVersion("4.18.0"), ServerVersion(major: 4, minor: 18, patch: 0))
        XCTAssertEqual(ServerVersion("4.11.2-pro")?.isPro, true)
        XCTAssertEqual(ServerVersion("v4.0.0")?.minor, 0)
        XCTAssertNil(ServerVersion("banana"))
    }

    func testBehaviourThresholds() {
        XCTAssertTrue(ServerVersion.v(0).chunkZeroTruncates)
        XCTAssertFalse(ServerVersion.v(7).chunkZeroTruncates)
        XCTAssertTrue(ServerVersion.v(10).requiresPolicyID)
        XCTAssertFalse(ServerVersion.v(11).requiresPolicyID)
        XCTAssertTrue(ServerVersion.v(17).completesOnLastIndex)
        XCTAssertFalse(ServerVersion.v(18).completesOnLastIndex)
        XCTAssertTrue(ServerVersion.v(11).supportsPrevious)
        XCTAssertFalse(ServerVersion.v(10).supportsPrevious)
    }
}

final class CredentialsTests: XCTestCase {
    func credentials(lifetime: TimeInterval, received: Date) -> Credentials {
        Credentials(server: "s", email: "e", accessToken: "a", refreshToken: "r",
                    accessExpires: received.addingTimeInterval(lifetime), refreshExpires: received.addingTimeInterval(86400),
                    receivedAt: received)
    }

    func testRefreshesWithTenMinutesLeftOnAnHourToken() {
        let t0 = Date(timeIntervalSince1970: 0)
        let c = credentials(lifetime: 3600, received: t0)
        XCTAssertFalse(c.needsRefresh(now: t0.addingTimeInterval(2900), expectedDuration: 0))
        XCTAssertTrue(c.needsRefresh(now: t0.addingTimeInterval(3001), expectedDuration: 0))
    }

    func testRefreshesBeforeAChunkThatWouldOutlastTheToken() {
        let t0 = Date(timeIntervalSince1970: 0)
        let c = credentials(lifetime: 3600, received: t0)
        XCTAssertFalse(c.needsRefresh(now: t0.addingTimeInterval(1900), expectedDuration: 1000))
        XCTAssertTrue(c.needsRefresh(now: t0.addingTimeInterval(2100), expectedDuration: 1000))
    }

    func testShortLivedTokensRefreshAtHalfLife() {
        let t0 = Date(timeIntervalSince1970: 0)
        let c = credentials(lifetime: 2, received: t0)
        XCTAssertFalse(c.needsRefresh(now: t0.addingTimeInterval(0.5), expectedDuration: 0))
        XCTAssertTrue(c.needsRefresh(now: t0.addingTimeInterval(1.1), expectedDuration: 0))
    }

    func testCredentialFileIsWrittenWithMode0600() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crsync-cred-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = CredentialFile(path: dir + "/credentials.json")
        try file.save(credentials(lifetime: 60, received: Date()))
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        XCTAssertEqual(try file.load()?.refreshToken, "r")
    }
}

final class ErrorClassificationTests: XCTestCase {
    func testRetryableAndPermanentCodes() {
        for code in [-1, 409, 50004] {
            XCTAssertTrue(CloudreveError.api(code: code, message: "", path: "/x").isRetryable, "\(code)")
        }
        for code in [40049, 40051, 40052, 40082] {
            let error = CloudreveError.api(code: code, message: "", path: "/x")
            XCTAssertFalse(error.isRetryable, "\(code)")
            XCTAssertTrue(error.isPermanentForFile, "\(code)")
        }
        XCTAssertTrue(CloudreveError.http(status: 502, path: "/x", snippet: "<html>").isRetryable)
    }

    func testNonJSONAnswerNamesTheHTTPStatus() {
        XCTAssertTrue(CloudreveError.http(status: 413, path: "/file/upload/x/0", snippet: "").description.contains("413"))
    }
}

final class SessionIDDisplayTests: XCTestCase {
    func testUploadPathsShowTheShortSessionID() {
        XCTAssertEqual(shortenedSessionPath("/file/upload/2031f8a8-d0e6-4748-bedd-06cf8b3327cd/0"), "/file/upload/2031f8a8…/0")
        XCTAssertEqual(shortenedSessionPath("/file/upload"), "/file/upload")
        XCTAssertEqual(shortenedSessionPath("/file/list"), "/file/list")
    }
}

/// Which failed calls are sent again when the server could not be reached.
final class AskAgainTests: XCTestCase {
    func testARefusedConnectionIsAskedAgainWhateverTheMethod() {
        for method in ["GET", "PUT", "POST", "DELETE"] {
            XCTAssertTrue(asksAgain(method: method, path: "/file/upload", curlCode: 7, attempt: 1), method)
        }
    }

    func testACallThatMayHaveReachedTheServerIsRepeatedOnlyIfItIsARead() {
        for code in [52, 55, 56] {
            XCTAssertTrue(asksAgain(method: "GET", path: "/file/info", curlCode: code, attempt: 1))
            XCTAssertFalse(asksAgain(method: "POST", path: "/file/upload/abc/0", curlCode: code, attempt: 1), "\(code)")
        }
        XCTAssertFalse(asksAgain(method: "GET", path: "/file/info", curlCode: 6 /* name not resolved */, attempt: 1))
    }

    func testTheFirstContactAndTheFifthAttemptFailAtOnce() {
        XCTAssertFalse(asksAgain(method: "GET", path: "/site/ping", curlCode: 7, attempt: 1))
        XCTAssertTrue(asksAgain(method: "PUT", path: "/file/upload", curlCode: 7, attempt: 4))
        XCTAssertFalse(asksAgain(method: "PUT", path: "/file/upload", curlCode: 7, attempt: 5))
    }
}
