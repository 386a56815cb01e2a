import CloudreveAPI
import Foundation
import Transport
import XCTest

/// Direct uploads to an S3 policy (issue 10): the dev server hands out presigned part URLs on a real
/// S3-compatible server (moto, started here on a random loopback port), crsync PUTs the parts there,
/// completes the multipart upload and calls Cloudreve's GET callback. Part PUTs are counted from moto's
/// own request log; open multipart uploads with ListMultipartUploads.
final class S3PolicyTests: XCTestCase {
    static let chunk = 256 << 10

    /// moto, then a dev server with `--policy s3` (or the policy in `arguments`) in front of it, signed in.
    static func s3Scenario(_ arguments: [String]) throws -> Scenario {
        try Scenario(policy: .s3, serverArguments: ["--chunk-size", "\(S3PolicyTests.chunk)"] + arguments)
    }

    /// Files of several parts (the last one most of a part), small ones and an empty one. Returns the parts.
    static func makeTree(at root: String, count: Int = 4, parts: Int = 5) throws -> Int {
        var expectedParts = 0
        for i in 0..<count {
            try writeFile(root + "/multi/file-\(i).bin", pseudoRandomBytes(parts * S3PolicyTests.chunk - (i + 1) * 1000, seed: UInt64(300 + i)))
            expectedParts += parts
        }
        for i in 0..<3 {
            try writeFile(root + "/small/s-\(i).txt", Array("small \(i)".utf8))
            expectedParts += 1
        }
        try writeFile(root + "/empty.txt", [])
        return expectedParts + 1
    }

    func testTreeSyncsStraightToS3OnEachRelease() throws {
        for (policy, version) in [("s3", "4.0"), ("s3", "4.18"), ("ks3", "4.18"), ("cos", "4.18"), ("oss", "4.18"), ("obs", "4.18")] {
            // chunk_concurrency is reported from 4.7 on: parts then go three at a time.
            let s3 = try Self.s3Scenario(["--emulate", version, "--policy", policy, "--chunk-concurrency", "3"])
            defer { s3.tearDown() }
            let local = s3.scratch + "/tree"
            let parts = try Self.makeTree(at: local)
            let result = try s3.sync(local, "cloudreve://my/S3")
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/S3", version)
            XCTAssertEqual(s3.moto!.partPuts().count, parts, "\(policy) \(version): every part exactly once, straight to the storage")
            XCTAssertEqual(try s3.server.stats().chunkRequests, 0, "\(version): no chunk went through Cloudreve")
            XCTAssertEqual(try s3.server.stats().completions.count, 4 + 3 + 1, version)
            if S3Flavor.of(policy).providerCallsBack {
                let log = s3.server.process.stderr
                XCTAssertEqual(log.components(separatedBy: "POST /__provider/\(policy)/complete 200").count - 1, 8,
                               "\(policy): one completion per file, each answered with the callback's result")
                XCTAssertFalse(log.contains("GET /api/v4/callback/"), "\(policy): the client calls no callback")
            }
            // Nothing changed: a second pass sends nothing.
            XCTAssertEqual(try s3.sync(local, "cloudreve://my/S3").status, 0)
            XCTAssertEqual(s3.moto!.partPuts().count, parts, "\(version): an unchanged tree sent parts again")
            let status = try s3.crsync(["status"])
            XCTAssertTrue(status.stdout.contains("straight to the '\(policy)' storage in parts"), status.stdout)
        }
    }

