import Glibc

/// Lists one directory for the watcher: each entry's raw name and whether it is a directory (symbolic
/// links are not: like the scanner, the watcher never follows them).
enum WatcherDirectory {
    struct Entry: Equatable {
        var name: [UInt8]
        var isDirectory: Bool
    }

    /// The entries of the directory at `path` (absolute or relative to the working directory, raw bytes),
    /// without "." and ".."; nil if it cannot be opened (gone already, or not readable: the scanner
    /// reports the latter).
    static func entries(_ path: [UInt8]) -> [Entry]? {
        let fd = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard fd >= 0 else { return nil }
        guard let directory = fdopendir(fd) else {
            close(fd)
            return nil
        }
        defer { closedir(directory) }
        var entries: [Entry] = []
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(directory) {
            // d_name is read through a pointer, not copied as a 256-byte tuple: the kernel's record may be shorter.
            let cName = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            let name = Array(UnsafeRawBufferPointer(start: cName, count: strlen(cName)))
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            let type = entry.pointee.d_type
            var isDirectory = type == UInt8(DT_DIR)
            if type == UInt8(DT_UNKNOWN) {
                // Some file systems (older XFS, some FUSE) leave d_type empty: ask lstat.
                var info = stat()
                let found = (name + [0]).withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { fstatat(fd, $0.baseAddress!, &info, AT_SYMLINK_NOFOLLOW) }
                }
                if found != 0 { continue }
                isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append(Entry(name: name, isDirectory: isDirectory))
        }
        return entries.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }
}
