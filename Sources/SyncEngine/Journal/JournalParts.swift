import CloudreveAPI
import Foundation

/// Parts of direct-to-storage (S3-family) sessions: a chunk row that also keeps the part's ETag.
extension Journal {
    /// Records that the storage took part `index` with `etag`, durably, before the part counts as done.
    public func acknowledgePart(sessionID: String, index: Int, etag: String) throws {
        try writing {
            do {
                try database.run("""
                    INSERT INTO chunks (session_id, idx, etag) VALUES (?1, ?2, ?3)
                    ON CONFLICT (session_id, idx) DO UPDATE SET etag = excluded.etag
                    """, [.text(sessionID), .integer(Int64(index)), .text(etag)])
            } catch var error as SQLiteError where error.code == 787 /* SQLITE_CONSTRAINT_FOREIGNKEY */ {
                error.message = "no journaled upload session \(shortSessionID(sessionID)): it was deleted or never saved"
                throw error
            }
        }
    }

    /// The ETags journaled for a session's parts, by chunk index. A chunk without one was not sent as a part.
    public func partETags(sessionID: String) throws -> [Int: String] {
        try locked {
            let rows = try database.query("SELECT idx, etag FROM chunks WHERE session_id = ?1 AND etag IS NOT NULL",
                                          [.text(sessionID)]) { (Int($0.int64(0)), $0.string(1)) }
            var etags: [Int: String] = [:]
            for (index, etag) in rows { if let etag { etags[index] = etag } }
            return etags
        }
    }
}
