@testable import CloudreveDevServer
import XCTest

/// Create, rename, move, delete, names and URIs (reference §3, §6).
final class FileOperationTests: XCTestCase {
    func testCreateMakesParentsAndReturnsTheExistingObject() throws {
        let s = try startServer()
        let first = try s.mkdir(myURI("a", "b", "c"))
        XCTAssertEqual(first.code, 0)
        XCTAssertEqual(try s.info(myURI("a", "b")).data?["type"]?.int64Value, 1)
        let again = try s.mkdir(myURI("a", "b", "c"))
        XCTAssertEqual(again.data?["id"], first.data?["id"])
        let strict = try s.call("POST", "/api/v4/file/create", json: .object([
            ("uri", .string(myURI("a", "b", "c"))), ("type", .string("folder")), ("err_on_conflict", .bool(true)),
        ]))
        XCTAssertEqual(strict.code, 40004)
    }

    func testCreateWithADifferentTypeGets40004() throws {
        let s = try startServer()
        XCTAssertEqual(try s.mkdir(myURI("thing")).code, 0)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/create",
                                  json: .object([("uri", .string(myURI("thing"))), ("type", .string("file"))])).code, 40004)
    }

    func testCreateEmptyFileIsDownloadable() throws {
        let s = try startServer()
        let answer = try s.call("POST", "/api/v4/file/create", json: .object([("uri", .string(myURI("e.txt"))), ("type", .string("file"))]))
        XCTAssertEqual(answer.code, 0, answer.text)
        XCTAssertEqual(try s.download(myURI("e.txt")), [])
    }

    func testRenameKeepsIDAndRefusesAnExistingName() throws {
        let s = try startServer()
        try s.upload(myURI("r", "one"), [1])
        try s.upload(myURI("r", "two"), [2])
        let renamed = try s.call("POST", "/api/v4/file/rename",
                                 json: .object([("uri", .string(myURI("r", "one"))), ("new_name", .string("three"))]))
        XCTAssertEqual(renamed.data?["name"]?.stringValue, "three")
        XCTAssertEqual(try s.call("POST", "/api/v4/file/rename",
                                  json: .object([("uri", .string(myURI("r", "three"))), ("new_name", .string("two"))])).code, 40004)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/rename",
                                  json: .object([("uri", .string(myURI("r", "three"))), ("new_name", .string("a/b"))])).code, 40052)
        XCTAssertEqual(try s.stats()["renames"]?.int64Value, 1)
    }

    func testMoveNeedsAnExistingDestinationFolder() throws {
        let s = try startServer()
        try s.upload(myURI("src", "f"), [1])
        let body: (String) -> JSON = { dst in .object([("uris", .array([.string(myURI("src", "f"))])), ("dst", .string(dst))]) }
        XCTAssertEqual(try s.call("POST", "/api/v4/file/move", json: body(myURI("dst"))).code, 40016)
        XCTAssertEqual(try s.mkdir(myURI("dst")).code, 0)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/move", json: body(myURI("dst"))).code, 0)
        XCTAssertEqual(try s.download(myURI("dst", "f")), [1])
        XCTAssertEqual(try s.info(myURI("src", "f")).code, 40016)
        XCTAssertEqual(try s.stats()["moves"]?.int64Value, 1)
    }

    func testMoveOntoAnExistingNameGets40004() throws {
        let s = try startServer()
        try s.upload(myURI("a", "f"), [1])
        try s.upload(myURI("b", "f"), [2])
        XCTAssertEqual(try s.call("POST", "/api/v4/file/move", json: .object([
            ("uris", .array([.string(myURI("a", "f"))])), ("dst", .string(myURI("b"))),
        ])).code, 40004)
    }

    func testDeleteGoesToTrashUnlessSkipSoftDelete() throws {
        let s = try startServer()
        try s.upload(myURI("soft"), pattern(10))
        try s.upload(myURI("hard"), pattern(20))
        XCTAssertEqual(try s.delete([myURI("soft")]).code, 0)
        XCTAssertEqual(try s.delete([myURI("hard")], permanent: true).code, 0)
        XCTAssertEqual(try s.list("cloudreve://trash").data?["files"]?.arrayValue?.count, 1)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").data?["used"]?.int64Value, 10, "trash still counts")
        XCTAssertEqual(try s.stats()["deletes"]?.int64Value, 2)
    }

    func testDeletingAMissingFileIsABatchFailure() throws {
        let s = try startServer()
        let answer = try s.delete([myURI("nope")])
        XCTAssertEqual(answer.code, 40081)
        XCTAssertEqual(answer.json?["aggregated_error"]?[myURI("nope")]?["code"]?.int64Value, 40016)
    }

    func testBatchOver3000Gets40074() throws {
        let s = try startServer()
        let uris = (0...3000).map { myURI("f\($0)") }
        XCTAssertEqual(try s.delete(uris).code, 40074)
    }

    func testAncestorsOfAnUploadingFileCannotBeRenamedMovedOrDeleted() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("top", "mid", "up.bin"), size: 10)
        XCTAssertEqual(try s.mkdir(myURI("elsewhere")).code, 0)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/rename",
                                  json: .object([("uri", .string(myURI("top"))), ("new_name", .string("t2"))])).code, 40073)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/move", json: .object([
            ("uris", .array([.string(myURI("top", "mid"))])), ("dst", .string(myURI("elsewhere"))),
        ])).code, 40073)
        let deleted = try s.delete([myURI("top")])
        XCTAssertEqual(deleted.code, 40073)
        XCTAssertEqual(deleted.data?.arrayValue?.first?["path"]?.stringValue, myURI("top", "mid", "up.bin"))
        XCTAssertEqual(try s.call("POST", "/api/v4/file/rename",
                                  json: .object([("uri", .string(myURI("top", "mid", "up.bin"))), ("new_name", .string("x"))])).code, 40073)
        try s.upload(myURI("top", "sibling"), [1])
        XCTAssertEqual(try s.delete([myURI("top", "sibling")]).code, 0, "siblings are not locked")
    }

    func testForceUnlockWithTheTokenFrom40073() throws {
        let s = try startServer()
        _ = try s.openSession(myURI("lk"), size: 1)
        let conflict = try s.delete([myURI("lk")])
        let token = try XCTUnwrap(conflict.data?.arrayValue?.first?["token"]?.stringValue)
        XCTAssertEqual(try s.call("DELETE", "/api/v4/file/lock", json: .object([("tokens", .array([.string("bogus")]))])).code, 40001)
        XCTAssertEqual(try s.call("DELETE", "/api/v4/file/lock", json: .object([("tokens", .array([.string(token)]))])).code, 0)
        XCTAssertEqual(try s.delete([myURI("lk")]).code, 0)
    }

    func testNFCAndNFDNamesAreDistinct() throws {
        let s = try startServer()
        let nfc = "caf\u{E9}.txt"
        let nfd = "cafe\u{301}.txt"
        XCTAssertEqual(nfc, nfd, "Swift's String == treats them alike, which is the trap")
        try s.upload(myURI(nfc), [1])
        try s.upload(myURI(nfd), [2, 2])
        XCTAssertEqual(try s.download(myURI(nfc)), [1])
        XCTAssertEqual(try s.download(myURI(nfd)), [2, 2])
        let names = try s.list("cloudreve://my").data?["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        XCTAssertEqual(Set(names.map { Array($0.utf8) }), [Array(nfc.utf8), Array(nfd.utf8)])
        XCTAssertEqual(try s.createSession(myURI(nfd), size: 1).code, 40004)
    }

    func testPlusInAPathIsALiteralPlus() throws {
        let s = try startServer()
        try s.upload("cloudreve://my/a+b", [1])
        XCTAssertEqual(try s.info("cloudreve://my/a%2Bb").data?["name"]?.stringValue, "a+b", "%2B is the same plus")
        XCTAssertEqual(try s.info("cloudreve://my/a b").code, 40016)
    }

    func testQueryStringURIsAreDecodedTwiceLikeGo() throws {
        let s = try startServer()
        try s.upload("cloudreve://my/a+b", [1])
        try s.upload("cloudreve://my/a b", [2])
        // `+` in the query value is a space at the first (query) decoding.
        XCTAssertEqual(try s.call("GET", "/api/v4/file/info?uri=cloudreve://my/a+b").data?["name"]?.stringValue, "a b")
        XCTAssertEqual(try s.call("GET", "/api/v4/file/info?uri=cloudreve://my/a%2Bb").data?["name"]?.stringValue, "a+b")
        XCTAssertEqual(try s.call("GET", "/api/v4/file/info?uri=cloudreve%3A%2F%2Fmy%2Fa%252Bb").data?["name"]?.stringValue, "a+b")
        XCTAssertEqual(try s.call("GET", "/api/v4/file/info?uri=cloudreve://my/a%ZZ").code, 40001, "a bad escape is dropped")
    }

    func testEncodedSlashSplitsThePathLikeGo() throws {
        let s = try startServer()
        try s.upload("cloudreve://my/x%2Fy", [1])
        XCTAssertEqual(try s.info(myURI("x", "y")).code, 0, "Go decodes the path before splitting it")
    }

    func testRawQuestionMarkTruncatesThePathAndEncodedOneIsIllegal() throws {
        let s = try startServer()
        try s.upload("cloudreve://my/what?ignored=1", [1])
        XCTAssertEqual(try s.info(myURI("what")).code, 0, "a raw ? starts the URI's own query")
        XCTAssertEqual(try s.createSession("cloudreve://my/what%3F", size: 1).code, 40052, "? is not allowed in names")
    }
}
