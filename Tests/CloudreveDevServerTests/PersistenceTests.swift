@testable import CloudreveDevServer
import Foundation
import XCTest

/// What survives a restart (reference §4 "Server-side state", §6 "Server restart").
final class PersistenceTests: XCTestCase {
    func testFilesIDsMetadataAndTrashSurviveARestart() throws {
        let s = try startServer()
        try s.upload(myURI("keep", "a.txt"), pattern(33),
                     fields: [("metadata", .object([("dav:h", .string("v"))])), ("last_modified", .int(1_600_000_000_000))])
        try s.upload(myURI("bin"), [1])
        XCTAssertEqual(try s.delete([myURI("bin")]).code, 0)
        let before = try s.info(myURI("keep", "a.txt"))
        try s.restart()
        let after = try s.info(myURI("keep", "a.txt"))
        XCTAssertEqual(after.json, before.json)
        XCTAssertEqual(try s.download(myURI("keep", "a.txt")), pattern(33))
        XCTAssertEqual(try s.list("cloudreve://trash").data?["files"]?.arrayValue?.count, 1)
    }

    func testJournalKeepsEveryAnsweredChangeWithoutAGracefulStop() throws {
        let s = try startServer()
        try s.upload(myURI("crash", "x"), [4, 5, 6])
        XCTAssertEqual(try s.mkdir(myURI("crash", "folder")).code, 0)
        // Copy the data directory while the server still runs: what a kill -9 would leave behind.
        let copy = s.dataDir + "-copy"
        try FileManager.default.copyItem(atPath: s.dataDir, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let revived = try TestServer({ $0.dataDir = copy })
        defer { revived.stop() }
        try revived.signIn()
        XCTAssertEqual(try revived.download(myURI("crash", "x")), [4, 5, 6])
        XCTAssertEqual(try revived.info(myURI("crash", "folder")).data?["type"]?.int64Value, 1)
    }

    func testManyFilesPersistQuickly() throws {
        let s = try startServer()
        let start = Date()
        for i in 0..<300 { XCTAssertEqual(try s.mkdir(myURI("many", "d\(i)")).code, 0) }
        try s.restart()
        XCTAssertEqual(try s.list(myURI("many"), extra: "&page_size=1000").data?["files"]?.arrayValue?.count, 300)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }
}
