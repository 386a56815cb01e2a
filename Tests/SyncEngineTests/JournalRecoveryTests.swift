import CSQLite
import CloudreveAPI
import Foundation
import XCTest
@testable import SyncEngine

/// A damaged journal and a full state disk: how they are recognised, named and told.
final class JournalRecoveryTests: XCTestCase {
    func testAsideNameIsBesideTheJournalStampedInUTC() {
        let date = Date(timeIntervalSince1970: 1_764_504_062)  // 2025-11-30 12:01:02 UTC
        XCTAssertEqual(Journal.asideName(for: "/s/journal.sqlite", at: date), "/s/journal.sqlite.corrupt-20251130-120102")
    }

    func testCorruptionAndFullDiskAreRecognisedByPrimaryCodeAndErrno() {
        XCTAssertTrue(SQLiteError.isCorruption(code: SQLITE_CORRUPT))
        XCTAssertTrue(SQLiteError.isCorruption(code: 779))  // SQLITE_CORRUPT_VTAB: extended codes keep the primary
        XCTAssertTrue(SQLiteError.isCorruption(code: SQLITE_NOTADB))
        XCTAssertFalse(SQLiteError.isCorruption(code: SQLITE_IOERR))
        XCTAssertTrue(SQLiteError.isDiskFull(code: SQLITE_FULL, systemErrno: 0))
        // A full disk under the -shm file is an I/O error whose errno says ENOSPC.
        XCTAssertTrue(SQLiteError.isDiskFull(code: 4874 /* SQLITE_IOERR_SHMSIZE */, systemErrno: ENOSPC))
        XCTAssertTrue(SQLiteError.isDiskFull(code: SQLITE_IOERR, systemErrno: EDQUOT))
        XCTAssertFalse(SQLiteError.isDiskFull(code: SQLITE_IOERR, systemErrno: EIO))
        // errno is only meaningful next to an SQLite failure (code 0: crsync's own checks).
        XCTAssertFalse(SQLiteError.isDiskFull(code: 0, systemErrno: ENOSPC))
    }

    func testStateTroubleNamesTheStateDirectoryAndWhatToDo() {
        let full = SQLiteError(path: "/home/u/.local/state/crsync/journal.sqlite", statement: "COMMIT", code: SQLITE_FULL,
                               message: "database or disk is full")
        let message = stateTrouble(full) ?? ""
        XCTAssertTrue(message.contains("state directory /home/u/.local/state/crsync is full"), message)
        XCTAssertTrue(message.contains("free space there"), message)
        let damaged = SQLiteError(path: "/s/journal.sqlite", statement: "SELECT", code: SQLITE_CORRUPT, message: "malformed")
        XCTAssertTrue(stateTrouble(damaged)?.contains("moves the damaged journal aside") ?? false)
        XCTAssertNil(stateTrouble(SQLiteError(path: "/s/journal.sqlite", statement: "BEGIN", code: SQLITE_BUSY, message: "locked")))
        XCTAssertTrue(full.description.contains("disk holding the journal is full"))
    }

    func testNotADatabaseIsMovedAsideWithItsWALAndANewJournalOpens() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        try "not a database\n".write(toFile: path, atomically: false, encoding: .utf8)
        try "stale wal".write(toFile: path + "-wal", atomically: false, encoding: .utf8)
        let opened = try Journal.openRecovering(path: path, now: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(opened.movedAside, path + ".corrupt-19700101-000000")
        XCTAssertEqual(try String(contentsOfFile: path + ".corrupt-19700101-000000", encoding: .utf8), "not a database\n")
        // SQLite may already have discarded a -wal that does not belong to a database; if not, it went aside too.
        if let wal = try? String(contentsOfFile: path + ".corrupt-19700101-000000-wal", encoding: .utf8) { XCTAssertEqual(wal, "stale wal") }
        XCTAssertNotEqual(try? String(contentsOfFile: path + "-wal", encoding: .utf8), "stale wal")
        XCTAssertEqual(try opened.journal.rootKeys(), [])
        XCTAssertTrue(Journal.movedAsideNote(opened)?.contains(path + ".corrupt-19700101-000000") ?? false)
    }

    func testASoundJournalIsKept() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        _ = try Journal(path: path).noteScanned(root: "r", path: "a", identity: FileIdentity(device: 1, inode: 2, size: 3, mtimeNs: 4))
        let opened = try Journal.openRecovering(path: path)
        XCTAssertNil(opened.movedAside)
        XCTAssertNil(Journal.movedAsideNote(opened))
        XCTAssertEqual(try opened.journal.rootKeys(), ["r"])
    }

    func testSessionIDsAreShortenedToEightCharacters() {
        XCTAssertEqual(shortSessionID("0123456789abcdef"), "01234567…")
        XCTAssertEqual(shortSessionID("short"), "short")
    }
}
