/// A held lock of the in-memory lock system (`pkg/filemanager/lock/memlock.go`). Only upload locks
/// outlive a request; everything else (rename, move, delete, create) only checks for conflicts.
struct PathLock {
    let token: String
    /// Components from the user's root.
    let path: [[UInt8]]
    /// `owner.application.type`, e.g. "upload".
    let application: String
    /// 0 = file, 1 = folder.
    let type: Int
    let expires: Timestamp
}

/// The lock table. Like the real one it lives in memory only, so a restart loses every lock (§4, §6).
final class LockTable {
    private var byToken: [String: PathLock] = [:]

    /// Locks that stop an operation taking a lock on `path`: a lock on the path itself, on any
    /// ancestor (upload locks have infinite depth), or, unless the request is zero-depth, on anything
    /// below it (§6: renaming or deleting an ancestor folder of an uploading file gives 40073).
    func conflicts(with path: [[UInt8]], zeroDepth: Bool = false, now: Timestamp) -> [PathLock] {
        purgeExpired(now: now)
        return byToken.values.filter { lock in
            if lock.path == path { return true }
            if lock.path.count < path.count { return Array(path.prefix(lock.path.count)) == lock.path }
            return !zeroDepth && Array(lock.path.prefix(path.count)) == path
        }.sorted { $0.token < $1.token }
    }

    func create(path: [[UInt8]], application: String, type: Int, expires: Timestamp) -> String {
        let token = Random.uuid()
        byToken[token] = PathLock(token: token, path: path, application: application, type: type, expires: expires)
        return token
    }

    /// Whether the lock `token` still holds `path` (memLS.Confirm).
    func confirm(token: String, path: [[UInt8]], now: Timestamp) -> Bool {
        purgeExpired(now: now)
        return byToken[token]?.path == path
    }

    func holds(token: String, now: Timestamp) -> Bool {
        purgeExpired(now: now)
        return byToken[token] != nil
    }

    /// Force unlock: all tokens or none (an unknown token fails the whole call, memLS.Unlock).
    func unlock(_ tokens: [String], now: Timestamp) -> Bool {
        purgeExpired(now: now)
        guard tokens.allSatisfy({ byToken[$0] != nil }) else { return false }
        for t in tokens { byToken[t] = nil }
        return true
    }

    func release(_ token: String) { byToken[token] = nil }

    private func purgeExpired(now: Timestamp) {
        for (token, lock) in byToken where lock.expires <= now { byToken[token] = nil }
    }

    /// The 40073 payload (`lock.ConflictDetail`); tokens are shown because every path here belongs
    /// to the requester (`dbfs/lock.go acquireByPath`).
    static func conflictJSON(_ locks: [PathLock]) -> JSON {
        .array(locks.map { lock in
            .object([
                ("path", .string(CloudreveURI.string(fileSystem: "my", components: lock.path))),
                ("token", .string(lock.token)),
                ("owner", .object([("application", .object([("type", .string(lock.application))]))])),
                ("type", .int(lock.type)),
            ])
        })
    }
}
