import Glibc

/// Walks a sync root and reports every regular file with its identity.
///
/// It reads names as raw bytes (open/readdir/fstatat relative to the parent folder's descriptor), not
/// through FileManager, so a name that is not UTF-8, or two names that differ only in Unicode normalization,
/// are seen exactly as the kernel holds them. Working relative to descriptors also keeps deep trees clear
/// of PATH_MAX. One descriptor stays open per folder level while its subfolders are walked.
public enum Scanner {
    /// Scans `root`. Throws `ScanError` only if the root itself cannot be read; anything below it that
    /// cannot be read, or has a name Cloudreve refuses, becomes a problem while the rest is still scanned.
    /// Paths `filter` excludes are passed over silently, and excluded folders are not entered.
    public static func scan(root: String, filter: PathFilter = .none) throws -> ScanResult {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ScanError(root: root, reason: rootReason(errno))
        }
        var walk = Walk(filter: filter)
        walk.folder(fd, at: [], components: [])
        return walk.result()
    }

    /// What to do with a directory entry, decided from its name and `st_mode` alone.
    enum Entry: Equatable {
        case file
        case folder
        /// Not uploaded, by design: a note, not an error.
        case skipped(String)
        /// Not uploaded, and the person should know why.
        case problem(String)
    }

    static func classify(name: [UInt8], mode: mode_t) -> Entry {
        switch mode & S_IFMT {
        case S_IFREG, S_IFDIR:
            if let problem = NameRules.problem(with: name) {
                return .problem((mode & S_IFMT) == S_IFDIR ? problem + "; nothing inside this folder is synced" : problem)
            }
            return (mode & S_IFMT) == S_IFDIR ? .folder : .file
        case S_IFLNK: return .skipped("symbolic link: not followed")
        case S_IFIFO: return .skipped("named pipe (FIFO): not a regular file")
        case S_IFSOCK: return .skipped("socket: not a regular file")
        case S_IFCHR: return .skipped("character device: not a regular file")
        case S_IFBLK: return .skipped("block device: not a regular file")
        default: return .skipped("unknown file type: not a regular file")
        }
    }

    static func identity(of info: stat) -> FileIdentity {
        FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                     mtimeNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// Why an entry below the root could not be read, and what to do. `what` is "list this folder" etc.
    static func reason(_ code: Int32, cannot what: String) -> String {
        switch code {
        case EACCES, EPERM:
            return "permission denied: crsync cannot \(what); give the user running crsync access "
                + "(e.g. chmod u+rx for a folder, u+r for a file) or move it out of the sync root"
        case EMFILE, ENFILE:
            return "too many open files: cannot \(what); the folder tree is too deep for the open-file limit (ulimit -n)"
        default:
            return "cannot \(what): \(PathBytes.systemError(code))"
        }
    }

    static func rootReason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "it does not exist; create it or correct the sync root in the configuration"
        case ENOTDIR: return "it is not a folder; the sync root must be a folder"
        case EACCES, EPERM:
            return "permission denied; give the user running crsync read and execute permission on it (chmod u+rx)"
        default: return PathBytes.systemError(code)
        }
    }
}

/// The state of one scan: what has been found so far, keyed by raw relative path bytes.
private struct Walk {
    let filter: PathFilter
    var files: [(path: [UInt8], identity: FileIdentity)] = []
    var problems: [(path: [UInt8], reason: String)] = []
    var skipped: [(path: [UInt8], reason: String)] = []

    /// Walks the folder open on `fd` (closing it when done) whose path relative to the root is `path`, in
    /// scalars `components` (what the filter matches; left empty when the filter cannot exclude anything).
    mutating func folder(_ fd: Int32, at path: [UInt8], components: [[Unicode.Scalar]]) {
        defer { close(fd) }
        let names: [[UInt8]]
        switch readNames(fd) {
        case .success(let read): names = read
        case .failure(let error):
            problems.append((path, Scanner.reason(error.code, cannot: "list this folder")))
            return
        }
        for name in names.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let child = path.isEmpty ? name : path + [PathBytes.slash] + name
            var info = stat()
            guard withCName(name, { fstatat(fd, $0, &info, AT_SYMLINK_NOFOLLOW) }) == 0 else {
                let code = errno
                // Deleted between readdir and fstatat: the next scan, or the watcher, sees it gone.
                if code != ENOENT { problems.append((child, Scanner.reason(code, cannot: "inspect this entry"))) }
                continue
            }
            let kind = info.st_mode & S_IFMT
            // This folder was entered, so it is included: only the entry's own verdict is left.
            if filter.excludesEntry(parent: components, name: name, path: child, isDirectory: kind == S_IFDIR) { continue }
            switch Scanner.classify(name: name, mode: info.st_mode) {
            case .file:
                // lstat needs no read permission on the file; the upload will. Catch it here, with a reason.
                if withCName(name, { faccessat(fd, $0, R_OK, AT_EACCESS) }) != 0 {
                    problems.append((child, Scanner.reason(errno, cannot: "read this file")))
                } else {
                    files.append((child, Scanner.identity(of: info)))
                }
            case .folder:
                let childFD = withCName(name) { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
                if childFD < 0 {
                    problems.append((child, Scanner.reason(errno, cannot: "list this folder")))
                } else {
                    folder(childFD, at: child,
                           components: filter.isEmpty ? [] : components + [Array(String(decoding: name, as: UTF8.self).unicodeScalars)])
                }
            case .skipped(let reason):
                skipped.append((child, reason))
            case .problem(let reason):
                problems.append((child, reason))
            }
        }
    }

    /// The folder's entry names, without "." and "..". Reads through a duplicate descriptor because
    /// closedir closes the descriptor fdopendir was given, and `fd` is still needed for fstatat and openat.
    private func readNames(_ fd: Int32) -> Result<[[UInt8]], Errno> {
        let copy = dup(fd)
        guard copy >= 0 else { return .failure(Errno(errno)) }
        guard let directory = fdopendir(copy) else {
            let code = errno
            close(copy)
            return .failure(Errno(code))
        }
        defer { closedir(directory) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                return errno == 0 ? .success(names) : .failure(Errno(errno))
            }
            // d_name is read through a pointer, not copied as a 256-byte tuple: the kernel's record may be shorter.
            let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let cName = UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self)
            let name = Array(UnsafeRawBufferPointer(start: cName, count: strlen(cName)))
            if name != [0x2e] && name != [0x2e, 0x2e] { names.append(name) }
        }
    }

    func result() -> ScanResult {
        func byPath(_ a: (path: [UInt8], reason: String), _ b: (path: [UInt8], reason: String)) -> Bool {
            a.path.lexicographicallyPrecedes(b.path)
        }
        func note(_ item: (path: [UInt8], reason: String)) -> ScanProblem {
            ScanProblem(path: item.path.isEmpty ? "." : PathBytes.display(item.path), reason: item.reason)
        }
        return ScanResult(
            // Every component of a file's path passed NameRules, so it is valid UTF-8 and decodes exactly.
            files: files.sorted { $0.path.lexicographicallyPrecedes($1.path) }
                .map { ScannedFile(path: String(decoding: $0.path, as: UTF8.self), identity: $0.identity) },
            problems: problems.sorted(by: byPath).map(note),
            skipped: skipped.sorted(by: byPath).map(note))
    }
}

/// An errno value, so that it can travel in a `Result`.
private struct Errno: Error {
    var code: Int32
    init(_ code: Int32) { self.code = code }
}

/// Calls `body` with `name` as a NUL-terminated C string of exactly its bytes.
private func withCName<T>(_ name: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
    (name + [0]).withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
    }
}
