import CloudreveAPI
import Foundation
import XCTest

/// Issue 8, items 1–6: what a bad day must not cost. Each test drives the real binaries and checks what a
/// user would: what is on the server (and nothing more), the message, the exit code.
final class BadDayTests: ScenarioTestCase {
    override var serverArguments: [String] { ["--chunk-size", "\(64 << 10)"] }

    func startDaemon(_ local: String, remote: String, deletes: String = "trash", exclude: String = "[]",
                     environment: [String: String] = [:]) throws {
        let config = try scenario.writeConfig("""
            [upload]
            workers = 2
            quiet_seconds = 0.5

            [[sync]]
            local = "\(local)"
            remote = "\(remote)"
            deletes = "\(deletes)"
            exclude = \(exclude)
            """, name: "daemon-\(UUID().uuidString.prefix(4)).toml")
        daemon = try scenario.startDaemon(config: config, environment: environment)
    }

    /// A tree of 101 files: sub1/ and sub2/ with 50 each, and top.txt.
    func makeTree(_ root: String) throws {
        for d in 1...2 {
            for i in 0..<50 { try writeFile(root + "/sub\(d)/f\(i).txt", Array("file \(d)-\(i)".utf8)) }
        }
        try writeFile(root + "/top.txt", Array("top".utf8))
    }

    // MARK: 1. A root that goes away never deletes anything on the server

    func testRemovingAWatchedRootTrashesNothingOnTheServer() throws {
        let local = scenario.scratch + "/root"
        try makeTree(local)
        try startDaemon(local, remote: "cloudreve://my/Root")
        XCTAssertTrue(try eventually(timeout: 60, every: 0.5) { try scenario.remoteFiles(under: "cloudreve://my/Root").count == 101 },
                      daemon?.stderr ?? "")
        try FileManager.default.removeItem(atPath: local)
        // Well past the 1 s settle and the 10 s cap of steady deleting would not be needed: 4 s is 4 settles.
        sleep(4)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Root").count, 101, "the server lost files: \(daemon?.stderr ?? "")")
        XCTAssertTrue(daemon?.stderr.contains("was deleted or moved away: nothing is trashed") ?? false, daemon?.stderr ?? "")
        XCTAssertFalse(daemon?.stderr.contains("to the server's trash") ?? true, daemon?.stderr ?? "")
    }

    func testEmptiedRootIsTreatedAsAnUnmountedDiskByTheDaemonAndBySync() throws {
        let local = scenario.scratch + "/disk"
        try makeTree(local)
        try startDaemon(local, remote: "cloudreve://my/Disk")
        XCTAssertTrue(try eventually(timeout: 60, every: 0.5) { try scenario.remoteFiles(under: "cloudreve://my/Disk").count == 101 })
        // What an unmounted disk leaves: the mount point, empty.
        for name in try FileManager.default.contentsOfDirectory(atPath: local) { try FileManager.default.removeItem(atPath: local + "/" + name) }
        XCTAssertTrue(eventually(timeout: 10) { self.daemon?.stderr.contains("is empty: not trashing") ?? false }, daemon?.stderr ?? "")
        stopDaemon()
        let pass = try scenario.sync(local, "cloudreve://my/Disk", ["--deletes", "trash"])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        XCTAssertTrue(pass.stdout.contains("is empty: not trashing"), pass.stdout)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Disk").count, 101)
    }

    func testSyncOfAConfiguredRootThatIsGoneFailsNamingItAndTrashesNothing() throws {
        let local = scenario.scratch + "/gone"
        try makeTree(local)
        let config = try scenario.writeConfig("""
            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Gone"
            deletes = "trash"
            """)
        XCTAssertEqual(try scenario.crsync(["sync", "--config", config]).status, 0)
        try FileManager.default.removeItem(atPath: local)
        let pass = try scenario.crsync(["sync", "--config", config])
        XCTAssertEqual(pass.status, 1, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stderr.contains(local) && pass.stderr.contains("does not exist"), pass.stderr)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Gone").count, 101)
    }

    func testAFolderThatCannotBeListedIsNotTrashed() throws {
        try XCTSkipIf(getuid() == 0, "root lists a mode-000 folder anyway")
        let local = scenario.scratch + "/locked"
        try makeTree(local)
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Locked", ["--deletes", "trash"]).status, 0)
        chmod(local + "/sub1", 0)
        defer { chmod(local + "/sub1", 0o755) }
        let pass = try scenario.sync(local, "cloudreve://my/Locked", ["--deletes", "trash"])
        XCTAssertEqual(pass.status, 1, "the unreadable folder is a failure")
        XCTAssertTrue(pass.stderr.contains("permission denied"), pass.stderr)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Locked").count, 101)
    }

