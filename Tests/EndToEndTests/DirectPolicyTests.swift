import CloudreveAPI
import Foundation
import Transport
import XCTest

/// Direct uploads (issue 10): a slave node (`--policy remote` on the master, `--role node` on a second
/// crsync-devserver) and a OneDrive-style upload URL (`--policy onedrive`). Real processes, SIGKILLs at the
/// moments random timing rarely hits; afterwards, what a user would check on the server, and what reached
/// the storage (the node's own request counters).
final class DirectPolicyTests: XCTestCase {
    static let chunk = 256 << 10

    /// A slave node, then a scenario whose server is a master sending chunks to it.
    func remoteSetup(version: String, masterArguments: [String] = []) throws -> Scenario {
        try Scenario(policy: .remote, emulate: version, serverArguments: ["--chunk-size", "\(DirectPolicyTests.chunk)"] + masterArguments)
    }

    /// A tree of multi-chunk files, small ones and an empty one, in two folders. Returns the chunk count
    /// an upload of all of it takes (an empty file is one zero-byte chunk) and the count of empty files.
    func makeTree(at root: String, files: Int = 3, chunks: Int = 5) throws -> (chunks: Int, empty: Int) {
        var total = 0
        for i in 0..<files {
            let size = chunks * DirectPolicyTests.chunk - (i + 1) * 1000
            try writeFile(root + "/multi/file-\(i).bin", pseudoRandomBytes(size, seed: UInt64(40 + i)))
            total += (size + DirectPolicyTests.chunk - 1) / DirectPolicyTests.chunk
        }
        for i in 0..<3 {
            try writeFile(root + "/small/deeper/s-\(i).txt", Array("small \(i)".utf8))
            total += 1
        }
        try writeFile(root + "/small/empty", [])
        return (total + 1, 1)
    }

    // MARK: remote (slave node)

    func testRemoteTreeArrivesWholeThroughTheNodeOn418And40() throws {
        for version in ["4.18", "4.0"] {
            let scenario = try remoteSetup(version: version, masterArguments: ["--chunk-concurrency", "3"])
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            let expected = try makeTree(at: local)
            let result = try scenario.sync(local, "cloudreve://my/Remote")
            XCTAssertEqual(result.status, 0, "\(version): \(result.stderr)")
            try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Remote", version, oneVersionEach: true)
            XCTAssertEqual(try scenario.node!.stats().chunkRequests, expected.chunks, "\(version): every chunk once, to the node")
            XCTAssertEqual(try scenario.server.stats().chunkRequests, 0, "\(version): no chunk through the master")
            // Nothing changed: nothing is sent again.
            let again = try scenario.sync(local, "cloudreve://my/Remote")
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertEqual(try scenario.node!.stats().chunkRequests, expected.chunks, version)
        }
    }

