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

    /// The state directory on a real full disk: a 2 MiB tmpfs mounted over it, most of it taken by a
    /// filler file, under a pass of 300 new files. The pass stops at the first "disk is full" with one
    /// message naming the state directory, a summary, exit 1, and no failure line per file. Once space
    /// returns the next pass completes: exit 0, no placeholder left, the tree equal on the server.
    func testFullStateDiskStopsThePassOnceAndTheNextPassCompletes() throws {
        guard getuid() == 0 else { throw XCTSkip("mounting a small tmpfs for the state directory needs root (CI runs as root)") }
        let scenario = try Scenario()
        let mount = SmallDisk(at: scenario.stateDir)
        defer {
            mount.unmount()
            scenario.tearDown()
        }
        let local = scenario.scratch + "/tree"
        let remote = "cloudreve://my/Backup"
        for i in 0..<300 {
            try writeFile(local + "/\(["", "a/", "a/b/"][i % 3])file-\(i).txt", pseudoRandomBytes(200 + i, seed: UInt64(i + 1)))
        }
        try mount.mount(sizeKiB: 2048)
        // Leave room to open the journal and note the scan, but not for the uploads' journaling.
        try mount.fill(leavingKiB: 768)

        let full = try scenario.sync(local, remote)
        XCTAssertEqual(full.status, 1, "stdout: \(full.stdout) stderr: \(full.stderr)")
        let stateMessages = full.stderr.components(separatedBy: "\n").filter { $0.contains("state directory \(scenario.stateDir) is full") }
        XCTAssertEqual(stateMessages.count, 1, "one message naming the state directory: \(full.stderr)")
        XCTAssertTrue(full.stderr.contains("free space there"), full.stderr)
        XCTAssertFalse(full.stderr.contains("failed:"), "a failure line per file: \(full.stderr)")
        XCTAssertFalse(full.stderr.contains("not uploaded:"), "a failure line per file: \(full.stderr)")
        XCTAssertTrue(full.stdout.contains("stopped early"), "no summary: \(full.stdout)")
        let uploadedBefore = full.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("uploaded ") }.count
        XCTAssertLessThan(uploadedBefore, 300, "the disk never filled: the test proves nothing")
        XCTAssertGreaterThan(uploadedBefore, 0, "the disk was full before the first upload, not during the pass: \(full.stdout)")

        // Space returns: the filler goes and the volume grows, as when a user cleans up.
        try mount.growAndEmpty(sizeKiB: 65536)
        let after = try scenario.sync(local, remote)
        XCTAssertEqual(after.status, 0, "stdout: \(after.stdout) stderr: \(after.stderr)")
        XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [])
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [])
        let stats = try scenario.server.stats()
        XCTAssertEqual(stats.completions.values.filter { $0 != 1 }.count, 0, "a file was completed twice: \(stats.completions)")
    }
}

/// A tmpfs of a chosen size mounted over a folder, keeping what the folder held (the saved sign-in).
/// Needs root; always unmounted by `unmount`, even after a failed assertion.
final class SmallDisk {
    let folder: String
    private var saved: [(String, Data)] = []
    private var mounted = false

    init(at folder: String) { self.folder = folder }

    func mount(sizeKiB: Int) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            if let data = FileManager.default.contents(atPath: folder + "/" + name) { saved.append((name, data)) }
        }
        try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKiB)k,mode=0700", "tmpfs", folder])
        mounted = true
        for (name, data) in saved {
            XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/" + name, contents: data, attributes: [.posixPermissions: 0o600]))
        }
    }

    /// Writes a filler file until the disk is full, then shortens it to leave `leavingKiB` free.
    func fill(leavingKiB: Int) throws {
        let path = folder + "/filler"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let block = [UInt8](repeating: 0x55, count: 4096)
        var written = 0
        while Glibc.write(fd, block, block.count) == block.count { written += block.count }
        XCTAssertEqual(errno, ENOSPC)
        XCTAssertEqual(ftruncate(fd, off_t(max(0, written - leavingKiB * 1024))), 0)
    }

    func growAndEmpty(sizeKiB: Int) throws {
        unlink(folder + "/filler")
        try run("/bin/mount", ["-o", "remount,size=\(sizeKiB)k", folder])
    }

    func unmount() {
        guard mounted else { return }
        try? run("/bin/umount", ["-l", folder])
        mounted = false
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("\(tool) \(arguments) failed (\(process.terminationStatus))") }
    }
}
