import CloudreveAPI
import Foundation
import XCTest

/// A server that takes a chunk and then does not answer. The stall threshold is shortened to 2 s through
/// the test-only `CRSYNC_TEST_STALL_SECONDS` (the default, 30 s, is checked by a unit test), so that these
/// tests take seconds; what is asserted does not depend on the figure.
final class StallTests: XCTestCase {
    static let chunk = 1 << 20
    static let environment = ["CRSYNC_TEST_STALL_SECONDS": "2"]

    /// Two stalls in a row on the first chunk: a warning naming the file, the server and the shortened
    /// session id appears in the output and in `crsync status` while it lasts; once the server answers
    /// again the file arrives whole, once.
    func testStallIsReportedAndTheFileArrivesOnceTheServerAnswersAgain() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(StallTests.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let remote = "cloudreve://my/Backup"
        // Two chunks: sent one after the other, so the stalls are the first chunk's, in turn.
        try writeFile(local + "/stalled.bin", pseudoRandomBytes(StallTests.chunk + StallTests.chunk / 2, seed: 5))
        try writeFile(local + "/z-after.txt", Array("fine\n".utf8))  // sorts after: the stalls are stalled.bin's
        try scenario.server.devPost("/__dev/faults", ["next": [["kind": "delay", "ms": 60_000], ["kind": "delay", "ms": 60_000]]])

        let started = Date()
        let sync = try scenario.start(["sync", local, remote, "--workers", "1"], environment: StallTests.environment)
        defer { sync.signal(SIGKILL) }
        var statusLine = ""
        let seen = try eventually(timeout: 60, every: 0.2) {
            let status = try scenario.crsync(["status"])
            statusLine = status.stdout.components(separatedBy: "\n").first { $0.contains("stalled: no progress") } ?? ""
            return !statusLine.isEmpty
        }
        XCTAssertTrue(seen, "crsync status never showed the stall; output so far: \(sync.stdout)")
        XCTAssertTrue(statusLine.contains("stalled.bin") && statusLine.contains(scenario.server.url), statusLine)
        let status = sync.wait()
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "the stall was not reported and overcome within a minute")
        XCTAssertEqual(status, 0, "stdout: \(sync.stdout) stderr: \(sync.stderr)")
        let warnings = sync.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("warning: upload of stalled.bin to \(scenario.server.url) stalled") }
        XCTAssertEqual(warnings.count, 2, sync.stdout)
        // The session id is shortened as `crsync sessions` shows it: eight characters and an ellipsis.
        XCTAssertNotNil(warnings.first?.range(of: #"session [0-9A-Za-z_-]{8}…, chunk 1 of 2"#, options: .regularExpression), warnings.first ?? "")
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [])
        XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [])
        XCTAssertEqual(try scenario.server.stats().completions.values.filter { $0 != 1 }.count, 0)
    }

    /// A server that never answers any chunk: each file is given up after a bounded time (3 stalls), named
    /// with the server, and the pass ends with exit 1. Once the server answers, the next pass finishes them.
    func testEndlessStallGivesUpInBoundedTimeAndTheNextPassFinishes() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(StallTests.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let remote = "cloudreve://my/Backup"
        try writeFile(local + "/stalled.bin", pseudoRandomBytes(StallTests.chunk + 10, seed: 6))
        for i in 0..<5 { try writeFile(local + "/small-\(i).txt", Array("small \(i)\n".utf8)) }
        // Everything is on the server first; then one file changes, one is new, and every chunk stalls.
        let first = try scenario.crsync(["sync", local, remote], environment: StallTests.environment)
        XCTAssertEqual(first.status, 0, first.stderr)
        try writeFile(local + "/stalled.bin", pseudoRandomBytes(StallTests.chunk + 10, seed: 7))
        try writeFile(local + "/later.txt", Array("later\n".utf8))
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 600_000])

        let started = Date()
        let stalled = try scenario.crsync(["sync", local, remote, "--workers", "1"], environment: StallTests.environment)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(stalled.status, 1, "stdout: \(stalled.stdout) stderr: \(stalled.stderr)")
        // 3 stalls of 2 s and backoff between them (0.5 s, 1 s, with jitter): well under 20 s; a wider margin for a busy machine.
        XCTAssertLessThan(elapsed, 40, "giving up was not bounded: \(stalled.stderr)")
        XCTAssertTrue(stalled.stderr.contains("stalled.bin") && stalled.stderr.contains("gave up for this pass after 3 stalls")
                      && stalled.stderr.contains(scenario.server.url), stalled.stderr)
        XCTAssertEqual(stalled.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("warning: upload of") }.count, 2 * 2,
                       "a warning per stall before giving up, for each file: \(stalled.stdout)")

        try scenario.server.devPost("/__dev/faults", [:])
        let after = try scenario.sync(local, remote)
        XCTAssertEqual(after.status, 0, "stdout: \(after.stdout) stderr: \(after.stderr)")
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [])
        XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [])
    }
}
