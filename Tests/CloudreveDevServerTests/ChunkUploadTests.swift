@testable import CloudreveDevServer
import Foundation
import Transport
import XCTest

/// Chunk uploads and completion per release (reference §4 "POST /file/upload/{session_id}/{index}", §8b).
final class ChunkUploadTests: XCTestCase {
    func testSessionResponseHasTheDocumentedFields() throws {
        let s = try startServer()
        let answer = try s.createSession(myURI("a.txt"), size: 5)
        XCTAssertEqual(answer.code, 0, answer.text)
        let data = try XCTUnwrap(answer.data?.objectValue)
        XCTAssertEqual(data.map(\.0), ["session_id", "upload_id", "chunk_size", "expires", "storage_policy", "uri", "callback_secret"])
        XCTAssertEqual(answer.data?["upload_id"], .string(""))
        XCTAssertEqual(answer.data?["chunk_size"]?.int64Value, 25 << 20)
        XCTAssertEqual(answer.data?["uri"]?.stringValue, myURI("a.txt"))
        XCTAssertEqual(answer.data?["storage_policy"]?["type"]?.stringValue, "local")
        let expires = try XCTUnwrap(answer.data?["expires"]?.int64Value)
        XCTAssertEqual(Double(expires), Date().timeIntervalSince1970 + 86400, accuracy: 5, "unix seconds, now + session TTL")
    }

