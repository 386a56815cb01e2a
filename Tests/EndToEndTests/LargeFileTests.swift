import Foundation
import XCTest

/// A 1 GiB file: chunks are streamed from disk, never held whole, so crsync's memory stays flat.
final class LargeFileTests: XCTestCase {
    func testOneGiBFileWithFourWorkersStaysUnder64MiBRSS() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(8 << 20)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/big"
        try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
        let path = local + "/one-gib.bin"
        guard let handle = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() else { throw HarnessError("cannot create \(path)") }
        let block = pseudoRandomBytes(4 << 20, seed: 99)
        for i in 0..<256 {
            var piece = block
            piece[0] = UInt8(i)  // no two blocks alike
            handle.write(Data(piece))
        }
        try handle.close()

        let started = Date()
        let result = try scenario.sync(local, "cloudreve://my/Big", ["--workers", "4"])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 0, result.stderr)
        let rssMiB = Double(result.maxRSSKiB) / 1024
        print("1 GiB upload: crsync peak RSS \(String(format: "%.1f", rssMiB)) MiB, \(String(format: "%.1f", seconds)) s, "
              + "\(String(format: "%.0f", 1024 / seconds)) MiB/s over loopback (debug build)")
        XCTAssertLessThan(rssMiB, 64)
        XCTAssertEqual(try scenario.mismatches(local: local, remote: "cloudreve://my/Big"), [])
    }
}
