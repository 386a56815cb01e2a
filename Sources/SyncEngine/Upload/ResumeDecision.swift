import Foundation

/// What to do with an upload session found in the journal (reference §8.4).
public enum ResumeDecision: Equatable, Sendable {
    /// Send the chunks not acknowledged.
    case resume
    /// Cancel it on the server and start a new one, for this reason.
    case restart(String)
}

/// Decides whether a journaled session can still be finished: not if it expires before the remaining
/// chunks can plausibly be sent (nothing on the server extends a session, §4), nor if the local file is no
/// longer the one the session was created for.
public func resumeDecision(sessionExpires: Date, sessionIdentity: FileIdentity, currentIdentity: FileIdentity,
                           now: Date, timeToFinish: TimeInterval) -> ResumeDecision {
    if sessionIdentity != currentIdentity {
        return .restart("the local file changed since its upload started")
    }
    // A minute of slack covers the completion check and clock drift between us and the server.
    if now.addingTimeInterval(timeToFinish + 60) >= sessionExpires {
        return .restart("the upload session expires before the rest could be sent")
    }
    return .resume
}

/// Exponential backoff with jitter: attempt 1 waits between half and all of `base`, each later attempt
/// twice as long, never more than `cap`; the jitter keeps many workers from retrying in lockstep.
/// `random` is in [0, 1) and injected so the function stays pure.
public func backoffDelay(attempt: Int, base: TimeInterval, cap: TimeInterval, random: Double) -> TimeInterval {
    let ceiling = min(cap, base * pow(2, Double(max(0, attempt - 1))))
    return ceiling / 2 + ceiling / 2 * random
}