    func testLastChunkCompletesImmediatelyWithHolesOn4_0() throws {
        let s = try startServer { $0.emulate = "4.0"; $0.chunkSize = 10 }
        let uri = myURI("holes.bin")
        let sid = try s.openSession(uri, size: 25)
        XCTAssertEqual(try s.chunk(sid, 2, pattern(5)).code, 0)
        let info = try s.info(uri)
        XCTAssertEqual(info.data?["size"]?.int64Value, 25, "the last index completed the file at once")
        XCTAssertNil(info.data?["metadata"]?["sys:upload_session_id"])
        XCTAssertEqual(try s.download(uri), [UInt8](repeating: 0, count: 20) + pattern(5))
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 40011, "the session is gone after completion")
    }

    func testLastChunkCompletesImmediatelyUpTo4_17() throws {
        let s = try startServer { $0.emulate = "4.17"; $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("x"), size: 15)
        XCTAssertEqual(try s.chunk(sid, 1, pattern(5)).code, 0)
        XCTAssertEqual(try s.info(myURI("x")).data?["size"]?.int64Value, 15)
    }

    func testCompletionWaitsForAllChunksOn4_18() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let uri = myURI("ordered.bin")
        let content = pattern(25)
        let sid = try s.openSession(uri, size: 25)
        XCTAssertEqual(try s.chunk(sid, 2, Array(content[20...])).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, Array(content[0..<10])).code, 0)
        var info = try s.info(uri)
        XCTAssertEqual(info.data?["size"]?.int64Value, 0, "still a placeholder while chunk 1 is missing")
        XCTAssertEqual(info.data?["metadata"]?["sys:upload_session_id"]?.stringValue, sid)
        XCTAssertEqual(try s.chunk(sid, 1, Array(content[10..<20])).code, 0)
        info = try s.info(uri)
        XCTAssertEqual(info.data?["size"]?.int64Value, 25)
        XCTAssertEqual(try s.download(uri), content)
        XCTAssertEqual(try s.chunk(sid, 0, Array(content[0..<10])).code, 40011, "re-sending after completion")
    }

    func testRetriedChunkDoesNotCompleteTwiceOn4_18() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("r"), size: 20)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0, "re-sending an index is an overwrite")
        XCTAssertEqual(try s.info(myURI("r")).data?["size"]?.int64Value, 0)
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10, seed: 2)).code, 0)
        XCTAssertEqual(try s.stats()["completions"]?[myURI("r")]?.int64Value, 1)
    }

    func testChunkZeroTruncatesBeforeFourSeven() throws {
        let s = try startServer { $0.emulate = "4.6"; $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("t"), size: 30)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0)
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10)).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0, "chunk 0 again truncates the blob to 10 bytes")
        XCTAssertEqual(try s.chunk(sid, 2, pattern(10)).code, 50004, "the blob is now shorter than chunk 2's offset")
    }

    func testChunksMayArriveInAnyOrderFrom4_7() throws {
        let s = try startServer { $0.emulate = "4.11"; $0.chunkSize = 10 }
        let content = pattern(30)
        let sid = try s.openSession(myURI("o"), size: 30)
        XCTAssertEqual(try s.chunk(sid, 1, Array(content[10..<20])).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, Array(content[0..<10])).code, 0, "no truncation from 4.7 on")
        XCTAssertEqual(try s.chunk(sid, 2, Array(content[20...])).code, 0)
        XCTAssertEqual(try s.download(myURI("o")), content)
    }

    func testWrongContentLengthGets40013() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("w"), size: 15)
        let wrong = try s.chunk(sid, 0, pattern(7))
        XCTAssertEqual(wrong.code, 40013)
        XCTAssertEqual(wrong.msg, "Invalid Content-Length (expected: 10)")
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10)).msg, "Invalid Content-Length (expected: 5)", "the last chunk is the remainder")
    }

    func testIndexOutOfRangeGets40012() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("i"), size: 20)
        XCTAssertEqual(try s.chunk(sid, 2, []).code, 40012)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/upload/\(sid)/-1", body: []).code, 40001)
    }

    func testEmptyFileTakesOneZeroByteChunkAtIndexZero() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("empty"), size: 0)
        let placeholder = try s.info(myURI("empty"))
        XCTAssertEqual(placeholder.data?["metadata"]?["sys:upload_session_id"]?.stringValue, sid)
        XCTAssertEqual(try s.chunk(sid, 0, []).code, 0)
        let info = try s.info(myURI("empty"))
        XCTAssertNil(info.data?["metadata"]?["sys:upload_session_id"])
        XCTAssertEqual(info.data?["size"]?.int64Value, 0)
        XCTAssertNotEqual(info.data?["primary_entity"], placeholder.data?["primary_entity"], "a real version now")
    }

    func testUnknownSessionGets40011() throws {
        let s = try startServer()
        XCTAssertEqual(try s.chunk("00000000-0000-0000-0000-000000000000", 0, []).code, 40011)
    }

    func testExpiredAccessTokenOnChunkGets40011() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("e"), size: 10)
        try s.advanceClock(seconds: 3601)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 40011, "an expired token is anonymous, not the owner")
        XCTAssertEqual(try s.info(myURI("e")).code, 401, "the same token on a file route")
        try s.signIn()
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0, "the session itself was alive all along")
    }

    func testChunkWithoutTokenGets40011() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("n"), size: 1)
        XCTAssertEqual(try s.chunk(sid, 0, [1], token: .some(nil)).code, 40011)
    }

    func testExpiredSessionGets40011() throws {
        let s = try startServer { $0.sessionTTL = 60; $0.accessTTL = 7200 }
        let sid = try s.openSession(myURI("s"), size: 1)
        try s.advanceClock(seconds: 61)
        XCTAssertEqual(try s.chunk(sid, 0, [1]).code, 40011)
    }

    func testChunkToDeletedPlaceholderGets40016() throws {
        let s = try startServer()
        let uri = myURI("gone")
        let sid = try s.openSession(uri, size: 1)
        let conflict = try s.delete([uri], permanent: true)
        XCTAssertEqual(conflict.code, 40073)
        let token = try XCTUnwrap(conflict.data?.arrayValue?.first?["token"]?.stringValue)
        XCTAssertEqual(try s.call("DELETE", "/api/v4/file/lock", json: .object([("tokens", .array([.string(token)]))])).code, 0)
        XCTAssertEqual(try s.delete([uri], permanent: true).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, [1]).code, 40016)
    }

    func testLostLockFailsEveryChunkWith40073From4_11() throws {
        let s = try startServer { $0.emulate = "4.11"; $0.chunkSize = 10 }
        let uri = myURI("lk")
        let sid = try s.openSession(uri, size: 20)
        let token = try lockToken(s, uri)
        XCTAssertEqual(try s.call("DELETE", "/api/v4/file/lock", json: .object([("tokens", .array([.string(token)]))])).code, 0)
        let chunk = try s.chunk(sid, 0, pattern(10))
        XCTAssertEqual(chunk.code, 40073)
        XCTAssertEqual(chunk.msg, "Lock expired")
    }

    func testLostLockFailsOnlyCompletionUpTo4_10() throws {
        let s = try startServer { $0.emulate = "4.10"; $0.chunkSize = 10 }
        let uri = myURI("lk")
        let sid = try s.openSession(uri, size: 20)
        let token = try lockToken(s, uri)
        XCTAssertEqual(try s.call("DELETE", "/api/v4/file/lock", json: .object([("tokens", .array([.string(token)]))])).code, 0)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0)
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10)).code, 40073, "completion confirms the lock")
    }

    func testNewVersionKeepsOldContentVisibleThenReplacesIt() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let uri = myURI("v.txt")
        try s.upload(uri, pattern(12))
        let before = try s.info(uri)
        let sid = try s.openSession(uri, size: 4, fields: [("entity_type", .string("version"))])
        let during = try s.info(uri)
        XCTAssertEqual(during.data?["size"]?.int64Value, 12, "the old size stays visible")
        XCTAssertEqual(during.data?["primary_entity"], before.data?["primary_entity"])
        XCTAssertEqual(during.data?["metadata"]?["sys:upload_session_id"]?.stringValue, sid)
        XCTAssertEqual(try s.download(uri), pattern(12))
        XCTAssertEqual(try s.chunk(sid, 0, [9, 8, 7, 6]).code, 0)
        let after = try s.info(uri, extended: true)
        XCTAssertEqual(after.data?["size"]?.int64Value, 4)
        XCTAssertEqual(after.data?["id"], before.data?["id"], "same file, new version")
        XCTAssertNotEqual(after.data?["primary_entity"], before.data?["primary_entity"])
        XCTAssertEqual(after.data?["extended_info"]?["entities"]?.arrayValue?.count, 1, "version retention keeps one")
        XCTAssertEqual(try s.download(uri), [9, 8, 7, 6])
    }

    func testUpdatedAtIsLastModifiedFrom4_4() throws {
        let s = try startServer()
        try s.upload(myURI("m"), [1, 2], fields: [("last_modified", .int(1_700_000_000_123))])
        XCTAssertEqual(try s.info(myURI("m")).data?["updated_at"]?.stringValue, "2023-11-14T22:13:20.123Z")
    }

    func testUpdatedAtIsCompletionTimeBefore4_4() throws {
        let s = try startServer { $0.emulate = "4.0" }
        try s.upload(myURI("m"), [1, 2], fields: [("last_modified", .int(1_700_000_000_123))])
        let updated = try XCTUnwrap(try s.info(myURI("m")).data?["updated_at"]?.stringValue)
        XCTAssertFalse(updated.hasPrefix("2023-"), updated)
    }

    func testSessionMetadataIsAppliedOnCompletion() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("d"), size: 1,
                                    fields: [("metadata", .object([("dav:x-sync-sha256", .string("abc"))]))])
        XCTAssertNil(try s.info(myURI("d")).data?["metadata"]?["dav:x-sync-sha256"], "written only at completion")
        XCTAssertEqual(try s.chunk(sid, 0, [1]).code, 0)
        XCTAssertEqual(try s.info(myURI("d")).data?["metadata"]?["dav:x-sync-sha256"]?.stringValue, "abc")
    }

    func testParallelChunksAssembleTheFileOn4_18() throws {
        let s = try startServer { $0.chunkSize = 64 << 10 }
        let content = pattern(8 * (64 << 10) + 123)
        let uri = myURI("parallel.bin")
        let sid = try s.openSession(uri, size: Int64(content.count))
        let base = s.base
        let token = s.accessToken
        let failures = NSCountedSet()
        DispatchQueue.concurrentPerform(iterations: 9) { i in
            let http = HTTPTransportBox()
            let part = Array(content[(i * (64 << 10))..<min(content.count, (i + 1) * (64 << 10))])
            let code = http.post("\(base)/api/v4/file/upload/\(sid)/\(i)", part, token: token)
            if code != 0 { failures.add(code) }
        }
        XCTAssertEqual(failures.count, 0)
        XCTAssertEqual(try s.download(uri), content)
    }

    func testChunkedBodyUsesXExpectedEntityLength() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("x"), size: 10)
        let answer = try RawHTTP.exchange(port: s.server.port, RawHTTP.chunkedPost(
            path: "/api/v4/file/upload/\(sid)/0",
            headers: [("Authorization", "Bearer \(s.accessToken!)"), ("X-Expected-Entity-Length", "10")],
            chunks: [Array(pattern(10)[0..<4]), Array(pattern(10)[4...])]))
        XCTAssertTrue(answer.hasSuffix("{\"code\":0,\"msg\":\"\"}"), answer)
        XCTAssertEqual(try s.download(myURI("x")), pattern(10))
    }

    func testBodyEndingEarlyGets50004AndKeepsTheBytesReceived() throws {
        let s = try startServer { $0.emulate = "4.11"; $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("short"), size: 20)
        let answer = try RawHTTP.exchange(port: s.server.port, RawHTTP.chunkedPost(
            path: "/api/v4/file/upload/\(sid)/0",
            headers: [("Authorization", "Bearer \(s.accessToken!)"), ("X-Expected-Entity-Length", "10")],
            chunks: [Array("hello".utf8)]))
        XCTAssertTrue(answer.contains("\"code\":50004"), answer)
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10)).code, 0, "4.11: the last index completes")
        XCTAssertEqual(try s.download(myURI("short")), Array("hello".utf8) + [0, 0, 0, 0, 0] + pattern(10))
    }

    private func lockToken(_ s: TestServer, _ uri: String) throws -> String {
        let conflict = try s.createSession(uri, size: 1, fields: [("entity_type", .string("version"))])
        XCTAssertEqual(conflict.code, 40073, conflict.text)
        return try XCTUnwrap(conflict.data?.arrayValue?.first?["token"]?.stringValue)
    }
}

/// A transport per thread, for parallel chunk requests.
struct HTTPTransportBox {
    let http = HTTPTransport()
    func post(_ url: String, _ body: [UInt8], token: String?) -> Int {
        let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
        guard let response = try? http.perform(HTTPRequest(method: "POST", url: url, headers: headers, body: .bytes(body))),
              let json = try? JSON.parse(response.body), let code = json["code"]?.int64Value else { return -999 }
        return Int(code)
    }
}
