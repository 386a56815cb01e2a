import Foundation
import Glibc
import XCTest
@testable import SyncEngine

/// The watcher against real inotify in temporary folders. Each test writes a sentinel file after its
/// actions where it needs to know that nothing else was reported: events come in order, so everything
/// before the sentinel's `.changed` is what the actions caused.
final class WatcherTests: XCTestCase {
    private func startWatcher(_ root: TemporaryFolder, patterns: [String] = [], limit: Int? = nil,
                              handler: (@Sendable ([WatchEvent]) -> Void)? = nil) throws -> (Watcher, WatcherEventLog) {
        let watcher = try Watcher(root: root.path, filter: PathFilter(patterns: patterns), watchLimit: limit)
        let log = WatcherEventLog()
        watcher.start { batch in
            log.append(batch)
            handler?(batch)
        }
        addTeardownBlock { watcher.stop() }
        return (watcher, log)
    }

    private func move(_ from: String, _ to: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(rename(from, to), 0, "rename \(from) → \(to): \(PathBytes.systemError(errno))", file: file, line: line)
    }

    private func changedPaths(_ events: [WatchEvent]) -> Set<[UInt8]> {
        Set(events.compactMap { if case .changed(let path) = $0 { Array(path.utf8) } else { nil } })
    }

    // MARK: - Files

    func testCreatedWrittenAndClosedFileIsReported() throws {
        let root = try TemporaryFolder()
        try root.file("existing.log", contents: "one\n")
        let (_, log) = try startWatcher(root)

        try root.file("notes.txt", contents: "hello")
        let appended = open(root.path + "/existing.log", O_WRONLY | O_APPEND)
        XCTAssertEqual(write(appended, "two\n", 4), 4)
        close(appended)
        let events = log.wait { $0.contains(where: changeOf("notes.txt")) && $0.contains(where: changeOf("existing.log")) }

        XCTAssertEqual(changedPaths(events), [Array("notes.txt".utf8), Array("existing.log".utf8)])
        XCTAssertTrue(events.allSatisfy { if case .changed = $0 { true } else { false } }, "\(events)")
    }

    func testNamesInNFCAndNFDAreReportedAsTwoFiles() throws {
        let root = try TemporaryFolder()
        let (_, log) = try startWatcher(root)
        let nfc = "caf\u{e9}.txt", nfd = "cafe\u{301}.txt"

        try root.file(nfc, contents: "composed")
        try root.file(nfd, contents: "decomposed")
        let events = log.wait { $0.contains(where: changeOf(nfc)) && $0.contains(where: changeOf(nfd)) }

        XCTAssertEqual(changedPaths(events), [Array(nfc.utf8), Array(nfd.utf8)])
    }

    func testNameThatIsNotUTF8IsLeftToTheScanner() throws {
        let root = try TemporaryFolder()
        let (_, log) = try startWatcher(root)

        try root.file([0x6c, 0x61, 0x74, 0x69, 0x6e, 0xe9], contents: [1])  // "latiné" in Latin-1
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel")

        XCTAssertEqual(events.before(sentinel: "sentinel"), [])
    }

    // MARK: - New directories

    func testEveryFileWrittenRightAfterMkdirPIsReported() throws {
        let root = try TemporaryFolder()
        let (watcher, log) = try startWatcher(root)

        try FileManager.default.createDirectory(atPath: root.path + "/a/b/c", withIntermediateDirectories: true)
        for index in 0..<100 { try root.file("a/b/c/file \(index).txt", contents: "\(index)") }
        let expected = Set((0..<100).map { Array("a/b/c/file \($0).txt".utf8) })
        let events = log.wait { self.changedPaths($0).isSuperset(of: expected) }

        XCTAssertEqual(changedPaths(events), expected)
        XCTAssertEqual(events.filter { if case .directoryAppeared = $0 { true } else { false } },
                       [.directoryAppeared("a"), .directoryAppeared("a/b"), .directoryAppeared("a/b/c")],
                       "each directory once, parents first")
        XCTAssertEqual(watcher.watchCount, 4)
    }

