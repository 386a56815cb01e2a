import CloudreveAPI
import Foundation
import XCTest

/// `crsync run` (issue 4): real inotify, a real daemon process, the dev server over loopback.
final class DaemonTests: XCTestCase {
    var scenario: Scenario!
    var daemon: ChildProcess?

    override func setUpWithError() throws {
        scenario = try Scenario(serverArguments: ["--chunk-size", "\(1 << 20)"])
    }

    override func tearDown() {
        daemon?.stop()
        scenario.tearDown()
    }

    /// Starts the daemon on `local` → cloudreve://my/Live and waits until its first pass has run.
    func startDaemon(local: String, extra: String = "", upload: String = "quiet_seconds = 1", environment: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        try writeFile(local + "/.ready", Array("ready".utf8))
        let config = try scenario.writeConfig("""
            [upload]
            workers = 4
            \(upload)

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Live"
            \(extra)
            """)
        daemon = try scenario.startDaemon(config: config, environment: environment)
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFile("cloudreve://my/Live/.ready") != nil },
                      "the daemon's first pass did not run: \(daemon?.stderr ?? "")")
    }

    func testWrittenFileArrivesWithinQuietPeriodPlusTwoSeconds() throws {
        let local = scenario.scratch + "/live"
        try startDaemon(local: local)
        let written = Date()
        try writeFile(local + "/hello.txt", Array("hello".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/hello.txt")?.size == 5 })
        let seconds = Date().timeIntervalSince(written)
        print("written file on the server after \(String(format: "%.2f", seconds)) s (quiet period 1 s)")
        XCTAssertLessThanOrEqual(seconds, 1 + 2)
    }

    func testNewFoldersAreWatchedAtOnce() throws {
        let local = scenario.scratch + "/live"
        try startDaemon(local: local)
        try FileManager.default.createDirectory(atPath: local + "/a/b/c", withIntermediateDirectories: true)
        for i in 0..<100 { try writeFile(local + "/a/b/c/f\(i).txt", Array("file \(i)".utf8)) }
        let client = try scenario.server.client()
        XCTAssertTrue(eventually(timeout: 30) {
            (try? client.list(try CloudrevePath(parsing: "cloudreve://my/Live/a/b/c")).files.count) == 100
        }, daemon?.stderr ?? "")
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Live"), [])
    }

    func testOverflowAndABurstOf20000FilesStillDeliverEveryFile() throws {
        let local = scenario.scratch + "/live"
        // The hook makes the daemon lose the events after the first 500, as an overflowing kernel queue does.
        try startDaemon(local: local, environment: ["CRSYNC_TEST_OVERFLOW_AFTER": "500"])
        for d in 0..<20 {
            for i in 0..<1000 { try writeFile(local + "/burst/d\(d)/f\(i)", Array("\(d)-\(i)".utf8)) }
        }
        let client = try scenario.server.client()
        let started = Date()
        // Polled every 3 s: listing 20,000 entries is itself work that would slow the run it measures.
        XCTAssertTrue(eventually(timeout: 600, every: 3) {
            (0..<20).allSatisfy { d in
                (try? client.list(try CloudrevePath(parsing: "cloudreve://my/Live/burst/d\(d)")).files.count) == 1000
            }
        })
        print("20,000-file burst after an overflow: all on the server after \(Int(Date().timeIntervalSince(started))) s")
        XCTAssertTrue(daemon?.stderr.contains("overflow") ?? false, "the overflow must be logged, not silent")
    }

    func testWatchLimitWarnsOnceAndRescansTheUnwatchedSubtree() throws {
        let local = scenario.scratch + "/live"
        for d in ["x", "x/y", "x/y/z", "w", "w/v"] { try FileManager.default.createDirectory(atPath: local + "/" + d, withIntermediateDirectories: true) }
        try startDaemon(local: local, upload: "quiet_seconds = 1\nrescan_interval = \"3s\"", environment: ["CRSYNC_TEST_WATCH_LIMIT": "3"])
        for d in ["x/y/z", "w/v"] { try writeFile(local + "/\(d)/late.txt", Array(d.utf8)) }
        XCTAssertTrue(try eventually(timeout: 20) {
            try scenario.remoteFile("cloudreve://my/Live/x/y/z/late.txt") != nil && scenario.remoteFile("cloudreve://my/Live/w/v/late.txt") != nil
        }, daemon?.stderr ?? "")
        let warnings = (daemon?.stderr ?? "").split(separator: "\n").filter { $0.contains("watch limit reached") }.count
        XCTAssertEqual(warnings, 1, daemon?.stderr ?? "")
    }

    func testRenamingAFolderOfAThousandFilesSendsNoFileBytes() throws {
        let local = scenario.scratch + "/live"
        for i in 0..<1000 { try writeFile(local + "/album/p\(i).jpg", pseudoRandomBytes(2000, seed: UInt64(i + 1))) }
        try startDaemon(local: local)
        XCTAssertTrue(eventually(timeout: 120) {
            (try? scenario.server.client().list(try CloudrevePath(parsing: "cloudreve://my/Live/album")).files.count) == 1000
        })
        let before = try scenario.server.stats()
        XCTAssertEqual(rename(local + "/album", local + "/album 2024"), 0)
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFile("cloudreve://my/Live/album 2024/p999.jpg") != nil })
        sleep(3)  // anything the daemon would wrongly send would have gone by now
        let after = try scenario.server.stats()
        XCTAssertEqual(after.chunkBytes - before.chunkBytes, 0, "file bytes were sent again for a rename")
        XCTAssertNil(try scenario.remoteFile("cloudreve://my/Live/album/p1.jpg"))
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Live"), [])
    }

    func testGrowingFileIsUploadedAtMostOncePerMaxDelay() throws {
        let local = scenario.scratch + "/live"
        try startDaemon(local: local, upload: "quiet_seconds = 2\nmax_delay = \"10s\"")
        let path = local + "/app.log"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        for i in 0..<300 {
            handle.seekToEndOfFile()
            handle.write(Data("line \(i) \(String(repeating: "x", count: 200))\n".utf8))
            usleep(100_000)
        }
        try handle.close()
        let final = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertTrue(try eventually(timeout: 20) { try scenario.remoteFile("cloudreve://my/Live/app.log")?.size == Int64(final.count) })
        let uploads = try scenario.server.stats().completions.filter { $0.key.hasSuffix("/app.log") }.values.reduce(0, +)
        print("a log appended every 100 ms for 30 s was uploaded \(uploads) times (max_delay 10 s)")
        XCTAssertLessThanOrEqual(uploads, 4)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Live"), [])
    }

    func testDeletedFileGoesToTheServersTrash() throws {
        let local = scenario.scratch + "/live"
        try writeFile(local + "/gone.txt", Array("bye".utf8))
        try writeFile(local + "/dir/inner1.txt", Array("1".utf8))
        try writeFile(local + "/dir/inner2.txt", Array("2".utf8))
        try startDaemon(local: local, extra: "deletes = \"trash\"")
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/dir/inner2.txt") != nil })
        let before = try scenario.server.stats().int("deletes")
        XCTAssertEqual(unlink(local + "/gone.txt"), 0)
        // A recursive delete as a slow disk or a file manager does it: the files, then the folder a
        // moment later. The folder must still join the files' batch.
        XCTAssertEqual(unlink(local + "/dir/inner1.txt"), 0)
        XCTAssertEqual(unlink(local + "/dir/inner2.txt"), 0)
        usleep(600_000)
        XCTAssertEqual(rmdir(local + "/dir"), 0)
        XCTAssertTrue(try eventually(timeout: 10) {
            try scenario.remoteFile("cloudreve://my/Live/gone.txt") == nil && scenario.remoteFile("cloudreve://my/Live/dir/inner1.txt") == nil
        })
        let trashed = try trashNames()
        XCTAssertTrue(trashed.contains("gone.txt"), "\(trashed)")
        XCTAssertTrue(trashed.contains("dir"), "\(trashed)")
        XCTAssertEqual(try scenario.server.stats().int("deletes") - before, 2, "one call for the file, one for the whole folder")
    }

    /// `rm a; echo new > a` (or vim's save, which renames the file to its backup name) is an edit: the server file
    /// gets the new bytes as a new version and nothing goes to the trash, even when the new file's quiet
    /// period ends before the deletion would have been applied.
    func testFileDeletedAndCreatedAgainIsANewVersionNotTrashed() throws {
        let local = scenario.scratch + "/live"
        try writeFile(local + "/report.txt", Array("first draft".utf8))
        try startDaemon(local: local, extra: "deletes = \"trash\"", upload: "quiet_seconds = \"200ms\"")
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/report.txt") != nil })
        XCTAssertEqual(unlink(local + "/report.txt"), 0)
        try writeFile(local + "/report.txt", Array("second draft, longer".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/report.txt")?.size == 20 })
        sleep(3)  // a deletion applied late would have trashed the new upload by now
        XCTAssertEqual(try scenario.remoteFile("cloudreve://my/Live/report.txt")?.size, 20)
        // vim's save: the file renamed to its backup name (excluded, so a removal), a new file written.
        XCTAssertEqual(rename(local + "/report.txt", local + "/report.txt~"), 0)
        try writeFile(local + "/report.txt", Array("third draft, saved by vim".utf8))
        XCTAssertEqual(unlink(local + "/report.txt~"), 0)
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/report.txt")?.size == 25 })
        sleep(3)
        XCTAssertEqual(try scenario.remoteFile("cloudreve://my/Live/report.txt")?.size, 25)
        XCTAssertEqual(try trashNames(), [])
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Live"), [])
    }

    func testDeletesKeepLeavesTheServerCopy() throws {
        let local = scenario.scratch + "/live"
        try writeFile(local + "/kept.txt", Array("keep me".utf8))
        try startDaemon(local: local, extra: "deletes = \"keep\"")
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/kept.txt") != nil })
        XCTAssertEqual(unlink(local + "/kept.txt"), 0)
        try writeFile(local + "/marker.txt", Array("after".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/marker.txt") != nil })
        sleep(2)
        XCTAssertNotNil(try scenario.remoteFile("cloudreve://my/Live/kept.txt"))
    }

    func testExcludedAndTemporaryFilesNeverReachTheServer() throws {
        let local = scenario.scratch + "/live"
        try writeFile(local + "/node_modules/lib/index.js", Array("x".utf8))
        try writeFile(local + "/build.tmp", Array("x".utf8))
        try startDaemon(local: local, extra: "exclude = [\"*.tmp\", \"node_modules/\"]")
        for name in ["notes.txt.swp", "draft~", ".~lock.report.odt#", "movie.part", "file.crdownload", ".#emacs", "4913", "also.tmp"] {
            try writeFile(local + "/" + name, Array("temp".utf8))
        }
        try writeFile(local + "/node_modules/more.js", Array("x".utf8))
        try writeFile(local + "/real.txt", Array("real".utf8))
        XCTAssertTrue(try eventually(timeout: 10) { try scenario.remoteFile("cloudreve://my/Live/real.txt") != nil })
        sleep(2)
        let names = try scenario.server.client().list(try CloudrevePath(parsing: "cloudreve://my/Live")).files.map(\.name)
        XCTAssertEqual(Set(names), Set([".ready", "real.txt"]), "\(names)")
    }

    private func trashNames() throws -> [String] {
        let client = try scenario.server.client()
        // Trashed items keep their original name in `sys:restore_uri` (the listing shows a generated name).
        let listing = try client.listTrash()
        return listing.map { info in
            let restore = info.metadata?["sys:restore_uri"] ?? info.name
            return (try? CloudrevePath(uri: restore).name) ?? info.name
        }
    }
}
