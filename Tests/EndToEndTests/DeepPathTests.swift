import CloudreveAPI
import Foundation
import XCTest

/// A file whose path is longer than PATH_MAX (4096 bytes), which open(2) refuses whole: it is uploaded
/// like any other, and so is everything around it.
final class DeepPathTests: XCTestCase {
    func testFileBeyondPathMaxIsUploadedWithTheRest() throws {
        let scenario = try Scenario()
        defer {
            removeTree(scenario.scratch + "/tree")  // FileManager cannot remove it
            scenario.tearDown()
        }
        let local = scenario.scratch + "/tree"
        let remote = "cloudreve://my/Backup"
        try writeFile(local + "/top.txt", Array("top\n".utf8))
        try writeFile(local + "/sub/near.txt", Array("near\n".utf8))
        // 22 folders of 200-byte names: 4,422 bytes below the root, past PATH_MAX wherever the root is.
        let names = (0..<22).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0 % 26))), count: 200) }
        let midBytes = pseudoRandomBytes(3000, seed: 1)
        let deepBytes = pseudoRandomBytes(70_000, seed: 2)
        try makeDeep(local, names, files: [10: ("mid.txt", midBytes), 22: ("deep.txt", deepBytes)])
        let deepRelative = names.joined(separator: "/") + "/deep.txt"
        XCTAssertGreaterThan((local + "/" + deepRelative).utf8.count, 4096)

        let result = try scenario.sync(local, remote)
        XCTAssertEqual(result.status, 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        XCTAssertEqual(try scenario.mismatches(local: local, remote: remote), [])  // the shallow files
        for (relative, bytes) in [(names.prefix(10).joined(separator: "/") + "/mid.txt", midBytes), (deepRelative, deepBytes)] {
            XCTAssertEqual(try download(scenario, remote + "/" + relative), bytes, "\(relative.utf8.count) bytes deep")
        }
        XCTAssertEqual(try scenario.placeholders(under: remote).map(\.path), [])
        // Unchanged on the next pass: nothing sent again.
        let before = try scenario.server.stats()
        let again = try scenario.sync(local, remote)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try scenario.server.stats().chunkRequests, before.chunkRequests)
    }

    /// Creates `names` as nested folders under `root` by descriptor, with `files[depth]` written at that depth.
    private func makeDeep(_ root: String, _ names: [String], files: [Int: (String, [UInt8])]) throws {
        var fd = open(root, O_RDONLY | O_DIRECTORY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        for (index, name) in names.enumerated() {
            XCTAssertEqual(mkdirat(fd, name, 0o755), 0)
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
            if let (file, bytes) = files[index + 1] {
                let out = openat(fd, file, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                XCTAssertEqual(write(out, bytes, bytes.count), bytes.count)
                close(out)
            }
        }
        close(fd)
    }

    private func download(_ scenario: Scenario, _ remote: String) throws -> [UInt8] {
        let client = try scenario.server.client()
        let url = try client.downloadURLs([try CloudrevePath(parsing: remote)])[0]
        let path = scenario.scratch + "/deep-download.tmp"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = try client.download(url: url, into: fd)
        close(fd)
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func removeTree(_ path: String) {
        let rm = Process()
        rm.executableURL = URL(fileURLWithPath: "/bin/rm")
        rm.arguments = ["-rf", path]
        try? rm.run()
        rm.waitUntilExit()
    }
}
