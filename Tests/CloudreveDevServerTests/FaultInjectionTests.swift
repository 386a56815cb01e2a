@testable import CloudreveDevServer
import Foundation
import Transport
import XCTest

/// The `/__dev/` test controls: fault injection and counters (not part of Cloudreve).
final class FaultInjectionTests: XCTestCase {
    func testCutChunkLeavesPartialBytesAndAnswersNothing() throws {
        // 4.11: the last index completes at once, which exposes what chunk 0 left behind.
        let s = try startServer { $0.emulate = "4.11"; $0.chunkSize = 2000 }
        let content = pattern(3000)
        let sid = try s.openSession(myURI("cut.bin"), size: 3000)
        try s.setFaults(.object([("next", .array([.object([("kind", .string("cut")), ("after_bytes", .int(1000))])]))]))
        XCTAssertThrowsError(try s.chunk(sid, 0, Array(content[0..<2000]), freshConnection: true), "the connection closes without an answer")
        XCTAssertEqual(try s.stats()["chunk_bytes"]?.int64Value, 1000)
        XCTAssertEqual(try s.chunk(sid, 1, Array(content[2000...])).code, 0)
        let stored = try s.download(myURI("cut.bin"))
        XCTAssertEqual(Array(stored[0..<1000]), Array(content[0..<1000]), "received bytes were written in place")
        XCTAssertEqual(Array(stored[1000..<2000]), [UInt8](repeating: 0, count: 1000))
        XCTAssertEqual(Array(stored[2000...]), Array(content[2000...]))
    }

    func testCutAtTheEndOfTheLastChunkCompletesButAnswersNothing() throws {
        let s = try startServer { $0.chunkSize = 10 }
        let sid = try s.openSession(myURI("unknown-outcome"), size: 10)
        try s.setFaults(.object([("next", .array([.object([("kind", .string("cut")), ("after_bytes", .int(10))])]))]))
        XCTAssertThrowsError(try s.chunk(sid, 0, pattern(10), freshConnection: true))
        XCTAssertEqual(try s.info(myURI("unknown-outcome")).data?["size"]?.int64Value, 10, "the upload completed all the same")
        XCTAssertEqual(try s.chunk(sid, 0, pattern(10)).code, 40011, "and a retry finds no session")
    }

    func testMinusOneAndIOErrorFaultsAnswerTheirCodesAndStoreNothing() throws {
        let s = try startServer { $0.chunkSize = 4 }
        let sid = try s.openSession(myURI("f"), size: 8)
        try s.setFaults(.object([("next", .array([.object([("kind", .string("minus1"))]), .object([("kind", .string("io_error"))])]))]))
        let minus = try s.chunk(sid, 0, [1, 2, 3, 4])
        XCTAssertEqual(minus.code, -1)
        XCTAssertEqual(minus.msg, "")
        XCTAssertEqual(try s.chunk(sid, 1, [5, 6, 7, 8]).code, 50004)
        XCTAssertEqual(try s.stats()["chunk_bytes"]?.int64Value, 8, "bodies were drained")
        XCTAssertEqual(try s.info(myURI("f")).data?["size"]?.int64Value, 0, "nothing completed")
        XCTAssertEqual(try s.chunk(sid, 0, [1, 2, 3, 4]).code, 0, "one-shot faults are used up")
        XCTAssertEqual(try s.chunk(sid, 1, [5, 6, 7, 8]).code, 0)
        XCTAssertEqual(try s.download(myURI("f")), [1, 2, 3, 4, 5, 6, 7, 8])
    }

    func testDelayFaultDelaysTheAnswer() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("slow"), size: 1)
        try s.setFaults(.object([("next", .array([.object([("kind", .string("delay")), ("ms", .int(400))])]))]))
        let start = Date()
        XCTAssertEqual(try s.chunk(sid, 0, [1]).code, 0)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.39)
    }

    func testFaultRatesFollowTheSeed() throws {
        func run() throws -> [Int] {
            let s = try startServer { $0.chunkSize = 1 }
            let sid = try s.openSession(myURI("r"), size: 40)
            try s.setFaults(.object([("minus1_rate", .number("0.3")), ("io_error_rate", .number("0.3")), ("seed", .int(42))]))
            return try (0..<39).map { try s.chunk(sid, $0, [1]).code ?? 0 }
        }
        let first = try run()
        XCTAssertEqual(try run(), first)
        XCTAssertTrue(first.contains(-1) && first.contains(50004) && first.contains(0), "\(first)")
    }

    func testEmptyFaultsClearEverything() throws {
        let s = try startServer()
        let sid = try s.openSession(myURI("c"), size: 1)
        try s.setFaults(.object([("io_error_rate", .number("1.0"))]))
        try s.setFaults(.object([]))
        XCTAssertEqual(try s.chunk(sid, 0, [1]).code, 0)
    }

    func testStatsCountAndReset() throws {
        let s = try startServer { $0.chunkSize = 2 }
        try s.upload(myURI("a"), [1, 2, 3])
        let stats = try s.stats()
        XCTAssertEqual(stats["chunk_requests"]?.int64Value, 2)
        XCTAssertEqual(stats["chunk_bytes"]?.int64Value, 3)
        XCTAssertEqual(stats["sessions_created"]?.int64Value, 1)
        XCTAssertEqual(stats["completions"]?[myURI("a")]?.int64Value, 1)
        try s.call("POST", "/__dev/stats/reset")
        XCTAssertEqual(try s.stats()["chunk_requests"]?.int64Value, 0)
    }
}
