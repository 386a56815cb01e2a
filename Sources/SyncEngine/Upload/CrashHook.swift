import Foundation

/// Lets crash tests kill crsync at the two moments random timing rarely hits: after the server
/// acknowledged a chunk but before the journal recorded it, and in the middle of a file's last chunk.
/// Set by the environment, e.g. `CRSYNC_CRASH_AT=after-reply:5` (SIGKILL on the 5th acknowledged chunk
/// before it is journaled), `CRSYNC_CRASH_AT=last-chunk:2` (mid-body of the 2nd last chunk sent) or
/// `CRSYNC_CRASH_AT=after-create:1` (a session created on the server, not yet journaled); and the three
/// moments between a file's last chunk reply and the journal's record of the finished file
/// (`after-last-reply`, `after-last-ack`, `before-synced`).
/// A real SIGKILL of the real process; unset, it costs one comparison per chunk.
enum CrashHook {
    enum Moment: String {
        case afterReply = "after-reply"
        case lastChunk = "last-chunk"
        /// The server created an upload session (and its placeholder and lock) that the journal does not know yet.
        case afterCreate = "after-create"
        /// The server answered a file's last chunk (on ≤ 4.17 it completed the file then), not yet journaled.
        case afterLastReply = "after-last-reply"
        /// The last chunk is journaled as acknowledged; the completion is not yet confirmed.
        case afterLastAck = "after-last-ack"
        /// The completion is confirmed; the journal does not yet record the file as synced.
        case beforeSynced = "before-synced"
        /// S3 family: the multipart upload is completed on the storage, Cloudreve's callback not yet called.
        case afterStorageComplete = "after-storage-complete"
    }

    private static let armed: (moment: Moment, count: Int)? = {
        guard let spec = ProcessInfo.processInfo.environment["CRSYNC_CRASH_AT"] else { return nil }
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let moment = Moment(rawValue: String(parts[0])), let count = Int(parts[1]) else { return nil }
        return (moment, count)
    }()

    private static let lock = NSLock()
    private static var seen: [Moment: Int] = [:]

    static func reached(_ moment: Moment) {
        guard let armed, armed.moment == moment else { return }
        let count = lock.withLock {
            seen[moment, default: 0] += 1
            return seen[moment]!
        }
        if count == armed.count { kill(getpid(), SIGKILL) }
    }
}
