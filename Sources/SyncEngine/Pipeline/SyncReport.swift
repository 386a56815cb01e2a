import CloudreveAPI
import Foundation

/// A local folder kept uploaded to a folder on the server.
public struct SyncRoot: Sendable {
    /// Absolute path.
    public var local: String
    public var remote: CloudrevePath
    /// What a local deletion does on the server.
    public var deletes: DeletePolicy
    /// gitignore-style patterns of paths never uploaded.
    public var exclude: [String]
    /// crsync's own files (state folder, configuration): never uploaded if they lie inside `local`.
    public var ownFiles: [String]

    public init(local: String, remote: CloudrevePath, deletes: DeletePolicy = .keep, exclude: [String] = [], ownFiles: [String] = []) {
        self.local = local
        self.remote = remote
        self.deletes = deletes
        self.exclude = exclude
        self.ownFiles = ownFiles
    }

    /// The journal's name for this pairing.
    public var key: String { "\(local) -> \(remote)" }
}

/// What a pass did, for the summary and the exit code.
public struct SyncReport: Sendable {
    public var uploaded: [(path: String, bytes: Int64)] = []
    public var unchanged = 0
    /// Found on the server already as we would have sent it (no journal entry yet).
    public var adopted = 0
    public var failed: [(path: String, reason: String)] = []
    /// Files whose server copy had changed since our last upload: ours went beside theirs under `copy`.
    public var conflicts: [(path: String, copy: String)] = []
    /// Moved to the server's trash because they were deleted locally.
    public var trashed: [String] = []
    /// Things not synced by design (symlinks, FIFOs, excluded): reported, not failures.
    public var notes: [String] = []
    /// What was held back for safety and needs a person's eye (deletions refused for a gone or empty root).
    public var warnings: [String] = []
    public var bytesSent: Int64 = 0
    /// Upload sessions cancelled on the server because they could no longer finish.
    public var cancelledSessions: [String] = []
    public var serverVersion: ServerVersion?
    /// Stopped early by a signal; what was in flight stays resumable.
    public var interrupted = false
    /// Stopped early because the state directory cannot be written (disk full) or the journal is damaged:
    /// the one message that says so, instead of a failure per remaining file.
    public var halted: String?

    public init() {}

    public mutating func merge(_ other: SyncReport) {
        uploaded += other.uploaded
        unchanged += other.unchanged
        adopted += other.adopted
        failed += other.failed
        conflicts += other.conflicts
        trashed += other.trashed
        notes += other.notes
        warnings += other.warnings
        bytesSent += other.bytesSent
        cancelledSessions += other.cancelledSessions
        serverVersion = serverVersion ?? other.serverVersion
        interrupted = interrupted || other.interrupted
        halted = halted ?? other.halted
    }
}

/// Called as files finish, from worker threads.
public struct SyncEvents: Sendable {
    public var uploaded: @Sendable (_ path: String, _ bytes: Int64, _ seconds: TimeInterval) -> Void = { _, _, _ in }
    public var failed: @Sendable (_ path: String, _ reason: String) -> Void = { _, _ in }
    public var note: @Sendable (_ message: String) -> Void = { _ in }
    /// Something is wrong but still being retried (a stalled server): a warning in the log and output.
    public var warning: @Sendable (_ message: String) -> Void = { _ in }
    /// Before uploads start: how many files and bytes this batch will try.
    public var planned: @Sendable (_ files: Int, _ bytes: Int64) -> Void = { _, _ in }
    public init() {}
}
