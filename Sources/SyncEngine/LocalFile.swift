import Foundation

/// An open local file being uploaded: chunks are read from its descriptor at their offsets, and its
/// identity is checked around every chunk so that a file changing mid-upload is never completed torn.
final class LocalFile {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw FileVanished(path: path) }
            throw UploadFailure(reason: "cannot open \(path): \(String(cString: strerror(errno)))", permanent: errno == EACCES || errno == ELOOP)
        }
    }

    deinit { close(fd) }

    /// Device, inode, size and mtime of what is open now.
    func identity() throws -> FileIdentity {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw UploadFailure(reason: "cannot stat \(path): \(String(cString: strerror(errno)))", permanent: false)
        }
        return Scanner.identity(of: st)
    }

    /// Whether the path still names the open file unchanged: a rename-over (atomic save) swaps the inode,
    /// an append or rewrite moves size or mtime.
    func isUnchanged(since identity: FileIdentity, allowingAppends: Bool = false) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, let open = try? self.identity() else { return false }
        let named = Scanner.identity(of: st)
        if allowingAppends {
            return named.device == identity.device && named.inode == identity.inode && open.inode == identity.inode
                && open.size >= identity.size
        }
        return named == identity && open == identity
    }
}

extension FileIdentity {
    /// What Cloudreve's `last_modified` takes: milliseconds.
    var mtimeMs: Int64 { mtimeNs / 1_000_000 }
}

/// Why a file could not be uploaded in this pass.
struct UploadFailure: Error, CustomStringConvertible {
    var reason: String
    /// Not worth retrying until the file or the server's quota changes (reference §8.6).
    var permanent: Bool
    /// The server's code, when it gave one.
    var code: Int? = nil
    /// The server could not be reached at all: the whole root should back off, not just this file.
    var unreachable = false
    var description: String { reason }
}

/// The file was deleted (or renamed away) after it was seen and before its upload finished: not a
/// failure. The deletion is the watcher's or the next pass's to apply.
struct FileVanished: Error, CustomStringConvertible {
    var path: String
    var description: String { "\(path) was deleted before its upload finished" }
}
