import Foundation
import Glibc
import XCTest
@testable import SyncEngine

/// The file side of the journal: scans, outcomes, paths.
final class JournalTests: XCTestCase {
    let root = "/home/ana/Documents"
    private var folder: TemporaryFolder!

    override func setUpWithError() throws {
        folder = try TemporaryFolder()
    }

    override func tearDown() {
        folder = nil
    }

    func testNoteScannedOfANewPathIsPending() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let record = try journal.noteScanned(root: root, path: "a/b.txt", identity: identity(1))
        XCTAssertEqual(record.state, .pending)
        XCTAssertEqual(record.local, identity(1))
        XCTAssertEqual(record.attempts, 0)
        XCTAssertNil(record.remote)
        XCTAssertEqual(try journal.record(root: root, path: "a/b.txt")?.id, record.id)
        XCTAssertEqual(try journal.record(id: record.id)?.path, "a/b.txt")
    }

    func testNoteScannedOfAnUnchangedFileKeepsItsState() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let synced = try journal.noteScanned(root: root, path: "s.txt", identity: identity(1))
        try journal.markSynced(fileRowID: synced.id, identity: identity(1), remote: baseline(1))
        let failed = try journal.noteScanned(root: root, path: "f.txt", identity: identity(2))
        let retryAt = Date(timeIntervalSince1970: 1_800_000_000.5)
        try journal.markFailed(fileRowID: failed.id, reason: "quota", permanent: true, nextAttemptAt: retryAt)

        let syncedAgain = try journal.noteScanned(root: root, path: "s.txt", identity: identity(1))
        let failedAgain = try journal.noteScanned(root: root, path: "f.txt", identity: identity(2))

        XCTAssertEqual(syncedAgain.state, .synced)
        XCTAssertEqual(syncedAgain.remote, baseline(1))
        XCTAssertEqual(failedAgain.state, .failed)
        XCTAssertEqual(failedAgain.attempts, 1)
        XCTAssertTrue(failedAgain.permanentFailure)
        XCTAssertEqual(failedAgain.nextAttemptAt, retryAt)
        XCTAssertEqual(failedAgain.lastError, "quota")
    }

    func testNoteScannedOfAChangedFileMakesItPendingWithAFreshStart() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let record = try journal.noteScanned(root: root, path: "doc.odt", identity: identity(1))
        try journal.markSynced(fileRowID: record.id, identity: identity(1), remote: baseline(1))
        try journal.markFailed(fileRowID: record.id, reason: "name refused", permanent: true,
                               nextAttemptAt: Date(timeIntervalSince1970: 2_000_000_000))
        try journal.markFailed(fileRowID: record.id, reason: "name refused", permanent: true, nextAttemptAt: nil)

        var changed = identity(1)
        changed.mtimeNs += 1  // one nanosecond is a change
        let after = try journal.noteScanned(root: root, path: "doc.odt", identity: changed)

        XCTAssertEqual(after.id, record.id)
        XCTAssertEqual(after.state, .pending)
        XCTAssertEqual(after.local, changed)
        XCTAssertEqual(after.attempts, 0)
        XCTAssertFalse(after.permanentFailure)
        XCTAssertNil(after.nextAttemptAt)
        XCTAssertEqual(after.remote, baseline(1), "the baseline stays: it is what `previous` must name")
    }

    func testEachIdentityFieldCountsAsAChange() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let changes: [(inout FileIdentity) -> Void] = [
            { $0.device += 1 }, { $0.inode += 1 }, { $0.size += 1 }, { $0.mtimeNs += 1 },
        ]
        for (index, change) in changes.enumerated() {
            let path = "f\(index)"
            let record = try journal.noteScanned(root: root, path: path, identity: identity(1))
            try journal.markSynced(fileRowID: record.id, identity: identity(1), remote: baseline(1))
            var changed = identity(1)
            change(&changed)
            XCTAssertEqual(try journal.noteScanned(root: root, path: path, identity: changed).state, .pending, "field \(index)")
        }
    }

    func testIdentitiesBeyondInt64RoundTrip() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let big = FileIdentity(device: UInt64.max, inode: UInt64.max - 1, size: Int64.max, mtimeNs: -1)
        XCTAssertEqual(try journal.noteScanned(root: root, path: "x", identity: big).local, big)
    }

    func testMarkSyncedRecordsWhatWasUploadedSoALaterChangeIsNoticed() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let record = try journal.noteScanned(root: root, path: "log.txt", identity: identity(1))
        // The file changes while it uploads; the scan notes the new identity before the upload finishes.
        _ = try journal.noteScanned(root: root, path: "log.txt", identity: identity(2))
        try journal.markSynced(fileRowID: record.id, identity: identity(1), remote: baseline(1))

        XCTAssertEqual(try journal.record(root: root, path: "log.txt")?.state, .synced)
        XCTAssertEqual(try journal.noteScanned(root: root, path: "log.txt", identity: identity(2)).state, .pending)
    }

    func testMarkFailedCountsAttemptsAndMarkPendingStartsAgain() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let record = try journal.noteScanned(root: root, path: "big.iso", identity: identity(1))
        try journal.markFailed(fileRowID: record.id, reason: "timeout", permanent: false, nextAttemptAt: Date(timeIntervalSince1970: 10))
        try journal.markFailed(fileRowID: record.id, reason: "40049 too large", permanent: true, nextAttemptAt: nil)
        let failed = try XCTUnwrap(try journal.record(id: record.id))
        XCTAssertEqual(failed.state, .failed)
        XCTAssertEqual(failed.attempts, 2)
        XCTAssertEqual(failed.lastError, "40049 too large")
        XCTAssertTrue(failed.permanentFailure)
        XCTAssertNil(failed.nextAttemptAt)

        try journal.markPending(fileRowID: record.id)
        let pending = try XCTUnwrap(try journal.record(id: record.id))
        XCTAssertEqual(pending.state, .pending)
        XCTAssertEqual(pending.attempts, 0)
        XCTAssertFalse(pending.permanentFailure)
        XCTAssertEqual(pending.lastError, "40049 too large", "kept as history for `crsync status`")
    }

    func testNFCAndNFDPathsAreDistinctRecords() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let nfc = "Fotos/caf\u{e9}.jpg"
        let nfd = "Fotos/cafe\u{301}.jpg"
        XCTAssertEqual(nfc, nfd, "Swift's == calls them equal; the file system and the server do not")

        let first = try journal.noteScanned(root: root, path: nfc, identity: identity(1))
        let second = try journal.noteScanned(root: root, path: nfd, identity: identity(2))
        try journal.markSynced(fileRowID: first.id, identity: identity(1), remote: baseline(1))

        XCTAssertNotEqual(first.id, second.id)
        XCTAssertEqual(Array(try XCTUnwrap(try journal.record(root: root, path: nfc)).path.utf8), Array(nfc.utf8))
        XCTAssertEqual(Array(try XCTUnwrap(try journal.record(root: root, path: nfd)).path.utf8), Array(nfd.utf8))
        XCTAssertEqual(try journal.record(root: root, path: nfc)?.state, .synced)
        XCTAssertEqual(try journal.record(root: root, path: nfd)?.state, .pending)
        XCTAssertEqual(try journal.records(root: root).map { Array($0.path.utf8) }, [Array(nfd.utf8), Array(nfc.utf8)])
    }

    func testRecordsAreScopedToTheirRootAndOrderedByPathBytes() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        for path in ["b", "a/z", "a-c", "B"] { _ = try journal.noteScanned(root: root, path: path, identity: identity(1)) }
        _ = try journal.noteScanned(root: "/srv/other", path: "a", identity: identity(1))

        XCTAssertEqual(try journal.records(root: root).map(\.path), ["B", "a-c", "a/z", "b"])
        XCTAssertEqual(try journal.records(root: "/srv/other").map(\.path), ["a"])
        XCTAssertNil(try journal.record(root: "/srv/other", path: "b"))
    }

    func testNoteScannedInABatchMatchesOneByOne() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let kept = try journal.noteScanned(root: root, path: "kept", identity: identity(1))
        try journal.markSynced(fileRowID: kept.id, identity: identity(1), remote: baseline(1))

        let records = try journal.noteScanned(root: root, files: [
            ScannedFile(path: "kept", identity: identity(1)),
            ScannedFile(path: "new", identity: identity(2)),
        ])

        XCTAssertEqual(records.map(\.path), ["kept", "new"])
        XCTAssertEqual(records.map(\.state), [.synced, .pending])
    }

    func testForgetRemovesTheRecordAndNeverReusesItsID() throws {
        let journal = try Journal(path: folder.path + "/journal.sqlite")
        let gone = try journal.noteScanned(root: root, path: "gone.txt", identity: identity(1))
        try journal.forget(fileRowID: gone.id)

        XCTAssertNil(try journal.record(root: root, path: "gone.txt"))
        XCTAssertNil(try journal.record(id: gone.id))
        let next = try journal.noteScanned(root: root, path: "gone.txt", identity: identity(1))
        XCTAssertGreaterThan(next.id, gone.id, "a session still naming the old id must not attach to a new file")

        // Outcomes for a forgotten row arrive after the file vanished; they change nothing.
        try journal.markSynced(fileRowID: gone.id, identity: identity(1), remote: baseline(1))
        try journal.markFailed(fileRowID: gone.id, reason: "x", permanent: false, nextAttemptAt: nil)
        XCTAssertEqual(try journal.records(root: root).map(\.id), [next.id])
    }

    // MARK: The file on disk

    func testJournalFileAndTheFoldersItCreatesArePrivate() throws {
        let path = folder.path + "/state/crsync/journal.sqlite"
        let journal = try Journal(path: path)
        _ = try journal.noteScanned(root: root, path: "x", identity: identity(1))  // makes the -wal file exist

        XCTAssertEqual(mode(of: folder.path + "/state"), 0o700)
        XCTAssertEqual(mode(of: folder.path + "/state/crsync"), 0o700)
        XCTAssertEqual(mode(of: path), 0o600)
        XCTAssertEqual(mode(of: path + "-wal"), 0o600, "the WAL holds the same secrets")
    }

    func testAnExistingJournalFileIsNarrowedTo0600() throws {
        let path = try folder.file("journal.sqlite")
        XCTAssertEqual(chmod(path, 0o644), 0)
        _ = try Journal(path: path)
        XCTAssertEqual(mode(of: path), 0o600)
    }

    func testMigrationsSetUserVersion() throws {
        let path = folder.path + "/journal.sqlite"
        _ = try Journal(path: path)
        XCTAssertEqual(try SQLiteDatabase(path: path).userVersion, 5)
        XCTAssertEqual(JournalSchema.currentVersion, 5)
        _ = try Journal(path: path)  // opening a current journal migrates nothing and fails nothing
        XCTAssertEqual(try SQLiteDatabase(path: path).userVersion, 5)
    }

    func testAVersionOneJournalIsMigratedKeepingItsRecords() throws {
        let path = folder.path + "/journal.sqlite"
        let old = try SQLiteDatabase(path: path)
        try old.execute(JournalSchema.steps[0])
        try old.setUserVersion(1)
        try old.execute("INSERT INTO files (root, path, state, device, inode, size, mtime_ns) VALUES ('r', 'a.txt', 'synced', 1, 2, 3, 4)")
        let journal = try Journal(path: path)
        XCTAssertEqual(try journal.record(root: "r", path: "a.txt")?.state, .synced)
        try journal.setSetting("session_ttl", "86400")
        XCTAssertEqual(try journal.setting("session_ttl"), "86400")
        XCTAssertEqual(try SQLiteDatabase(path: path).userVersion, 5)
        XCTAssertEqual(try journal.queued(.upload).count, 0, "v4 adds the work queue, empty")
        try journal.markFailed(fileRowID: try XCTUnwrap(journal.record(root: "r", path: "a.txt")).id, reason: "quota",
                               permanent: true, nextAttemptAt: nil, code: 40051)
        XCTAssertEqual(try journal.record(root: "r", path: "a.txt")?.failureCode, 40051)
    }

    func testAJournalFromANewerCrsyncIsRefusedUntouched() throws {
        let path = folder.path + "/journal.sqlite"
        _ = try Journal(path: path)
        try SQLiteDatabase(path: path).setUserVersion(99)

        XCTAssertThrowsError(try Journal(path: path)) { error in
            XCTAssertTrue(String(describing: error).contains("newer crsync"), "\(error)")
        }
        XCTAssertEqual(try SQLiteDatabase(path: path).userVersion, 99)
    }

    // MARK: Helpers

    private func mode(of path: String) -> mode_t {
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0, path)
        return info.st_mode & 0o7777
    }
}

func identity(_ n: Int64) -> FileIdentity {
    FileIdentity(device: 2049, inode: UInt64(1000 + n), size: 100 * n, mtimeNs: 1_700_000_000_000_000_000 + n)
}

func baseline(_ n: Int64) -> RemoteBaseline {
    RemoteBaseline(fileID: "file\(n)", entity: "entity\(n)", size: 100 * n, mtimeNs: 1_700_000_000_000_000_000 + n)
}
