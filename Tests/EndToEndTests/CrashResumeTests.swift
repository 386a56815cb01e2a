import CloudreveAPI
import Foundation
import XCTest

/// Crash-proof uploads (issue 3): real crsync processes killed with SIGKILL, a real dev server restarted,
/// sessions expiring, faults injected; afterwards, what a user would check on the server and on the
/// storage. The bodies take the storage policy (StoragePolicy.swift) and release, so the same suite runs
/// on each backend: CrashResumeTests runs it on the local policy, CrashResumePolicyTests.swift on the
/// others. No test methods here (XCTest on Linux does not run inherited ones reliably).
class CrashResumeSuite: XCTestCase {
    static let chunk = 256 << 10
    static let versions = Scenario.releases

    struct Files {
        var bytes: Int64 = 0
        /// Upload requests a clean upload of them takes on the policy's storage.
        var requests = 0
        var largest = 0
    }

    /// Files of several chunks each, plus small ones.
    func makeFiles(at root: String, count: Int = 6, chunks: Int = 6, policy: StoragePolicy = .local) throws -> Files {
        var files = Files()
        func add(_ path: String, _ bytes: [UInt8]) throws {
            try writeFile(root + path, bytes)
            files.bytes += Int64(bytes.count)
            files.requests += policy.requests(forFileOf: bytes.count, chunk: CrashResumeSuite.chunk)
            files.largest = max(files.largest, bytes.count)
        }
        for i in 0..<count {
            // The last chunk is most of a chunk, so the crash hook can fire halfway through its body.
            try add("/multi/file-\(i).bin", pseudoRandomBytes(chunks * CrashResumeSuite.chunk - (i + 1) * 1000, seed: UInt64(100 + i)))
        }
        for i in 0..<4 { try add("/small/s-\(i).txt", Array("small \(i)".utf8)) }
        return files
    }

    /// SIGKILLs at random instants and at the exact moments random timing rarely hits: what is sent again
    /// stays within one chunk (relay: one file) per worker per kill, counted where it lands. `rounds`,
    /// `files` and `chunks` are smaller on the other policies to keep the suite's time down.
    func twentySigkills(_ policy: StoragePolicy, _ version: String, rounds: Int = 20, files: Int = 16, chunks: Int = 12) throws {
        let context = "\(policy) on \(version)"
        let chunk = CrashResumeSuite.chunk
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(chunk)", "--chunk-concurrency", "1"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        // Local: 192 chunks at 100 ms each, two at a time: more work than 20 short runs can finish.
        let made = try makeFiles(at: local, count: files, chunks: chunks, policy: policy)
        let workers = 2
        let slow = try scenario.slowUploads(delayMilliseconds: 100, orBandwidth: "4M")
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        // Half the kills land at the exact moments random timing rarely hits.
        let moments = ["after-reply:3", "last-chunk:1", "after-create:2", "after-reply:1", "last-chunk:2", "after-create:1", "after-reply:7"]
        for round in 0..<rounds {
            var environment: [String: String] = [:]
            if round % 2 == 0 { environment["CRSYNC_CRASH_AT"] = moments[(round / 2) % moments.count] }
            let child = try scenario.start(["sync", local, "cloudreve://my/Crash", "--workers", "\(workers)"] + slow, environment: environment)
            if environment.isEmpty {
                usleep(UInt32.random(in: 150_000...700_000, using: &generator))
                child.signal(SIGKILL)
            }
            let status = child.wait()
            if status == 128 + SIGKILL { kills += 1 }
        }
        try scenario.clearStorageFaults()
        let final = try scenario.sync(local, "cloudreve://my/Crash", ["--workers", "\(workers)"])
        XCTAssertEqual(final.status, 0, "\(context): \(final.stderr)")
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Crash", context, oneVersionEach: true)
        let resent = try scenario.bytesSentAgain(total: made.bytes, requests: made.requests, chunk: chunk)
        let unit = policy.resendUnit(chunk: chunk, largestFile: made.largest)
        let bound = Int64(kills * workers) * unit
        print("\(context): \(kills) SIGKILLs in \(rounds) rounds, \(resent) bytes re-sent (bound \(bound) = kills × workers × \(unit))")
        if let puts = scenario.moto?.partPuts() {
            let answered = puts.filter { $0.status == 200 }
            let distinct = Set(answered.map { "\($0.uploadID)#\($0.part)" }).count
            print("\(context): \(puts.count) part PUTs for \(made.requests) parts, \(puts.count - answered.count) cut off mid-body, "
                  + "\(answered.count - distinct) stored twice; \(Set(puts.map(\.uploadID)).count) multipart uploads for \(files + 4) files")
        }
        XCTAssertGreaterThanOrEqual(kills, rounds * 3 / 4, "most rounds must really be killed mid-upload (\(context))")
        // The after-create kills leave placeholders holding locks; they must have been cancelled, not waited out.
        XCTAssertGreaterThan(try scenario.server.stats().int("sessions_cancelled"), 0, context)
        // Negative would mean the count of what reached the storage lost track, not a saving.
        XCTAssertGreaterThanOrEqual(resent, 0, "\(context): fewer requests reached the storage than the files need")
        XCTAssertLessThanOrEqual(resent, bound, context)
    }

