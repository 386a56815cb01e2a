import Foundation
import XCTest
@testable import SyncEngine

/// Paths of PATH_MAX (4096) bytes or more, which open(2) refuses whole.
final class LongPathTests: XCTestCase {
    func testShortPathIsOnePiece() {
        XCTAssertEqual(PathBytes.pieces(of: "/home/u/a b/c", under: 4096), ["/home/u/a b/c"])
    }

    func testLongPathIsCutAtSlashesIntoPiecesUnderTheLimit() {
        let names = (0..<30).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0 % 26))), count: 200) }
        let path = "/root/" + names.joined(separator: "/")
        let pieces = PathBytes.pieces(of: path, under: 4096)
        XCTAssertGreaterThan(pieces.count, 1)
        XCTAssertTrue(pieces.allSatisfy { $0.utf8.count < 4096 }, "\(pieces.map { $0.utf8.count })")
        XCTAssertTrue(pieces[0].hasPrefix("/root/"))
        XCTAssertTrue(pieces.dropFirst().allSatisfy { !$0.hasPrefix("/") && !$0.hasSuffix("/") })
        XCTAssertEqual(pieces.joined(separator: "/"), path)
    }

    /// A real file 5,000 bytes deep: opened, read and checked for change through its folder.
    func testLocalFileOpensAndChecksAFileBeyondPathMax() throws {
        let folder = try TemporaryFolder()
        defer { removeDeepTree(folder.path) }
        var fd = open(folder.path, O_RDONLY | O_DIRECTORY)
        var depth = 0
        while depth * 201 < 5000 {
            let name = String(repeating: "d", count: 200)
            XCTAssertEqual(mkdirat(fd, name, 0o700), 0)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
            depth += 1
        }
        let file = openat(fd, "deep.txt", O_WRONLY | O_CREAT, 0o600)
        XCTAssertEqual(write(file, "deep\n", 5), 5)
        close(file)
        close(fd)
        let path = folder.path + String(repeating: "/" + String(repeating: "d", count: 200), count: depth) + "/deep.txt"
        XCTAssertGreaterThan(path.utf8.count, 4096)
        let local = try LocalFile(path: path)
        let identity = try local.identity()
        XCTAssertEqual(identity.size, 5)
        XCTAssertTrue(local.isUnchanged(since: identity))
        var buffer = [UInt8](repeating: 0, count: 5)
        XCTAssertEqual(pread(local.fd, &buffer, 5, 0), 5)
        XCTAssertEqual(buffer, Array("deep\n".utf8))
    }
}

/// FileManager cannot remove a tree deeper than PATH_MAX; rm(1) walks it by descriptor.
func removeDeepTree(_ path: String) {
    let rm = Process()
    rm.executableURL = URL(fileURLWithPath: "/bin/rm")
    rm.arguments = ["-rf", path]
    try? rm.run()
    rm.waitUntilExit()
}
