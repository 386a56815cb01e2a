@testable import CloudreveDevServer
import XCTest

/// `GET /file` and `GET /file/info` (reference §3).
final class ListingTests: XCTestCase {
    func testListingPaginatesWithCursorFoldersFirst() throws {
        let s = try startServer()
        for name in ["d3", "d1", "d2"] { XCTAssertEqual(try s.mkdir(myURI("top", name)).code, 0) }
        for name in ["f5", "f1", "f4", "f2", "f3"] { try s.upload(myURI("top", name), [1]) }
        var names: [String] = []
        var token: String? = nil
        var pages = 0
        repeat {
            let extra = "&page_size=3" + (token.map { "&next_page_token=\(queryEscape($0))" } ?? "")
            let page = try s.list(myURI("top"), extra: extra)
            XCTAssertEqual(page.code, 0, page.text)
            XCTAssertEqual(page.data?["pagination"]?["page_size"]?.int64Value, 3)
            names += page.data?["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            token = page.data?["pagination"]?["next_token"]?.stringValue
            pages += 1
        } while token != nil && pages < 10
        XCTAssertEqual(names, ["d1", "d2", "d3", "f1", "f2", "f3", "f4", "f5"])
        XCTAssertEqual(pages, 3)
    }

    func testPageSizeDefaultsTo100AndIsCappedAt2000() throws {
        let s = try startServer()
        XCTAssertEqual(try s.list("cloudreve://my").data?["pagination"]?["page_size"]?.int64Value, 100)
        XCTAssertEqual(try s.list("cloudreve://my", extra: "&page_size=5000").data?["pagination"]?["page_size"]?.int64Value, 2000)
    }

    func testListingHasParentAndStoragePolicy() throws {
        let s = try startServer()
        XCTAssertEqual(try s.mkdir(myURI("p")).code, 0)
        let answer = try s.list(myURI("p"))
        XCTAssertEqual(answer.data?["parent"]?["name"]?.stringValue, "p")
        XCTAssertEqual(answer.data?["parent"]?["type"]?.int64Value, 1)
        let policy = try XCTUnwrap(answer.data?["storage_policy"])
        XCTAssertEqual(policy["type"]?.stringValue, "local")
        XCTAssertEqual(policy["max_size"]?.int64Value, 0)
        XCTAssertNil(policy["chunk_concurrency"], "a default Cloudreve policy sends none")
        XCTAssertNotNil(policy["id"]?.stringValue)
    }

    func testChunkConcurrencyIsReportedFrom4_7Only() throws {
        let old = try startServer { $0.emulate = "4.6" }
        XCTAssertNil(try old.list("cloudreve://my").data?["storage_policy"]?["chunk_concurrency"])
        let new = try startServer { $0.emulate = "4.7"; $0.chunkConcurrency = 3 }
        XCTAssertEqual(try new.list("cloudreve://my").data?["storage_policy"]?["chunk_concurrency"]?.int64Value, 3)
    }

    func testMissingFolderGets40016() throws {
        let s = try startServer()
        XCTAssertEqual(try s.list(myURI("nope")).code, 40016)
    }

    func testInfoOfRootIs403AndOfMissingPathIs40016() throws {
        let s = try startServer()
        XCTAssertEqual(try s.info("cloudreve://my").code, 403)
        XCTAssertEqual(try s.info(myURI("missing")).code, 40016)
        XCTAssertEqual(try s.call("GET", "/api/v4/file/info").code, 40001)
    }

    func testInfoByStableIDAndExtendedEntities() throws {
        let s = try startServer()
        try s.upload(myURI("a", "f.txt"), pattern(7))
        let info = try s.info(myURI("a", "f.txt"), extended: true)
        let id = try XCTUnwrap(info.data?["id"]?.stringValue)
        XCTAssertEqual(info.data?["path"]?.stringValue, myURI("a", "f.txt"))
        XCTAssertEqual(info.data?["owned"], .bool(true))
        let entities = try XCTUnwrap(info.data?["extended_info"]?["entities"]?.arrayValue)
        XCTAssertEqual(entities.first?["id"], info.data?["primary_entity"])
        XCTAssertEqual(entities.first?["size"]?.int64Value, 7)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/rename",
                                  json: .object([("uri", .string(myURI("a", "f.txt"))), ("new_name", .string("g.txt"))])).code, 0)
        let byID = try s.call("GET", "/api/v4/file/info?id=\(id)")
        XCTAssertEqual(byID.data?["path"]?.stringValue, myURI("a", "g.txt"), "the id survives a rename")
        XCTAssertNil(byID.data?["extended_info"])
    }

    func testTrashListsDeletedItemsAndRestoreBringsThemBack() throws {
        let s = try startServer()
        try s.upload(myURI("dir", "gone.txt"), [1, 2])
        XCTAssertEqual(try s.delete([myURI("dir", "gone.txt")]).code, 0)
        XCTAssertEqual(try s.info(myURI("dir", "gone.txt")).code, 40016)
        let trash = try s.list("cloudreve://trash")
        let item = try XCTUnwrap(trash.data?["files"]?.arrayValue?.first)
        XCTAssertEqual(item["name"]?.stringValue, "gone.txt")
        XCTAssertEqual(item["metadata"]?["sys:restore_uri"]?.stringValue, myURI("dir", "gone.txt"))
        let trashURI = try XCTUnwrap(item["path"]?.stringValue)
        XCTAssertTrue(trashURI.hasPrefix("cloudreve://trash/"), trashURI)
        XCTAssertEqual(try s.call("POST", "/api/v4/file/restore", json: .object([("uris", .array([.string(trashURI)]))])).code, 0)
        let restored = try s.info(myURI("dir", "gone.txt"))
        XCTAssertEqual(restored.code, 0)
        XCTAssertNil(restored.data?["metadata"]?["sys:restore_uri"])
        XCTAssertEqual(try s.download(myURI("dir", "gone.txt")), [1, 2])
        XCTAssertEqual(try s.list("cloudreve://trash").data?["files"]?.arrayValue?.count, 0)
    }

    func testSearchByNameIsRecursive() throws {
        let s = try startServer()
        try s.upload(myURI("x", "report-1.txt"), [1])
        try s.upload(myURI("x", "y", "report-2.txt"), [1])
        try s.upload(myURI("x", "other.txt"), [1])
        let found = try s.list(myURI("x") + "?name=report")
        XCTAssertEqual(found.data?["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["report-1.txt", "report-2.txt"])
    }

    func testOrderBySizeDescending() throws {
        let s = try startServer()
        try s.upload(myURI("o", "small"), [1])
        try s.upload(myURI("o", "large"), pattern(30))
        try s.upload(myURI("o", "mid"), pattern(10))
        let answer = try s.list(myURI("o"), extra: "&order_by=size&order_direction=desc")
        XCTAssertEqual(answer.data?["files"]?.arrayValue?.compactMap { $0["name"]?.stringValue }, ["large", "mid", "small"])
    }
}
