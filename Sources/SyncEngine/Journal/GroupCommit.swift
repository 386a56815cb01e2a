import Foundation

/// Group commit: the writes of several threads share one transaction and one fsync.
///
/// Every journal write must be durable before its caller acts on it (a chunk counts as sent only once
/// journaled), and with `synchronous=FULL` each commit costs an fsync. Eight workers uploading small files
/// each wrote three commits per file, one after another, so the disk's fsync latency, not the network,
/// set the pace. Here a write runs in the group's open transaction (inside its own savepoint, so a write
/// that throws undoes only itself), and its caller then waits until that group is committed. The first
/// writer to wait commits, but only after every writer already queued for the lock has added its work:
/// writers that arrive during one fsync all ride on the next. No caller returns before its write is on
/// disk, so what a crash can cost is unchanged.
///
/// Used by `Journal` only, under its condition's mutex.
struct GroupCommit {
    /// Whether a transaction is open on the connection, holding writes not yet committed.
    private(set) var open = false
    /// Counts groups: writes added now belong to group `current`; groups up to `committed` are on disk.
    private(set) var current = 0
    private(set) var committed = -1
    /// A group whose COMMIT failed, and why: its writers throw that error.
    private(set) var failed: (group: Int, error: Error)?
    /// Whether some writer is committing (or waiting for arrivals before it commits).
    private(set) var committing = false

    mutating func opened() { open = true }
    mutating func startCommitting() { committing = true }

    /// The open group was committed (or rolled back with `error`); later writes go to a new group.
    mutating func finished(error: Error?) {
        if let error { failed = (current, error) }
        committed = current
        current += 1
        open = false
        committing = false
    }
}
