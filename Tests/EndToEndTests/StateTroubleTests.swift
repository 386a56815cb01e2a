import CloudreveAPI
import Foundation
import XCTest

/// The state directory in trouble: a damaged journal, a full disk. What a user checks afterwards: the
/// exit code, the one message, nothing sent twice, nothing left half-done, the tree on the server.
final class StateTroubleTests: XCTestCase {
    /// A tree of small files in a few folders plus two multi-chunk files, so that re-sending anything
    /// would show in the server's chunk byte count.
    static func makeTree(at root: String, files: Int = 40) throws {
        for i in 0..<files {
            try writeFile(root + "/\(["", "a/", "a/b/", "c/"][i % 4])file-\(i).txt", pseudoRandomBytes(100 + i * 37, seed: UInt64(i + 1)))
        }
        try writeFile(root + "/big/one.bin", pseudoRandomBytes(3 << 20, seed: 99))
        try writeFile(root + "/big/two.bin", pseudoRandomBytes((2 << 20) + 5, seed: 98))
    }

    /// Each of three kinds of damage: crsync moves the journal aside itself (naming the new file),
    /// rebuilds it from the scan and the server's listing, sends nothing again, and exits 0.
    func testDamagedJournalIsMovedAsideAndRebuiltWithoutResending() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(1 << 20)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        let remote = "cloudreve://my/Backup"
        try Self.makeTree(at: local)
        let first = try scenario.sync(local, remote)
        XCTAssertEqual(first.status, 0, "stderr: \(first.stderr)")
        let journal = scenario.stateDir + "/journal.sqlite"

        let damages: [(String, (String) throws -> Void)] = [
            ("bytes overwritten in the middle pages", { path in
                // Every page but the first (the header) gets garbage over its b-tree header and cells.
                let size = Int(try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64)
                XCTAssertGreaterThan(size, 3 * 4096, "the journal is too small to have middle pages")
                let fd = open(path, O_WRONLY)
                defer { close(fd) }
                for page in stride(from: 4096, to: size, by: 4096) {
                    let garbage = pseudoRandomBytes(600, seed: UInt64(page))
                    XCTAssertEqual(pwrite(fd, garbage, garbage.count, off_t(page)), garbage.count)
                }
            }),
            ("truncated to half", { path in
                let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! UInt64
                XCTAssertEqual(truncate(path, off_t(size / 2 / 4096 * 4096 + 1000)), 0)
            }),
            ("not a database at all", { path in
                try "this is not an SQLite database, just a note someone saved over it\n".write(toFile: path, atomically: false, encoding: .utf8)
            }),
        ]
        for (what, damage) in damages {
            // Damage the file as it is at rest: a clean exit checkpoints the WAL into it.
            let walSize = (try? FileManager.default.attributesOfItem(atPath: journal + "-wal")[.size] as? UInt64) ?? 0
            XCTAssertEqual(walSize, 0, "\(what): the WAL still holds data, so damaging the main file would not be what a reader sees")
            try damage(journal)
            let before = try scenario.server.stats()
            let again = try scenario.sync(local, remote)
            XCTAssertEqual(again.status, 0, "\(what): stdout: \(again.stdout) stderr: \(again.stderr)")
            let aside = try FileManager.default.contentsOfDirectory(atPath: scenario.stateDir).filter { $0.hasPrefix("journal.sqlite.corrupt-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
            XCTAssertTrue(aside.contains { again.stdout.contains(scenario.stateDir + "/" + $0) },
                          "\(what): the moved-aside journal is not named in the output: \(aside), stdout: \(again.stdout)")
            let after = try scenario.server.stats()
            XCTAssertEqual(after.chunkBytes, before.chunkBytes, "\(what): bytes were sent again: \(again.stdout)")
            XCTAssertEqual(after.sessionsCreated, before.sessionsCreated, "\(what): an upload session was created")
            XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [], what)
            // The rebuilt journal is whole again: a third pass finds everything unchanged and moves nothing aside.
            let third = try scenario.sync(local, remote)
            XCTAssertEqual(third.status, 0, "\(what): \(third.stderr)")
            XCTAssertFalse(third.stdout.contains("corrupt-"), "\(what): the rebuilt journal was judged damaged: \(third.stdout)")
            XCTAssertTrue(third.stdout.contains("0 uploaded"), "\(what): \(third.stdout)")
            for name in try FileManager.default.contentsOfDirectory(atPath: scenario.stateDir) where name.hasPrefix("journal.sqlite.corrupt-") {
                try FileManager.default.removeItem(atPath: scenario.stateDir + "/" + name)
            }
        }
    }
}
