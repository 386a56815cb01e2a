import CloudreveAPI
import Foundation
import XCTest

/// Crash-proof uploads (issue 3): real crsync processes killed with SIGKILL, a real dev server restarted,
/// sessions expiring, faults injected; afterwards, what a user would check on the server.
final class CrashResumeTests: XCTestCase {
    static let chunk = 256 << 10
    static let versions = ["4.0", "4.11", "4.18"]

    /// Files of several chunks each, plus small ones.
    func makeFiles(at root: String, count: Int = 6, chunks: Int = 6) throws -> Int64 {
        var total: Int64 = 0
        for i in 0..<count {
            // The last chunk is most of a chunk, so the crash hook can fire halfway through its body.
            let size = chunks * CrashResumeTests.chunk - (i + 1) * 1000
            try writeFile(root + "/multi/file-\(i).bin", pseudoRandomBytes(size, seed: UInt64(100 + i)))
            total += Int64(size)
        }
        for i in 0..<4 {
            try writeFile(root + "/small/s-\(i).txt", Array("small \(i)".utf8))
            total += Int64("small \(i)".utf8.count)
        }
        return total
    }

    /// Every local file byte-identical on the server, and no placeholder (open upload) left anywhere.
    func assertArrivedWithNothingLeft(_ scenario: Scenario, local: String, remote: String, _ context: String,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [], context, file: file, line: line)
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [], "placeholder left: \(context)", file: file, line: line)
    }

    /// As `assertArrivedWithNothingLeft`, and each file got exactly one new version. Not after a server
    /// restart: the dev server's completion counter starts again then.
    func assertArrivedCleanly(_ scenario: Scenario, local: String, remote: String, _ context: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        try assertArrivedWithNothingLeft(scenario, local: local, remote: remote, context, file: file, line: line)
        let stats = try scenario.server.stats()
        XCTAssertEqual(stats.completions.values.filter { $0 != 1 }.count, 0, "a file got more than one version: \(stats.completions) \(context)",
                       file: file, line: line)
    }

    func testTwentySigkillsCostAtMostTheChunksInFlight() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(CrashResumeTests.chunk)",
                                                          "--chunk-concurrency", "1"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            // 192 chunks at 100 ms each, two at a time: more work than 20 short runs can finish.
            let total = try makeFiles(at: local, count: 16, chunks: 12)
            let workers = 2
            try scenario.server.devPost("/__dev/faults", ["delay_ms": 100])
            var generator = SystemRandomNumberGenerator()
            var kills = 0
            // Half the kills land at the exact moments random timing rarely hits.
            let moments = ["after-reply:3", "last-chunk:1", "after-create:2", "after-reply:1", "last-chunk:2", "after-create:1", "after-reply:7"]
            for round in 0..<20 {
                var environment: [String: String] = [:]
                if round % 2 == 0 { environment["CRSYNC_CRASH_AT"] = moments[(round / 2) % moments.count] }
                let child = try scenario.start(["sync", local, "cloudreve://my/Crash", "--workers", "\(workers)"], environment: environment)
                if environment.isEmpty {
                    usleep(UInt32.random(in: 150_000...700_000, using: &generator))
                    child.signal(SIGKILL)
                }
                let status = child.wait()
                if status == 128 + SIGKILL { kills += 1 }
            }
            try scenario.server.devPost("/__dev/faults", [:])
            let final = try scenario.sync(local, "cloudreve://my/Crash", ["--workers", "\(workers)"])
            XCTAssertEqual(final.status, 0, "\(version): \(final.stderr)")
            try assertArrivedCleanly(scenario, local: local, remote: "cloudreve://my/Crash", "emulate \(version)")
            let resent = Int64(try scenario.server.stats().chunkBytes) - total
            let bound = Int64(kills * workers * CrashResumeTests.chunk)
            print("emulate \(version): \(kills) SIGKILLs, \(resent) bytes re-sent (bound \(bound) = kills × workers × chunk size)")
            XCTAssertGreaterThanOrEqual(kills, 15, "most rounds must really be killed mid-upload")
            // The after-create kills leave placeholders holding locks; they must have been cancelled, not waited out.
            XCTAssertGreaterThan(try scenario.server.stats().int("sessions_cancelled"), 0, version)
            XCTAssertLessThanOrEqual(resent, bound)
        }
    }

    func testDevServerRestartMidUploadStillDeliversEverything() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(CrashResumeTests.chunk)"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            _ = try makeFiles(at: local)
            try scenario.server.devPost("/__dev/faults", ["delay_ms": 60])
            let child = try scenario.start(["sync", local, "cloudreve://my/Restart", "--workers", "2"])
            usleep(1_200_000)
            scenario.server = try scenario.server.restarted(scratch: scenario.scratch)
            let status = child.wait()
            XCTAssertEqual(status, 0, "\(version): \(child.stderr)")
            try assertArrivedWithNothingLeft(scenario, local: local, remote: "cloudreve://my/Restart", version)
        }
    }

    func testExpiredSessionIsCancelledAndRestartedWithNothingLeaked() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(CrashResumeTests.chunk)",
                                                          "--session-ttl", "3"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            let total = try makeFiles(at: local, count: 2, chunks: 8)
            try scenario.server.devPost("/__dev/faults", ["delay_ms": 100])
            let child = try scenario.start(["sync", local, "cloudreve://my/TTL", "--workers", "2"])
            usleep(700_000)
            child.signal(SIGKILL)
            child.wait()
            sleep(4)  // the sessions the killed run opened are now expired
            try scenario.server.devPost("/__dev/faults", [:])
            let result = try scenario.sync(local, "cloudreve://my/TTL")
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            try assertArrivedWithNothingLeft(scenario, local: local, remote: "cloudreve://my/TTL", version)
            XCTAssertEqual(try scenario.server.client().capacity().used, total, "quota charged for a leaked placeholder (\(version))")
        }
    }

    func testInjectedFaultsStillDeliverExactlyOneVersionPerFile() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(CrashResumeTests.chunk)"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            _ = try makeFiles(at: local, count: 8, chunks: 5)
            try scenario.server.devPost("/__dev/faults", ["cut_rate": 0.10, "minus1_rate": 0.05, "io_error_rate": 0.02, "seed": 7])
            let result = try scenario.sync(local, "cloudreve://my/Faults")
            try scenario.server.devPost("/__dev/faults", [:])
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            try assertArrivedCleanly(scenario, local: local, remote: "cloudreve://my/Faults", "emulate \(version)")
            XCTAssertEqual(try scenario.server.stats().completions.count, 8 + 4, version)
        }
    }

    func testFileAppendedWhileUploadingIsNeverTornAndEndsEqual() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(64 << 10)"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            let path = local + "/growing.log"
            try writeFile(path, pseudoRandomBytes(1 << 20, seed: 5))
            try scenario.server.devPost("/__dev/faults", ["delay_ms": 30])
            let writer = Thread {
                guard let handle = FileHandle(forWritingAtPath: path) else { return }
                for i in 0..<20 {
                    handle.seekToEndOfFile()
                    handle.write(Data(pseudoRandomBytes(32 << 10, seed: UInt64(1000 + i))))
                    usleep(100_000)
                }
                try? handle.close()
            }
            writer.start()
            let client = try scenario.server.client()
            let remote = try CloudrevePath(parsing: "cloudreve://my/Grow/growing.log")
            for _ in 0..<4 {
                _ = try scenario.sync(local, "cloudreve://my/Grow")
                // Whatever the server holds now must be exactly a prefix of the file as it grows: never a mix.
                if let info = try client.fileInfoIfExists(remote), info.uploadSessionID == nil {
                    let downloaded = scenario.scratch + "/check.bin"
                    let fd = open(downloaded, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                    _ = try client.download(url: client.downloadURLs([remote])[0], into: fd)
                    close(fd)
                    let server = try Data(contentsOf: URL(fileURLWithPath: downloaded))
                    let now = try Data(contentsOf: URL(fileURLWithPath: path))
                    XCTAssertTrue(now.starts(with: server), "\(version): the server copy is not a prefix of the local file")
                }
            }
            while !writer.isFinished { usleep(50_000) }
            try scenario.server.devPost("/__dev/faults", [:])
            let last = try scenario.sync(local, "cloudreve://my/Grow")
            XCTAssertEqual(last.status, 0, "\(version): \(last.stderr)")
            try assertArrivedWithNothingLeft(scenario, local: local, remote: "cloudreve://my/Grow", version)
        }
    }

    func testAnotherClientsOldPlaceholdersAreCleanedAndQuotaReturns() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(CrashResumeTests.chunk)",
                                                          "--session-ttl", "3"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            try writeFile(local + "/mine.txt", Array("mine".utf8))
            XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Shared").status, 0)  // learns the 3 s lifetime

            // Another client starts an upload under the root and crashes after one chunk.
            let other = try scenario.server.client()
            let policy = try other.list(try CloudrevePath(parsing: "cloudreve://my/Shared")).storagePolicy?.id
            let target = try CloudrevePath(parsing: "cloudreve://my/Shared/sub/theirs.bin")
            let size = Int64(3 * CrashResumeTests.chunk)
            let (session, _) = try other.createUploadSession(UploadSessionRequest(uri: target.uri, size: size, lastModified: 0,
                                                                                  policyID: policy, previous: nil))
            let blob = scenario.scratch + "/theirs.bin"
            try writeFile(blob, pseudoRandomBytes(Int(size), seed: 3))
            let fd = open(blob, O_RDONLY)
            try other.uploadChunk(sessionID: session.sessionID, index: 0, fd: fd, offset: 0, length: Int64(CrashResumeTests.chunk),
                                  expectedDuration: 1)
            close(fd)
            XCTAssertEqual(try other.capacity().used, 4 + size)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shared").count, 1)

            // Not yet older than the lifetime: another client's live upload must be left alone.
            XCTAssertEqual(try scenario.crsync(["sessions", "clean", "cloudreve://my/Shared"]).status, 0)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shared").count, 1, version)
            sleep(4)
            let listing = try scenario.crsync(["sessions"])
            XCTAssertTrue(listing.stdout.contains("orphaned"), listing.stdout)
            let result = try scenario.sync(local, "cloudreve://my/Shared")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shared").map(\.path), [], "\(version): \(result.stdout) \(listing.stdout)")
            XCTAssertEqual(try other.capacity().used, 4, "quota back (\(version))")
        }
    }

    func testServerCopyChangedBySomeoneElseKeepsBothAndReportsIt() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            try writeFile(local + "/notes.txt", Array("version one".utf8))
            XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Docs").status, 0)

            let other = try scenario.server.client()
            let remote = try CloudrevePath(parsing: "cloudreve://my/Docs/notes.txt")
            _ = try other.putContent(remote, bytes: Array("their edit".utf8))
            try writeFile(local + "/notes.txt", Array("our edit, longer".utf8))
            let result = try scenario.sync(local, "cloudreve://my/Docs")
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("conflict"), "\(version): \(result.stdout)")

            let files = try other.list(try CloudrevePath(parsing: "cloudreve://my/Docs")).files
            let conflict = files.first { $0.name.hasPrefix("notes (conflict ") && $0.name.hasSuffix(").txt") }
            XCTAssertNotNil(conflict, "\(version): \(files.map(\.name))")
            XCTAssertEqual(try download(other, remote, scenario), "their edit", version)
            if let conflict {
                XCTAssertEqual(try download(other, remote.parent.appending(conflict.name), scenario), "our edit, longer", version)
            }
        }
    }

    /// A SIGKILL in the middle of a conflict copy's upload: the next run finishes the copy, their version
    /// stays at the path, and from then on the local file owns the path again: its next edit replaces
    /// their version (which stays in the version history) instead of making a second conflict copy.
    func testConflictCopyInterruptedBySIGKILLFinishesAndTheNextEditOwnsThePath() throws {
        for version in CrashResumeTests.versions {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "65536"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            try writeFile(local + "/notes.txt", Array("version one".utf8))
            XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Docs").status, 0)

            let other = try scenario.server.client()
            let remote = try CloudrevePath(parsing: "cloudreve://my/Docs/notes.txt")
            _ = try other.putContent(remote, bytes: Array("their edit".utf8))
            let ours = pseudoRandomBytes(300_000, seed: 7)
            try writeFile(local + "/notes.txt", ours)
            let killed = try scenario.crsync(["sync", local, "cloudreve://my/Docs", "--workers", "1"], environment: ["CRSYNC_CRASH_AT": "after-reply:2"])
            XCTAssertEqual(killed.status, 128 + SIGKILL, "\(version): \(killed.stderr)")

            let resumed = try scenario.sync(local, "cloudreve://my/Docs")
            XCTAssertEqual(resumed.status, 0, "\(version): \(resumed.stderr)")
            XCTAssertEqual(try download(other, remote, scenario), "their edit", version)
            let copies = { try other.list(try CloudrevePath(parsing: "cloudreve://my/Docs")).files.filter { $0.name.hasPrefix("notes (conflict ") } }
            let copy = try XCTUnwrap(try copies().first, "\(version): \(resumed.stdout)")
            XCTAssertEqual(copy.size, 300_000, version)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Docs").map(\.path), [], version)

            try writeFile(local + "/notes.txt", Array("our next edit".utf8))
            let next = try scenario.sync(local, "cloudreve://my/Docs")
            XCTAssertEqual(next.status, 0, "\(version): \(next.stderr)")
            XCTAssertEqual(try download(other, remote, scenario), "our next edit", version)
            XCTAssertEqual(try copies().count, 1, "\(version): no second conflict copy: \(next.stdout)")
        }
    }

    func download(_ client: CloudreveClient, _ path: CloudrevePath, _ scenario: Scenario) throws -> String {
        let file = scenario.scratch + "/dl.txt"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = try client.download(url: client.downloadURLs([path])[0], into: fd)
        close(fd)
        return try String(contentsOfFile: file, encoding: .utf8)
    }
}
