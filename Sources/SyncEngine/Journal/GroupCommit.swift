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
    /// One group's fate, held by each of its writers: a later group's outcome can never be mistaken for it.
    final class Outcome {
        fileprivate(set) var committed = false
        /// Why its COMMIT failed; its writers throw it.
        fileprivate(set) var error: Error?
    }

    /// Whether a transaction is open on the connection, holding writes not yet committed.
    private(set) var open = false
    /// The group that writes added now belong to.
    private(set) var current = Outcome()
    /// Whether some writer is committing (or waiting for arrivals before it commits).
    private(set) var committing = false
    /// Groups finished so far (a test's and a benchmark's figure).
    private(set) var finishedCount = 0

    mutating func opened() { open = true }
    mutating func startCommitting() { committing = true }

    /// The open group was committed (or rolled back with `error`); later writes go to a new group.
    mutating func finished(error: Error?) {
        current.committed = true
        current.error = error
        current = Outcome()
        open = false
        committing = false
        finishedCount += 1
    }
}

/// The journal's mutex with the two conditions group commit waits on. One condition for both (an
/// `NSCondition`) made every arriving writer wake every writer waiting for its commit, only for them to
/// sleep again: with 8 workers that was most of the process's 47 futex calls per small file (perf).
/// Here an arrival wakes only the committer, and a commit only the writers of its group.
final class CommitLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// The committer waits on it for writers still arriving.
    private let arrived = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Writers wait on it for their group's commit.
    private let committed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(arrived, nil)
        pthread_cond_init(committed, nil)
    }

    deinit {
        pthread_cond_destroy(committed)
        pthread_cond_destroy(arrived)
        pthread_mutex_destroy(mutex)
        committed.deallocate()
        arrived.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func waitForArrivals() { pthread_cond_wait(arrived, mutex) }
    func signalArrival() { pthread_cond_signal(arrived) }
    func waitForCommit() { pthread_cond_wait(committed, mutex) }
    func broadcastCommit() { pthread_cond_broadcast(committed) }
}
