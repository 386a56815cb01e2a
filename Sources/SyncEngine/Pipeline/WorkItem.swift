import Foundation

/// One piece of pending work for one path of one root: what the queue (the journal's `work` table) holds.
public struct WorkItem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Upload the file if it is new or changed since the journal last saw it.
        case upload
        /// A deletion the watcher saw, waiting to settle (`PendingRemovals`) before it is applied.
        case delete
    }

    public var root: String
    public var path: String
    public var kind: Kind
    public var isDirectory = false
    /// When it may start.
    public var due: Date
    /// The file never went quiet (a growing log): its first bytes are sent even if it grows meanwhile.
    public var appends = false
    /// Found by a scan, not the watcher: the server may hold it already (a lost journal), so ask first.
    public var checkServer = false
    /// Set by the journal at every write; finishing an item deletes its row only if nothing newer replaced it.
    public var seq: Int64 = 0

    public init(root: String, path: String, kind: Kind, isDirectory: Bool = false, due: Date, appends: Bool = false,
                checkServer: Bool = false) {
        self.root = root
        self.path = path
        self.kind = kind
        self.isDirectory = isDirectory
        self.due = due
        self.appends = appends
        self.checkServer = checkServer
    }
}

extension Journal {
    /// Journals `items`, replacing any queued item of the same root, path and kind, in one transaction.
    /// Returns them with their `seq`.
    @discardableResult
    public func enqueue(_ items: [WorkItem]) throws -> [WorkItem] {
        guard !items.isEmpty else { return [] }
        return try writing {
            var next = try database.query("SELECT COALESCE(MAX(seq), 0) FROM work") { $0.int64(0) }.first ?? 0
            return try items.map { item in
                next += 1
                var saved = item
                saved.seq = next
                try database.run("""
                    INSERT INTO work (root, path, kind, is_dir, due_at, appends, check_server, seq)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                    ON CONFLICT (root, path, kind) DO UPDATE SET is_dir = excluded.is_dir, due_at = excluded.due_at,
                        appends = excluded.appends, check_server = excluded.check_server, seq = excluded.seq
                    """, [.text(item.root), .text(item.path), .text(item.kind.rawValue), .integer(item.isDirectory ? 1 : 0),
                          .real(item.due.timeIntervalSince1970), .integer(item.appends ? 1 : 0),
                          .integer(item.checkServer ? 1 : 0), .integer(next)])
                return saved
            }
        }
    }

    /// Every queued item of `kind` (of every root when `root` is nil), oldest request first.
    public func queued(_ kind: WorkItem.Kind, root: String? = nil) throws -> [WorkItem] {
        try locked {
            try database.query("""
                SELECT root, path, is_dir, due_at, appends, check_server, seq FROM work
                WHERE kind = ?1 AND (?2 IS NULL OR root = ?2) ORDER BY seq
                """, [.text(kind.rawValue), root.map { .text($0) } ?? .null]) { row in
                var item = WorkItem(root: row.string(0) ?? "", path: row.string(1) ?? "", kind: kind, isDirectory: row.int64(2) != 0,
                                    due: Date(timeIntervalSince1970: row.double(3)), appends: row.int64(4) != 0,
                                    checkServer: row.int64(5) != 0)
                item.seq = row.int64(6)
                return item
            }
        }
    }

    /// `items` are done: their rows go, unless a newer request for the same path replaced them meanwhile.
    public func finish(_ items: [WorkItem]) throws {
        guard !items.isEmpty else { return }
        try writing { try deleteWork(items) }
    }

    /// `finish` inside a transaction the caller holds.
    func deleteWork(_ items: [WorkItem]) throws {
        for item in items {
            try database.run("DELETE FROM work WHERE root = ?1 AND path = ?2 AND kind = ?3 AND seq = ?4",
                             [.text(item.root), .text(item.path), .text(item.kind.rawValue), .integer(item.seq)])
        }
    }

    /// The queued items of `kind` for exactly these paths, whatever their `seq`, in one transaction: deletions
    /// decided either way.
    public func dropQueued(root: String, paths: [String], kind: WorkItem.Kind) throws {
        guard !paths.isEmpty else { return }
        try writing {
            for path in paths {
                try database.run("DELETE FROM work WHERE root = ?1 AND path = ?2 AND kind = ?3", [.text(root), .text(path), .text(kind.rawValue)])
            }
        }
    }

    /// Every queued item of `root` at or under `path` (a folder's work goes with the folder).
    public func dropQueued(root: String, under path: String) throws {
        try writing {
            try database.run("""
                DELETE FROM work WHERE root = ?1 AND (path = ?2 OR substr(CAST(path AS BLOB), 1, length(CAST(?2 AS BLOB)) + 1) = CAST(?2 || '/' AS BLOB))
                """, [.text(root), .text(path)])
        }
    }
}
