import Glibc

/// What is at a local path now, not following a final symlink (the scanner does not follow them either).
enum LocalKind: Equatable {
    /// Nothing: lstat said ENOENT, or ENOTDIR (a folder above it is now a file).
    case none
    case file, directory, other
    /// lstat failed otherwise (permission, an I/O error of a failing or vanishing disk): nobody knows.
    case unreadable

    static func of(_ path: String) -> LocalKind {
        var st = stat()
        guard lstat(path, &st) == 0 else { return errno == ENOENT || errno == ENOTDIR ? .none : .unreadable }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Whether something the journal or the watcher knew as a file (or a folder) is gone from the disk,
    /// so that removing it on the server is what the user did. What cannot be inspected is never gone.
    func isGone(wasDirectory: Bool) -> Bool {
        switch self {
        case .none, .other: return true
        case .file: return wasDirectory
        case .directory: return !wasDirectory
        case .unreadable: return false
        }
    }
}

/// Whether a root may cause deletions on the server at all. Only a present root with something in it
/// may: a root that is gone (`rm -rf ROOT`, moved away) or empty (an unmounted disk leaves an empty
/// mount point) says nothing about what the user deleted.
enum RootPresence: Equatable {
    case present, missing, empty, unreadable

    static func of(_ root: String) -> RootPresence {
        guard let dir = opendir(root) else { return errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2e] && name != [0x2e, 0x2e] { return .present }
        }
        return .empty
    }

    /// Why nothing is deleted on the server, for the log and the pass's notes.
    func refusal(_ root: String, count: Int) -> String? {
        switch self {
        case .present: return nil
        case .missing:
            return "\(root) is gone (deleted, moved away, or its disk is not mounted): not trashing \(count) item(s) on the server; "
                + "nothing is deleted there until the folder is back"
        case .empty:
            return "\(root) is empty: not trashing \(count) item(s) on the server; if you did empty it, delete them on the server yourself"
        case .unreadable:
            return "\(root) cannot be read: not trashing \(count) item(s) on the server"
        }
    }
}

/// The topmost folder above `path` (relative to `root`) that is no longer a folder on disk, if any: a
/// folder that was deleted, or replaced by a file of the same name, goes to the trash as one item.
func topmostGoneFolder(above path: String, root: String) -> String? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    guard parts.count > 1 else { return nil }
    var prefix = ""
    for part in parts.dropLast() {
        prefix = prefix.isEmpty ? String(part) : prefix + "/" + part
        if LocalKind.of(root + "/" + prefix).isGone(wasDirectory: true) { return prefix }
    }
    return nil
}
