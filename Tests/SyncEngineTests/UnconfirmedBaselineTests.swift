import CloudreveAPI
import Foundation
import XCTest
@testable import SyncEngine

/// When a chunk's reply proves the upload complete without `GET /file/info`, and when a file found later
/// is taken for that upload (UnconfirmedBaseline.swift).
final class UnconfirmedBaselineTests: XCTestCase {
    // 2024-01-02T03:04:05.678Z
    let mtimeNs: Int64 = 1_704_164_645_678_000_000

    func info(size: Int64, updated: String, type: Int = 0, session: String? = nil) throws -> FileInfo {
        var json: [String: Any] = ["type": type, "id": "f1", "name": "a", "size": size, "path": "cloudreve://my/a",
                                   "updated_at": updated, "primary_entity": "e1"]
        if let session { json["metadata"] = ["sys:upload_session_id": session] }
        return try JSONDecoder().decode(FileInfo.self, from: JSONSerialization.data(withJSONObject: json))
    }

    func testOnlyAFreshSessionOnTheServersRouteWithNoRetryProvesCompletion() {
        XCTAssertTrue(acknowledgementsProveCompletion(route: .server, createdInThisAttempt: true, chunksRetried: 0))
        // A retried chunk can answer 0 without completing (4.18 after a failed completion).
        XCTAssertFalse(acknowledgementsProveCompletion(route: .server, createdInThisAttempt: true, chunksRetried: 1))
        // A resumed session's earlier chunks may have gone before a lost reply.
        XCTAssertFalse(acknowledgementsProveCompletion(route: .server, createdInThisAttempt: false, chunksRetried: 0))
        // Completed elsewhere, by callbacks.
        XCTAssertFalse(acknowledgementsProveCompletion(route: .remote(url: "http://node/upload", credential: "c"),
                                                       createdInThisAttempt: true, chunksRetried: 0))
        XCTAssertFalse(acknowledgementsProveCompletion(route: .oneDrive(url: "http://od", sessionID: "s", callbackSecret: "x"),
                                                       createdInThisAttempt: true, chunksRetried: 0))
        // A bucket's session (its parts go through S3Parts, completed by the provider and a callback).
        XCTAssertFalse(acknowledgementsProveCompletion(route: .unsupported(type: "s3"), createdInThisAttempt: true, chunksRetried: 0))
    }

    func testAFileFoundLaterIsOursOnlyWithOurSizeAndFromFourFourOurMtime() throws {
        let ours = RemoteBaseline.unconfirmed(size: 10, mtimeNs: mtimeNs)
        XCTAssertTrue(ours.isUnconfirmed)
        XCTAssertTrue(isUnconfirmedUpload(try info(size: 10, updated: "2024-01-02T03:04:05.678Z"), baseline: ours, version: .v(18)))
        XCTAssertFalse(isUnconfirmedUpload(try info(size: 11, updated: "2024-01-02T03:04:05.678Z"), baseline: ours, version: .v(18)))
        // Someone's edit of the same size: another updated_at.
        XCTAssertFalse(isUnconfirmedUpload(try info(size: 10, updated: "2024-03-01T00:00:00Z"), baseline: ours, version: .v(18)))
        // Before 4.4 updated_at is the completion time: the size is all there is.
        XCTAssertTrue(isUnconfirmedUpload(try info(size: 10, updated: "2024-03-01T00:00:00Z"), baseline: ours, version: .v(0)))
        // A placeholder (an upload of someone's, open) or a folder is never ours.
        XCTAssertFalse(isUnconfirmedUpload(try info(size: 10, updated: "2024-01-02T03:04:05.678Z", session: "s1"), baseline: ours, version: .v(18)))
        XCTAssertFalse(isUnconfirmedUpload(try info(size: 10, updated: "2024-01-02T03:04:05.678Z", type: 1), baseline: ours, version: .v(0)))

        let learned = RemoteBaseline(learned: try info(size: 10, updated: "2024-01-02T03:04:05.678Z"), from: ours)
        XCTAssertEqual(learned, RemoteBaseline(fileID: "f1", entity: "e1", size: 10, mtimeNs: mtimeNs))
        XCTAssertFalse(learned.isUnconfirmed)
    }

    func testTheJournalLearnsAnIDOnlyForTheUploadItWasAskedAbout() throws {
        let folder = try TemporaryFolder()
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let a = try journal.noteScanned(root: "/r", path: "a", identity: identity(1))
        let b = try journal.noteScanned(root: "/r", path: "b", identity: identity(2))
        let unconfirmedA = RemoteBaseline.unconfirmed(size: identity(1).size, mtimeNs: identity(1).mtimeNs)
        try journal.markSynced(fileRowID: a.id, identity: identity(1), remote: unconfirmedA)
        try journal.markSynced(fileRowID: b.id, identity: identity(2), remote: baseline(2))
        XCTAssertEqual(try journal.unconfirmedRecords(root: "/r").map(\.path), ["a"])

        // Learned for an older upload than the one recorded now: left alone.
        let stale = RemoteBaseline.unconfirmed(size: 999, mtimeNs: 1)
        try journal.learnBaselines([(a.id, stale, baseline(9))])
        XCTAssertEqual(try journal.record(id: a.id)?.remote, unconfirmedA)

        let learned = RemoteBaseline(fileID: "fa", entity: "ea", size: unconfirmedA.size, mtimeNs: unconfirmedA.mtimeNs)
        try journal.learnBaselines([(a.id, unconfirmedA, learned)])
        XCTAssertEqual(try journal.record(id: a.id)?.remote, learned)
        XCTAssertEqual(try journal.unconfirmedRecords(root: "/r").map(\.path), [])
    }

    func testNotingAnUnchangedFileWritesNothing() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        let journal = try Journal(path: path)
        let a = try journal.noteScanned(root: "/r", path: "a", identity: identity(1))
        try journal.markSynced(fileRowID: a.id, identity: identity(1), remote: baseline(1))
        let changes = try SQLiteDatabase(path: path).query("SELECT seq FROM sqlite_sequence WHERE name = 'files'") { $0.int64(0) }
        var walBefore = stat()
        XCTAssertEqual(stat(path + "-wal", &walBefore), 0)
        for _ in 0..<20 { XCTAssertEqual(try journal.noteScanned(root: "/r", path: "a", identity: identity(1)).state, .synced) }
        var walAfter = stat()
        XCTAssertEqual(stat(path + "-wal", &walAfter), 0)
        XCTAssertEqual(walAfter.st_size, walBefore.st_size, "an unchanged file must cost no commit")
        XCTAssertEqual(try SQLiteDatabase(path: path).query("SELECT seq FROM sqlite_sequence WHERE name = 'files'") { $0.int64(0) }, changes)
    }
}
