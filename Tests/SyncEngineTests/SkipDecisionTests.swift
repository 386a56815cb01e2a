import CloudreveAPI
import Foundation
import XCTest
@testable import SyncEngine

final class SkipDecisionTests: XCTestCase {
    func info(size: Int64, updated: String, session: String? = nil) throws -> FileInfo {
        var json: [String: Any] = ["type": 0, "id": "f1", "name": "a", "size": size, "path": "cloudreve://my/a",
                                   "updated_at": updated, "primary_entity": "e1"]
        if let session { json["metadata"] = ["sys:upload_session_id": session] }
        return try JSONDecoder().decode(FileInfo.self, from: JSONSerialization.data(withJSONObject: json))
    }

    // 2024-01-02T03:04:05.678Z
    let mtimeNs: Int64 = 1_704_164_645_678_000_000

    func testSameSizeAndMillisecondMtimeIsAlreadyThere() throws {
        let identity = FileIdentity(device: 1, inode: 1, size: 10, mtimeNs: mtimeNs + 123)
        XCTAssertTrue(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T03:04:05.678Z"), identity: identity, version: .v(18)))
        XCTAssertTrue(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T11:04:05.678+08:00"), identity: identity, version: .v(18)))
    }

    func testWholeSecondPrecisionMatchesBySecond() throws {
        let identity = FileIdentity(device: 1, inode: 1, size: 10, mtimeNs: mtimeNs)
        XCTAssertTrue(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T03:04:05Z"), identity: identity, version: .v(18)))
        XCTAssertFalse(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T03:04:06Z"), identity: identity, version: .v(18)))
    }

    func testDifferentSizePlaceholderOrOldServerIsNotThere() throws {
        let identity = FileIdentity(device: 1, inode: 1, size: 10, mtimeNs: mtimeNs)
        XCTAssertFalse(serverAlreadyHas(try info(size: 11, updated: "2024-01-02T03:04:05.678Z"), identity: identity, version: .v(18)))
        XCTAssertFalse(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T03:04:05.678Z", session: "s"), identity: identity, version: .v(18)))
        XCTAssertFalse(serverAlreadyHas(try info(size: 10, updated: "2024-01-02T03:04:05.678Z"), identity: identity, version: .v(0)),
                       "before 4.4 updated_at is the completion time, which proves nothing")
    }
}

final class ConflictNameTests: XCTestCase {
    let date = Date(timeIntervalSince1970: 1_764_055_530)  // a fixed moment; the format is what matters

    func testConflictNameKeepsTheExtensionLast() {
        let name = conflictName(for: "report.final.txt", at: date, host: "laptop")
        XCTAssertTrue(name.hasPrefix("report.final (conflict "), name)
        XCTAssertTrue(name.hasSuffix(" laptop).txt"), name)
        XCTAssertNotNil(name.range(of: #"\(conflict \d{4}-\d{2}-\d{2} \d{6} laptop\)"#, options: .regularExpression), name)
    }

    func testDotfilesAndNamesWithoutExtension() {
        XCTAssertTrue(conflictName(for: ".bashrc", at: date, host: "h").hasPrefix(".bashrc (conflict "))
        XCTAssertTrue(conflictName(for: "Makefile", at: date, host: "h").hasSuffix(" h)"))
    }

    func testStaysWithin255BytesAndAvoidsForbiddenCharacters() {
        let name = conflictName(for: String(repeating: "é", count: 200) + ".txt", at: date, host: "a:b")
        XCTAssertLessThanOrEqual(name.utf8.count, 255)
        XCTAssertNil(NameRules.problem(with: Array(name.utf8)), name)
    }
}
