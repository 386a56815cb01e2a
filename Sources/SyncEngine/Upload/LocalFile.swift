import Foundation

/// An open local file being uploaded: chunks are read from its descriptor at their offsets, and its
/// identity is checked around every chunk so that a file changing mid-upload is never completed torn.
final class LocalFile {
    let path: String
    let fd: Int32
    /// The folder the file is named in (`AT_FDCWD` for a path under PATH_MAX) and its name there: a path
    /// of 4096 bytes or more cannot be given to open(2) or stat(2) whole, so it is reached from its folder.
    private let folder: Int32
    private let name: String

    init(path: String) throws {
        self.path = path
        (folder, name) = try LocalFile.openFolder(of: path)
        fd = openat(folder, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if folder != AT_FDCWD { close(folder) }
            if code == ENOENT || code == ENOTDIR { throw FileVanished(path: path) }
            throw UploadFailure(reason: "cannot open \(path): \(String(cString: strerror(code)))", permanent: code == EACCES || code == ELOOP)
        }
    }

    deinit {
        close(fd)
        if folder != AT_FDCWD { close(folder) }
    }

    /// lstat(2) that also reaches a path of PATH_MAX bytes or more; nil when it cannot be read.
    static func linkStatus(_ path: String) -> stat? {
        guard let (folder, name) = try? openFolder(of: path) else { return nil }
        defer { if folder != AT_FDCWD { close(folder) } }
        var st = stat()
        return fstatat(folder, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    /// `(AT_FDCWD, path)` for a path the kernel takes whole; otherwise the file's folder opened piece by
    /// piece (`PathBytes.pieces`), each piece relative to the one before, and the file's name.
    private static func openFolder(of path: String) throws -> (Int32, String) {
        guard path.utf8.count >= Int(PATH_MAX) else { return (AT_FDCWD, path) }
        let parent = PathBytes.parent(of: path)
        let name = String(decoding: Array(path.utf8).dropFirst(parent.utf8.count + 1), as: UTF8.self)
        var folder = AT_FDCWD
        for piece in PathBytes.pieces(of: parent, under: Int(PATH_MAX)) {
            let next = openat(folder, piece, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            let code = errno
            if folder != AT_FDCWD { close(folder) }
            guard next >= 0 else {
                throw UploadFailure(reason: "cannot open a folder of \(path): \(String(cString: strerror(code)))", permanent: code == EACCES)
            }
            folder = next
        }
        return (folder, name)
    }

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
        guard fstatat(folder, name, &st, 0) == 0, let open = try? self.identity() else { return false }
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