    /// The daemon uses the same uploader: files written under a watched root arrive through the node,
    /// and a SIGKILLed daemon's half-sent file is finished by the next one without re-sending its chunks.
    func testDaemonUploadsThroughTheNodeAndResumesAfterSIGKILL() throws {
        let scenario = try remoteSetup(version: "4.18")
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/live"
        try writeFile(local + "/.ready", Array("ready".utf8))
        let config = try scenario.writeConfig("""
            [upload]
            workers = 1
            quiet_seconds = 1

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Live"
            """)
        let first = try scenario.startDaemon(config: config, environment: ["CRSYNC_CRASH_AT": "after-reply:4"])
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFile("cloudreve://my/Live/.ready") != nil }, first.stderr)
        try writeFile(local + "/big.bin", pseudoRandomBytes(8 * DirectPolicyTests.chunk, seed: 31))
        // .ready took one reply; big.bin's third is the kill.
        XCTAssertEqual(first.wait(), 128 + SIGKILL, first.stderr)
        let second = try scenario.startDaemon(config: config)
        defer { second.stop() }
        XCTAssertTrue(try eventually(timeout: 30) {
            let info = try scenario.remoteFile("cloudreve://my/Live/big.bin")
            return info?.size == Int64(8 * DirectPolicyTests.chunk) && info?.uploadSessionID == nil
        }, second.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Live", "daemon", oneVersionEach: true)
        // 1 for .ready, 8 for big.bin, and the one chunk whose reply the kill cut off.
        XCTAssertEqual(try scenario.node!.stats().chunkRequests, 1 + 8 + 1)
    }

    func testNodeChecksTheCredentialRefusesCrHeadersAndDropsCancelledSessions() throws {
        let scenario = try remoteSetup(version: "4.18")
        defer { scenario.tearDown() }
        let client = try scenario.server.client()
        let target = try CloudrevePath(parsing: "cloudreve://my/n/x.bin")
        let size = Int64(2 * DirectPolicyTests.chunk)
        let (created, json) = try client.createUploadSession(UploadSessionRequest(uri: target.uri, size: size, lastModified: 0,
                                                                                 policyID: nil, previous: nil))
        XCTAssertEqual(created.session.storagePolicy?.type, "remote")
        guard case .remote(let url, let credential) = created.route else {
            return XCTFail("not a remote session: \(String(decoding: json, as: UTF8.self))")
        }
        XCTAssertTrue(url.hasPrefix(scenario.node!.url + "/api/v4/slave/upload/"), url)
        XCTAssertTrue(credential.hasPrefix("Bearer Cr "))
        let body = [UInt8](repeating: 7, count: DirectPolicyTests.chunk)
        func code(_ headers: [(String, String)], _ bytes: [UInt8] = body) throws -> Int {
            let response = try HTTPTransport().perform(HTTPRequest(method: "POST", url: url + "?chunk=0", headers: headers, body: .bytes(bytes)))
            let reply = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            return (reply?["code"] as? NSNumber)?.intValue ?? -999
        }
        XCTAssertEqual(try code([]), 403, "no credential")
        XCTAssertEqual(try code([("Authorization", credential), ("X-Cr-Client-Id", "abc")]), 40071, "an X-Cr-* header breaks the signature")
        XCTAssertEqual(try code([("Authorization", credential.replacingOccurrences(of: "Cr ", with: "Cr x"))]), 40071, "tampered")
        XCTAssertEqual(try code([("Authorization", credential)], [1, 2, 3]), 40013, "wrong length")
        XCTAssertEqual(try code([("Authorization", credential)]), 0)
        XCTAssertEqual(scenario.nodeFiles().count, 1)

        try client.cancelUploadSession(id: created.session.sessionID, uri: target.uri)
        XCTAssertEqual(scenario.nodeFiles(), [], "the master's cancel reaches the node")
        XCTAssertEqual(try code([("Authorization", credential)]), 40011, "a chunk after cancel")
        XCTAssertNil(try client.fileInfoIfExists(target))
    }

    func testRemoteSigkillsNeverResendAcknowledgedChunks() throws {
        for version in ["4.18", "4.0"] {
            let scenario = try remoteSetup(version: version)
            defer { scenario.tearDown() }
            let local = scenario.scratch + "/tree"
            let expected = try makeTree(at: local, files: 4, chunks: 6)
            // One worker: each moment names one chunk. A kill after a reply loses that chunk's acknowledgement
            // (sent again: one), a kill halfway through a last chunk loses that request (one); the others
            // cost nothing, since the completed file is found with GET /file/info.
            let moments = ["after-reply:3", "last-chunk:1", "after-create:2", "after-last-reply:1", "after-reply:8",
                           "after-last-ack:1", "before-synced:1"]
            let mayResend = 3
            for moment in moments {
                let run = try scenario.crsync(["sync", local, "cloudreve://my/Crash", "--workers", "1"], environment: ["CRSYNC_CRASH_AT": moment])
                XCTAssertEqual(run.status, 128 + SIGKILL, "\(version) \(moment) was not killed: \(run.stderr)")
            }
            let final = try scenario.sync(local, "cloudreve://my/Crash", ["--workers", "1"])
            XCTAssertEqual(final.status, 0, "\(version): \(final.stderr)")
            try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Crash", version, oneVersionEach: true)
            let requests = try scenario.node!.stats().chunkRequests
            print("remote, emulate \(version): \(moments.count) SIGKILLs, \(requests) chunk requests on the node for \(expected.chunks) chunks")
            XCTAssertGreaterThanOrEqual(requests, expected.chunks)
            XCTAssertLessThanOrEqual(requests, expected.chunks + mayResend, "\(version): acknowledged chunks were sent again")
        }
    }

    func testRemoteResumeAfterExpiryStartsANewSessionAndCancelsTheOld() throws {
        let scenario = try remoteSetup(version: "4.18", masterArguments: ["--session-ttl", "4"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/big.bin", pseudoRandomBytes(6 * DirectPolicyTests.chunk, seed: 9))
        let killed = try scenario.crsync(["sync", local, "cloudreve://my/Exp"], environment: ["CRSYNC_CRASH_AT": "after-reply:2"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, killed.stderr)
        let listing = try scenario.crsync(["sessions"])
        XCTAssertTrue(listing.stdout.contains("big.bin") && listing.stdout.contains("ours (slave node), 1/6 chunks acknowledged"), listing.stdout)
        sleep(5)
        let result = try scenario.sync(local, "cloudreve://my/Exp")
        XCTAssertEqual(result.status, 0, result.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Exp", "after expiry", oneVersionEach: true)
        XCTAssertEqual(try scenario.server.stats().sessionsCreated, 2, "a new session, not the dead credential")
        XCTAssertEqual(try scenario.server.stats().int("sessions_cancelled"), 1, "the old session cancelled on the master")
        // Expired on the master too, so no abort reaches the node (§4); the node drops it on its own expiry.
        XCTAssertEqual(scenario.nodeFiles(), [])
    }

    func testAChangedFileCancelsItsLiveSessionOnTheNode() throws {
        let scenario = try remoteSetup(version: "4.18")
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/big.bin", pseudoRandomBytes(5 * DirectPolicyTests.chunk, seed: 11))
        let killed = try scenario.crsync(["sync", local, "cloudreve://my/Chg"], environment: ["CRSYNC_CRASH_AT": "after-reply:3"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, killed.stderr)
        XCTAssertEqual(scenario.nodeFiles().count, 1)
        try writeFile(local + "/big.bin", pseudoRandomBytes(5 * DirectPolicyTests.chunk - 7, seed: 12))
        let result = try scenario.sync(local, "cloudreve://my/Chg")
        XCTAssertEqual(result.status, 0, result.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Chg", "changed file", oneVersionEach: true)
        XCTAssertEqual(try scenario.node!.stats().int("sessions_cancelled"), 1, "the master's cancel reached the node")
    }

    /// The session dies on the node mid-upload (cancelled by someone else): the node answers the next chunk
    /// at its head and closes without reading the body (or, second round, resets it unanswered, as a
    /// broken pipe looks). Either way crsync learns what the node said (40011, by an empty request after a
    /// reset), finds the file not completed, and starts a new session.
    func testAChunkRefusedByTheNodeMidUploadRestartsTheUpload() throws {
        for reset in [false, true] {
            let scenario = try remoteSetup(version: "4.18", masterArguments: ["--chunk-size", "\(1 << 20)"])
            defer { scenario.tearDown() }
            try scenario.node!.devPost("/__dev/node", ["reset_refused_chunks": reset])
            let local = scenario.scratch + "/tree"
            try writeFile(local + "/big.bin", pseudoRandomBytes(12 << 20, seed: 21))
            let child = try scenario.start(["sync", local, "cloudreve://my/Refused", "--workers", "1", "--bwlimit", "4M"])
            let client = try scenario.server.client()
            let target = try CloudrevePath(parsing: "cloudreve://my/Refused/big.bin")
            var sessionID: String?
            XCTAssertTrue(try eventually(timeout: 20) {
                sessionID = try client.fileInfoIfExists(target)?.uploadSessionID
                let requests = try scenario.node!.stats().chunkRequests
                return sessionID != nil && requests >= 2
            })
            try client.cancelUploadSession(id: sessionID!, uri: target.uri)
            let status = child.wait()
            XCTAssertEqual(status, 0, child.stderr)
            try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Refused", "refused mid-upload, reset \(reset)", oneVersionEach: true)
            XCTAssertEqual(try scenario.server.stats().sessionsCreated, 2, "one new session after the refusal")
            let log = scenario.node!.process.stderr.split(separator: "\n")
            XCTAssertEqual(log.filter { $0.hasSuffix(" cut code=40011") }.count, reset ? 1 : 0, "\(log)")
            // One answered 40011: the refusal itself, or after a reset the empty request that reads it.
            XCTAssertEqual(log.filter { $0.hasSuffix(" 200 code=40011") }.count, 1, "\(log)")
        }
    }

    func testSessionsCleanCancelsRemoteSessionsOnTheNode() throws {
        let scenario = try remoteSetup(version: "4.18", masterArguments: ["--session-ttl", "4"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/big.bin", pseudoRandomBytes(4 * DirectPolicyTests.chunk, seed: 5))
        let killed = try scenario.crsync(["sync", local, "cloudreve://my/Clean"], environment: ["CRSYNC_CRASH_AT": "after-reply:3"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, killed.stderr)
        XCTAssertEqual(scenario.nodeFiles().count, 1)
        sleep(5)
        let clean = try scenario.crsync(["sessions", "clean"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [])
        XCTAssertFalse(try scenario.crsync(["sessions"]).stdout.contains("big.bin"))
        // The file goes on the next pass through a new session; the node has dropped the expired one.
        let result = try scenario.sync(local, "cloudreve://my/Clean")
        XCTAssertEqual(result.status, 0, result.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/Clean", "after clean", oneVersionEach: true)
    }

    // MARK: both

    /// The crash-resume suite's main scenario on each direct policy: SIGKILLs at random moments and at the
    /// exact moments random timing rarely hits, with uploads slowed by --bwlimit so the kills land mid-file.
    /// The bytes sent again stay within one chunk per worker per kill, counted where they arrive.
    func testSigkillsOnRemoteAndOneDriveCostAtMostTheChunksInFlight() throws {
        for policy in [StoragePolicy.remote, .onedrive] {
            let scenario = try Scenario(policy: policy, emulate: "4.18", serverArguments: ["--chunk-size", "\(DirectPolicyTests.chunk)"])
            defer { scenario.tearDown() }
            let storage = scenario.storageServer!
            let local = scenario.scratch + "/tree"
            var total: Int64 = 0
            // 24 MiB at 4 MB/s: more than ten short runs can finish, so every round has work to be killed in.
            for i in 0..<12 {
                let size = 8 * DirectPolicyTests.chunk - (i + 1) * 1000
                try writeFile(local + "/f/file-\(i).bin", pseudoRandomBytes(size, seed: UInt64(70 + i)))
                total += Int64(size)
            }
            let workers = 2
            let moments = ["after-reply:3", "last-chunk:1", "after-create:2", "after-last-reply:1", "after-last-ack:1"]
            var generator = SystemRandomNumberGenerator()
            var kills = 0
            for round in 0..<10 {
                var environment: [String: String] = [:]
                if round % 2 == 0 { environment["CRSYNC_CRASH_AT"] = moments[(round / 2) % moments.count] }
                let child = try scenario.start(["sync", local, "cloudreve://my/K", "--workers", "\(workers)", "--bwlimit", "4M"],
                                               environment: environment)
                if environment.isEmpty {
                    usleep(UInt32.random(in: 200_000...900_000, using: &generator))
                    child.signal(SIGKILL)
                }
                if child.wait() == 128 + SIGKILL { kills += 1 }
            }
            let final = try scenario.sync(local, "cloudreve://my/K", ["--workers", "\(workers)"])
            XCTAssertEqual(final.status, 0, "\(policy): \(final.stderr)")
            try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/K", policy.rawValue, oneVersionEach: true)
            let resent = Int64(try storage.stats().chunkBytes) - total
            let bound = Int64(kills * workers * DirectPolicyTests.chunk)
            print("\(policy): \(kills) SIGKILLs, \(resent) bytes sent again (bound \(bound) = kills × workers × chunk size)")
            XCTAssertGreaterThanOrEqual(kills, 8, "\(policy): most rounds must really be killed mid-upload")
            XCTAssertGreaterThanOrEqual(resent, 0)
            XCTAssertLessThanOrEqual(resent, bound, policy.rawValue)
        }
    }

    // MARK: onedrive

    func testOneDriveTreeArrivesWholeAndResumesFromNextExpectedRanges() throws {
        let scenario = try Scenario(policy: .onedrive, serverArguments: ["--chunk-size", "\(DirectPolicyTests.chunk)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let expected = try makeTree(at: local, files: 4, chunks: 5)
        // Kills where the journal lags the storage: the range was taken (so Graph expects the next one) but
        // not journaled, or everything was sent but the callback not made.
        for moment in ["after-reply:2", "after-reply:9", "after-last-ack:1", "after-create:3", "after-last-reply:1"] {
            let run = try scenario.crsync(["sync", local, "cloudreve://my/OD", "--workers", "1"], environment: ["CRSYNC_CRASH_AT": moment])
            XCTAssertEqual(run.status, 128 + SIGKILL, "\(moment) was not killed: \(run.stderr)")
        }
        let final = try scenario.sync(local, "cloudreve://my/OD", ["--workers", "1"])
        XCTAssertEqual(final.status, 0, final.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/OD", "onedrive", oneVersionEach: true)
        let ranges = try scenario.server.stats().chunkRequests
        print("onedrive: 5 SIGKILLs, \(ranges) range PUTs for \(expected.chunks - expected.empty) ranges")
        // The empty file goes by PUT /file/content (Graph takes no empty range); every range exactly once,
        // since a resume asks the upload URL what it still expects.
        XCTAssertEqual(ranges, expected.chunks - expected.empty)
    }

    func testSessionsListsAndCleansOneDriveSessions() throws {
        let scenario = try Scenario(policy: .onedrive, serverArguments: ["--chunk-size", "\(DirectPolicyTests.chunk)", "--session-ttl", "4"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/big.bin", pseudoRandomBytes(4 * DirectPolicyTests.chunk, seed: 6))
        let killed = try scenario.crsync(["sync", local, "cloudreve://my/ODC"], environment: ["CRSYNC_CRASH_AT": "after-reply:3"])
        XCTAssertEqual(killed.status, 128 + SIGKILL, killed.stderr)
        let listing = try scenario.crsync(["sessions"])
        XCTAssertTrue(listing.stdout.contains("big.bin") && listing.stdout.contains("ours (OneDrive), 2/4 chunks acknowledged"), listing.stdout)
        sleep(5)
        let clean = try scenario.crsync(["sessions", "clean"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my").map(\.path), [])
        XCTAssertFalse(try scenario.crsync(["sessions"]).stdout.contains("big.bin"))
        let result = try scenario.sync(local, "cloudreve://my/ODC")
        XCTAssertEqual(result.status, 0, result.stderr)
        try scenario.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/ODC", "after clean", oneVersionEach: true)
    }
}