    // MARK: 2. crsync's own state and configuration are never uploaded

    /// A home folder holding the state directory and the configuration, as for a first backup of `~`.
    func makeHome() throws -> (home: String, state: String, config: String) {
        let home = scenario.scratch + "/home"
        try writeFile(home + "/Documents/letter.txt", Array("dear".utf8))
        let state = home + "/.local/state/crsync"
        let login = try ChildProcess("crsync", ["login", "--server", scenario.server.url, "--email", DevServerProcess.email,
                                                "--password-stdin", "--state-dir", state],
                                     stdin: DevServerProcess.password + "\n", scratch: scenario.scratch)
        XCTAssertEqual(login.wait(), 0, login.stderr)
        let config = home + "/.config/crsync/config.toml"
        try writeFile(config, Array("""
            [server]
            url = "\(scenario.server.url)"
            email = "\(DevServerProcess.email)"

            [upload]
            quiet_seconds = 0.5

            [[sync]]
            local = "\(home)"
            remote = "cloudreve://my/home"
            exclude = ["!credentials.json", "!*.sqlite", "!*"]
            """.utf8))
        return (home, state, config)
    }

    func assertNoOwnFileOnTheServer(_ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let uploaded = try scenario.remoteFiles(under: "cloudreve://my/home")
        XCTAssertEqual(uploaded.filter { $0.hasPrefix(".local/") || $0.hasPrefix(".config/") }, [], context, file: file, line: line)
        XCTAssertTrue(uploaded.contains("Documents/letter.txt"), "\(uploaded) \(context)", file: file, line: line)
    }

    func testSyncingAHomeFolderNeverUploadsTheStateDirectoryOrTheConfig() throws {
        let (home, state, config) = try makeHome()
        for round in 1...2 {
            let pass = try ChildProcess("crsync", ["sync", home, "cloudreve://my/home", "--state-dir", state, "--config", config],
                                        scratch: scenario.scratch)
            XCTAssertEqual(pass.wait(), 0, "round \(round): \(pass.stdout) \(pass.stderr)")
            XCTAssertTrue(pass.stdout.contains(".local/state/crsync: crsync's own state or configuration, never uploaded"), pass.stdout)
        }
        // The configured root, whose exclude patterns try to take the files back.
        let configured = try ChildProcess("crsync", ["sync", "--state-dir", state, "--config", config], scratch: scenario.scratch)
        XCTAssertEqual(configured.wait(), 0, configured.stderr)
        try assertNoOwnFileOnTheServer("sync")
        let check = try ChildProcess("crsync", ["config", "check", "--state-dir", state, "--config", config], scratch: scenario.scratch)
        XCTAssertEqual(check.wait(), 0, check.stderr)
        XCTAssertTrue(check.stderr.contains("warning: \(home)/.local/state/crsync is crsync's own state"), check.stderr)
        XCTAssertTrue(check.stderr.contains("warning: \(home)/.config/crsync/config.toml is crsync's own"), check.stderr)
    }

