@testable import CloudreveDevServer
import XCTest

/// Creating and cancelling upload sessions, placeholders and locks (reference §4 "PUT /file/upload",
/// "DELETE /file/upload", §6).
final class UploadSessionTests: XCTestCase {
    func testPlaceholderIsVisibleAtOnceWithSessionMetadata() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("new dir", "p.txt"), size: 100)
        let info = try s.info(myURI("new dir", "p.txt"))
        XCTAssertEqual(info.code, 0, info.text)
        XCTAssertEqual(info.data?["size"]?.int64Value, 0)
        XCTAssertEqual(info.data?["metadata"]?["sys:upload_session_id"]?.stringValue, sid)
        let listing = try s.list(myURI("new dir"))
        XCTAssertEqual(listing.data?["files"]?.arrayValue?.count, 1, "missing parent folders were created")
    }

    func testPolicyIDRequiredUpTo4_10() throws {
        let s = try startServer { $0.emulate = "4.10" }
        let base: [(String, JSON)] = [("uri", .string(myURI("a"))), ("size", .int(1))]
        XCTAssertEqual(try s.call("PUT", "/api/v4/file/upload", json: .object(base)).code, 40001, "missing policy_id")
        let other = HashIDs(secret: [9]).encode(1, .policy)
        XCTAssertEqual(try s.call("PUT", "/api/v4/file/upload", json: .object(base + [("policy_id", .string(other))])).code,
                       40001, "not this installation's policy")
        let ok = try s.call("PUT", "/api/v4/file/upload", json: .object(base + [("policy_id", .string(try s.policyID()))]))
        XCTAssertEqual(ok.code, 0, ok.text)
    }

    func testPolicyIDOptionalFrom4_11() throws {
        let s = try startServer { $0.emulate = "4.11" }
        XCTAssertEqual(try s.call("PUT", "/api/v4/file/upload",
                                  json: .object([("uri", .string(myURI("a"))), ("size", .int(1))])).code, 0)
    }

    func testSecondSessionWithoutEntityTypeGets40004() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("dup"), size: 1)
        XCTAssertEqual(try s.createSession(myURI("dup"), size: 1).code, 40004, "the placeholder exists")
    }

    func testSecondVersionSessionGets40073WithLockToken() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("dir", "dup"), size: 1)
        let second = try s.createSession(myURI("dir", "dup"), size: 1, fields: [("entity_type", .string("version"))])
        XCTAssertEqual(second.code, 40073)
        let detail = try XCTUnwrap(second.data?.arrayValue?.first)
        XCTAssertEqual(detail["path"]?.stringValue, myURI("dir", "dup"))
        XCTAssertEqual(detail["owner"]?["application"]?["type"]?.stringValue, "upload")
        XCTAssertEqual(detail["type"]?.int64Value, 0)
        XCTAssertNotNil(detail["token"]?.stringValue)
    }

    func testSiblingsUploadConcurrently() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("d", "a"), size: 1)
        XCTAssertEqual(try s.createSession(myURI("d", "b"), size: 1).code, 0)
    }

    func testExistingFolderTargetGets40004() throws {
        let s = try startServer()
        XCTAssertEqual(try s.mkdir(myURI("folder")).code, 0)
        XCTAssertEqual(try s.createSession(myURI("folder"), size: 1, fields: [("entity_type", .string("version"))]).code, 40004)
    }

    func testExistingFileWithoutEntityTypeGets40004() throws {
        let s = try startServer()
        try s.upload(myURI("f"), [1])
        XCTAssertEqual(try s.createSession(myURI("f"), size: 1).code, 40004)
        XCTAssertEqual(try s.createSession(myURI("f"), size: 1, fields: [("entity_type", .string("version"))]).code, 0)
    }

    func testPreviousMismatchGets40076From4_11() throws {
        let s = try startServer()
        try s.upload(myURI("f"), [1])
        let current = try XCTUnwrap(try s.info(myURI("f")).data?["primary_entity"]?.stringValue)
        try s.upload(myURI("f"), [2], fields: [("entity_type", .string("version")), ("previous", .string(current))])
        let stale = try s.createSession(myURI("f"), size: 1, fields: [("entity_type", .string("version")), ("previous", .string(current))])
        XCTAssertEqual(stale.code, 40076)
    }

    func testPreviousIsIgnoredBefore4_11() throws {
        let s = try startServer { $0.emulate = "4.10" }
        try s.upload(myURI("f"), [1])
        let stale = try s.createSession(myURI("f"), size: 1, fields: [("entity_type", .string("version")),
                                                                     ("previous", .string("nonsense"))])
        XCTAssertEqual(stale.code, 0, stale.text)
    }

    func testBadNameGets40052From4_4() throws {
        let s = try startServer()
        for name in ["a:b", "q?", "star*", "pipe|", "lt<", "dq\""] {
            let answer = try s.createSession("cloudreve://my/" + GoURL.pathEscape(Array(name.utf8)), size: 1)
            XCTAssertEqual(answer.code, 40052, name)
        }
        XCTAssertEqual(try s.createSession(myURI(String(repeating: "n", count: 256)), size: 1).code, 40052, "over 255 bytes")
        XCTAssertEqual(try s.createSession(myURI(String(repeating: "n", count: 255)), size: 1).code, 0)
    }

    func testBadNameGetsMinusOneWithEmptyMessageBefore4_4() throws {
        let s = try startServer { $0.emulate = "4.3" }
        let answer = try s.createSession(myURI("a:b"), size: 1)
        XCTAssertEqual(answer.code, -1)
        XCTAssertEqual(answer.msg, "")
    }

    func testDeniedExtensionGets40052() throws {
        let s = try startServer { $0.denyExtensions = ["exe", "BAT"] }
        XCTAssertEqual(try s.createSession(myURI("setup.EXE"), size: 1).code, 40052)
        XCTAssertEqual(try s.createSession(myURI("run.bat"), size: 1).code, 40052)
        XCTAssertEqual(try s.createSession(myURI("notes.txt"), size: 1).code, 0)
    }

    func testMaxSizeGets40049() throws {
        let s = try startServer { $0.maxSize = 100 }
        XCTAssertEqual(try s.createSession(myURI("big"), size: 101).code, 40049)
        XCTAssertEqual(try s.createSession(myURI("ok"), size: 100).code, 0)
    }

    func testQuotaCountsPlaceholdersAndEveryVersion() throws {
        let s = try startServer { $0.quota = 100 }
        try s.upload(myURI("a"), pattern(40))
        _ = try s.openSession(myURI("b"), size: 50)
        let capacity = try s.call("GET", "/api/v4/user/capacity")
        XCTAssertEqual(capacity.data?["used"]?.int64Value, 90, "the open placeholder's declared size counts")
        XCTAssertEqual(capacity.data?["total"]?.int64Value, 100)
        XCTAssertEqual(try s.createSession(myURI("c"), size: 11).code, 40051)
        XCTAssertEqual(try s.createSession(myURI("c"), size: 10).code, 0)
    }

    func testChecksRunInTheDocumentedOrder() throws {
        // Lock (40073) before name (40052) before size (40049) before quota (40051).
        let s = try startServer { $0.maxSize = 10; $0.quota = 5 }
        XCTAssertEqual(try s.createSession(myURI("bad:name"), size: 100).code, 40052)
        XCTAssertEqual(try s.createSession(myURI("fine"), size: 100).code, 40049)
        XCTAssertEqual(try s.createSession(myURI("fine"), size: 6).code, 40051)
        XCTAssertEqual(try s.createSession(myURI("fine"), size: 1).code, 0)
        let locked = try s.createSession(myURI("fine"), size: 100, fields: [("entity_type", .string("version"))])
        XCTAssertEqual(locked.code, 40073)
    }

    func testAnonymousSessionCreateGets401() throws {
        let s = try startServer(signIn: false)
        XCTAssertEqual(try s.createSession(myURI("a"), size: 1).code, 401)
    }

    func testCancelDeletesNewFilePlaceholderAndReleasesQuotaAndLock() throws {
        let s = try startServer()
        let uri = myURI("c.txt")
        let sid = try s.openSession(uri, size: 1000)
        XCTAssertEqual(try s.cancel(sid, uri).code, 0)
        XCTAssertEqual(try s.info(uri).code, 40016)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").data?["used"]?.int64Value, 0)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(1000)).code, 40011)
        XCTAssertEqual(try s.cancel(sid, uri).code, 40016, "a second cancel finds nothing")
        XCTAssertEqual(try s.createSession(uri, size: 1).code, 0, "name and lock are free again")
        XCTAssertEqual(try s.stats()["sessions_cancelled"]?.int64Value, 1)
    }

    func testCancelOfNewVersionKeepsTheOldVersion() throws {
        let s = try startServer()
        let uri = myURI("keep")
        try s.upload(uri, [1, 2, 3])
        let sid = try s.openSession(uri, size: 10, fields: [("entity_type", .string("version"))])
        XCTAssertEqual(try s.cancel(sid, uri).code, 0)
        let info = try s.info(uri, extended: true)
        XCTAssertEqual(info.data?["size"]?.int64Value, 3)
        XCTAssertNil(info.data?["metadata"]?["sys:upload_session_id"])
        XCTAssertEqual(info.data?["extended_info"]?["entities"]?.arrayValue?.count, 1)
        XCTAssertEqual(try s.download(uri), [1, 2, 3])
    }

    func testCancelWithSessionOfAnotherFileGets404() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("one"), size: 1)
        _ = try s.openSession(myURI("two"), size: 1)
        XCTAssertEqual(try s.cancel(sid, myURI("two")).code, 404)
    }

    func testRestartLosesSessionsKeepsFiles() throws {
        let s = try startServer { $0.chunkSize = 10 }
        try s.upload(myURI("done.bin"), pattern(25))
        let sid = try s.openSession(myURI("open.bin"), size: 20)
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 0)
        try s.restart()
        XCTAssertEqual(try s.chunk(sid, 1, pattern(10)).code, 40011, "sessions live in memory only")
        let placeholder = try s.info(myURI("open.bin"))
        XCTAssertEqual(placeholder.data?["metadata"]?["sys:upload_session_id"]?.stringValue, sid, "the placeholder row survives")
        XCTAssertEqual(try s.download(myURI("done.bin")), pattern(25))
        XCTAssertEqual(try s.createSession(myURI("open.bin"), size: 1, fields: [("entity_type", .string("version"))]).code, 0,
                       "the lock is gone too")
    }

    func testCancelAfterRestartDeletesPlaceholder() throws {
        let s = try startServer()
        let uri = myURI("orphan")
        let sid = try s.openSession(uri, size: 500)
        try s.restart()
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").data?["used"]?.int64Value, 500, "orphans keep their quota")
        XCTAssertEqual(try s.cancel(sid, uri).code, 0)
        XCTAssertEqual(try s.info(uri).code, 40016)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").data?["used"]?.int64Value, 0)
    }

    func testPlaceholderSearchIsRecursive() throws {
        let s = try startServer()
        let a = try s.openSession(myURI("root", "a"), size: 1)
        let b = try s.openSession(myURI("root", "sub", "deeper", "b"), size: 1)
        _ = try s.openSession(myURI("elsewhere", "c"), size: 1)
        try s.upload(myURI("root", "sub", "done"), [1])
        let found = try s.list(myURI("root") + "?meta_sys:upload_session_id=")
        XCTAssertEqual(found.code, 0, found.text)
        let sessions = Set(found.data?["files"]?.arrayValue?.compactMap { $0["metadata"]?["sys:upload_session_id"]?.stringValue } ?? [])
        XCTAssertEqual(sessions, [a, b])
    }

    func testStaleVersionPlaceholderIsDroppedByTheNextSession() throws {
        let s = try startServer { $0.quota = 2000 }
        let uri = myURI("stale")
        try s.upload(uri, [1])
        _ = try s.openSession(uri, size: 600, fields: [("entity_type", .string("version"))])
        try s.restart()
        // RemoveStaleEntities: the orphaned 600 bytes go when a new version session starts.
        XCTAssertEqual(try s.createSession(uri, size: 600, fields: [("entity_type", .string("version"))]).code, 0)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").data?["used"]?.int64Value, 601)
    }
}
