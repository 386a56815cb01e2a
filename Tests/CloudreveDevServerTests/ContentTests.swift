@testable import CloudreveDevServer
import Foundation
import XCTest

/// `PUT /file/content`, download links and capacity (reference §3 "POST /file/url", §4 "PUT /file/content").
final class ContentTests: XCTestCase {
    private func put(_ s: TestServer, _ uri: String, _ bytes: [UInt8], previous: String? = nil) throws -> TestServer.Answer {
        try s.call("PUT", "/api/v4/file/content?uri=\(queryEscape(uri))" + (previous.map { "&previous=\($0)" } ?? ""), body: bytes)
    }

    func testPutContentCreatesThenAddsANewVersion() throws {
        let s = try startServer()
        let uri = myURI("notes", "n.txt")
        let created = try put(s, uri, Array("hello world".utf8))
        XCTAssertEqual(created.code, 0, created.text)
        XCTAssertEqual(created.data?["size"]?.int64Value, 11)
        let replaced = try put(s, uri, Array("bye".utf8))
        XCTAssertEqual(replaced.data?["id"], created.data?["id"])
        XCTAssertNotEqual(replaced.data?["primary_entity"], created.data?["primary_entity"])
        XCTAssertEqual(replaced.data?["updated_at"], created.data?["updated_at"], "no last_modified: updated_at stays (4.4+)")
        XCTAssertEqual(try s.download(uri), Array("bye".utf8))
        XCTAssertEqual(try s.stats()["content_puts"]?.int64Value, 2)
        XCTAssertEqual(try s.stats()["completions"]?[uri]?.int64Value, 2)
    }

    func testPutContentWithStalePreviousGets40076() throws {
        let s = try startServer()
        let first = try put(s, myURI("p"), [1])
        let entity = try XCTUnwrap(first.data?["primary_entity"]?.stringValue)
        XCTAssertEqual(try put(s, myURI("p"), [2], previous: entity).code, 0)
        XCTAssertEqual(try put(s, myURI("p"), [3], previous: entity).code, 40076)
        XCTAssertEqual(try s.download(myURI("p")), [2])
    }

    func testPutContentWhileAnUploadHoldsTheLockGets40073() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("busy"), size: 3)
        XCTAssertEqual(try put(s, myURI("busy"), [1]).code, 40073)
    }

    func testPutContentOver50MiBGets40049() throws {
        let s = try startServer()
        let answer = try put(s, myURI("huge"), [UInt8](repeating: 7, count: 50 * 1024 * 1024 + 1))
        XCTAssertEqual(answer.code, 40049)
        XCTAssertEqual(try s.info(myURI("huge")).code, 40016)
    }

    func testDownloadLinkServesTheBytesWithoutAuthorization() throws {
        let s = try startServer { $0.chunkSize = 1 << 20 }
        let content = pattern(3 * (1 << 20) + 17)
        try s.upload(myURI("big.bin"), content)
        let links = try s.call("POST", "/api/v4/file/url", json: .object([("uris", .array([.string(myURI("big.bin"))])),
                                                                           ("download", .bool(true))]))
        let url = try XCTUnwrap(links.data?["urls"]?.arrayValue?.first?["url"]?.stringValue)
        XCTAssertTrue(url.hasPrefix(s.base + "/api/v4/file/content/"), url)
        XCTAssertNotNil(links.data?["expires"]?.stringValue)
        s.accessToken = nil
        let response = try s.call("GET", url)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, content)
        let tampered = try s.call("GET", url.replacingOccurrences(of: "sign=", with: "sign=x"))
        XCTAssertEqual(tampered.code, 40020)
    }

    func testDownloadLinkForAFolderIsABatchFailure() throws {
        let s = try startServer()
        XCTAssertEqual(try s.mkdir(myURI("dir")).code, 0)
        let answer = try s.call("POST", "/api/v4/file/url", json: .object([("uris", .array([.string(myURI("dir"))]))]))
        XCTAssertEqual(answer.code, 40081)
    }

    func testCapacityNeedsSignIn() throws {
        let s = try startServer(signIn: false)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").code, 401)
    }
}

