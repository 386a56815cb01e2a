import CloudreveAPI
import Foundation
import XCTest

/// Issue 11: what a pass costs the server, counted per route by the dev server. A new small file is two
/// requests (session, chunk); the file's id and entity come from one listing per folder afterwards; a
/// pass with nothing to do asks only the version and searches for stale uploads; a last chunk that was
/// not acknowledged on its first try is still confirmed with `GET /file/info` (reference §4).
final class RequestCountTests: XCTestCase {
    static let chunkRoute = "POST file/upload/{id}/{index}"

    func resetStats(_ scenario: Scenario) throws {
        _ = try scenario.server.devPost("/__dev/stats/reset", [:])
    }

    func testHundredNewSmallFilesCostTwoRequestsEachAndANoChangePassOnlyTheVersionCheckAndTheSearch() throws {
        for version in Scenario.releases {
            let scenario = try Scenario(emulate: version)
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/notes"
            for i in 0..<100 { try writeFile(local + "/note-\(i).txt", Array("note \(i) of 100\n".utf8)) }

            try resetStats(scenario)
            let first = try scenario.sync(local, "cloudreve://my/notes", ["--workers", "8"])
            XCTAssertEqual(first.status, 0, "\(version): \(first.stderr)")
            var requests = try scenario.server.stats().requests  // before our own checks add theirs
            XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/notes"), [], version)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [], version)
            XCTAssertEqual(requests["PUT file/upload"], 100, "\(version): \(requests)")
            XCTAssertEqual(requests[RequestCountTests.chunkRoute], 100, "\(version): \(requests)")
            XCTAssertNil(requests["GET file/info"], "\(version): \(requests)")
            // Listings: the root's, for its storage policy and for files a lost journal may have uploaded
            // (twice: missing, created, listed), and the folder's after its uploads, for ids and entities:
            // bounded, whatever the file count.
            XCTAssertLessThanOrEqual(requests["GET file"] ?? 0, 3, "\(version): \(requests)")
            XCTAssertLessThanOrEqual(requests["POST file/create"] ?? 0, 1, "the remote root, once: \(version): \(requests)")
            let expected: Set = ["GET site/ping", "GET file", "GET file?search", "POST file/create", "PUT file/upload", RequestCountTests.chunkRoute]
            XCTAssertEqual(Set(requests.keys).subtracting(expected), [], "\(version): \(requests)")

            // Nothing changed: the version check and the one search for stale uploads, nothing else.
            try resetStats(scenario)
            let again = try scenario.sync(local, "cloudreve://my/notes")
            XCTAssertEqual(again.status, 0, "\(version): \(again.stderr)")
            requests = try scenario.server.stats().requests
            XCTAssertEqual(requests, ["GET site/ping": 1, "GET file?search": 1], version)

            // The listing after the first pass learned the entity: the next version needs no GET /file/info
            // to send `previous` (4.11+) or to compare with (before 4.11), and it is no conflict.
            try writeFile(local + "/note-7.txt", Array("note 7, edited\n".utf8))
            try resetStats(scenario)
            let edit = try scenario.sync(local, "cloudreve://my/notes")
            XCTAssertEqual(edit.status, 0, "\(version): \(edit.stderr)")
            requests = try scenario.server.stats().requests
            XCTAssertEqual(requests["PUT file/upload"], 1, "\(version): \(requests)")
            XCTAssertEqual(requests[RequestCountTests.chunkRoute], 1, "\(version): \(requests)")
            // (The stale-upload search may meet this upload's placeholder and look at it: "?extended".)
            // Before 4.11 the server cannot check `previous`, so crsync compares the entity itself: one info.
            XCTAssertEqual(requests["GET file/info"], version == "4.0" ? 1 : nil, "\(version): \(requests)")
            XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/notes").count, 100, "no conflict copy: \(version)")
            XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/notes"), [], version)
        }
    }

    func testALastChunkAcknowledgedOnlyOnItsRetryIsConfirmedWithFileInfo() throws {
        for version in Scenario.releases {
            let scenario = try Scenario(emulate: version)
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            let body = Array("retried once\n".utf8)
            try writeFile(local + "/a.txt", body)

            // Answered -1 the first time, 0 on the retry: that 0 alone does not prove completion.
            _ = try scenario.server.devPost("/__dev/faults", ["next": [["kind": "minus1"]]])
            try resetStats(scenario)
            var result = try scenario.sync(local, "cloudreve://my/tree")
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            var requests = try scenario.server.stats().requests
            XCTAssertEqual(requests[RequestCountTests.chunkRoute], 2, "\(version): \(requests)")
            XCTAssertEqual(requests["GET file/info"], 1, "\(version): \(requests)")

            // The reply lost after the server completed the file: the retry is refused (session gone),
            // and the file is asked for, not uploaded again.
            try writeFile(local + "/b.txt", body)
            _ = try scenario.server.devPost("/__dev/faults", ["next": [["kind": "cut", "after_bytes": body.count]]])
            try resetStats(scenario)
            result = try scenario.sync(local, "cloudreve://my/tree")
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            let stats = try scenario.server.stats()
            requests = stats.requests
            XCTAssertGreaterThanOrEqual(requests["GET file/info"] ?? 0, 1, "\(version): \(requests)")
            XCTAssertEqual(requests["PUT file/upload"], 1, "uploaded once: \(version): \(requests)")
            XCTAssertEqual(stats.completions.values.filter { $0 != 1 }.count, 0, "\(version): \(stats.completions)")
            XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/tree"), [], version)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [], version)
        }
    }
}
