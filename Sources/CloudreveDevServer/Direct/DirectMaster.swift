import Foundation

/// The master's side of direct uploads: what a session adds for the client, the cancel that reaches the
/// storage, and the callbacks that complete an upload (reference §5, §8c).
extension Store {
    /// The session fields a direct policy adds (`upload_urls`, `credential`), after opening the
    /// storage-side session: on the node for `remote`, in memory for `onedrive`.
    func remoteOrOneDriveFields(_ session: UploadSession) throws -> [(String, JSON)] {
        switch config.direct.policy {
        case "remote":
            guard let node = config.direct.nodeURL else { throw APIError(50005, "remote policy without a node") }
            do {
                try nodeCall("PUT", base: node, path: "/api/v4/slave/upload", secret: config.direct.nodeSecret, expires: now.seconds + 60,
                             body: .object([("session_id", .string(session.id)), ("size", .int(session.size)),
                                            ("chunk_size", .int(session.chunkSize)), ("expires", .int(session.expires.seconds)),
                                            ("callback_secret", .string(session.callbackSecret)), ("master", .string(baseURL))]))
            } catch let e as APIError {
                sessions[session.id] = nil
                throw APIError(e.code, "Failed to create upload session on the slave node: \(e.msg)")
            }
            let path = "/api/v4/slave/upload/\(session.id)"
            return [("upload_urls", .array([.string(node + path)])),
                    ("credential", .string(NodeSignature.credential(path: path, expires: session.expires.seconds,
                                                                    secret: config.direct.nodeSecret)))]
        case "onedrive":
            direct.oneDrive[session.id] = OneDriveSession()
            return [("upload_urls", .array([.string(baseURL + "/__onedrive/upload/\(session.id)")]))]
        default:
            return []
        }
    }

    /// `DELETE /file/upload` on a live session also drops the storage side (§4): the node's session and
    /// partial file, or the OneDrive upload session.
    func dropRemoteOrOneDrive(_ session: UploadSession) {
        switch config.direct.policy {
        case "remote":
            guard let node = config.direct.nodeURL else { return }
            try? nodeCall("DELETE", base: node, path: "/api/v4/slave/upload/\(session.id)", secret: config.direct.nodeSecret,
                          expires: now.seconds + 60, body: nil)
        case "onedrive":
            direct.oneDrive[session.id] = nil
        default:
            break
        }
    }

    /// `POST /callback/remote/{id}/{secret}` (node → master, signed): the node has every chunk. The dev
    /// node runs on this machine, so the master takes a copy of its file; a real master leaves the blob
    /// on the node.
    func remoteCallback(_ request: Request, sessionID: String, secret: String) throws -> Reply {
        if let refusal = NodeSignature.refusal(request, secret: config.direct.nodeSecret, now: now.seconds) { throw refusal }
        guard let session = liveSession(sessionID) else { throw APIError.sessionExpired }
        guard constantTimeEqual(Array(secret.utf8), Array(session.callbackSecret.utf8)) else {
            throw APIError.credentialInvalid("invalid callback secret")
        }
        let body = try request.jsonBody()
        guard let blob = body["blob"]?.stringValue, let size = body["size"]?.int64Value else { throw APIError.param() }
        var st = stat()
        guard stat(blob, &st) == 0, Int64(st.st_size) == session.size, size == session.size else {
            throw APIError(40055, "File size not match, expected: \(session.size), actual: \(st.st_size)")
        }
        let temp = blobs.newTempPath()
        do { try FileManager.default.copyItem(atPath: blob, toPath: temp) } catch { throw APIError.io("Failed to copy from node") }
        try blobs.adopt(tempPath: temp, as: session.entityID)
        try completeUpload(session)
        return .ok()
    }
}
