import Foundation

/// What the server holds because we uploaded it: the baseline for skipping and for `previous`.
public struct RemoteBaseline: Equatable, Sendable {
    /// The file's hashid (`FileResponse.id`).
    public var fileID: String
    /// The primary entity's hashid, sent as `previous` (4.11+) to detect remote edits (§4).
    public var entity: String
    public var size: Int64
    /// The mtime we uploaded, in nanoseconds; the server keeps it at millisecond precision at best (§8b).
    public var mtimeNs: Int64

    public init(fileID: String, entity: String, size: Int64, mtimeNs: Int64) {
        self.fileID = fileID
        self.entity = entity
        self.size = size
        self.mtimeNs = mtimeNs
    }
}

public enum FileState: String, Sendable {
    /// Seen locally with content the server may not have yet.
    case pending
    /// The server holds exactly the content of `FileRecord.local`.
    case synced
    /// The last attempt failed; see `lastError`, `nextAttemptAt` and `permanentFailure`.
    case failed
}

/// One local file under a sync root, as the journal knows it.
public struct FileRecord: Sendable {
    /// The journal's row id; never reused for another file, even after `forget`.
    public var id: Int64
    /// The sync root as configured (an absolute local path).
    public var root: String
    /// Relative to `root`, "/"-separated, byte-exact: compare with `path.utf8`, never with `==`.
    public var path: String
    public var state: FileState
    /// The identity last scanned (pending, failed) or last uploaded (synced).
    public var local: FileIdentity
    /// What we last uploaded, if anything; kept while the file is pending again.
    public var remote: RemoteBaseline?
    /// Failed attempts since the file last became pending.
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    /// The server refused in a way retrying cannot fix (name rules, size limit, quota: §8 step 6).
    public var permanentFailure: Bool
    /// The server's code for the last failure, when it gave one (40051 is retried once quota frees).
    public var failureCode: Int?

    public init(id: Int64, root: String, path: String, state: FileState, local: FileIdentity,
                remote: RemoteBaseline?, attempts: Int, nextAttemptAt: Date?, lastError: String?,
                permanentFailure: Bool, failureCode: Int? = nil) {
        self.failureCode = failureCode
        self.id = id
        self.root = root
        self.path = path
        self.state = state
        self.local = local
        self.remote = remote
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.permanentFailure = permanentFailure
    }
}

/// A file's row as a whole pass needs it to tell whether the file changed (`Journal.scanBaselines`).
public struct ScanBaseline: Sendable {
    public var id: Int64
    public var local: FileIdentity
    /// Synced: the journaled identity is on the server. Otherwise the file still has work to do.
    public var synced: Bool
}
