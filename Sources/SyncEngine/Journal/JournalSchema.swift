/// The journal's tables, versioned by `PRAGMA user_version`.
///
/// `steps[n]` takes a journal from version n to n+1. A released step is never edited: later versions
/// append steps, so every journal on disk, whatever its age, reaches the current version the same way.
enum JournalSchema {
    static let steps: [String] = [
        // 0 → 1
        """
        -- One row per local file under a sync root. AUTOINCREMENT so that a forgotten file's id is never
        -- handed to a new file while a session row may still name it.
        -- Paths and roots compare as bytes (BINARY): NFC and NFD spellings of a name are different files.
        CREATE TABLE files (
            id                INTEGER PRIMARY KEY AUTOINCREMENT,
            root              TEXT    NOT NULL COLLATE BINARY,
            path              TEXT    NOT NULL COLLATE BINARY,
            state             TEXT    NOT NULL CHECK (state IN ('pending', 'synced', 'failed')),
            device            INTEGER NOT NULL,   -- UInt64 stored by bit pattern
            inode             INTEGER NOT NULL,   -- UInt64 stored by bit pattern
            size              INTEGER NOT NULL,
            mtime_ns          INTEGER NOT NULL,
            remote_file_id    TEXT,               -- NULL: nothing uploaded yet; the remote_* columns go together
            remote_entity     TEXT,
            remote_size       INTEGER,
            remote_mtime_ns   INTEGER,
            attempts          INTEGER NOT NULL DEFAULT 0,
            next_attempt_at   REAL,               -- Unix seconds
            last_error        TEXT,
            permanent_failure INTEGER NOT NULL DEFAULT 0,
            UNIQUE (root, path)
        ) STRICT;

        -- At most one upload session per file. No foreign key to files: a session outlives `forget`
        -- so that it can still be cancelled on the server, which otherwise keeps the placeholder,
        -- its lock and its quota charge (§8 step 7).
        CREATE TABLE sessions (
            session_id     TEXT    PRIMARY KEY COLLATE BINARY,
            file_id        INTEGER NOT NULL UNIQUE,
            uri            TEXT    NOT NULL,
            session_json   BLOB    NOT NULL,
            server_version TEXT    NOT NULL,
            chunk_size     INTEGER NOT NULL,
            chunk_count    INTEGER NOT NULL,
            expires        REAL    NOT NULL,      -- Unix seconds
            device         INTEGER NOT NULL,
            inode          INTEGER NOT NULL,
            size           INTEGER NOT NULL,
            mtime_ns       INTEGER NOT NULL,
            created_at     REAL    NOT NULL       -- Unix seconds
        ) STRICT;

        -- One row per chunk the server acknowledged. Deleting a session deletes its chunks.
        CREATE TABLE chunks (
            session_id TEXT    NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL CHECK (idx >= 0),
            PRIMARY KEY (session_id, idx)
        ) STRICT, WITHOUT ROWID;
        """,
        // 1 → 2
        """
        -- Small facts learned along the way, e.g. the server's upload-session lifetime, which the stale
        -- placeholder sweep needs and no API reports (§8 step 7).
        CREATE TABLE settings (
            key   TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT;
        """,
        // 2 → 3
        """
        -- The server's code for a failure, so that a quota refusal (40051) can be retried once the quota
        -- frees, without parsing messages.
        ALTER TABLE files ADD COLUMN failure_code INTEGER;
        """,
        // 3 → 4
        """
        -- The queue: work the watcher or a scan noticed and nothing has finished yet. A row is written before
        -- anything acts on it and deleted once done, so a daemon restarted after kill -9 starts it at once
        -- instead of waiting for a rescan to find it again. `seq` grows with every write, so a worker that
        -- finishes an item never deletes a newer request for the same path (the file changed meanwhile).
        CREATE TABLE work (
            root         TEXT    NOT NULL COLLATE BINARY,
            path         TEXT    NOT NULL COLLATE BINARY,
            kind         TEXT    NOT NULL CHECK (kind IN ('upload', 'delete')),
            is_dir       INTEGER NOT NULL DEFAULT 0,
            due_at       REAL    NOT NULL,            -- Unix seconds
            appends      INTEGER NOT NULL DEFAULT 0,  -- a file that never went quiet: appends tolerated
            check_server INTEGER NOT NULL DEFAULT 0,  -- found by a scan: ask the server before sending
            seq          INTEGER NOT NULL,
            PRIMARY KEY (root, path, kind)
        ) STRICT;
        """,
        // 4 → 5
        """
        -- The storage's ETag of a part sent straight to an S3-family bucket: the completion must list every
        -- part with it, so a resumed upload needs the ETags of the parts it does not send again.
        ALTER TABLE chunks ADD COLUMN etag TEXT;
        """,
    ]

    static var currentVersion: Int { steps.count }

    /// Brings `database` to `currentVersion` in one transaction, so a crash mid-migration leaves the old version.
    static func migrate(_ database: SQLiteDatabase) throws {
        try database.transaction {
            let version = try database.userVersion
            guard version <= currentVersion else {
                throw SQLiteError(
                    path: database.path, statement: "migrate", code: 0,
                    message: "the journal has schema version \(version) but this crsync knows only up to "
                        + "\(currentVersion); it was written by a newer crsync: upgrade crsync, or move the journal aside")
            }
            for step in steps[version...] {
                try database.execute(step)
            }
            if version != currentVersion {
                try database.setUserVersion(currentVersion)
            }
        }
    }
}
