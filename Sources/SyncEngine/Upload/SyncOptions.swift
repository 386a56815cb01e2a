import CloudreveAPI
import Foundation

/// Settings of one sync pass.
public struct SyncOptions: Sendable {
    /// Files uploaded at once.
    public var workers = 4
    /// Most chunk requests of one file in flight at once; the storage policy's `chunk_concurrency` may
    /// allow fewer.
    public var chunkConcurrency = 4
    /// Tries of one chunk within a pass before the file is left for a later pass.
    public var maxChunkAttempts = 8
    /// Stalls (no progress for `HTTPTransport.stallSeconds`) one file may have in a pass before it is left
    /// for the next pass: a stalled server costs a file at most this many times 30 s of silence.
    public var maxStalls = 3
    /// First retry delay in seconds; doubles per attempt up to `backoffCap`.
    public var backoffBase: TimeInterval = 0.5
    public var backoffCap: TimeInterval = 30
    /// Leave a failed file alone until its journaled next-attempt time (the daemon); a one-shot pass
    /// tries every file now.
    public var honorBackoff = false
    /// Cancel other clients' placeholders under the root once they are older than the session lifetime.
    public var cancelOrphanedUploads = true

    public init() {}
}

/// What the pass learned of the server before uploading.
struct ServerSnapshot: Sendable {
    var version: ServerVersion
    /// The storage policy new uploads use, from the root folder's listing; servers up to 4.10 require it.
    var policyID: String?
    /// That policy's `max_size` in bytes (0 or nil: no limit, or not said), for a 40049 message.
    var maxSize: Int64? = nil
    /// Whether the root's listing was read for `policyID` and `maxSize`: only once something is uploaded,
    /// so that a pass with nothing to send costs no listing (`RootSync.learnPolicy`).
    var policyKnown = false
}

/// Upload speed per connection, measured, so that a token refresh can be timed before a chunk that would
/// outlast the token (§2) and a session is not resumed when it would expire before the rest is sent.
final class Throughput: @unchecked Sendable {
    private let lock = NSLock()
    /// Bytes per second; a modest 1 MiB/s until measured.
    private var rate: Double = 1_048_576
    private var chunk: Int64 = 4 << 20

    /// The storage policy's chunk size, as the last session showed it (4 MiB until one did): a file of at
    /// most one chunk is "small" for the pool's fairness rule.
    var chunkSize: Int64 {
        get { lock.withLock { chunk } }
        set { lock.withLock { chunk = newValue > 0 ? newValue : .max } }  // 0: the whole file in one request
    }

    func record(bytes: Int64, seconds: TimeInterval) {
        guard bytes > 64 << 10, seconds > 0.001 else { return }
        lock.withLock { rate = rate * 0.7 + Double(bytes) / seconds * 0.3 }
    }

    func expectedSeconds(for bytes: Int64) -> TimeInterval {
        lock.withLock { Double(bytes) / rate }
    }
}