    func testTheDaemonOverAHomeFolderNeverUploadsItsOwnState() throws {
        let (home, state, config) = try makeHome()
        daemon = try ChildProcess("crsync", ["run", "--state-dir", state, "--config", config], scratch: scenario.scratch)
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFile("cloudreve://my/home/Documents/letter.txt") != nil },
                      daemon?.stderr ?? "")
        // The journal and status.json change all the time while it runs: had they been watched, they would be up by now.
        try writeFile(home + "/Documents/later.txt", Array("later".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/home/Documents/later.txt") != nil })
        sleep(2)
        try assertNoOwnFileOnTheServer("daemon: \(daemon?.stderr ?? "")")
        XCTAssertFalse(daemon?.stderr.contains("not uploaded") ?? true, daemon?.stderr ?? "")
    }

    // MARK: 3. A crash between the server completing an upload and the journal recording it

    static let crashMoments = ["after-last-reply:1", "after-last-ack:1", "before-synced:1"]

    /// Kills `sync` at `moment` while it finishes big.bin, then renames or deletes it, then syncs again:
    /// the server must end as the disk is, with no file left that the disk no longer has.
    func testAFileCompletedJustBeforeACrashFollowsItsRenameOrDeletion() throws {
        for version in ["4.0", "4.11", "4.18"] {
            let scenario = try Scenario(serverArguments: ["--emulate", version, "--chunk-size", "\(64 << 10)", "--chunk-concurrency", "1"])
            defer { scenario.tearDown() }
            for (n, moment) in BadDayTests.crashMoments.enumerated() {
                for action in ["rename", "delete"] {
                    let local = scenario.scratch + "/t\(n)-\(action)"
                    let remote = "cloudreve://my/Crash\(n)\(action)"
                    try writeFile(local + "/keep.txt", Array("keep".utf8))
                    XCTAssertEqual(try scenario.sync(local, remote).status, 0)
                    try writeFile(local + "/big.bin", pseudoRandomBytes(200_000, seed: UInt64(n)))
                    let killed = try scenario.start(["sync", local, remote, "--workers", "1"], environment: ["CRSYNC_CRASH_AT": moment])
                    XCTAssertEqual(killed.wait(), 128 + SIGKILL, "\(version) \(moment): \(killed.stderr)")
                    if action == "rename" {
                        XCTAssertEqual(rename(local + "/big.bin", local + "/renamed.bin"), 0)
                    } else {
                        XCTAssertEqual(unlink(local + "/big.bin"), 0)
                    }
                    let pass = try scenario.sync(local, remote, ["--deletes", "trash"])
                    let context = "\(version) \(moment) \(action)"
                    XCTAssertEqual(pass.status, 0, "\(context): \(pass.stderr)")
                    XCTAssertEqual(try scenario.remoteFiles(under: remote).sorted(), try regularFiles(under: local).sorted(), context)
                    XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [], context)
                    XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [], context)
                }
            }
        }
    }

    func testTheDaemonTooMakesACompletedCopyFollowARenameAfterACrash() throws {
        let local = scenario.scratch + "/live"
        try writeFile(local + "/keep.txt", Array("keep".utf8))
        try writeFile(local + "/big.bin", pseudoRandomBytes(200_000, seed: 7))
        try startDaemon(local, remote: "cloudreve://my/Live", environment: ["CRSYNC_CRASH_AT": "before-synced:1"])
        XCTAssertTrue(eventually(timeout: 30) { self.daemon?.hasExited ?? false })
        XCTAssertEqual(daemon?.wait(), 128 + SIGKILL, daemon?.stderr ?? "")
        daemon = nil
        XCTAssertEqual(rename(local + "/big.bin", local + "/moved.bin"), 0)
        try startDaemon(local, remote: "cloudreve://my/Live")
        let expected = try regularFiles(under: local).sorted()
        XCTAssertTrue(try eventually(timeout: 30, every: 0.5) { try scenario.remoteFiles(under: "cloudreve://my/Live").sorted() == expected },
                      daemon?.stderr ?? "")
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Live").sorted(), expected)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Live"), [])
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Live").map(\.path), [])
    }

    // MARK: 4. A file deleted between the scan and its upload

    func testAFileDeletedBeforeItsUploadIsANoteNotAFailure() throws {
        let local = scenario.scratch + "/vanish"
        for i in 0..<6 { try writeFile(local + "/f\(i).txt", Array("file \(i)".utf8)) }
        try writeFile(local + "/multi.bin", pseudoRandomBytes(640 << 10, seed: 3))  // 10 chunks
        // Each request takes 300 ms, one file at a time: there is time to delete the later ones.
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 300])
        let child = try scenario.start(["sync", local, "cloudreve://my/Vanish", "--workers", "1"])
        usleep(1_500_000)
        XCTAssertEqual(unlink(local + "/multi.bin"), 0)  // mid-upload, or before it began
        XCTAssertEqual(unlink(local + "/f5.txt"), 0)
        let status = child.wait()
        XCTAssertEqual(status, 0, child.stdout + child.stderr)
        XCTAssertTrue(child.stdout.contains("f5.txt: deleted before it was uploaded"), child.stdout)
        XCTAssertTrue(child.stdout.contains("multi.bin: deleted before it was uploaded"), child.stdout)
        XCTAssertFalse(child.stderr.contains("No such file"), child.stderr)
        try scenario.server.devPost("/__dev/faults", [:])
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Vanish"), [])
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Vanish").map(\.path), [])
    }

    // MARK: 5. A file truncated while a chunk is read

    func testAFileTruncatedMidChunkHasItsSessionCancelledAtOnce() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(4 << 20)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/shrink"
        try writeFile(local + "/log.bin", pseudoRandomBytes(2 << 20, seed: 5))
        try writeFile(local + "/other.txt", Array("other".utf8))
        let config = try scenario.writeConfig("""
            [upload]
            bandwidth = "512K"

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Shrink"
            """)
        let child = try scenario.start(["sync", "--config", config])
        usleep(1_200_000)
        XCTAssertEqual(truncate(local + "/log.bin", 1000), 0)
        XCTAssertEqual(child.wait(), 1, child.stdout + child.stderr)
        XCTAssertTrue(child.stderr.contains("log.bin changed while it was uploading"), child.stderr)
        XCTAssertNotNil(try scenario.remoteFile("cloudreve://my/Shrink/other.txt"))
        // Cancelled in that pass, not left for the next one.
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Shrink").map(\.path), [])
        let sessions = try scenario.crsync(["sessions"])
        XCTAssertFalse(sessions.stdout.contains("log.bin"), sessions.stdout)
        let again = try scenario.crsync(["sync", "--config", config])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Shrink"), [])
    }

    // MARK: 6. A folder replaced by a file of the same name, and the reverse

    func makeSwapTree(_ local: String) throws {
        try writeFile(local + "/x/a.txt", Array("a".utf8))
        try writeFile(local + "/x/b.txt", Array("b".utf8))
        try writeFile(local + "/y", Array("y was a file".utf8))
        try writeFile(local + "/z.txt", Array("z".utf8))
    }

    func swap(_ local: String) throws {
        try FileManager.default.removeItem(atPath: local + "/x")
        try writeFile(local + "/x", Array("x is a file now".utf8))
        XCTAssertEqual(unlink(local + "/y"), 0)
        try writeFile(local + "/y/c.txt", Array("y is a folder now".utf8))
        try writeFile(local + "/z.txt", Array("z changed".utf8))
    }

    func testFolderAndFileSwappedEndEqualToTheDiskWithTrash() throws {
        let local = scenario.scratch + "/swap"
        try makeSwapTree(local)
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Swap", ["--deletes", "trash"]).status, 0)
        try swap(local)
        let pass = try scenario.sync(local, "cloudreve://my/Swap", ["--deletes", "trash"])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Swap").sorted(), ["x", "y/c.txt", "z.txt"])
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Swap"), [])
    }

    func testFolderAndFileSwappedWithKeepNameWhatIsInTheWay() throws {
        let local = scenario.scratch + "/swapkeep"
        try makeSwapTree(local)
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Keep").status, 0)
        try swap(local)
        let pass = try scenario.sync(local, "cloudreve://my/Keep")
        XCTAssertEqual(pass.status, 1, pass.stdout + pass.stderr)
        XCTAssertTrue(pass.stderr.contains("a folder cloudreve://my/Keep/x is in the way on the server"), pass.stderr)
        XCTAssertTrue(pass.stderr.contains("a file cloudreve://my/Keep/y is in the way on the server"), pass.stderr)
        XCTAssertFalse(pass.stderr.contains("Object existed"), pass.stderr)
        // Everything else went.
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Keep", skipping: { $0 == "x" || $0.hasPrefix("y/") }), [])
        XCTAssertEqual(try scenario.placeholders(under: "cloudreve://my/Keep").map(\.path), [])
    }

    // MARK: One deletion that cannot be done never blocks the others (found by the soak)

    func testADeletionAlreadyDoneOnTheServerDoesNotBlockTheRestOfItsBatch() throws {
        let local = scenario.scratch + "/batch"
        for name in ["a.txt", "b.txt", "c.txt"] { try writeFile(local + "/" + name, Array(name.utf8)) }
        try writeFile(local + "/keep.txt", Array("keep".utf8))
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Batch", ["--deletes", "trash"]).status, 0)
        // a.txt is gone on the server already (an answer lost, a crash between two calls), then all three go locally.
        try scenario.server.client().delete([try CloudrevePath(parsing: "cloudreve://my/Batch/a.txt")], permanently: true)
        for name in ["a.txt", "b.txt", "c.txt"] { XCTAssertEqual(unlink(local + "/" + name), 0) }
        let pass = try scenario.sync(local, "cloudreve://my/Batch", ["--deletes", "trash"])
        XCTAssertEqual(pass.status, 0, pass.stdout + pass.stderr)
        XCTAssertEqual(try scenario.remoteFiles(under: "cloudreve://my/Batch"), ["keep.txt"])
        let again = try scenario.sync(local, "cloudreve://my/Batch", ["--deletes", "trash"])
        XCTAssertEqual(again.status, 0, "nothing is left to retry: \(again.stderr)")
        XCTAssertFalse(again.stderr.contains("trash"), again.stderr)
    }
}

extension Scenario {
    /// Every complete file under `remote`, as paths relative to it (a recursive listing).
    func remoteFiles(under remote: String) throws -> [String] {
        let client = try server.client()
        var found: [String] = []
        func walk(_ folder: CloudrevePath, _ prefix: String) throws {
            let listing: FolderListing
            do { listing = try client.list(folder) } catch CloudreveError.api(40016, _, _, _) { return }
            for entry in listing.files {
                let relative = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
                if entry.isFolder {
                    try walk(folder.appending(entry.name), relative)
                } else if entry.uploadSessionID == nil {
                    found.append(relative)
                }
            }
        }
        try walk(try CloudrevePath(parsing: remote), "")
        return found
    }
}
