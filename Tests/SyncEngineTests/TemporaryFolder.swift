import Foundation
import Glibc
import XCTest

/// A fresh folder under /tmp for one test, removed afterwards.
final class TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/crsync-syncengine-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw NSError(domain: "mkdtemp", code: Int(errno))
        }
        path = String(cString: made)
    }

    deinit {
        TemporaryFolder.makeRemovable(path)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Restores permissions a test removed (mode 000 folders), top down: a folder must be readable
    /// before its entries can be listed.
    private static func makeRemovable(_ folder: String) {
        chmod(folder, 0o700)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let child = folder + "/" + name
            var info = stat()
            guard lstat(child, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR { makeRemovable(child) }
        }
    }

    /// Creates a file at `relative` (raw bytes, "/"-separated; parent folders must exist) holding `contents`.
    @discardableResult
    func file(_ relative: [UInt8], contents: [UInt8] = []) throws -> String {
        let full = Array(path.utf8) + [UInt8(ascii: "/")] + relative
        let fd = (full + [0]).withUnsafeBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        guard fd >= 0 else { throw NSError(domain: "open " + String(decoding: full, as: UTF8.self), code: Int(errno)) }
        defer { close(fd) }
        if !contents.isEmpty {
            _ = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
        return String(decoding: full, as: UTF8.self)
    }

    @discardableResult
    func file(_ relative: String, contents: String = "") throws -> String {
        try file(Array(relative.utf8), contents: Array(contents.utf8))
    }

    @discardableResult
    func folder(_ relative: String) throws -> String {
        let full = path + "/" + relative
        guard mkdir(full, 0o755) == 0 else { throw NSError(domain: "mkdir " + full, code: Int(errno)) }
        return full
    }
}
