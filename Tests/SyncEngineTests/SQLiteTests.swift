import XCTest
@testable import SyncEngine

final class SQLiteTests: XCTestCase {
    func testOpensInWALModeWithFullSynchronousCommits() throws {
        let folder = try TemporaryFolder()
        let db = try SQLiteDatabase(path: folder.path + "/t.sqlite")
        XCTAssertEqual(try db.query("PRAGMA journal_mode") { $0.string(0) }, ["wal"])
        XCTAssertEqual(try db.query("PRAGMA synchronous") { $0.int64(0) }, [2], "2 is FULL")
        XCTAssertEqual(try db.query("PRAGMA foreign_keys") { $0.int64(0) }, [1])
    }

    func testEveryValueTypeRoundTripsExactly() throws {
        let folder = try TemporaryFolder()
        let db = try SQLiteDatabase(path: folder.path + "/t.sqlite")
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)")
        let nfd = "cafe\u{301} 100% #1"
        try db.run("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
                   [.integer(Int64.min), .real(0.1), .text(nfd), .blob([0, 0xff, 7]), .null])
        try db.run("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)", [.integer(-1), .real(-2.5), .text(""), .blob([]), .null])
        let rows = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid") { row in
            (row.int64(0), row.double(1), row.bytes(2), row.bytes(3), row.isNull(4))
        }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0].0, Int64.min)
        XCTAssertEqual(rows[0].1, 0.1)
        XCTAssertEqual(rows[0].2, Array(nfd.utf8), "text is stored as exactly its UTF-8 bytes, not normalized")
        XCTAssertEqual(rows[0].3, [0, 0xff, 7])
        XCTAssertTrue(rows[0].4)
        XCTAssertEqual(rows[1].2, [], "an empty string is '' rather than NULL")
        XCTAssertEqual(rows[1].3, [], "an empty blob is a blob rather than NULL")
        XCTAssertEqual(try db.query("SELECT count(*) FROM t WHERE s IS NULL OR b IS NULL") { $0.int64(0) }, [0])
    }

    func testTransactionRollsBackWhenItsBodyThrows() throws {
        let folder = try TemporaryFolder()
        let db = try SQLiteDatabase(path: folder.path + "/t.sqlite")
        try db.execute("CREATE TABLE t (x INTEGER)")
        struct Stop: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            throw Stop()
        })
        try db.transaction { try db.run("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try db.query("SELECT x FROM t") { $0.int64(0) }, [2])
    }

    func testUserVersionIsReadAndWritten() throws {
        let folder = try TemporaryFolder()
        let db = try SQLiteDatabase(path: folder.path + "/t.sqlite")
        XCTAssertEqual(try db.userVersion, 0)
        try db.setUserVersion(7)
        XCTAssertEqual(try SQLiteDatabase(path: folder.path + "/t.sqlite").userVersion, 7)
    }

    func testErrorNamesTheFileTheStatementAndSQLitesMessage() throws {
        let folder = try TemporaryFolder()
        let db = try SQLiteDatabase(path: folder.path + "/t.sqlite")
        XCTAssertThrowsError(try db.run("INSERT INTO missing_table VALUES (1)")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(folder.path + "/t.sqlite"), text)
            XCTAssertTrue(text.contains("INSERT INTO missing_table"), text)
            XCTAssertTrue(text.contains("no such table"), text)
        }
    }

    func testOpeningAFileThatIsNotADatabaseSaysWhatToDo() throws {
        let folder = try TemporaryFolder()
        let path = try folder.file("junk", contents: String(repeating: "not a database ", count: 100))
        XCTAssertThrowsError(try SQLiteDatabase(path: path)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(path), text)
            XCTAssertTrue(text.contains("moves the damaged journal aside"), text)
        }
    }

    func testFirstWordsKeepLogLinesShort() {
        XCTAssertEqual(SQLiteError.firstWords(of: "\n  INSERT INTO chunks (session_id, idx) VALUES (?1, ?2)"),
                       "INSERT INTO chunks")
    }
}
