import CloudreveAPI
import Foundation
import XCTest

/// Issue 9: the daemon as a pipeline. One standing pool serves every root, small changes never wait
/// behind big uploads, work on one path is serialized, and queued work survives kill -9.
final class PipelineEndToEndTests: ScenarioTestCase {
    override var serverArguments: [String] { ["--chunk-size", "\(256 << 10)"] }

    /// A daemon over roots A and B (→ cloudreve://my/A, cloudreve://my/B), waiting for its first pass.
    func startDaemon(workers: Int = 4, quiet: String = "1", environment: [String: String] = [:]) throws -> (a: String, b: String) {
        let a = scenario.scratch + "/A"
        let b = scenario.scratch + "/B"
        try writeFile(a + "/.ready", Array("a".utf8))
        try writeFile(b + "/.ready", Array("b".utf8))
        let config = try scenario.writeConfig("""
            [upload]
            workers = \(workers)
            quiet_seconds = \(quiet)

            [[sync]]
            local = "\(a)"
            remote = "cloudreve://my/A"
            deletes = "trash"

            [[sync]]
            local = "\(b)"
            remote = "cloudreve://my/B"
            deletes = "trash"
            """)
        daemon = try scenario.startDaemon(config: config, environment: environment)
        XCTAssertTrue(try eventually(timeout: 30) {
            try scenario.remoteFile("cloudreve://my/A/.ready") != nil && scenario.remoteFile("cloudreve://my/B/.ready") != nil
        }, daemon?.stderr ?? "")
        return (a, b)
    }

    func trashNames() throws -> [String] {
        try scenario.server.client().listTrash().map { info in
            (try? CloudrevePath(uri: info.metadata?["sys:restore_uri"] ?? info.name).name) ?? info.name
        }
    }

