import CloudreveAPI
import Foundation
import Transport
import XCTest

/// OSS and OBS policies (issue 10): parts straight to the storage (moto on loopback), then a completion that
/// the storage answers with Cloudreve's own callback result; the client calls no callback. The dev server's
/// `/__provider/{oss,obs}/complete` stands in for the provider's completion and callback (see
/// ProviderCompletion.swift there). Built on S3PolicyTests' scenario: moto, then the dev server in front.
final class ProviderCallbackPolicyTests: XCTestCase {
    static let policies = ["oss", "obs"]

    func testTreeSyncsByteIdenticalUnderOSSAndOBS() throws {
        for policy in Self.policies {
            let s3 = try S3PolicyTests.s3Scenario(["--emulate", "4.18", "--policy", policy, "--chunk-concurrency", "3"])
            defer { s3.tearDown() }
            let local = s3.scratch + "/tree"
            let parts = try S3PolicyTests.makeTree(at: local)
            let result = try s3.sync(local, "cloudreve://my/P")
            XCTAssertEqual(result.status, 0, "\(policy): \(result.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/P", policy)
            XCTAssertEqual(s3.moto!.partPuts().count, parts, "\(policy): every part exactly once, straight to the storage")
            XCTAssertEqual(try s3.server.stats().chunkRequests, 0, policy)
            XCTAssertEqual(try s3.server.stats().completions.count, 4 + 3 + 1, policy)
            let log = s3.server.process.stderr
            XCTAssertEqual(log.components(separatedBy: "POST /__provider/\(policy)/complete 200").count - 1, 8,
                           "\(policy): one completion per file, each answered with the callback's result")
            XCTAssertFalse(log.contains("GET /api/v4/callback/"), "\(policy): the client calls no callback")
            XCTAssertEqual(try s3.sync(local, "cloudreve://my/P").status, 0)
            XCTAssertEqual(s3.moto!.partPuts().count, parts, "\(policy): an unchanged tree sent parts again")
            let status = try s3.crsync(["status"])
            XCTAssertTrue(status.stdout.contains("straight to the '\(policy)' storage in parts"), status.stdout)
        }
    }

    /// A kill after a part's reply, before its ETag is journaled, costs that part only; kills around the
    /// completion (the storage's callback included) cost nothing journaled. Counted from moto's log.
    func testKillsResendNoAcknowledgedPart() throws {
        for policy in Self.policies {
            let s3 = try S3PolicyTests.s3Scenario(["--policy", policy])
            defer { s3.tearDown() }
            let local = s3.scratch + "/one"
            try writeFile(local + "/big.bin", pseudoRandomBytes(8 * S3PolicyTests.chunk - 500, seed: 19))
            let killed = try s3.crsync(["sync", local, "cloudreve://my/One", "--workers", "1"],
                                                environment: ["CRSYNC_CRASH_AT": "after-reply:3"])
            XCTAssertEqual(killed.status, 128 + SIGKILL, policy)
            XCTAssertEqual(try s3.sync(local, "cloudreve://my/One").status, 0, policy)
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/One", "\(policy) after-reply:3")
            var perPart: [Int: Int] = [:]
            for put in s3.moto!.partPuts() { perPart[put.part, default: 0] += 1 }
            XCTAssertEqual(perPart, [1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1], "\(policy): only the unjournaled part 3 goes twice")

            for (n, moment) in ["after-last-ack:1", "after-storage-complete:1", "before-synced:1", "last-chunk:1"].enumerated() {
                let dir = s3.scratch + "/m\(n)"
                try writeFile(dir + "/f.bin", pseudoRandomBytes(4 * S3PolicyTests.chunk - 100, seed: UInt64(50 + n)))
                let (before, resentBefore) = (s3.moto!.partPuts().count, s3.resentParts)
                let kill = try s3.crsync(["sync", dir, "cloudreve://my/M\(n)"], environment: ["CRSYNC_CRASH_AT": moment])
                XCTAssertEqual(kill.status, 128 + SIGKILL, "\(policy) \(moment)")
                let result = try s3.sync(dir, "cloudreve://my/M\(n)")
                XCTAssertEqual(result.status, 0, "\(policy) \(moment): \(result.stderr)")
                try s3.assertArrivedWithNothingLeft(local: dir, remote: "cloudreve://my/M\(n)", "\(policy) \(moment)")
                // last-chunk: the last part had no ETag yet; the others: every part was journaled.
                let allowed = moment.hasPrefix("last-chunk") ? 1 : 0
                XCTAssertLessThanOrEqual(s3.resentParts - resentBefore, allowed, "\(policy) \(moment)")
                XCTAssertLessThanOrEqual(s3.moto!.partPuts().count - before, 4 + allowed, "\(policy) \(moment)")
                XCTAssertEqual(try s3.server.stats().sessionsCreated, n + 2, "\(policy) \(moment): resumed, not replaced")
            }
        }
    }

