import Foundation
import XCTest
@testable import SyncEngine

/// Journal writes from many threads share commits (`GroupCommit`); each must still be durable when its
/// call returns, and a write that fails must undo only itself.
final class GroupCommitTests: XCTestCase {
    let root = "/srv/data"

    func testConcurrentWritesAreAllDurableAndAFailingOneUndoesOnlyItself() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        let journal = try Journal(path: path)
        let threads = 8, perThread = 40
        /// What the threads saw, under `failures`.
        final class Tally: @unchecked Sendable {
            var unexpected: [String] = []
            var refused = 0
        }
        let failures = NSLock(), tally = Tally()
        // Threads of their own: `concurrentPerform` runs as many at once as there are cores (two here), which
        // left each write nearly alone in its commit.
        let done = DispatchGroup()
        for thread in 0..<threads {
            done.enter()
            Thread {
                defer { done.leave() }
                for i in 0..<perThread {
                    do {
                        _ = try journal.noteScanned(root: self.root, path: "t\(thread)/f\(i)", identity: self.identity(Int64(i)))
                    } catch {
                        failures.withLock { tally.unexpected.append("\(error)") }
                    }
                    // A chunk of a session that was never saved: refused by the foreign key, inside a shared group.
                    if i % 10 == 0 {
                        do {
                            try journal.acknowledgeChunk(sessionID: "never-saved-\(thread)-\(i)", index: 0)
                            failures.withLock { tally.unexpected.append("an acknowledgement without a session was accepted") }
                        } catch {
                            failures.withLock { tally.refused += 1 }
                        }
                    }
                }
            }.start()
        }
        done.wait()
        XCTAssertEqual(tally.unexpected, [])
        XCTAssertEqual(tally.refused, threads * perThread / 10)
        // A second connection sees only committed data: every write that returned is there.
        let reopened = try Journal(path: path)
        XCTAssertEqual(try reopened.records(root: root).count, threads * perThread)
        XCTAssertEqual(try reopened.database.query("SELECT count(*) FROM chunks") { $0.int64(0) }.first, 0)
        // Nothing is left open: another connection can write at once.
        try reopened.setSetting("probe", "1")
        let writes = threads * perThread + tally.refused
        print("group commit: \(writes) writes in \(journal.commitGroups) commits")
        XCTAssertLessThan(journal.commitGroups, writes, "no two of 8 threads' writes ever shared a commit")
    }

    func testAWriteAfterAFailedOneIsCommittedAndNoTransactionStaysOpen() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        let journal = try Journal(path: path)
        XCTAssertThrowsError(try journal.acknowledgeChunk(sessionID: "missing", index: 0))
        XCTAssertFalse(journal.database.inTransaction, "a failed write left its transaction open, holding the write lock")
        _ = try journal.noteScanned(root: root, path: "a", identity: identity(1))
        XCTAssertFalse(journal.database.inTransaction)
        XCTAssertNotNil(try Journal(path: path).record(root: root, path: "a"))
    }

    private func identity(_ n: Int64) -> FileIdentity {
        FileIdentity(device: 1, inode: UInt64(n + 1), size: n, mtimeNs: 1_000 + n)
    }
}