    func assertServerEqualsDisk(_ local: String, _ remote: String, _ context: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try scenario.remoteFiles(under: remote).sorted(), try regularFiles(under: local).sorted(), context, file: file, line: line)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [], context, file: file, line: line)
        XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [], context, file: file, line: line)
    }

    func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    // MARK: Fairness and independent roots

    func testSmallChangesInEveryRootArriveWhileFourLargeFilesUpload() throws {
        let (a, b) = try startDaemon()
        try writeFile(b + "/old.txt", Array("old".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/B/old.txt") != nil })
        // 4 files of 24 chunks, each chunk answered after 250 ms: every worker could be busy for seconds.
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 250])
        let before = try scenario.server.stats().sessionsCreated
        for i in 0..<4 { try writeFile(a + "/large-\(i).bin", pseudoRandomBytes(6 << 20, seed: UInt64(40 + i))) }
        XCTAssertTrue(try eventually(timeout: 15) { try scenario.server.stats().sessionsCreated >= before + 3 }, daemon?.stderr ?? "")

        // Saved now: a note in each root, and a deletion in B.
        let saved = Date()
        try writeFile(a + "/note-a.txt", Array("note a".utf8))
        try writeFile(b + "/note-b.txt", Array("note b".utf8))
        XCTAssertEqual(unlink(b + "/old.txt"), 0)
        var arrived: [String: Double] = [:]
        _ = try eventually(timeout: 15, every: 0.05) {
            if arrived["a"] == nil, try scenario.remoteFile("cloudreve://my/A/note-a.txt") != nil { arrived["a"] = Date().timeIntervalSince(saved) }
            if arrived["b"] == nil, try scenario.remoteFile("cloudreve://my/B/note-b.txt") != nil { arrived["b"] = Date().timeIntervalSince(saved) }
            if arrived["trash"] == nil, try trashNames().contains("old.txt") { arrived["trash"] = Date().timeIntervalSince(saved) }
            return arrived.count == 3
        }
        print(String(format: "while 4 large files upload: note in A on the server after %.2f s, note in B after %.2f s, deletion in B trashed after %.2f s",
                     arrived["a"] ?? -1, arrived["b"] ?? -1, arrived["trash"] ?? -1))
        XCTAssertLessThanOrEqual(arrived["a"] ?? 99, 1 + 1.5, daemon?.stderr ?? "")
        XCTAssertLessThanOrEqual(arrived["b"] ?? 99, 1 + 1.5)
        XCTAssertLessThanOrEqual(arrived["trash"] ?? 99, 1 + 1.5)

        // The benchmark: a small file saved every 300 ms while the large ones go on; printed, not asserted.
        var latencies: [Double] = []
        for i in 0..<12 {
            let root = i % 2 == 0 ? (a, "A") : (b, "B")
            let name = "bench-\(i).txt"
            let start = Date()
            try writeFile(root.0 + "/" + name, Array("bench \(i)".utf8))
            if try eventually(timeout: 10, every: 0.05, { try scenario.remoteFile("cloudreve://my/\(root.1)/\(name)") != nil }) {
                latencies.append(Date().timeIntervalSince(start))
            }
        }
        print(String(format: "saved → on the server for small files while large files upload (quiet period 1 s, %d samples): p50 %.2f s, p99 %.2f s",
                     latencies.count, percentile(latencies, 0.5), percentile(latencies, 0.99)))

        try scenario.server.devPost("/__dev/faults", [:])
        XCTAssertTrue(try eventually(timeout: 120, every: 1) { try scenario.remoteFiles(under: "cloudreve://my/A").count == 4 + 1 + 1 + 6 },
                      daemon?.stderr ?? "")
        try assertServerEqualsDisk(a, "cloudreve://my/A")
        try assertServerEqualsDisk(b, "cloudreve://my/B")
    }

    // MARK: One path at a time

    func testAFileChangedWhileItUploadsEndsWithItsLastBytesAsOneVersion() throws {
        let (a, _) = try startDaemon(quiet: "0.5")
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 200])
        try writeFile(a + "/doc.bin", pseudoRandomBytes(2 << 20, seed: 1))
        let before = try scenario.server.stats().sessionsCreated
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.server.stats().sessionsCreated > before })
        usleep(300_000)
        try writeFile(a + "/doc.bin", pseudoRandomBytes(2 << 20, seed: 2))  // saved again mid-upload
        try scenario.server.devPost("/__dev/faults", [:])
        XCTAssertTrue(try eventually(timeout: 30, every: 0.2) { try scenario.mismatches(local: a, remote: "cloudreve://my/A").isEmpty },
                      daemon?.stderr ?? "")
        try assertServerEqualsDisk(a, "cloudreve://my/A")
        let completions = try scenario.server.stats().completions.filter { $0.key.hasSuffix("doc.bin") }.values.reduce(0, +)
        let all = try scenario.server.stats().completions
        XCTAssertEqual(completions, 1, "the torn first upload must never complete: \(all) \(daemon?.stderr ?? "")")
    }

    func testAFileDeletedWhileItUploadsLeavesNothingOnTheServer() throws {
        let (a, _) = try startDaemon(quiet: "0.5")
        try writeFile(a + "/kept.bin", pseudoRandomBytes(100_000, seed: 3))
        try writeFile(a + "/edited.bin", pseudoRandomBytes(100_000, seed: 4))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFiles(under: "cloudreve://my/A").count == 3 })
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 200])
        let before = try scenario.server.stats().sessionsCreated
        try writeFile(a + "/new.bin", pseudoRandomBytes(3 << 20, seed: 5))      // never on the server yet
        try writeFile(a + "/edited.bin", pseudoRandomBytes(3 << 20, seed: 6))   // a new version on its way
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.server.stats().sessionsCreated >= before + 2 }, daemon?.stderr ?? "")
        XCTAssertEqual(unlink(a + "/new.bin"), 0)
        XCTAssertEqual(unlink(a + "/edited.bin"), 0)
        try scenario.server.devPost("/__dev/faults", [:])
        XCTAssertTrue(try eventually(timeout: 20, every: 0.2) { try scenario.remoteFiles(under: "cloudreve://my/A").sorted() == [".ready", "kept.bin"] },
                      daemon?.stderr ?? "")
        sleep(1)
        try assertServerEqualsDisk(a, "cloudreve://my/A")
        XCTAssertTrue(try trashNames().contains("edited.bin"), "the deleted file's old version goes to the trash")
        let completions = try scenario.server.stats().completions
        XCTAssertTrue(completions.values.allSatisfy { $0 == 1 }, "a stopped upload never completes: \(completions)")
    }

    func testAFolderMovedWhileAFileInItUploadsIsMovedOnTheServerWithoutResendingTheRest() throws {
        let (a, _) = try startDaemon(quiet: "0.5")
        for i in 0..<20 { try writeFile(a + "/dir/f\(i).bin", pseudoRandomBytes(50_000, seed: UInt64(100 + i))) }
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFiles(under: "cloudreve://my/A").count == 21 })
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 200])
        let before = try scenario.server.stats()
        let large = 3 << 20
        try writeFile(a + "/dir/big.bin", pseudoRandomBytes(large, seed: 7))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.server.stats().sessionsCreated > before.sessionsCreated })
        usleep(300_000)
        XCTAssertEqual(rename(a + "/dir", a + "/moved"), 0)
        try scenario.server.devPost("/__dev/faults", [:])
        XCTAssertTrue(try eventually(timeout: 30, every: 0.2) {
            try scenario.remoteFiles(under: "cloudreve://my/A").sorted() == regularFiles(under: a).sorted()
        }, daemon?.stderr ?? "")
        sleep(1)
        try assertServerEqualsDisk(a, "cloudreve://my/A")
        let sent = try scenario.server.stats().chunkBytes - before.chunkBytes
        print("folder of 20 uploaded files moved while a 3 MiB file in it uploaded: \(sent) bytes sent after the move began (the big file: \(large))")
        XCTAssertLessThan(sent, 2 * large, "the 20 files already on the server were moved there, not sent again")
        let completions = try scenario.server.stats().completions
        XCTAssertTrue(completions.values.allSatisfy { $0 == 1 }, "one version per file: \(completions)")
    }

    // MARK: Queued work survives kill -9

    func testQueuedWorkStartsBeforeTheStartUpRescanOfALargeRootFinishes() throws {
        let (a, _) = try startDaemon(workers: 2, quiet: "0.2")
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 100])
        for d in 0..<20 {
            for i in 0..<1000 { try writeFile(a + "/many/d\(d)/f\(i).txt", Array("\(d)-\(i)".utf8)) }
        }
        // The daemon journals the 20,000 files as queued work, then uploads them slowly: kill it mid-way.
        let seen = try scenario.server.stats().sessionsCreated
        XCTAssertTrue(try eventually(timeout: 60, every: 0.2) { try scenario.server.stats().sessionsCreated > seen + 20 }, daemon?.stderr ?? "")
        daemon?.signal(SIGKILL)
        daemon?.wait()
        daemon = nil
        try scenario.server.devPost("/__dev/faults", [:])
        try scenario.server.devPost("/__dev/stats/reset", [:])
        let config = scenario.scratch + "/config.toml"
        let restarted = try scenario.startDaemon(config: config)
        daemon = restarted
        var rescanDoneAtFirstUpload: Bool?
        _ = try eventually(timeout: 60, every: 0.02) {
            guard try scenario.server.stats().sessionsCreated > 0 else { return false }
            rescanDoneAtFirstUpload = restarted.stderr.contains("rescan of \(a)")
            return true
        }
        XCTAssertTrue(restarted.stderr.contains("resuming"), restarted.stderr)
        XCTAssertEqual(rescanDoneAtFirstUpload, false, "the first upload went out only after the start-up rescan: \(restarted.stderr)")
        XCTAssertTrue(eventually(timeout: 60, every: 0.2) { restarted.stderr.contains("rescan of \(a)") }, String(restarted.stderr.suffix(3000)))
    }

    // MARK: Stop and status

    func testStatusShowsTheQueueAndSIGTERMStopsEightUploadsWithinTwoSeconds() throws {
        let (a, b) = try startDaemon(workers: 8)
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 300])
        for i in 0..<12 { try writeFile((i % 2 == 0 ? a : b) + "/big-\(i).bin", pseudoRandomBytes(3 << 20, seed: UInt64(200 + i))) }
        // Small files keep the eighth worker (the small files' lane) busy too.
        for i in 0..<40 { try writeFile(b + "/small/s\(i).txt", Array("small \(i)".utf8)) }
        var status: [String: Any] = [:]
        XCTAssertTrue(try eventually(timeout: 15, every: 0.2) {
            let result = try scenario.crsync(["status", "--json"])
            status = (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
            let roots = status["roots"] as? [[String: Any]] ?? []
            let running = roots.compactMap { ($0["queue"] as? [String: Any])?["running"] as? Int }.reduce(0, +)
            let inFlight = roots.map { ($0["in_flight"] as? [Any])?.count ?? 0 }.reduce(0, +)
            return running == 8 && inFlight >= 8
        }, "\(status) \(daemon?.stderr ?? "")")
        // Seven large uploads, the eighth worker on small files, the rest queued.
        let roots = status["roots"] as? [[String: Any]] ?? []
        XCTAssertGreaterThanOrEqual(roots.compactMap { ($0["queue"] as? [String: Any])?["pending"] as? Int }.reduce(0, +), 5, "\(status)")
        let text = try scenario.crsync(["status"])
        XCTAssertTrue(text.stdout.contains("queue: "), text.stdout)

        let asked = Date()
        daemon?.signal(SIGTERM)
        XCTAssertTrue(eventually(timeout: 10, every: 0.02) { self.daemon?.hasExited ?? true })
        let seconds = Date().timeIntervalSince(asked)
        print(String(format: "SIGTERM with 8 uploads in flight and more queued: exited after %.2f s", seconds))
        XCTAssertEqual(daemon?.wait(), 143)
        XCTAssertLessThanOrEqual(seconds, 2)
        daemon = nil
        // The journal is consistent: a one-shot pass finishes what was queued and in flight.
        try scenario.server.devPost("/__dev/faults", [:])
        let config = scenario.scratch + "/config.toml"
        let pass = try scenario.crsync(["sync", "--config", config])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        try assertServerEqualsDisk(a, "cloudreve://my/A")
        try assertServerEqualsDisk(b, "cloudreve://my/B")
    }
}
