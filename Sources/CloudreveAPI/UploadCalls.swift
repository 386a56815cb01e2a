import Foundation
import Transport

extension CloudreveClient {
    /// `PUT /file/upload`: creates an upload session (and the placeholder, and the path lock, §4). Returns
    /// what crsync reads from the session, decoded in one pass (`SessionReply`), and the raw JSON of `data`,
    /// which the journal keeps whole.
    public func createUploadSession(_ request: UploadSessionRequest) throws -> (reply: SessionReply, json: [UInt8]) {
        guard let raw: RawJSON = try authed("PUT", "/file/upload", json: request) else {
            throw CloudreveError.malformed(path: "/file/upload", detail: "no session")
        }
        do {
            return (try SessionReply(json: raw.bytes), raw.bytes)
        } catch {
            throw CloudreveError.malformed(path: "/file/upload", detail: "\(error)")
        }
    }

    /// `POST /file/upload/{id}/{index}`: streams `length` bytes of `fd` from `offset` with an exact
    /// Content-Length. Returns normally only on HTTP 200 with code 0. An expired access token shows up here
    /// as 40011, like a dead session (§2), so 40011 is answered by one refresh and one retry.
    /// `progress` may abort the request (return false) between buffers.
    public func uploadChunk(sessionID: String, index: Int, fd: Int32, offset: Int64, length: Int64,
                            expectedDuration: TimeInterval, progress: BodyProgress? = nil) throws {
        let _: Empty? = try authed("POST", "/file/upload/\(sessionID)/\(index)",
                                   body: .fileRange(fd: fd, offset: offset, length: length),
                                   expectedDuration: expectedDuration, timeout: 0, retryOn: [401, 40011], progress: progress)
    }

    /// `DELETE /file/upload`: cancels a session, deleting a new file's placeholder or the new version, and
    /// releasing quota and lock. 40016 means it is already gone, which is what we wanted (§4, §8.6).
    public func cancelUploadSession(id: String, uri: String) throws {
        do {
            let _: Empty? = try authed("DELETE", "/file/upload", json: CancelRequest(id: id, uri: uri))
        } catch CloudreveError.api(40016, _, _, _) {
            return
        }
    }
}

/// A reply's `data`, byte for byte as the server sent it (`decodeEnvelope` cuts it out of the body with
/// `scanEnvelope`; it is never decoded and encoded again).
struct RawJSON: Decodable {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// Never called: `decodeEnvelope` answers `RawJSON` before any decoder sees it.
    init(from decoder: Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "RawJSON is cut from the body, not decoded"))
    }
}
