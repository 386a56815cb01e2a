import Foundation
import XCTest
@testable import SyncEngine

/// The upload-session side of the journal: what must survive kill -9.
final class JournalSessionTests: XCTestCase {
    let root = "/home/ana/Documents"
    private var folder: TemporaryFolder!
    private var path: String { folder.path + "/journal.sqlite" }

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder = nil
    }

    func testAcknowledgedChunkSurvivesAJournalThatWasNeverClosed() throws {
        let crashed = try Journal(path: path)
        let file = try crashed.noteScanned(root: root, path: "video.mkv", identity: identity(7))
        try crashed.saveSession(session(for: file.id, id: "s1"))
        try crashed.acknowledgeChunk(sessionID: "s1", index: 0)
        try crashed.acknowledgeChunk(sessionID: "s1", index: 2)

        // A second connection, as a restarted process would open, while the first is never closed:
        // what it sees is what was committed, not what sat in the first connection's memory.
        let restarted = try Journal(path: path)
        let resumed = try XCTUnwrap(try restarted.session(fileRowID: file.id))

        XCTAssertEqual(resumed.acknowledged, [0, 2])
        XCTAssertEqual(try restarted.sessions().map(\.acknowledged), [[0, 2]])
        withExtendedLifetime(crashed) {}
    }

    func testEverySessionFieldRoundTrips() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        let saved = session(for: file.id, id: "8a7c-session")
        try journal.saveSession(saved)

        let read = try XCTUnwrap(try Journal(path: path).session(fileRowID: file.id))

        XCTAssertEqual(read.fileRowID, saved.fileRowID)
        XCTAssertEqual(read.sessionID, saved.sessionID)
        XCTAssertEqual(read.uri, saved.uri)
        XCTAssertEqual(read.sessionJSON, saved.sessionJSON)
        XCTAssertEqual(read.serverVersion, "4.11.2")
        XCTAssertEqual(read.chunkSize, 26_214_400)
        XCTAssertEqual(read.chunkCount, 4)
        XCTAssertEqual(read.expires, saved.expires)
        XCTAssertEqual(read.identity, saved.identity)
        XCTAssertEqual(read.createdAt, saved.createdAt)
        XCTAssertEqual(read.acknowledged, [])
    }

    func testMarkSyncedRemovesTheSessionAndItsChunks() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        try journal.saveSession(session(for: file.id, id: "s1"))
        try journal.acknowledgeChunk(sessionID: "s1", index: 0)

        try journal.markSynced(fileRowID: file.id, identity: identity(1), remote: baseline(1))

        XCTAssertNil(try journal.session(fileRowID: file.id))
        XCTAssertTrue(try journal.sessions().isEmpty)
        XCTAssertEqual(try chunkRowCount(), 0)
        XCTAssertEqual(try journal.record(id: file.id)?.state, .synced)
    }

    func testDeleteSessionRemovesItsChunks() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        try journal.saveSession(session(for: file.id, id: "s1"))
        try journal.acknowledgeChunk(sessionID: "s1", index: 1)

        try journal.deleteSession(sessionID: "s1")
        try journal.deleteSession(sessionID: "s1")  // already gone: nothing to do

        XCTAssertNil(try journal.session(fileRowID: file.id))
        XCTAssertEqual(try chunkRowCount(), 0)
        XCTAssertEqual(try journal.record(id: file.id)?.state, .pending, "the file itself is untouched")
    }

    func testANewSessionReplacesTheFilesEarlierOneAndItsChunks() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        let other = try journal.noteScanned(root: root, path: "b", identity: identity(2))
        try journal.saveSession(session(for: file.id, id: "old"))
        try journal.saveSession(session(for: other.id, id: "other"))
        try journal.acknowledgeChunk(sessionID: "old", index: 0)

        try journal.saveSession(session(for: file.id, id: "new"))

        let current = try XCTUnwrap(try journal.session(fileRowID: file.id))
        XCTAssertEqual(current.sessionID, "new")
        XCTAssertEqual(current.acknowledged, [])
        XCTAssertEqual(try journal.sessions().map(\.sessionID).sorted(), ["new", "other"])
        XCTAssertEqual(try chunkRowCount(), 0)
    }

    func testSavingTheSameSessionAgainKeepsItsAcknowledgedChunks() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        var saved = session(for: file.id, id: "s1")
        try journal.saveSession(saved)
        try journal.acknowledgeChunk(sessionID: "s1", index: 0)

        saved.acknowledged = []  // ignored either way
        saved.expires = saved.expires.addingTimeInterval(60)
        try journal.saveSession(saved)

        let read = try XCTUnwrap(try journal.session(fileRowID: file.id))
        XCTAssertEqual(read.acknowledged, [0], "a ≤4.6 server must never get chunk 0 twice")
        XCTAssertEqual(read.expires, saved.expires)
    }

    func testAcknowledgingTwiceIsHarmless() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        try journal.saveSession(session(for: file.id, id: "s1"))
        try journal.acknowledgeChunk(sessionID: "s1", index: 3)
        try journal.acknowledgeChunk(sessionID: "s1", index: 3)
        XCTAssertEqual(try journal.session(fileRowID: file.id)?.acknowledged, [3])
    }

    func testAcknowledgingAChunkOfAnUnknownSessionThrowsSayingSo() throws {
        let journal = try Journal(path: path)
        XCTAssertThrowsError(try journal.acknowledgeChunk(sessionID: "never-saved", index: 0)) { error in
            XCTAssertTrue(String(describing: error).contains("no journaled upload session never-sa…"), "\(error)")
        }
        let file = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        try journal.saveSession(session(for: file.id, id: "s1"))
        XCTAssertThrowsError(try journal.acknowledgeChunk(sessionID: "s1", index: -1), "a negative index is a bug")
    }

    func testAForgottenFilesSessionStaysForCancellingOnTheServer() throws {
        let journal = try Journal(path: path)
        let file = try journal.noteScanned(root: root, path: "deleted-locally.bin", identity: identity(1))
        try journal.saveSession(session(for: file.id, id: "s1"))
        try journal.acknowledgeChunk(sessionID: "s1", index: 0)

        try journal.forget(fileRowID: file.id)

        let orphans = try journal.sessions().filter { try journal.record(id: $0.fileRowID) == nil }
        XCTAssertEqual(orphans.map(\.sessionID), ["s1"])
        XCTAssertEqual(orphans.first?.uri, "cloudreve://my/Documents/a")
        try journal.deleteSession(sessionID: "s1")
        XCTAssertTrue(try journal.sessions().isEmpty)
    }

    func testAcknowledgementsFromManyThreadsAreAllRecorded() throws {
        let journal = try Journal(path: path)
        let threads = 6, perThread = 20
        var files: [FileRecord] = []
        for thread in 0..<threads {
            let file = try journal.noteScanned(root: root, path: "f\(thread)", identity: identity(Int64(thread)))
            try journal.saveSession(session(for: file.id, id: "s\(thread)", chunkCount: perThread))
            files.append(file)
        }
        let errors = Locked<[Error]>([])

        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for index in 0..<perThread {
                do {
                    try journal.acknowledgeChunk(sessionID: "s\(thread)", index: index)
                    // Reads and other writes interleave with the acknowledgements.
                    _ = try journal.session(fileRowID: files[thread].id)
                    _ = try journal.noteScanned(root: root, path: "f\(thread)", identity: identity(Int64(thread)))
                } catch {
                    errors.mutate { $0.append(error) }
                }
            }
        }

        XCTAssertEqual(errors.value.map { "\($0)" }, [])
        for (thread, file) in files.enumerated() {
            XCTAssertEqual(try Journal(path: path).session(fileRowID: file.id)?.acknowledged, Set(0..<perThread), "thread \(thread)")
        }
    }

    // MARK: Helpers

    private func session(for fileRowID: Int64, id: String, chunkCount: Int = 4) -> SessionRecord {
        let json = #"{"session_id":"\#(id)","chunk_size":26214400,"expires":1800000000,"callback_secret":"x"}"#
        return SessionRecord(
            fileRowID: fileRowID, sessionID: id, uri: "cloudreve://my/Documents/a", sessionJSON: Array(json.utf8),
            serverVersion: "4.11.2", chunkSize: 26_214_400, chunkCount: chunkCount,
            expires: Date(timeIntervalSince1970: 1_800_000_000), identity: identity(1),
            createdAt: Date(timeIntervalSince1970: 1_799_913_600.25))
    }

    /// Counts chunk rows directly: a session gone from the API must not leave its chunks behind in the file.
    private func chunkRowCount() throws -> Int64 {
        try SQLiteDatabase(path: path).query("SELECT count(*) FROM chunks") { $0.int64(0) }.first ?? -1
    }
}

/// A value behind a lock, for collecting results from several threads in a test.
final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.lock(); defer { lock.unlock() }; return stored }
    func mutate(_ body: (inout Value) -> Void) { lock.lock(); defer { lock.unlock() }; body(&stored) }
}