    /// Random SIGKILLs mid-upload, several files and parts in flight: at most the parts in flight go again,
    /// and the end state is byte-identical with nothing open in the bucket.
    func testRandomSigkillsCostAtMostThePartsInFlight() throws {
        for policy in Self.policies {
            let perFile = 3, workers = 2
            let s3 = try S3PolicyTests.s3Scenario(["--policy", policy, "--chunk-concurrency", "\(perFile)"])
            defer { s3.tearDown() }
            let local = s3.scratch + "/tree"
            _ = try S3PolicyTests.makeTree(at: local, count: 10, parts: 8)
            func putCounts() -> [String: Int] {
                var counts: [String: Int] = [:]
                for put in s3.moto!.partPuts() { counts["\(put.uploadID.removingPercentEncoding ?? put.uploadID)#\(put.part)", default: 0] += 1 }
                return counts
            }
            var kills = 0
            // Each part with a journaled ETag at a kill, and how often it had been PUT then: never again after.
            var acknowledged: [String: Int] = [:]
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<6 {
                // 2 MB/s: a pass takes seconds, so a random kill lands mid-upload.
                let child = try s3.start(["sync", local, "cloudreve://my/Kill", "--workers", "\(workers)", "--bwlimit", "2M"])
                usleep(UInt32.random(in: 200_000...900_000, using: &generator))
                child.signal(SIGKILL)
                if child.wait() == 128 + SIGKILL { kills += 1 }
                usleep(200_000)   // moto logs a request just after answering it
                let counts = putCounts()
                for part in try journaledParts(stateDir: s3.stateDir) where acknowledged[part] == nil {
                    acknowledged[part] = counts[part] ?? 0
                }
            }
            let final = try s3.sync(local, "cloudreve://my/Kill", ["--workers", "\(workers)"])
            XCTAssertEqual(final.status, 0, "\(policy): \(final.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Kill", "\(policy) after \(kills) SIGKILLs")
            let counts = putCounts()
            let bound = kills * workers * perFile
            print("\(policy): \(kills) SIGKILLs, \(s3.moto!.partPuts().count) part PUTs, \(s3.resentParts) re-sent (bound \(bound)), "
                  + "\(acknowledged.count) journaled at a kill")
            XCTAssertGreaterThanOrEqual(kills, 4, "\(policy): most rounds must really be killed mid-upload")
            XCTAssertFalse(acknowledged.isEmpty, "\(policy): the kills must land after some parts were acknowledged")
            XCTAssertEqual(acknowledged.filter { $0.value == 0 || counts[$0.key] != $0.value }.keys.sorted()
                .map { "\($0): \(acknowledged[$0]!) PUTs at the kill, \(counts[$0] ?? 0) at the end" }, [],
                           "\(policy): acknowledged parts were sent again")
            XCTAssertLessThanOrEqual(s3.resentParts, bound, policy)
        }
    }

