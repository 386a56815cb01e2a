import CloudreveAPI
import Foundation

/// How the server's storage policy makes crsync upload, as `crsync status` tells it: relay uploads
/// cannot resume (one request per file, §4), a direct or local policy can. Learned from each new session.
public enum UploadMode {
    static let key = "upload_mode"

    /// The line `crsync status` shows for a session of this policy.
    static func describe(_ reply: SessionReply) -> String {
        let session = reply.session
        let type = session.storagePolicy?.type ?? "local"
        if session.storagePolicy?.relay == true || (type != "local" && session.chunkSize == 0 && reply.s3 == nil) {
            return "relay mode on the '\(type)' policy: each file goes in one request and an interrupted upload starts over; "
                + "a direct policy (local, remote, s3, ks3, cos, oss, obs, onedrive) resumes where it stopped"
        }
        if let s3 = reply.s3 {
            return "straight to the '\(s3.policyType)' storage in parts; an interrupted upload resumes with the parts not yet sent"
        }
        return "to the server in chunks ('\(type)' policy); an interrupted upload resumes with the chunks not yet sent"
    }

    /// Written only when it changes: not one more fsync per file.
    static func learn(from reply: SessionReply, journal: Journal) throws {
        let text = describe(reply)
        try journal.learnSetting(key, text) { $0 == text }
    }

    /// What was learned last, if any session was created yet.
    public static func current(journal: Journal) throws -> String? { try journal.setting(key) }
}
