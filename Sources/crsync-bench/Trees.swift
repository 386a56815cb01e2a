import CSQLite
import Foundation

/// Local files for the scenarios, written with plain system calls (fast enough for a million).
enum Trees {
    /// `count` files of `size` bytes under `root/small/`, each with different content.
    static func smallFiles(root: String, count: Int, size: Int) throws -> [String] {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var paths: [String] = []
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<count {
            try Interrupt.check()
            let path = root + String(format: "/f%06d.bin", i)
            fillPseudoRandom(&bytes, seed: UInt64(i) &+ 1)
            try write(path, bytes)
            paths.append(path)
        }
        return paths
    }

    /// A file of `size` bytes of pseudo-random content, written 4 MiB at a time.
    static func bigFile(_ path: String, size: Int64) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var block = [UInt8](repeating: 0, count: 4 << 20)
        var written: Int64 = 0
        var seed: UInt64 = 7
        while written < size {
            try Interrupt.check()
            fillPseudoRandom(&block, seed: seed)
            seed &+= 1
            let n = Int(min(Int64(block.count), size - written))
            guard block.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress!, n) }) == n else {
                throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += Int64(n)
        }
    }

    /// `folders` folders of `perFolder` empty files each (`dNNNNN/fNNN`); returns the relative paths.
    /// Empty files: a no-change rescan compares metadata only, and a million non-empty files would cost
    /// 4 GiB of blocks for nothing.
    static func manyFiles(root: String, folders: Int, perFolder: Int) throws -> [String] {
        var relative: [String] = []
        relative.reserveCapacity(folders * perFolder)
        for d in 0..<folders {
            try Interrupt.check()
            let folder = String(format: "d%05d", d)
            guard mkdir(root + "/" + folder, 0o755) == 0 || errno == EEXIST else {
                throw BenchError("cannot create \(root)/\(folder): \(String(cString: strerror(errno)))")
            }
            for f in 0..<perFolder {
                let path = folder + String(format: "/f%03d", f)
                let fd = open(root + "/" + path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                guard fd >= 0 else { throw BenchError("cannot create \(root)/\(path): \(String(cString: strerror(errno)))") }
                close(fd)
                relative.append(path)
            }
        }
        return relative
    }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw BenchError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ Foundation.write(fd, $0.baseAddress!, $0.count) }) == bytes.count else {
            throw BenchError("cannot write \(path)")
        }
    }

    /// Deterministic bytes (xorshift), different for each seed.
    static func fillPseudoRandom(_ bytes: inout [UInt8], seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for i in 0..<words.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                words[i] = state
            }
            for i in (words.count * 8)..<raw.count { raw[i] = UInt8(truncatingIfNeeded: state >> (i % 8)) }
        }
    }
}

/// Fills crsync's journal for a big tree without uploading it: one real `crsync sync` journals a seed file
/// of the root, then every other file gets a copy of that row with its own path and identity (device,
/// inode, size, mtime from lstat), as if a sync had uploaded it. The seed row is the newest one of that
/// name (the tree's own seed sync has just written it). Uploading a million files to the dev
/// server would take hours; a no-change pass reads only the journal and the disk, so it cannot tell.
/// Raw SQL (one transaction, an `INSERT … SELECT` from the seed row per file) rather than the `Journal`
/// API: a million rows through `noteScanned` + `markSynced` would cost two fsynced writes each. The values
/// come from the really synced seed row; a renamed column stops the bench at `prepare`, saying so, and a
/// new column takes its default.
enum JournalSeeder {
    static func copySeedRow(journal: String, seedPath: String, root: String, files: [String]) throws {
        var db: OpaquePointer?
        guard sqlite3_open(journal, &db) == SQLITE_OK, let db else { throw BenchError("cannot open \(journal)") }
        defer { sqlite3_close(db) }
        sqlite3_busy_timeout(db, 10_000)
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
                throw BenchError("journal \(journal): \(sql): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
        var seedID: Int64 = 0
        var lookup: OpaquePointer?
        guard sqlite3_prepare_v2(db, "SELECT id FROM files WHERE path = ? AND state = 'synced' ORDER BY id DESC LIMIT 1", -1, &lookup, nil) == SQLITE_OK else {
            throw BenchError("journal \(journal): \(String(cString: sqlite3_errmsg(db))) (has its schema changed?)")
        }
        sqlite3_bind_text(lookup, 1, seedPath, -1, crsync_sqlite_transient())
        if sqlite3_step(lookup) == SQLITE_ROW { seedID = sqlite3_column_int64(lookup, 0) }
        sqlite3_finalize(lookup)
        guard seedID != 0 else { throw BenchError("journal \(journal) has no synced row for \(seedPath)") }

        try exec("BEGIN IMMEDIATE")
        var insert: OpaquePointer?
        let sql = """
            INSERT INTO files (root, path, state, device, inode, size, mtime_ns, remote_file_id, remote_entity, remote_size, remote_mtime_ns)
            SELECT root, ?1, state, device, ?2, ?3, ?4, remote_file_id || ?1, remote_entity || ?1, ?3, ?4 FROM files WHERE id = ?5
            """
        guard sqlite3_prepare_v2(db, sql, -1, &insert, nil) == SQLITE_OK else {
            throw BenchError("journal \(journal): \(String(cString: sqlite3_errmsg(db))) (has its schema changed?)")
        }
        defer { sqlite3_finalize(insert) }
        for (i, path) in files.enumerated() {
            if i % 10_000 == 0 { try Interrupt.check() }
            var st = stat()
            guard lstat(root + "/" + path, &st) == 0 else { throw BenchError("cannot stat \(root)/\(path)") }
            sqlite3_reset(insert)
            sqlite3_bind_text(insert, 1, path, -1, crsync_sqlite_transient())
            sqlite3_bind_int64(insert, 2, Int64(bitPattern: UInt64(st.st_ino)))
            sqlite3_bind_int64(insert, 3, Int64(st.st_size))
            sqlite3_bind_int64(insert, 4, Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec))
            sqlite3_bind_int64(insert, 5, seedID)
            guard sqlite3_step(insert) == SQLITE_DONE else {
                throw BenchError("journal \(journal): insert \(path): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
        try exec("COMMIT")
    }
}