    func testDirectoryMovedInIsReportedWithEverythingInsideAndThenWatched() throws {
        let root = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try outside.folder("in")
        try outside.file("in/one.txt", contents: "1")
        try outside.folder("in/sub")
        try outside.file("in/sub/two.txt", contents: "2")
        try outside.file("single.txt", contents: "s")
        let (watcher, log) = try startWatcher(root)

        move(outside.path + "/in", root.path + "/in")
        move(outside.path + "/single.txt", root.path + "/single.txt")
        let moved: Set<[UInt8]> = Set(["in/one.txt", "in/sub/two.txt", "single.txt"].map { Array($0.utf8) })
        let events = log.wait { self.changedPaths($0).isSuperset(of: moved) }

        XCTAssertEqual(changedPaths(events), moved)
        XCTAssertEqual(events.filter { if case .changed = $0 { false } else { true } },
                       [.directoryAppeared("in"), .directoryAppeared("in/sub")])
        let directory = events.firstIndex(of: .directoryAppeared("in/sub")) ?? .max
        let content = events.firstIndex(of: .changed("in/sub/two.txt")) ?? .min
        XCTAssertLessThan(directory, content, "a directory comes before its contents")
        XCTAssertEqual(watcher.watchCount, 3)

        try root.file("in/sub/later.txt", contents: "3")
        XCTAssertTrue(log.waitForChange(of: "in/sub/later.txt").contains(where: changeOf("in/sub/later.txt")), "now watched")
    }

    // MARK: - Moves

    func testRenamingAFileWithinTheRootIsOneMove() throws {
        let root = try TemporaryFolder()
        try root.file("old name.txt", contents: "x")
        try root.folder("a")
        try root.folder("b")
        try root.file("a/f.txt", contents: "y")
        let (_, log) = try startWatcher(root)

        move(root.path + "/old name.txt", root.path + "/new name.txt")
        move(root.path + "/a/f.txt", root.path + "/b/f.txt")
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel")

        XCTAssertEqual(events.before(sentinel: "sentinel"), [
            .moved(from: "old name.txt", to: "new name.txt", isDirectory: false),
            .moved(from: "a/f.txt", to: "b/f.txt", isDirectory: false),
        ])
    }

    func testRenamingADirectoryIsOneMoveAndItsContentsAreReportedUnderTheNewName() throws {
        let root = try TemporaryFolder()
        try root.folder("d")
        try root.folder("d/sub")
        try root.file("d/sub/f.txt", contents: "x")
        let (watcher, log) = try startWatcher(root)

        move(root.path + "/d", root.path + "/e")
        try root.file("e/sub/new.txt", contents: "y")
        let events = log.waitForChange(of: "e/sub/new.txt")

        XCTAssertEqual(events.first, .moved(from: "d", to: "e", isDirectory: true))
        XCTAssertEqual(Array(events.dropFirst()).filter { !$0.mentions("e/sub/new.txt") }, [], "\(events)")
        XCTAssertEqual(watcher.watchCount, 3)
    }

    func testMovingOutOfTheRootIsARemovalAndNothingThereIsReportedAfterwards() throws {
        let root = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try root.file("f.txt", contents: "x")
        try root.folder("d")
        try root.file("d/inner.txt", contents: "y")
        let (watcher, log) = try startWatcher(root)

        move(root.path + "/f.txt", outside.path + "/f.txt")
        move(root.path + "/d", outside.path + "/d")
        try outside.file("d/inner.txt", contents: "written after leaving")
        usleep(200_000)  // past the move window: the moved directory's watch must be gone, not just muted
        try outside.file("d/later.txt", contents: "z")
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel")

        XCTAssertEqual(events.before(sentinel: "sentinel"), [.removed("f.txt", isDirectory: false), .removed("d", isDirectory: true)])
        XCTAssertEqual(watcher.watchCount, 1)
    }

    func testNameMovedOutAndRecreatedAtOnceIsRemovedThenChangedInThatOrder() throws {
        let root = try TemporaryFolder()
        let outside = try TemporaryFolder()
        try root.file("a.txt", contents: "old")
        let (_, log) = try startWatcher(root)

        move(root.path + "/a.txt", outside.path + "/a.txt")
        try root.file("a.txt", contents: "new")
        let events = log.waitForChange(of: "a.txt")

        XCTAssertEqual(events.first, .removed("a.txt", isDirectory: false))
        XCTAssertEqual(events.dropFirst().filter { $0 != .changed("a.txt") }, [])
    }

    // MARK: - Deletions

