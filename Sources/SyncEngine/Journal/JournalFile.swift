import Glibc

/// Creating the journal's file privately before SQLite opens it.
///
/// The journal holds session JSON with `callback_secret` and, for remote policies, upload credentials
/// (§4), so only its owner may read it. SQLite gives the -wal and -shm files the main file's mode.
enum JournalFile {
    /// Creates the missing folders of `path`'s parent with mode 0700 and the file itself with mode 0600.
    /// An existing file is narrowed to 0600; existing folders are left as they are.
    static func createPrivately(at path: String) throws {
        try createFolders(PathBytes.parent(of: path), at: path)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw failure(path, "create", "cannot create the journal file: \(PathBytes.systemError(errno))")
        }
        defer { close(fd) }
        if fchmod(fd, 0o600) != 0 {
            throw failure(path, "create", "cannot make the journal file private (mode 0600): \(PathBytes.systemError(errno))")
        }
    }

    /// `mkdir -p`, but each folder it creates is 0700.
    private static func createFolders(_ folder: String, at journalPath: String) throws {
        guard !folder.isEmpty, folder != "/", !isDirectory(folder) else { return }
        try createFolders(PathBytes.parent(of: folder), at: journalPath)
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw failure(journalPath, "create", "cannot create the journal's folder \(folder): \(PathBytes.systemError(errno))")
        }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func failure(_ path: String, _ step: String, _ message: String) -> SQLiteError {
        SQLiteError(path: path, statement: step, code: 0, message: message)
    }
}
