import Glibc
import XCTest
@testable import SyncEngine

final class ScannerTests: XCTestCase {
    func testNestedFoldersAndEmptyFilesAreScannedWithTheirIdentity() throws {
        let root = try TemporaryFolder()
        try root.folder("a")
        try root.folder("a/b")
        try root.folder("a/b/c")
        try root.folder("empty folder")
        let deep = try root.file("a/b/c/deep.txt", contents: "deep")
        try root.file("top.txt", contents: "hello world")
        try root.file("empty.txt")
        // A mtime with nanoseconds, to see that st_mtim is read at full precision.
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789), timespec(tv_sec: 1_700_000_000, tv_nsec: 123_456_789)]
        XCTAssertEqual(utimensat(AT_FDCWD, deep, &times, 0), 0)

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["a/b/c/deep.txt", "empty.txt", "top.txt"])
        XCTAssertEqual(result.problems.map(\.description), [])
        XCTAssertEqual(result.skipped.map(\.description), [])
        var info = stat()
        XCTAssertEqual(lstat(deep, &info), 0)
        XCTAssertEqual(result.files[0].identity,
                       FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: 4,
                                    mtimeNs: 1_700_000_000_123_456_789))
        XCTAssertEqual(result.files[1].identity.size, 0)
        XCTAssertEqual(result.files[2].identity.size, 11)
    }

    func testNamesWithSpacesPunctuationAndUnicodeInBothNormalizationsAreAllScanned() throws {
        let root = try TemporaryFolder()
        let nfc = "caf\u{e9}.txt"
        let nfd = "cafe\u{301}.txt"
        let names = ["with space.txt", "100%.txt", "#hash", "a+b", "it's", "日本語.txt", "emoji 🚀", nfc, nfd]
        for name in names { try root.file(name, contents: name) }

        let result = try Scanner.scan(root: root.path)

        // Compare bytes: Swift's String == would call the NFC and NFD names equal.
        let scanned = result.files.map { Array($0.path.utf8) }
        XCTAssertEqual(scanned, names.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(result.files.filter { $0.path == nfc }.count, 2, "the two spellings are canonically equivalent…")
        XCTAssertEqual(Set(result.files.map(\.identity.inode)).count, names.count, "…yet two files")
        XCTAssertTrue(result.problems.isEmpty, "\(result.problems)")
    }

    func testNameWithColonIsReportedWhileItsSiblingsAreScanned() throws {
        let root = try TemporaryFolder()
        try root.file("before.txt")
        try root.file("12:30 notes.txt")
        try root.folder("bad:folder")
        try root.file("bad:folder/inside.txt")
        try root.file("zafter.txt")

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["before.txt", "zafter.txt"])
        XCTAssertEqual(result.problems.map(\.path), ["12:30 notes.txt", "bad:folder"])
        for problem in result.problems {
            XCTAssertTrue(problem.reason.contains("“:”"), problem.reason)
            XCTAssertTrue(problem.reason.contains("rename"), problem.reason)
        }
        XCTAssertTrue(result.problems[1].reason.contains("nothing inside this folder"), result.problems[1].reason)
    }

    func testNameThatIsNotUTF8IsReportedWithEscapedBytesAndItsFolderNotEntered() throws {
        let root = try TemporaryFolder()
        try root.file(Array("caf".utf8) + [0xff] + Array(".txt".utf8))
        try root.folder("ok")
        try root.file(Array("ok/latin1 ".utf8) + [0xe9, 0x74, 0xe9])
        let badFolder = Array(root.path.utf8) + Array("/d".utf8) + [0xc3, 0x28]
        XCTAssertEqual((badFolder + [0]).withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { mkdir($0.baseAddress!, 0o755) }
        }, 0)
        try root.file(Array("d".utf8) + [0xc3, 0x28] + Array("/hidden.txt".utf8))
        try root.file("ok/fine.txt")

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["ok/fine.txt"])
        XCTAssertEqual(result.problems.map(\.path), [#"caf\xff.txt"#, #"d\xc3("#, #"ok/latin1 \xe9t\xe9"#],
                       "invalid bytes and control characters are escaped; valid ones are shown as they are")
        XCTAssertTrue(result.problems[0].reason.contains("not valid UTF-8"), result.problems[0].reason)
        XCTAssertTrue(result.problems[1].reason.contains("nothing inside this folder"), result.problems[1].reason)
    }

    func testSymlinksAreSkippedAndNotFollowed() throws {
        let root = try TemporaryFolder()
        try root.folder("real")
        try root.file("real/file.txt")
        XCTAssertEqual(symlink(root.path + "/real", root.path + "/link-to-folder"), 0)
        XCTAssertEqual(symlink("real/file.txt", root.path + "/link-to-file"), 0)
        XCTAssertEqual(symlink("/nonexistent", root.path + "/dangling"), 0)

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["real/file.txt"])
        XCTAssertEqual(result.skipped.map(\.path), ["dangling", "link-to-file", "link-to-folder"])
        XCTAssertTrue(result.skipped.allSatisfy { $0.reason.contains("symbolic link") })
        XCTAssertTrue(result.problems.isEmpty)
    }

    func testFIFOsAndSocketsAreSkippedWithoutBlocking() throws {
        let root = try TemporaryFolder()
        XCTAssertEqual(mkfifo(root.path + "/pipe", 0o644), 0)
        // Binding a Unix socket creates the socket file; closing it leaves the file behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let socketPath = Array((root.path + "/sock").utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: socketPath) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        close(fd)
        try root.file("regular")

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["regular"])
        XCTAssertEqual(result.skipped.map(\.description),
                       ["pipe: named pipe (FIFO): not a regular file", "sock: socket: not a regular file"])
    }

    func testUnreadableFolderAndFileAreReportedAndTheRestScanned() throws {
        let root = try TemporaryFolder()
        try root.folder("locked")
        try root.file("locked/secret.txt")
        try root.file("private.txt")
        try root.file("public.txt")
        XCTAssertEqual(chmod(root.path + "/locked", 0o000), 0)
        XCTAssertEqual(chmod(root.path + "/private.txt", 0o000), 0)
        let probe = opendir(root.path + "/locked")
        if let probe {
            closedir(probe)
            throw XCTSkip("running with permission to read mode-000 folders (root or CAP_DAC_OVERRIDE): cannot test EACCES here")
        }

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map(\.path), ["public.txt"])
        XCTAssertEqual(result.problems.map(\.path), ["locked", "private.txt"])
        XCTAssertTrue(result.problems.allSatisfy { $0.reason.hasPrefix("permission denied: ") }, "\(result.problems)")
    }

    func testMissingRootThrowsNamingThePathAndWhatToDo() throws {
        let root = try TemporaryFolder()
        XCTAssertThrowsError(try Scanner.scan(root: root.path + "/nope")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(root.path + "/nope"), text)
            XCTAssertTrue(text.contains("does not exist"), text)
            XCTAssertTrue(text.contains("configuration"), text)
        }
        let file = try root.file("plain")
        XCTAssertThrowsError(try Scanner.scan(root: file)) { error in
            XCTAssertTrue(String(describing: error).contains("not a folder"), "\(error)")
        }
    }

    func testOrderIsByPathBytes() throws {
        let root = try TemporaryFolder()
        try root.folder("a")
        try root.file("a/b")
        try root.file("a-c")
        try root.file("B")
        try root.file("caf\u{e9}")   // C3 A9
        try root.file("cafe\u{301}") // 65 CC 81

        let result = try Scanner.scan(root: root.path)

        XCTAssertEqual(result.files.map { Array($0.path.utf8) },
                       ["B", "a-c", "a/b", "cafe\u{301}", "caf\u{e9}"].map { Array($0.utf8) },
                       "'-' (2D) sorts before '/' (2F), and NFD 'e' (65) before NFC 'é' (C3)")
    }

    func testEntriesAreClassifiedByTypeThenByName() {
        let name = Array("ok".utf8)
        XCTAssertEqual(Scanner.classify(name: name, mode: S_IFREG | 0o644), .file)
        XCTAssertEqual(Scanner.classify(name: name, mode: S_IFDIR | 0o755), .folder)
        XCTAssertEqual(Scanner.classify(name: Array("a|b".utf8), mode: S_IFLNK), .skipped("symbolic link: not followed"),
                       "a link is skipped whatever its name: it is never uploaded")
        guard case .problem = Scanner.classify(name: Array("a|b".utf8), mode: S_IFREG) else {
            return XCTFail("a file Cloudreve would refuse is a problem")
        }
        XCTAssertEqual(Scanner.classify(name: name, mode: S_IFCHR), .skipped("character device: not a regular file"))
        XCTAssertEqual(Scanner.classify(name: name, mode: S_IFBLK), .skipped("block device: not a regular file"))
    }
}
