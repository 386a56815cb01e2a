import CloudreveAPI
import Foundation

/// What a person reads when a chunk upload stalls: which file, which server, which session and chunk,
/// and how long nothing moved. The session id is shortened as `crsync sessions` shows it.
func stallMessage(path: String, server: String, sessionID: String, chunk: Int, chunks: Int, seconds: Int) -> String {
    "upload of \(path) to \(server) stalled: no progress for \(seconds) s "
        + "(session \(shortSessionID(sessionID)), chunk \(chunk + 1) of \(chunks))"
}

/// A count shared by the chunk threads of one file.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// Adds one; returns the new count.
    func increment() -> Int { lock.withLock { value += 1; return value } }
    var count: Int { lock.withLock { value } }
}