    /// Relay mode on an S3 policy: the whole file in one request to Cloudreve, whatever its size (§8c).
    func testRelayPolicyUploadsEachFileInOneRequest() throws {
        let scenario = try Scenario(policy: .relay, serverArguments: ["--chunk-size", "\(S3PolicyTests.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        _ = try Self.makeTree(at: local, count: 2, parts: 3)
        let result = try scenario.sync(local, "cloudreve://my/Relay")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Relay"), [])
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").count, 0)
        XCTAssertEqual(try scenario.server.stats().chunkRequests, 2 + 3 + 1, "one request per file")
        let status = try scenario.crsync(["status"])
        XCTAssertTrue(status.stdout.contains("relay mode on the 's3' policy") && status.stdout.contains("starts over"), status.stdout)
    }

    /// The bucket policies whose crash suite runs here: plain S3, and the two whose storage calls
    /// Cloudreve back (ks3 and cos differ from s3 only in headers, covered by the tree test).
    static let crashPolicies = ["s3", "oss", "obs"]

    /// A kill between a part's reply and its journaled ETag costs that part only; the session is resumed.
    func testKillBeforeAPartIsJournaledResendsOnlyThatPart() throws {
        for policy in Self.crashPolicies { try killBeforeAPartIsJournaled(policy) }
    }

    private func killBeforeAPartIsJournaled(_ policy: String) throws {
        let s3 = try Self.s3Scenario(["--policy", policy])
        defer { s3.tearDown() }
        let local = s3.scratch + "/one"
        try writeFile(local + "/big.bin", pseudoRandomBytes(8 * S3PolicyTests.chunk - 500, seed: 9))
        let killed = try s3.crsync(["sync", local, "cloudreve://my/One", "--workers", "1"], environment: ["CRSYNC_CRASH_AT": "after-reply:3"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, policy)
        let result = try s3.sync(local, "cloudreve://my/One")
        XCTAssertEqual(result.status, 0, "\(policy): \(result.stderr)")
        try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/One", "\(policy) after-reply:3")
        let puts = s3.moto!.partPuts()
        XCTAssertEqual(Set(puts.map(\.uploadID)).count, 1, "\(policy): the multipart upload was resumed, not replaced")
        var perPart: [Int: Int] = [:]
        for put in puts { perPart[put.part, default: 0] += 1 }
        XCTAssertEqual(perPart, [1: 1, 2: 1, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1], "\(policy): only the unjournaled part 3 goes twice")
        XCTAssertEqual(try s3.server.stats().sessionsCreated, 1, policy)
    }

    /// Kills between the last part and the journal's record of the finished file (for oss and obs the
    /// storage's callback to Cloudreve lies inside the completion): at most the last part again.
    func testKillsAroundCompletionFinishWithoutResendingJournaledParts() throws {
        for policy in Self.crashPolicies { try killsAroundCompletion(policy) }
    }

    private func killsAroundCompletion(_ policy: String) throws {
        let s3 = try Self.s3Scenario(["--policy", policy])
        defer { s3.tearDown() }
        for (n, moment) in ["after-last-reply:1", "after-last-ack:1", "after-storage-complete:1", "before-synced:1", "last-chunk:1"].enumerated() {
            let local = s3.scratch + "/m\(n)"
            try writeFile(local + "/f.bin", pseudoRandomBytes(4 * S3PolicyTests.chunk - 100, seed: UInt64(40 + n)))
            let before = s3.moto!.partPuts().count
            let resentBefore = s3.resentParts
            let killed = try s3.crsync(["sync", local, "cloudreve://my/M\(n)"], environment: ["CRSYNC_CRASH_AT": moment])
            XCTAssertEqual(killed.status, 128 + SIGKILL, "\(policy) \(moment)")
            let result = try s3.sync(local, "cloudreve://my/M\(n)")
            XCTAssertEqual(result.status, 0, "\(policy) \(moment): \(result.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/M\(n)", "\(policy) \(moment)")
            let sent = s3.moto!.partPuts().count - before
            let resent = s3.resentParts - resentBefore
            // after-last-reply and last-chunk: the last part had no journaled ETag; the others: nothing again.
            let allowed = moment.hasPrefix("after-last-reply") || moment.hasPrefix("last-chunk") ? 1 : 0
            XCTAssertLessThanOrEqual(resent, allowed, "\(policy) \(moment): \(sent) part PUTs for 4 parts")
            XCTAssertLessThanOrEqual(sent, 4 + allowed, "\(policy) \(moment)")
            XCTAssertEqual(try s3.server.stats().sessionsCreated, n + 1, "\(policy) \(moment): the session was resumed, not replaced")
        }
    }

    /// Random SIGKILLs and kills at chosen moments, several files and parts in flight: a part with a journaled
    /// ETag is never sent again, at most the parts in flight go twice, and the end state is byte-identical with
    /// nothing open in the bucket. Counted from moto's log.
    func testSigkillsMidUploadCostAtMostThePartsInFlight() throws {
        for policy in Self.crashPolicies { try sigkillsMidUpload(policy) }
    }

    private func sigkillsMidUpload(_ policy: String) throws {
        // Three parts of a file in flight at once (the policy's chunk_concurrency).
        let perFile = 3, workers = 2
        let s3 = try Self.s3Scenario(["--policy", policy, "--chunk-concurrency", "\(perFile)"])
        defer { s3.tearDown() }
        let local = s3.scratch + "/tree"
        _ = try Self.makeTree(at: local, count: 10, parts: 8)
        func putCounts() -> [String: Int] {
            var counts: [String: Int] = [:]
            for put in s3.moto!.partPuts() { counts["\(put.uploadID.removingPercentEncoding ?? put.uploadID)#\(put.part)", default: 0] += 1 }
            return counts
        }
        let moments = ["after-reply:3", "last-chunk:1", "after-create:2", "after-reply:1", "after-last-reply:1", "after-last-ack:1",
                       "before-synced:1"]
        var kills = 0
        // Each part with a journaled ETag at a kill, and how often it had been PUT then: never again after.
        var acknowledged: [String: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<12 {
            var environment: [String: String] = [:]
            if round % 2 == 0 { environment["CRSYNC_CRASH_AT"] = moments[(round / 2) % moments.count] }
            // 4 MB/s: a pass takes seconds, so a random kill lands mid-upload.
            let child = try s3.start(["sync", local, "cloudreve://my/Kill", "--workers", "\(workers)", "--bwlimit", "4M"],
                                     environment: environment)
            if environment.isEmpty {
                usleep(UInt32.random(in: 200_000...900_000, using: &generator))
                child.signal(SIGKILL)
            }
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
        let resent = s3.resentParts
        let bound = kills * workers * perFile
        print("\(policy): \(kills) SIGKILLs, \(s3.moto!.partPuts().count) part PUTs, \(resent) parts re-sent (bound \(bound) = "
              + "kills × workers × parts in flight per file), \(acknowledged.count) journaled at a kill")
        XCTAssertGreaterThanOrEqual(kills, 9, "\(policy): most rounds must really be killed mid-upload")
        XCTAssertFalse(acknowledged.isEmpty, "\(policy): the kills must land after some parts were acknowledged")
        XCTAssertEqual(acknowledged.filter { $0.value == 0 || counts[$0.key] != $0.value }.keys.sorted()
            .map { "\($0): \(acknowledged[$0]!) PUTs at the kill, \(counts[$0] ?? 0) at the end" }, [],
                       "\(policy): acknowledged parts were sent again")
        XCTAssertLessThanOrEqual(resent, bound, policy)
    }

    /// A callback answered 40055 (the object on the storage is not the session's size) cancels the session
    /// (Cloudreve answers -1, as our own completion left nothing to abort) and uploads the file again.
    func testSizeMismatchAtTheCallbackRestartsTheUpload() throws {
        let s3 = try Self.s3Scenario([])
        defer { s3.tearDown() }
        let local = s3.scratch + "/mm"
        try writeFile(local + "/f.bin", pseudoRandomBytes(3 * S3PolicyTests.chunk + 7, seed: 80))
        let killed = try s3.crsync(["sync", local, "cloudreve://my/MM"], environment: ["CRSYNC_CRASH_AT": "after-storage-complete:1"])
        XCTAssertEqual(killed.status, 128 + SIGKILL)
        // Someone truncates the completed object on the storage before the callback.
        let listing = try HTTPTransport().perform(HTTPRequest(method: "GET", url: s3.moto!.url + "/\(MotoServer.bucket)?list-type=2"))
        let text = String(decoding: listing.body, as: UTF8.self)
        let key = try XCTUnwrap(text.components(separatedBy: "<Key>").dropFirst().first?.components(separatedBy: "</Key>").first)
        XCTAssertTrue(key.hasSuffix("/f.bin"), key)
        let put = try HTTPTransport().perform(HTTPRequest(method: "PUT", url: s3.moto!.url + "/\(MotoServer.bucket)/" + key, body: .bytes([1, 2, 3])))
        XCTAssertEqual(put.status, 200)
        let result = try s3.sync(local, "cloudreve://my/MM")
        XCTAssertEqual(result.status, 0, result.stderr)
        try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/MM", "after 40055")
        XCTAssertEqual(try s3.server.stats().sessionsCreated, 2, "the mismatched session was replaced")
        XCTAssertEqual(try s3.server.stats().int("sessions_cancelled"), 1)
        let log = s3.server.process.stderr
        XCTAssertTrue(log.contains("400 code=40055"), "the callback refused the object: \(log)")
        XCTAssertTrue(log.contains("DELETE /api/v4/file/upload 200 code=-1"), "the cancel after our own completion answered -1")
    }

    /// An expired session's presigned URLs are dead: the resume cancels it and starts a new one.
    func testExpiredS3SessionIsReplacedWithNothingLeftOpen() throws {
        let s3 = try Self.s3Scenario(["--session-ttl", "3"])
        defer { s3.tearDown() }
        let local = s3.scratch + "/ttl"
        try writeFile(local + "/f.bin", pseudoRandomBytes(6 * S3PolicyTests.chunk, seed: 77))
        let killed = try s3.crsync(["sync", local, "cloudreve://my/TTL"], environment: ["CRSYNC_CRASH_AT": "after-reply:2"])
        XCTAssertEqual(killed.status, 128 + SIGKILL)
        sleep(4)
        let result = try s3.sync(local, "cloudreve://my/TTL")
        XCTAssertEqual(result.status, 0, result.stderr)
        try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/TTL", "expired session")
        XCTAssertEqual(try s3.server.stats().sessionsCreated, 2)
        XCTAssertEqual(Set(s3.moto!.partPuts().map(\.uploadID)).count, 2)
    }

    /// `crsync sessions` lists an interrupted S3 session; once it is stale (expired), `sessions clean` cancels
    /// it: placeholder gone, and the multipart upload aborted (by the server's upload sentinel, as the
    /// session's KV entry expired with it, §4).
    func testSessionsListsAndCleansS3Sessions() throws {
        for policy in Self.crashPolicies { try sessionsListsAndCleans(policy) }
    }

    private func sessionsListsAndCleans(_ policy: String) throws {
        let s3 = try Self.s3Scenario(["--policy", policy, "--session-ttl", "3"])
        defer { s3.tearDown() }
        let local = s3.scratch + "/sess"
        try writeFile(local + "/f.bin", pseudoRandomBytes(6 * S3PolicyTests.chunk, seed: 78))
        let killed = try s3.crsync(["sync", local, "cloudreve://my/Sess"], environment: ["CRSYNC_CRASH_AT": "after-reply:2"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, policy)
        let listed = try s3.crsync(["sessions"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertTrue(listed.stdout.contains("f.bin") && listed.stdout.contains("resumable") && listed.stdout.contains("(\(policy) bucket)"),
                      "\(policy): \(listed.stdout)")
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 1, policy)
        sleep(4)
        XCTAssertTrue(try s3.crsync(["sessions"]).stdout.contains("stale"), policy)
        let cleaned = try s3.crsync(["sessions", "clean"])
        XCTAssertEqual(cleaned.status, 0, "\(policy): \(cleaned.stderr)")
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0, "\(policy): sessions clean left the multipart upload open")
        XCTAssertEqual(try s3.placeholders(under: "cloudreve://my").count, 0, policy)
        XCTAssertFalse(try s3.crsync(["sessions"]).stdout.contains("f.bin"), policy)
    }

    /// `DELETE /file/upload` on a live S3 session aborts its multipart upload on the storage (§8c).
    func testCancellingALiveS3SessionAbortsTheMultipartUpload() throws {
        let s3 = try Self.s3Scenario([])
        defer { s3.tearDown() }
        let client = try s3.server.client()
        let target = try CloudrevePath(parsing: "cloudreve://my/c.bin")
        let (reply, _) = try client.createUploadSession(UploadSessionRequest(uri: target.uri, size: 3 * Int64(S3PolicyTests.chunk),
                                                                                   lastModified: 0, policyID: nil, previous: nil))
        let session = reply.session
        let parsed = try XCTUnwrap(reply.s3)
        XCTAssertEqual(parsed.uploadURLs.count, 3)
        // Chunks of a direct session do not go through Cloudreve: 40006.
        let blob = s3.scratch + "/c.bin"
        try writeFile(blob, pseudoRandomBytes(S3PolicyTests.chunk, seed: 1))
        let fd = open(blob, O_RDONLY)
        defer { close(fd) }
        XCTAssertThrowsError(try client.uploadChunk(sessionID: session.sessionID, index: 0, fd: fd, offset: 0, length: Int64(S3PolicyTests.chunk),
                                                    expectedDuration: 1)) {
            XCTAssertEqual(($0 as? CloudreveError)?.code, 40006)
        }
        XCTAssertTrue(parsed.uploadURLs[0].contains("X-Amz-Expires=86399") && parsed.uploadURLs[0].contains("content-length%3Bhost"),
                      parsed.uploadURLs[0])
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 1)
        try client.cancelUploadSession(id: session.sessionID, uri: target.uri)
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0)
        XCTAssertNil(try client.fileInfoIfExists(target))
        // The callback of a cancelled session: HTTP 401, 40011.
        XCTAssertThrowsError(try client.storageCallback(type: "s3", sessionID: session.sessionID, secret: parsed.callbackSecret)) {
            XCTAssertEqual(($0 as? CloudreveError)?.code, 40011)
        }
    }

    /// The callback answers of §8c, from the dev server on top of moto: -1 before the completion, 40055 for an
    /// object of the wrong size (moto accepts any part length; the dev server must catch it), 401/40020 for a
    /// wrong secret, 0 once complete, then 401/40011; and -1 for a cancel after our own completion.
    func testCallbackAnswersAsCloudreve418() throws {
        let s3 = try Self.s3Scenario([])
        defer { s3.tearDown() }
        let client = try s3.server.client()
        let chunk = Int64(S3PolicyTests.chunk)
        let blob = s3.scratch + "/blob.bin"
        try writeFile(blob, pseudoRandomBytes(Int(2 * chunk), seed: 5))
        let fd = open(blob, O_RDONLY)
        defer { close(fd) }
        func code(_ body: () throws -> Void) -> Int? {
            do { try body(); return 0 } catch { return (error as? CloudreveError)?.code ?? -999 }
        }

        // A first part cut short: the object is complete but too small.
        let short = try CloudrevePath(parsing: "cloudreve://my/short.bin")
        let (r1, _) = try client.createUploadSession(UploadSessionRequest(uri: short.uri, size: 2 * chunk, lastModified: 0, policyID: nil, previous: nil))
        let s1 = r1.session, p1 = try XCTUnwrap(r1.s3)
        XCTAssertEqual(code { try client.storageCallback(type: "s3", sessionID: s1.sessionID, secret: p1.callbackSecret) }, -1, "not complete yet")
        let e1 = try client.putPart(url: p1.uploadURLs[0], fd: fd, offset: 0, length: chunk - 10)
        let e2 = try client.putPart(url: p1.uploadURLs[1], fd: fd, offset: chunk, length: chunk)
        XCTAssertTrue(e1.hasPrefix("\"") && e1.hasSuffix("\""), "the ETag comes with its quotes: \(e1)")
        try client.completeMultipart(url: p1.completeURL, etags: [0: e1, 1: e2])
        XCTAssertEqual(code { try client.storageCallback(type: "s3", sessionID: s1.sessionID, secret: p1.callbackSecret) }, 40055)
        XCTAssertEqual(try client.fileInfo(short).size, 0, "the placeholder stays at size 0")
        // Our own completion went through: the cancel cannot abort anything and answers -1, placeholder gone anyway.
        XCTAssertEqual(code { try client.cancelUploadSession(id: s1.sessionID, uri: short.uri) }, -1)
        XCTAssertNil(try client.fileInfoIfExists(short))

        // The right lengths: wrong secret refused, then done, then the session is used up.
        let good = try CloudrevePath(parsing: "cloudreve://my/good.bin")
        let (r2, _) = try client.createUploadSession(UploadSessionRequest(uri: good.uri, size: 2 * chunk, lastModified: 0, policyID: nil, previous: nil))
        let s2 = r2.session, p2 = try XCTUnwrap(r2.s3)
        let etags = [0: try client.putPart(url: p2.uploadURLs[0], fd: fd, offset: 0, length: chunk),
                     1: try client.putPart(url: p2.uploadURLs[1], fd: fd, offset: chunk, length: chunk)]
        try client.completeMultipart(url: p2.completeURL, etags: etags)
        XCTAssertEqual(code { try client.storageCallback(type: "s3", sessionID: s2.sessionID, secret: "wrong") }, 40020)
        XCTAssertEqual(code { try client.storageCallback(type: "s3", sessionID: s2.sessionID, secret: p2.callbackSecret) }, 0)
        XCTAssertEqual(try client.fileInfo(good).size, 2 * chunk)
        XCTAssertNil(try client.fileInfo(good).uploadSessionID)
        XCTAssertEqual(code { try client.storageCallback(type: "s3", sessionID: s2.sessionID, secret: p2.callbackSecret) }, 40011)
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0)
    }

    /// Policies crsync cannot drive yet fail at once, for good, naming the type; nothing is left behind.
    func testUnsupportedPoliciesFailClearly() throws {
        for policy in ["qiniu", "upyun"] {
            let scenario = try Scenario(serverArguments: ["--policy", policy])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/t"
            try writeFile(local + "/a.txt", Array("hello".utf8))
            let started = Date()
            let result = try scenario.sync(local, "cloudreve://my/U")
            XCTAssertEqual(result.status, 1, "\(policy): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("'\(policy)'") && result.stderr.contains("does not support yet")
                          && result.stderr.contains("relay mode"), "\(policy): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 20, "\(policy): no hang")
            XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").count, 0, policy)
        }
    }
}