    func devServerRestartMidUpload(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(CrashResumeSuite.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        _ = try makeFiles(at: local, policy: policy)
        let slow = try scenario.slowUploads(delayMilliseconds: 60, orBandwidth: "4M")
        let workers = 2
        let child = try scenario.start(["sync", local, "cloudreve://my/Restart", "--workers", "\(workers)"] + slow)
        usleep(1_200_000)
        let restartStarted = Date()
        scenario.server = try scenario.server.restarted(scratch: scenario.scratch)
        print("\(context): the dev server was down \(String(format: "%.1f", Date().timeIntervalSince(restartStarted))) s")
        let status = child.wait()
        XCTAssertEqual(status, 0, "\(context): \(child.stderr)")
        if policy.storageOutlivesServerSessions {
            // What the lost sessions opened on the storage nobody can cancel: at most one per worker, and
            // no placeholder (crsync's part).
            XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Restart"), [], context)
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [], context)
            let left = try scenario.leftOpen()
            print("\(context): left on the storage after the restart: \(left)")
            XCTAssertLessThanOrEqual(left.count, workers, "\(context): \(left)")
        } else {
            try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Restart", context)
        }
    }

    func expiredSessionCancelledAndRestarted(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(CrashResumeSuite.chunk)",
                                                                                        "--session-ttl", "3"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let made = try makeFiles(at: local, count: 2, chunks: 8, policy: policy)
        let slow = try scenario.slowUploads(delayMilliseconds: 100, orBandwidth: "2M")
        let child = try scenario.start(["sync", local, "cloudreve://my/TTL", "--workers", "2"] + slow)
        usleep(700_000)
        child.signal(SIGKILL)
        child.wait()
        sleep(4)  // the sessions the killed run opened are now expired
        try scenario.clearStorageFaults()
        let result = try scenario.sync(local, "cloudreve://my/TTL")
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/TTL", context)
        XCTAssertEqual(try scenario.server.client().capacity().used, made.bytes, "quota charged for a leaked placeholder (\(context))")
    }