    func testDeletedFilesAndDirectoriesAreReportedAndTheirWatchesDropped() throws {
        let root = try TemporaryFolder()
        try root.file("a.txt", contents: "x")
        try root.folder("d")
        try root.file("d/x.txt", contents: "x")
        try root.folder("d/e")
        try root.file("d/e/y.txt", contents: "y")
        let (watcher, log) = try startWatcher(root)

        XCTAssertEqual(unlink(root.path + "/a.txt"), 0)
        try FileManager.default.removeItem(atPath: root.path + "/d")
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel").before(sentinel: "sentinel")

        let expected: [WatchEvent] = [
            .removed("a.txt", isDirectory: false), .removed("d/x.txt", isDirectory: false),
            .removed("d/e/y.txt", isDirectory: false), .removed("d/e", isDirectory: true), .removed("d", isDirectory: true),
        ]
        XCTAssertEqual(Set(events.map(String.init(describing:))), Set(expected.map(String.init(describing:))))
        XCTAssertEqual(events.last, .removed("d", isDirectory: true), "the directory goes after its contents")
        XCTAssertEqual(watcher.watchCount, 1)
    }

    // MARK: - Exclusions

    func testExcludedFilesAndDirectoriesAreNeitherWatchedNorReported() throws {
        let root = try TemporaryFolder()
        try root.folder("build")
        let (watcher, log) = try startWatcher(root, patterns: ["build/", "*.log"])
        XCTAssertEqual(watcher.watchCount, 1, "build/ is not watched")

        try root.file("build/out.o", contents: "x")
        try root.file("app.log", contents: "x")
        try root.file(".notes.txt.swp", contents: "x")
        try root.folder("node")
        try root.folder("node/build")
        try root.file("node/build/deep.o", contents: "x")
        // An atomic save through an excluded temporary name: only the final name is news.
        try root.file("doc.txt.part", contents: "draft")
        move(root.path + "/doc.txt.part", root.path + "/doc.txt")
        // A rename to an excluded name takes the file away.
        try root.file("keep.txt", contents: "k")
        let settled = log.waitForChange(of: "keep.txt")
        move(root.path + "/keep.txt", root.path + "/keep.txt~")
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel").before(sentinel: "sentinel")

        XCTAssertEqual(events.filter { !$0.mentions("keep.txt") }, [.directoryAppeared("node"), .changed("doc.txt")])
        XCTAssertEqual(events.last, .removed("keep.txt", isDirectory: false))
        XCTAssertTrue(settled.contains(where: changeOf("keep.txt")))
        XCTAssertEqual(watcher.watchCount, 2, "root and node, not node/build")
    }

    func testMovedDirectoryIsJudgedAgainByAnchoredPatternsAtItsNewPlace() throws {
        let root = try TemporaryFolder()
        for name in ["a", "a/skip", "b", "b/skip"] { try root.folder(name) }
        try root.file("a/skip/x.txt", contents: "x")
        let (watcher, log) = try startWatcher(root, patterns: ["/a/skip/"])
        XCTAssertEqual(watcher.watchCount, 4, "root, a, b, b/skip")

        move(root.path + "/a", root.path + "/c")  // c/skip is no longer excluded
        move(root.path + "/b", root.path + "/a")  // a/skip now is
        let moves = log.wait { $0.contains(.moved(from: "b", to: "a", isDirectory: true)) }
        XCTAssertEqual(moves, [
            .moved(from: "a", to: "c", isDirectory: true), .directoryAppeared("c/skip"), .changed("c/skip/x.txt"),
            .moved(from: "b", to: "a", isDirectory: true),
        ])
        try root.file("a/skip/hidden.txt", contents: "h")
        try root.file("c/skip/seen.txt", contents: "s")
        let events = log.waitForChange(of: "c/skip/seen.txt")

        XCTAssertEqual(events.dropFirst(4).filter { !$0.mentions("c/skip/seen.txt") }, [])
        XCTAssertEqual(watcher.watchCount, 4, "root, a, c, c/skip")
    }

    // MARK: - Trouble

    func testSimulatedOverflowIsReportedAndWatchingGoesOn() throws {
        let root = try TemporaryFolder()
        let (_, log) = try startWatcher(root)
        let idle = try Watcher(root: root.path, filter: .none)
        idle.stop()  // a watcher stopped before it started closes cleanly

        let (overflowing, overflowLog) = try startWatcher(root)
        overflowing.simulateOverflow()
        XCTAssertEqual(overflowLog.wait { $0.contains(.overflow) }, [.overflow])
        try root.file("after.txt", contents: "x")
        XCTAssertTrue(overflowLog.waitForChange(of: "after.txt").contains(where: changeOf("after.txt")))
        XCTAssertFalse(log.waitForChange(of: "after.txt").contains(.overflow), "only the watcher asked sees it")
    }

