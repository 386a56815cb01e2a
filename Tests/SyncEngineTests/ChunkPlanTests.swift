import CloudreveAPI
import XCTest
@testable import SyncEngine

final class ChunkPlanTests: XCTestCase {
    let mib: Int64 = 1 << 20

    func testEmptyFileIsOneZeroByteChunk() {
        let plan = ChunkPlan(size: 0, chunkSize: mib)
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan.range(of: 0).length, 0)
    }

    func testSizesAroundChunkBoundaries() {
        XCTAssertEqual(ChunkPlan(size: mib, chunkSize: mib).count, 1)
        XCTAssertEqual(ChunkPlan(size: mib - 1, chunkSize: mib).count, 1)
        XCTAssertEqual(ChunkPlan(size: mib + 1, chunkSize: mib).count, 2)
        XCTAssertEqual(ChunkPlan(size: 3 * mib, chunkSize: mib).count, 3)
        let plan = ChunkPlan(size: 2 * mib + 1, chunkSize: mib)
        XCTAssertEqual(plan.range(of: 1).offset, mib)
        XCTAssertEqual(plan.range(of: 1).length, mib)
        XCTAssertEqual(plan.range(of: 2).offset, 2 * mib)
        XCTAssertEqual(plan.range(of: 2).length, 1)
    }

    func testChunkSizeZeroSendsWholeFileAsIndexZero() {
        let plan = ChunkPlan(size: 5 * mib, chunkSize: 0)
        XCTAssertEqual(plan.count, 1)
        XCTAssertEqual(plan.range(of: 0).length, 5 * mib)
    }

    func testRemainingIsEverythingNotAcknowledged() {
        XCTAssertEqual(ChunkPlan(size: 5 * mib, chunkSize: mib).remaining(acknowledged: [0, 2, 4]), [1, 3])
    }

    func testBeforeFourSevenChunksGoStrictlyInOrderOneAtATime() {
        let plan = ChunkPlan(size: 4 * mib, chunkSize: mib)
        XCTAssertEqual(plan.sendable(acknowledged: [], inFlight: [], version: .v(0), concurrency: 4), [0])
        XCTAssertEqual(plan.sendable(acknowledged: [], inFlight: [0], version: .v(0), concurrency: 4), [])
        XCTAssertEqual(plan.sendable(acknowledged: [0, 1], inFlight: [], version: .v(6), concurrency: 4), [2])
    }

    func testLastChunkWaitsForAllOthersOnServer4_11() {
        let plan = ChunkPlan(size: 4 * mib, chunkSize: mib)
        XCTAssertEqual(plan.sendable(acknowledged: [], inFlight: [], version: .v(11), concurrency: 8), [0, 1, 2])
        XCTAssertEqual(plan.sendable(acknowledged: [0, 1], inFlight: [2], version: .v(11), concurrency: 8), [],
                       "the last index completes the file on 4.11, so it must not race chunk 2")
        XCTAssertEqual(plan.sendable(acknowledged: [0, 1, 2], inFlight: [], version: .v(11), concurrency: 8), [3])
    }

    func testConcurrencyCapsChunksInFlight() {
        let plan = ChunkPlan(size: 10 * mib, chunkSize: mib)
        XCTAssertEqual(plan.sendable(acknowledged: [], inFlight: [0], version: .v(11), concurrency: 3), [1, 2])
        XCTAssertEqual(plan.sendable(acknowledged: [], inFlight: [], version: .v(18), concurrency: 1), [0])
    }

    func testAnyOrderOn4_18() {
        let plan = ChunkPlan(size: 3 * mib, chunkSize: mib)
        XCTAssertEqual(plan.sendable(acknowledged: [0], inFlight: [1], version: .v(18), concurrency: 4), [2])
    }

    func testResumeOnlyWhenSameFileAndTimeLeft() {
        let identity = FileIdentity(device: 1, inode: 2, size: 10, mtimeNs: 5)
        let now = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(resumeDecision(sessionExpires: now.addingTimeInterval(3600), sessionIdentity: identity,
                                      currentIdentity: identity, now: now, timeToFinish: 60), .resume)
        var changed = identity
        changed.size = 11
        guard case .restart = resumeDecision(sessionExpires: now.addingTimeInterval(3600), sessionIdentity: identity,
                                             currentIdentity: changed, now: now, timeToFinish: 60) else {
            return XCTFail("a changed file must not resume")
        }
        guard case .restart = resumeDecision(sessionExpires: now.addingTimeInterval(100), sessionIdentity: identity,
                                             currentIdentity: identity, now: now, timeToFinish: 60) else {
            return XCTFail("a session expiring before the rest is sent must restart")
        }
    }

    func testBackoffDoublesWithJitterUpToCap() {
        XCTAssertEqual(backoffDelay(attempt: 1, base: 1, cap: 30, random: 0), 0.5)
        XCTAssertEqual(backoffDelay(attempt: 1, base: 1, cap: 30, random: 0.999), 1, accuracy: 0.01)
        XCTAssertEqual(backoffDelay(attempt: 3, base: 1, cap: 30, random: 0), 2)
        XCTAssertEqual(backoffDelay(attempt: 20, base: 1, cap: 30, random: 0.999), 30, accuracy: 0.1)
    }
}

final class JournalMoveTests: XCTestCase {
    func testMovingAFolderCarriesEveryRecordByteExactly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crsync-move-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let journal = try Journal(path: dir + "/j.sqlite")
        let id = FileIdentity(device: 1, inode: 1, size: 1, mtimeNs: 1)
        for path in ["caf\u{E9}/a.txt", "caf\u{E9}/sub/b.txt", "cafe\u{301}/c.txt", "caf\u{E9}x/d.txt", "caf\u{E9}"] {
            _ = try journal.noteScanned(root: "r", path: path, identity: id)
        }
        XCTAssertEqual(try journal.records(root: "r", under: "caf\u{E9}").count, 3, "the folder, its files, not the NFD twin or caf\u{E9}x")
        XCTAssertEqual(try journal.move(root: "r", from: "caf\u{E9}", to: "日本"), 3)
        let paths = try journal.records(root: "r").map { Array($0.path.utf8) }
        XCTAssertTrue(paths.contains(Array("日本/a.txt".utf8)))
        XCTAssertTrue(paths.contains(Array("日本/sub/b.txt".utf8)))
        XCTAssertTrue(paths.contains(Array("cafe\u{301}/c.txt".utf8)))
        XCTAssertTrue(paths.contains(Array("caf\u{E9}x/d.txt".utf8)))
    }
}

final class AcknowledgedBytesTests: XCTestCase {
    func testAcknowledgedBytesCountsTheShortLastChunkExactly() {
        let identity = FileIdentity(device: 1, inode: 1, size: 2 * 1024 + 10, mtimeNs: 1)
        var session = SessionRecord(fileRowID: 1, sessionID: "s", uri: "u", sessionJSON: [], serverVersion: "4.18.0", chunkSize: 1024,
                                    chunkCount: 3, expires: Date(), identity: identity, createdAt: Date())
        XCTAssertEqual(acknowledgedBytes(session), 0)
        session.acknowledged = [0, 2]
        XCTAssertEqual(acknowledgedBytes(session), 1024 + 10)
    }
}