    func injectedFaultsDeliverOneVersionPerFile(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(CrashResumeSuite.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let made = try makeFiles(at: local, count: 8, chunks: 5, policy: policy)
        if policy.storageTakesFaults {
            try scenario.injectStorageFaults(["cut_rate": 0.10, "minus1_rate": 0.05, "io_error_rate": 0.02, "seed": 7])
        } else {
            // moto (s3) takes no injected faults and answers every part it gets. The honest equivalent of
            // its transfers being cut: runs slowed by --bwlimit and SIGKILLed at random instants, so parts
            // are cut off mid-body; then the one run below must still make exactly one version per file.
            var generator = SystemRandomNumberGenerator()
            var killed = 0
            for _ in 0..<4 {
                let child = try scenario.start(["sync", local, "cloudreve://my/Faults", "--bwlimit", "4M"])
                usleep(UInt32.random(in: 200_000...900_000, using: &generator))
                child.signal(SIGKILL)
                if child.wait() == 128 + SIGKILL { killed += 1 }
            }
            // The first run cannot finish in 0.9 s at 4 MB/s: at least it was killed mid-upload.
            XCTAssertGreaterThan(killed, 0, "\(context): no run was killed mid-upload, so no part was cut off")
        }
        let result = try scenario.sync(local, "cloudreve://my/Faults")
        try scenario.clearStorageFaults()
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
        if policy.storageTakesFaults {
            XCTAssertGreaterThan(try scenario.storageTraffic().requests, made.requests, "\(context): no fault reached the storage")
        }
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Faults", context, oneVersionEach: true)
        XCTAssertEqual(try scenario.server.stats().completions.count, 8 + 4, context)
    }

    func fileAppendedWhileUploading(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(64 << 10)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let path = local + "/growing.log"
        try writeFile(path, pseudoRandomBytes(1 << 20, seed: 5))
        let slow = try scenario.slowUploads(delayMilliseconds: 30, orBandwidth: "2M")
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
        var prefixesChecked = 0
        for _ in 0..<4 {
            _ = try scenario.sync(local, "cloudreve://my/Grow", slow)
            // Whatever the server holds now must be exactly a prefix of the file as it grows: never a mix.
            if let info = try client.fileInfoIfExists(remote), info.uploadSessionID == nil {
                let downloaded = scenario.scratch + "/check.bin"
                let fd = open(downloaded, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                _ = try client.download(url: client.downloadURLs([remote])[0], into: fd)
                close(fd)
                let server = try Data(contentsOf: URL(fileURLWithPath: downloaded))
                let now = try Data(contentsOf: URL(fileURLWithPath: path))
                XCTAssertTrue(now.starts(with: server), "\(context): the server copy is not a prefix of the local file")
                prefixesChecked += 1
            }
        }
        // Only relay (one request per file, its length fixed when it starts) completes while the file grows; the
        // chunked routes notice the change and complete nothing until it stops, which is the property too.
        print("\(context): \(prefixesChecked) of 4 passes left a server copy to compare while the file grew")
        while !writer.isFinished { usleep(50_000) }
        try scenario.clearStorageFaults()
        let last = try scenario.sync(local, "cloudreve://my/Grow")
        XCTAssertEqual(last.status, 0, "\(context): \(last.stderr)")
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Grow", context)
    }

    func anotherClientsOldPlaceholdersCleaned(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let chunk = CrashResumeSuite.chunk
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "\(chunk)", "--session-ttl", "3"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/mine.txt", Array("mine".utf8))
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Shared").status, 0, context)  // learns the 3 s lifetime

        // Another client starts an upload under the root and crashes after one chunk, sent by the session's own route.
        let other = try scenario.server.client()
        let policyID = try other.list(try CloudrevePath(parsing: "cloudreve://my/Shared")).storagePolicy?.id
        let target = try CloudrevePath(parsing: "cloudreve://my/Shared/sub/theirs.bin")
        let size = Int64(3 * chunk)
        let (reply, json) = try other.createUploadSession(UploadSessionRequest(uri: target.uri, size: size, lastModified: 0,
                                                                                 policyID: policyID, previous: nil))
        let blob = scenario.scratch + "/theirs.bin"
        try writeFile(blob, pseudoRandomBytes(Int(size), seed: 3))
        let fd = open(blob, O_RDONLY)
        try scenario.uploadFirstChunkAsAnotherClient(other, sessionID: reply.session.sessionID, json: json, fd: fd, length: Int64(chunk), total: size)
        close(fd)
        XCTAssertEqual(try other.capacity().used, 4 + size, context)
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shared").count, 1, context)

        // Not yet older than the lifetime: another client's live upload must be left alone.
        XCTAssertEqual(try scenario.crsync(["sessions", "clean", "cloudreve://my/Shared"]).status, 0)
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shared").count, 1, context)
        sleep(4)
        let listing = try scenario.crsync(["sessions"])
        XCTAssertTrue(listing.stdout.contains("orphaned"), "\(context): \(listing.stdout)")
        let result = try scenario.sync(local, "cloudreve://my/Shared")
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
        XCTAssertEqual(try scenario.leftOpen(), [], "\(context): \(result.stdout) \(listing.stdout)")
        XCTAssertEqual(try other.capacity().used, 4, "quota back (\(context))")
    }

    func serverCopyChangedKeepsBoth(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version)
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/notes.txt", Array("version one".utf8))
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Docs").status, 0, context)

        let other = try scenario.server.client()
        let remote = try CloudrevePath(parsing: "cloudreve://my/Docs/notes.txt")
        _ = try other.putContent(remote, bytes: Array("their edit".utf8))
        try writeFile(local + "/notes.txt", Array("our edit, longer".utf8))
        let result = try scenario.sync(local, "cloudreve://my/Docs")
        XCTAssertEqual(result.status, 0, "\(context): \(result.stderr)")
        XCTAssertTrue(result.stdout.contains("conflict"), "\(context): \(result.stdout)")

        let files = try other.list(try CloudrevePath(parsing: "cloudreve://my/Docs")).files
        let conflict = files.first { $0.name.hasPrefix("notes (conflict ") && $0.name.hasSuffix(").txt") }
        XCTAssertNotNil(conflict, "\(context): \(files.map(\.name))")
        XCTAssertEqual(try download(other, remote, scenario), "their edit", context)
        if let conflict {
            XCTAssertEqual(try download(other, remote.parent.appending(conflict.name), scenario), "our edit, longer", context)
        }
        XCTAssertEqual(try scenario.leftOpen(), [], context)
    }

    /// A SIGKILL in the middle of a conflict copy's upload: the next run finishes the copy, their version
    /// stays at the path, and from then on the local file owns the path again: its next edit replaces
    /// their version (which stays in the version history) instead of making a second conflict copy.
    func conflictCopyInterruptedBySIGKILL(_ policy: StoragePolicy, _ version: String) throws {
        let context = "\(policy) on \(version)"
        let scenario = try Scenario(policy: policy, emulate: version, serverArguments: ["--chunk-size", "65536"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/notes.txt", Array("version one".utf8))
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Docs").status, 0, context)

        let other = try scenario.server.client()
        let remote = try CloudrevePath(parsing: "cloudreve://my/Docs/notes.txt")
        _ = try other.putContent(remote, bytes: Array("their edit".utf8))
        let ours = pseudoRandomBytes(300_000, seed: 7)
        try writeFile(local + "/notes.txt", ours)
        let killed = try scenario.crsync(["sync", local, "cloudreve://my/Docs", "--workers", "1"],
                                         environment: ["CRSYNC_CRASH_AT": policy.midFileMoment(afterChunk: 2)])
        XCTAssertEqual(killed.status, 128 + SIGKILL, "\(context): \(killed.stderr)")

        let resumed = try scenario.sync(local, "cloudreve://my/Docs")
        XCTAssertEqual(resumed.status, 0, "\(context): \(resumed.stderr)")
        XCTAssertEqual(try download(other, remote, scenario), "their edit", context)
        let copies = { try other.list(try CloudrevePath(parsing: "cloudreve://my/Docs")).files.filter { $0.name.hasPrefix("notes (conflict ") } }
        let copy = try XCTUnwrap(try copies().first, "\(context): \(resumed.stdout)")
        XCTAssertEqual(copy.size, 300_000, context)
        XCTAssertEqual(try scenario.leftOpen(), [], context)

        try writeFile(local + "/notes.txt", Array("our next edit".utf8))
        let next = try scenario.sync(local, "cloudreve://my/Docs")
        XCTAssertEqual(next.status, 0, "\(context): \(next.stderr)")
        XCTAssertEqual(try download(other, remote, scenario), "our next edit", context)
        XCTAssertEqual(try copies().count, 1, "\(context): no second conflict copy: \(next.stdout)")
    }

    func download(_ client: CloudreveClient, _ path: CloudrevePath, _ scenario: Scenario) throws -> String {
        let file = scenario.scratch + "/dl.txt"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = try client.download(url: client.downloadURLs([path])[0], into: fd)
        close(fd)
        return try String(contentsOfFile: file, encoding: .utf8)
    }
}

/// The crash-resume suite on the local policy, on each release.
final class CrashResumeTests: CrashResumeSuite {
    func testTwentySigkillsCostAtMostTheChunksInFlight() throws {
        for version in CrashResumeSuite.versions { try twentySigkills(.local, version) }
    }

    func testDevServerRestartMidUploadStillDeliversEverything() throws {
        for version in CrashResumeSuite.versions { try devServerRestartMidUpload(.local, version) }
    }

    func testExpiredSessionIsCancelledAndRestartedWithNothingLeaked() throws {
        for version in CrashResumeSuite.versions { try expiredSessionCancelledAndRestarted(.local, version) }
    }

    func testInjectedFaultsStillDeliverExactlyOneVersionPerFile() throws {
        for version in CrashResumeSuite.versions { try injectedFaultsDeliverOneVersionPerFile(.local, version) }
    }

    func testFileAppendedWhileUploadingIsNeverTornAndEndsEqual() throws {
        for version in CrashResumeSuite.versions { try fileAppendedWhileUploading(.local, version) }
    }

    func testAnotherClientsOldPlaceholdersAreCleanedAndQuotaReturns() throws {
        for version in CrashResumeSuite.versions { try anotherClientsOldPlaceholdersCleaned(.local, version) }
    }

    func testServerCopyChangedBySomeoneElseKeepsBothAndReportsIt() throws {
        for version in CrashResumeSuite.versions { try serverCopyChangedKeepsBoth(.local, version) }
    }

    func testConflictCopyInterruptedBySIGKILLFinishesAndTheNextEditOwnsThePath() throws {
        for version in CrashResumeSuite.versions { try conflictCopyInterruptedBySIGKILL(.local, version) }
    }
}