    func testRealQueueOverflowIsReportedAndDirectoriesCreatedUnseenAreWatchedAfterwards() throws {
        let root = try TemporaryFolder()
        try root.file("a", contents: "a")
        try root.file("b", contents: "b")
        let blocked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let first = Once()
        let (_, log) = try startWatcher(root) { _ in
            if first.take() {
                blocked.signal()
                release.wait()  // the reading thread stalls: the kernel's queue fills
            }
        }
        defer { release.signal() }  // never leave the thread stuck, or stopping it would hang
        try root.file("trigger", contents: "x")
        XCTAssertEqual(blocked.wait(timeout: .now() + 5), .success)

        // Alternating two files (IN_ATTRIB): inotify merges only an event identical to the one queued just before.
        let limit = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 16384
        for index in 0..<(limit + 100) {
            chmod(root.path + (index % 2 == 0 ? "/a" : "/b"), index % 4 < 2 ? 0o600 : 0o644)
        }
        try root.folder("created unseen")  // its IN_CREATE is lost with the overflow
        release.signal()

        XCTAssertTrue(log.wait { $0.contains(.overflow) }.contains(.overflow))
        try root.file("created unseen/inside.txt", contents: "x")
        XCTAssertTrue(log.waitForChange(of: "created unseen/inside.txt").contains(where: changeOf("created unseen/inside.txt")))
    }

    func testWatchLimitIsReportedOnceWithTheWatchesNeededAndUnwatchedSubtreesListed() throws {
        let root = try TemporaryFolder()
        for name in ["d1", "d2", "d3", "d4", "d4/sub"] { try root.folder(name) }  // six directories with the root
        let (watcher, log) = try startWatcher(root, limit: 3)

        XCTAssertEqual(watcher.watchCount, 3)
        XCTAssertEqual(watcher.unwatched, ["d3", "d4"])
        try root.folder("d5")
        try root.file("sentinel")
        let events = log.waitForChange(of: "sentinel").before(sentinel: "sentinel")

        XCTAssertEqual(events, [.watchLimitReached(firstUnwatched: "d3", watchesNeeded: 3)], "once, and d5 is not watched")
        XCTAssertEqual(watcher.unwatched, ["d3", "d4", "d5"])
        XCTAssertEqual(watcher.watchCount, 3)
    }

    func testRootDeletedIsReportedAsGone() throws {
        let root = try TemporaryFolder()
        try root.file("f.txt", contents: "x")
        let (_, log) = try startWatcher(root)

        try FileManager.default.removeItem(atPath: root.path)
        let events = log.wait { $0.contains(.rootGone) }

        XCTAssertEqual(events, [.removed("f.txt", isDirectory: false), .rootGone])
    }

    func testRootMovedIsReportedAsGone() throws {
        let root = try TemporaryFolder()
        let moved = root.path + "-moved"
        defer { try? FileManager.default.removeItem(atPath: moved) }
        let (_, log) = try startWatcher(root)

        move(root.path, moved)
        try FileManager.default.createDirectory(atPath: moved + "/later", withIntermediateDirectories: false)
        let events = log.wait { $0.contains(.rootGone) }
        usleep(100_000)

        XCTAssertEqual(events, [.rootGone])
        XCTAssertEqual(log.all, [.rootGone], "nothing after the root is gone")
    }

    func testRootThatCannotBeWatchedThrowsSayingWhy() throws {
        let root = try TemporaryFolder()
        let file = try root.file("plain.txt")
        XCTAssertThrowsError(try Watcher(root: root.path + "/missing", filter: .none)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
            XCTAssertTrue("\(error)".contains(root.path + "/missing"), "\(error)")
        }
        XCTAssertThrowsError(try Watcher(root: file, filter: .none)) { error in
            XCTAssertTrue("\(error)".contains("not a folder"), "\(error)")
        }
    }

    func testStopCalledFromTheHandlerReturnsAndEndsTheThread() throws {
        let root = try TemporaryFolder()
        let watcher = try Watcher(root: root.path, filter: .none)
        let stopped = DispatchSemaphore(value: 0)
        watcher.start { _ in
            watcher.stop()
            stopped.signal()
        }
        try root.file("f.txt")
        XCTAssertEqual(stopped.wait(timeout: .now() + 5), .success)
        watcher.stop()  // from here: waits for the thread, which has ended or is ending
    }
}

/// True the first time only, from any thread.
private final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var taken = false

    func take() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if taken { return false }
        taken = true
        return true
    }
}
