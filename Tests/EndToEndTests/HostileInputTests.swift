import CloudreveAPI
import Foundation
import XCTest

/// Issue 8's hostile inputs, each answered with a message that names the thing and what to do, the right
/// exit code, and everything else arriving.
final class HostileInputTests: XCTestCase {
    /// A sign-in left readable by others (a restore, a `cp -r`) is made private before it is used, with a
    /// message naming it; the copy a killed `login` left is removed; the pass goes on.
    func testASignInReadableByOthersIsMadePrivateAndALeftoverCopyRemoved() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let credentials = scenario.stateDir + "/credentials.json"
        XCTAssertEqual(chmod(credentials, 0o644), 0)
        XCTAssertEqual(chmod(scenario.stateDir, 0o755), 0)
        var deadPID: pid_t = 4_000_000
        while kill(deadPID, 0) == 0 || errno != ESRCH { deadPID -= 1 }
        let leftover = scenario.stateDir + "/credentials.json.tmp.\(deadPID)"
        try writeFile(leftover, Array("{\"access_token\": \"left by a killed login\"}".utf8))
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/a.txt", Array("a".utf8))

        let result = try scenario.sync(local, "cloudreve://my/Private")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(credentials) was readable by others (mode 0644): made it 0600"), result.stderr)
        XCTAssertTrue(result.stderr.contains("the state folder \(scenario.stateDir) was open to others (mode 0755): made it 0700"), result.stderr)
        XCTAssertTrue(result.stderr.contains("removed \(leftover)"), result.stderr)
        XCTAssertEqual(mode(of: credentials), 0o600)
        XCTAssertEqual(mode(of: scenario.stateDir), 0o700)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover))
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Private"), [])

        // Once private, nothing more is said.
        let again = try scenario.sync(local, "cloudreve://my/Private")
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stderr.contains("readable by others"), again.stderr)
    }

    /// ESC, newline, CR and tab in names are shown as \xNN on every human line — the pass's `uploaded`
    /// lines and the daemon's log — while the files themselves arrive under their real names.
    func testControlCharactersInNamesAreEscapedInPassLinesAndDaemonLogs() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let names = ["clear\u{1B}[2J.txt", "forged\nuploaded fake.txt", "cr\rname.txt", "tab\tname.txt"]
        let shown = ["clear\\x1b[2J.txt", "forged\\x0auploaded fake.txt", "cr\\x0dname.txt", "tab\\x09name.txt"]
        let local = scenario.scratch + "/odd"
        for (index, name) in names.enumerated() { try writeFile(local + "/" + name, Array("file \(index)".utf8)) }
        try writeFile(local + "/plain.txt", Array("plain".utf8))

        let result = try scenario.sync(local, "cloudreve://my/Odd")
        XCTAssertEqual(result.status, 0, result.stderr)
        for name in shown { XCTAssertTrue(result.stdout.contains("uploaded \(local)/\(name)") || result.stdout.contains("uploaded \(name)"), result.stdout) }
        for control in ["\u{1B}", "\r", "\t"] { XCTAssertFalse((result.stdout + result.stderr).contains(control), result.stdout) }
        XCTAssertEqual(result.stdout.split(separator: "\n").filter { $0.hasPrefix("uploaded") }.count, 5, result.stdout)
        try assertArrived(scenario, local: local, remote: "cloudreve://my/Odd")

        // The daemon's human log lines, for a name created while it watches.
        let config = try scenario.writeConfig("""
            [upload]
            quiet_seconds = 1

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Odd"
            """)
        let daemon = try scenario.startDaemon(config: config, environment: [:])
        defer {
            daemon.signal(SIGKILL)
            daemon.wait()
        }
        XCTAssertTrue(eventually(timeout: 20) { daemon.stderr.contains("starting") })
        try writeFile(local + "/late\u{1B}]0;title\u{07}\nline.txt", Array("late".utf8))
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("uploaded") && daemon.stderr.contains("late\\x1b]0;title\\x07\\x0aline.txt") },
                      daemon.stderr)
        daemon.signal(SIGTERM)
        daemon.wait()
        XCTAssertFalse(daemon.stderr.contains("\u{1B}"), daemon.stderr)
        XCTAssertFalse(daemon.stderr.split(separator: "\n").contains { $0.hasPrefix("line.txt") }, "no forged line: \(daemon.stderr)")
        try assertArrived(scenario, local: local, remote: "cloudreve://my/Odd")
    }

    /// Every file of `local` is on the server, complete, with its size; byte-compared where the dev
    /// server can serve it (its download drops the connection for a name with a newline or ESC, which
    /// goes into a response header).
    private func assertArrived(_ scenario: Scenario, local: String, remote: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let root = try CloudrevePath(parsing: remote)
        for relative in try regularFiles(under: local) {
            let info = try scenario.remoteFile(root.appending(relative).description)
            XCTAssertEqual(info?.size, Int64((try FileManager.default.attributesOfItem(atPath: local + "/" + relative)[.size] as? NSNumber)?.intValue ?? -1),
                           relative, file: file, line: line)
        }
        let hasControl = { (name: String) in name.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" } }
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote, skipping: hasControl), [], file: file, line: line)
    }

    /// 40052, 40049 and 40051 in the user's words: the extension the policy refuses, the policy's size
    /// limit, how much is needed and how much is free. The other files arrive; exit 1 naming each.
    func testServerRefusalsSayWhatTheLimitIsAndWhatToDo() throws {
        let scenario = try Scenario(serverArguments: ["--deny-ext", "exe", "--max-size", "50000", "--quota", "100000"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/a.bin", pseudoRandomBytes(45_000, seed: 1))
        try writeFile(local + "/b.bin", pseudoRandomBytes(45_000, seed: 2))
        try writeFile(local + "/c.bin", pseudoRandomBytes(45_000, seed: 3))
        try writeFile(local + "/big.bin", pseudoRandomBytes(60_000, seed: 4))
        try writeFile(local + "/virus.exe", Array("MZ not really".utf8))
        try writeFile(local + "/ok.txt", Array("fine".utf8))

        let result = try scenario.sync(local, "cloudreve://my/Refused", ["--workers", "1"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("virus.exe: the server's storage policy does not allow the extension .exe (server code 40052"), result.stderr)
        XCTAssertFalse(result.stderr.contains("Invalid object name"), result.stderr)
        XCTAssertTrue(result.stderr.contains("big.bin is 58.6 KiB (60000 bytes), larger than the storage policy's size limit of 48.8 KiB (50000 bytes) (server code 40049)"),
                      result.stderr)
        // Which of a, b, c meets the full quota depends on the order; the message names it, its size and what is free.
        let quota = result.stderr.split(separator: "\n").first { $0.contains("40051") }.map(String.init) ?? ""
        XCTAssertTrue(quota.contains("not enough storage on the server") && quota.contains("needs 43.9 KiB (45000 bytes) and ")
                      && quota.contains(" is free"), result.stderr)
        let refused = ["a.bin", "b.bin", "c.bin"].filter { quota.contains("\($0) needs") }
        XCTAssertEqual(refused.count, 1, quota)
        // Everything else arrived, byte for byte.
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Refused",
                                               skipping: { ["virus.exe", "big.bin"].contains($0) || refused.contains($0) }), [])
        XCTAssertNil(try scenario.remoteFile("cloudreve://my/Refused/virus.exe"))
    }

    /// `config check` names a folder that does not exist, the same folder twice through a symbolic link,
    /// and two remotes one inside the other; the file is still valid (exit 0).
    func testConfigCheckWarnsOfMissingTwiceLinkedAndNestingRoots() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let real = scenario.scratch + "/real"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        XCTAssertEqual(symlink(real, scenario.scratch + "/link"), 0)
        let config = try scenario.writeConfig("""
            [[sync]]
            local = "\(real)"
            remote = "cloudreve://my/Docs"

            [[sync]]
            local = "\(scenario.scratch)/link"
            remote = "cloudreve://my/Elsewhere"

            [[sync]]
            local = "\(scenario.scratch)/missing"
            remote = "cloudreve://my/Docs/Inner"
            """)
        let check = try scenario.crsync(["config", "check", "--config", config])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stderr.contains("warning: [[sync]] at line 13: the folder \(scenario.scratch)/missing does not exist"), check.stderr)
        XCTAssertTrue(check.stderr.contains("warning: [[sync]] at lines 5 and 9: \(real) and \(scenario.scratch)/link are the same folder"), check.stderr)
        XCTAssertTrue(check.stderr.contains("warning: [[sync]] at lines 5 and 13: cloudreve://my/Docs/Inner is inside cloudreve://my/Docs on the same server"),
                      check.stderr)
        XCTAssertEqual(check.stderr.components(separatedBy: "warning:").count - 1, 3, check.stderr)
    }

    /// `--state-dir` naming a regular file: exit 2 and one plain sentence, before anything is touched.
    func testAStateDirectoryThatIsAFileIsAPlainUsageError() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let file = scenario.scratch + "/not-a-folder"
        try writeFile(file, Array("x".utf8))
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/a.txt", Array("a".utf8))
        for arguments in [["sync", local, "cloudreve://my/S"], ["status"], ["sessions"]] {
            let child = try ChildProcess("crsync", arguments + ["--state-dir", file], scratch: scenario.scratch)
            XCTAssertEqual(child.wait(), 2, "\(arguments): \(child.stderr)")
            XCTAssertEqual(child.stderr, "crsync: the state directory \(file) is a file, not a folder: pass --state-dir with a folder "
                           + "(created if missing), or move the file away\n", "\(arguments)")
        }
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "x")
    }

    /// `sync LOCAL REMOTE --config FILE` takes the file's [upload] bandwidth; `--bwlimit` overrides it with
    /// the same syntax; a bad rate is exit 2 naming the option; a --config that does not exist is exit 2.
    func testAdHocSyncHonoursTheConfigsUploadSettingsAndBwlimit() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let config = try scenario.writeConfig("""
            [upload]
            bandwidth = "32K"

            [[sync]]
            local = "\(scenario.scratch)/configured"
            remote = "cloudreve://my/Configured"
            """)
        // The limiter lets a 64 KiB burst and one 64 KiB buffer through at once: the other 128 KiB take 4 s at
        // 32 KiB/s, against well under a second unlimited.
        let size = 256 << 10
        let limited = scenario.scratch + "/limited"
        try writeFile(limited + "/a.bin", pseudoRandomBytes(size, seed: 7))
        var started = Date()
        let slow = try scenario.sync(limited, "cloudreve://my/Limited", ["--config", config])
        let slowSeconds = Date().timeIntervalSince(started)
        XCTAssertEqual(slow.status, 0, slow.stderr)
        XCTAssertGreaterThan(slowSeconds, 3, "the config's 32K limit applies")

        let free = scenario.scratch + "/free"
        try writeFile(free + "/a.bin", pseudoRandomBytes(size, seed: 8))
        started = Date()
        let fast = try scenario.sync(free, "cloudreve://my/Free", ["--config", config, "--bwlimit", "off"])
        XCTAssertEqual(fast.status, 0, fast.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "--bwlimit off overrides the config")

        let ruled = scenario.scratch + "/ruled"
        try writeFile(ruled + "/a.bin", pseudoRandomBytes(size, seed: 9))
        started = Date()
        let timetable = try scenario.sync(ruled, "cloudreve://my/Ruled", ["--bwlimit", "00:00,32K"])
        XCTAssertEqual(timetable.status, 0, timetable.stderr)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 3, "a timetable limits as [upload] bandwidth does")

        for (name, folder) in [("Limited", limited), ("Free", free), ("Ruled", ruled)] {
            XCTAssertEqual(try scenario.mismatches(local: folder, remote: "cloudreve://my/\(name)"), [])
        }

        let bad = try scenario.sync(free, "cloudreve://my/Free", ["--bwlimit", "10X"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("--bwlimit: unknown unit 'X'"), bad.stderr)
        let missing = try scenario.sync(free, "cloudreve://my/Free", ["--config", scenario.scratch + "/nope.toml"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no configuration at \(scenario.scratch)/nope.toml"), missing.stderr)
    }
}

func mode(of path: String) -> mode_t {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
}
