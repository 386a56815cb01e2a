import Glibc

/// crsync's own files — the state folder (journal, sign-in tokens, lock, status) and the configuration
/// file — are never uploaded, whatever a root's exclude patterns say: backing up a home folder is the
/// most common first use, and it must not put the tokens on the server or chase the journal's -wal.
public enum OwnFiles {
    /// The root-relative paths of `ownPaths` (absolute) that lie inside `root`, symlinks resolved on both
    /// sides so that `~/link-to-home` still finds `~/.local/state/crsync`. A path that does not exist yet
    /// is resolved through its nearest existing ancestor.
    public static func inside(root: String, _ ownPaths: [String]) -> [String] {
        guard let resolvedRoot = resolved(root) else { return [] }
        return ownPaths.compactMap { path in resolved(path).flatMap { relative($0, inside: resolvedRoot) } }
    }

    /// `path` relative to `folder` when it is strictly inside it; both absolute and already resolved.
    static func relative(_ path: String, inside folder: String) -> String? {
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        guard path.utf8.count > base.utf8.count, path.utf8.starts(with: base.utf8) else { return nil }
        return String(decoding: path.utf8.dropFirst(base.utf8.count), as: UTF8.self)
    }

    /// `realpath` of `path`, or of its nearest existing ancestor with the rest appended.
    static func resolved(_ path: String) -> String? {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        guard let base = resolved(String(path[..<slash])) else { return nil }
        return (base == "/" ? "" : base) + "/" + path[path.index(after: slash)...]
    }
}
