import CloudreveAPI
import Foundation
import XCTest

/// More of what people do with the command line: preview a pass, recover from a full quota, reload.
final class CommandLineMoreTests: XCTestCase {
    func testDryRunListsUploadsMovesAndDeletionsAndChangesNothing() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/keep.txt", Array("keep".utf8))
        try writeFile(local + "/old name.txt", Array("to be renamed".utf8))
        try writeFile(local + "/doomed.txt", Array("to be deleted".utf8))
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Dry", ["--deletes", "trash"]).status, 0)
        XCTAssertEqual(rename(local + "/old name.txt", local + "/new name.txt"), 0)
        XCTAssertEqual(unlink(local + "/doomed.txt"), 0)
        try writeFile(local + "/fresh.txt", Array("new".utf8))
        let before = try scenario.server.stats()
        let dry = try scenario.sync(local, "cloudreve://my/Dry", ["--deletes", "trash", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("would upload: \(local)/fresh.txt"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("would move on the server: cloudreve://my/Dry/old name.txt -> cloudreve://my/Dry/new name.txt"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("would move to the server's trash: cloudreve://my/Dry/doomed.txt"), dry.stdout)
        XCTAssertFalse(dry.stdout.contains("keep.txt"), dry.stdout)
        let after = try scenario.server.stats()
        XCTAssertEqual(after.sessionsCreated, before.sessionsCreated)
        XCTAssertEqual(after.int("deletes"), before.int("deletes"))
        XCTAssertEqual(after.int("renames"), before.int("renames"))

        // The real pass then does exactly that: the rename costs no bytes.
        let real = try scenario.sync(local, "cloudreve://my/Dry", ["--deletes", "trash"])
        XCTAssertEqual(real.status, 0, real.stderr)
        let done = try scenario.server.stats()
        XCTAssertEqual(done.chunkBytes - after.chunkBytes, 3, "only fresh.txt's 3 bytes are sent")
        XCTAssertNil(try scenario.remoteFile("cloudreve://my/Dry/doomed.txt"))
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Dry"), [])
    }

    func testAFileRefusedForQuotaGoesOnceTheQuotaFrees() throws {
        let scenario = try Scenario(serverArguments: ["--quota", "\(100_000)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/a.bin", pseudoRandomBytes(60_000, seed: 1))
        try writeFile(local + "/b.bin", pseudoRandomBytes(60_000, seed: 2))
        let full = try scenario.sync(local, "cloudreve://my/Q", ["--workers", "1"])
        XCTAssertEqual(full.status, 1, full.stderr)
        XCTAssertTrue(full.stderr.contains("40051"), full.stderr)
        let refused = try scenario.remoteFile("cloudreve://my/Q/a.bin") == nil ? "a.bin" : "b.bin"
        let stored = refused == "a.bin" ? "b.bin" : "a.bin"
        // Unchanged and still no room: not tried again (no new session).
        let sessions = try scenario.server.stats().sessionsCreated
        XCTAssertEqual(try scenario.sync(local, "cloudreve://my/Q").status, 1)
        XCTAssertEqual(try scenario.server.stats().sessionsCreated, sessions)
        // Room made on the server: the next pass sees it and sends the refused file.
        try scenario.server.client().delete([try CloudrevePath(parsing: "cloudreve://my/Q/\(stored)")], permanently: true)
        let after = try scenario.sync(local, "cloudreve://my/Q")
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertNotNil(try scenario.remoteFile("cloudreve://my/Q/\(refused)"))
    }

    /// The backup timer firing while the daemon runs on the same state directory (or a second manual
    /// `crsync sync`) is refused with exit 3 naming the holder; reading commands still work; a daemon
    /// killed with SIGKILL leaves no stale lock.
    func testASecondWriterOnTheStateDirectoryIsRefusedAndASIGKILLFreesIt() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/live"
        try writeFile(local + "/a.txt", Array("a".utf8))
        let config = try scenario.writeConfig("""
            [upload]
            quiet_seconds = 1

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Busy"
            """)
        let daemon = try scenario.startDaemon(config: config)
        defer {
            daemon.signal(SIGKILL)
            daemon.wait()
        }
        XCTAssertTrue(try eventually(timeout: 15) { try scenario.remoteFile("cloudreve://my/Busy/a.txt") != nil })
        let before = try scenario.server.stats().sessionsCreated
        try writeFile(scenario.scratch + "/other/b.txt", Array("b".utf8))
        let second = try scenario.sync(scenario.scratch + "/other", "cloudreve://my/Other")
        XCTAssertEqual(second.status, 3, second.stderr)
        XCTAssertTrue(second.stderr.contains("another crsync (pid \(daemon.pid), crsync run) is using \(scenario.stateDir)"), second.stderr)
        let clean = try scenario.crsync(["sessions", "clean"])
        XCTAssertEqual(clean.status, 3, clean.stderr)
        XCTAssertEqual(try scenario.crsync(["status"]).status, 0)
        XCTAssertEqual(try scenario.crsync(["sessions"]).status, 0)
        XCTAssertEqual(try scenario.server.stats().sessionsCreated, before, "the refused run sent nothing")
        XCTAssertNil(try scenario.remoteFile("cloudreve://my/Other/b.txt"))

        daemon.signal(SIGKILL)
        daemon.wait()
        let after = try scenario.sync(scenario.scratch + "/other", "cloudreve://my/Other")
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertNotNil(try scenario.remoteFile("cloudreve://my/Other/b.txt"))
    }

    func testSIGHUPReloadsTheConfiguration() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/live"
        try writeFile(local + "/first.txt", Array("1".utf8))
        let body = """
            [upload]
            quiet_seconds = 1

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Hup"
            """
        let config = try scenario.writeConfig(body)
        let daemon = try scenario.startDaemon(config: config)
        defer {
            daemon.signal(SIGTERM)
            daemon.wait()
        }
        XCTAssertTrue(try eventually(timeout: 15) { try scenario.remoteFile("cloudreve://my/Hup/first.txt") != nil })
        _ = try scenario.writeConfig(body + "\nexclude = [\"*.log\"]\n")
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 10) { daemon.stderr.contains("configuration reloaded") }, daemon.stderr)
        try writeFile(local + "/noise.log", Array("log".utf8))
        try writeFile(local + "/second.txt", Array("2".utf8))
        XCTAssertTrue(try eventually(timeout: 15) { try scenario.remoteFile("cloudreve://my/Hup/second.txt") != nil }, daemon.stderr)
        sleep(2)
        XCTAssertNil(try scenario.remoteFile("cloudreve://my/Hup/noise.log"), "the reloaded exclude must apply")
        XCTAssertFalse(daemon.hasExited)
    }
}