    /// `crsync sessions` lists an interrupted oss/obs session; `sessions clean` cancels it once stale, and
    /// nothing is left: no placeholder, no open multipart upload.
    func testSessionsListsAndCleansOSSAndOBSSessions() throws {
        for policy in Self.policies {
            let s3 = try S3PolicyTests.s3Scenario(["--policy", policy, "--session-ttl", "3"])
            defer { s3.tearDown() }
            let local = s3.scratch + "/sess"
            try writeFile(local + "/f.bin", pseudoRandomBytes(6 * S3PolicyTests.chunk, seed: 88))
            let killed = try s3.crsync(["sync", local, "cloudreve://my/Sess"], environment: ["CRSYNC_CRASH_AT": "after-reply:2"])
            XCTAssertEqual(killed.status, 128 + SIGKILL, policy)
            let listed = try s3.crsync(["sessions"])
            XCTAssertTrue(listed.stdout.contains("f.bin") && listed.stdout.contains("resumable")
                          && listed.stdout.contains("(\(policy) bucket)"), "\(policy): \(listed.stdout)")
            XCTAssertEqual(try s3.moto!.openMultipartUploads(), 1, policy)
            sleep(4)
            XCTAssertTrue(try s3.crsync(["sessions"]).stdout.contains("stale"), policy)
            let cleaned = try s3.crsync(["sessions", "clean"])
            XCTAssertEqual(cleaned.status, 0, "\(policy): \(cleaned.stderr)")
            XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0, "\(policy): sessions clean left the multipart upload open")
            XCTAssertEqual(try s3.placeholders(under: "cloudreve://my").count, 0, policy)
            XCTAssertFalse(try s3.crsync(["sessions"]).stdout.contains("f.bin"), policy)
        }
    }

    /// The storage assembled the object but could not reach Cloudreve (203 CallbackFailed): the file fails for
    /// this pass with a message saying what to check, the session is cancelled, and the next pass uploads it.
    func testCallbackFailureFailsTheFileClearlyAndTheNextPassUploadsIt() throws {
        for policy in Self.policies {
            let s3 = try S3PolicyTests.s3Scenario(["--policy", policy])
            defer { s3.tearDown() }
            let local = s3.scratch + "/cb"
            try writeFile(local + "/f.bin", pseudoRandomBytes(3 * S3PolicyTests.chunk + 5, seed: 90))
            try s3.server.devPost("/__dev/faults", ["callback_unreachable": true])
            let failed = try s3.sync(local, "cloudreve://my/CB")
            XCTAssertEqual(failed.status, 1, "\(policy): \(failed.stderr)")
            XCTAssertTrue(failed.stderr.contains("'\(policy)' storage assembled") && failed.stderr.contains("CallbackFailed")
                          && failed.stderr.contains("site URL"), "\(policy): \(failed.stderr)")
            XCTAssertEqual(try s3.placeholders(under: "cloudreve://my").count, 0, "\(policy): the session was cancelled")
            XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0, policy)
            XCTAssertEqual(try s3.server.stats().int("sessions_cancelled"), 1, policy)
            try s3.server.devPost("/__dev/faults", [:])
            let result = try s3.sync(local, "cloudreve://my/CB")
            XCTAssertEqual(result.status, 0, "\(policy): \(result.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/CB", "\(policy) after the callback came back")
        }
    }

    /// The stand-in for the provider's completion refuses what the real one would: unsigned headers (OSS's
    /// two, and the signed Content-Type), a body with OSS's complete-all, and parts of another length than the
    /// session's (moto takes any). Parts themselves go straight to moto: their Content-Type cannot be
    /// observed there, so S3Flavor's unit test covers it.
    func testProviderCompletionRefusesWhatTheSignatureWould() throws {
        let s3 = try S3PolicyTests.s3Scenario(["--policy", "oss"])
        defer { s3.tearDown() }
        let client = try s3.server.client()
        let chunk = Int64(S3PolicyTests.chunk)
        let blob = s3.scratch + "/blob.bin"
        try writeFile(blob, pseudoRandomBytes(Int(2 * chunk), seed: 6))
        let fd = open(blob, O_RDONLY)
        defer { close(fd) }
        let target = try CloudrevePath(parsing: "cloudreve://my/p.bin")
        let (reply, _) = try client.createUploadSession(UploadSessionRequest(uri: target.uri, size: 2 * chunk, lastModified: 0,
                                                                              policyID: nil, previous: nil))
        let session = try XCTUnwrap(reply.s3)
        XCTAssertEqual(session.policyType, "oss")
        XCTAssertTrue(session.uploadURLs[0].contains("content-type%3Bhost"), "the part URL signs the Content-Type: \(session.uploadURLs[0])")
        _ = try client.putPart(url: session.uploadURLs[0], fd: fd, offset: 0, length: chunk, contentType: "application/octet-stream")
        _ = try client.putPart(url: session.uploadURLs[1], fd: fd, offset: chunk, length: chunk - 10, contentType: "application/octet-stream")
        func post(_ headers: [(String, String)], _ body: String = "") throws -> HTTPResponse {
            try HTTPTransport().perform(HTTPRequest(method: "POST", url: session.completeURL, headers: headers, body: .bytes(Array(body.utf8))))
        }
        let octet = ("Content-Type", "application/octet-stream")
        XCTAssertEqual(try post([octet, ("x-oss-complete-all", "yes")]).status, 403, "x-oss-forbid-overwrite is signed")
        XCTAssertEqual(try post([("Content-Type", "application/xml"), ("x-oss-forbid-overwrite", "true"), ("x-oss-complete-all", "yes")]).status, 403)
        XCTAssertEqual(try post([octet, ("x-oss-forbid-overwrite", "true"), ("x-oss-complete-all", "yes")], "<x/>").status, 400)
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"),
                       .refused("HTTP 400 InvalidPart (Part 2 has \(chunk - 10) bytes, its URL was signed for \(chunk).)"))
        _ = try client.putPart(url: session.uploadURLs[1], fd: fd, offset: chunk, length: chunk, contentType: "application/octet-stream")
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"), .done)
        XCTAssertEqual(try client.fileInfo(target).size, 2 * chunk)
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"), .uploadGone)
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0)
    }
}

/// The parts the crsync journal in `stateDir` holds an ETag for, as "uploadID#partNumber" (moto's log's
/// terms). Read with python3's sqlite3, there whenever moto_server is (moto is Python).
func journaledParts(stateDir: String) throws -> Set<String> {
    let script = """
        import sqlite3, sys, json
        db = sqlite3.connect(sys.argv[1])
        for sid, js, idx in db.execute("SELECT s.session_id, CAST(s.session_json AS TEXT), c.idx FROM chunks c "
                                       "JOIN sessions s ON s.session_id = c.session_id WHERE c.etag IS NOT NULL"):
            print("%s#%d" % (json.loads(js)["upload_id"], idx + 1))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, stateDir + "/journal.sqlite"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("could not read the journal in \(stateDir)") }
    return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
}
