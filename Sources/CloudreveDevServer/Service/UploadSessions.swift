/// Upload sessions: create (`PUT /file/upload`), cancel (`DELETE /file/upload`) and completion
/// (reference §4, §6; `dbfs/upload.go PrepareUpload / CompleteUpload / CancelUploadSession`).
extension Store {
    /// What `PrepareUpload` needs, from a session request or a `PUT /file/content`.
    struct UploadRequest {
        var uri: CloudreveURI
        var size: Int64
        /// nil, "version" or "live_photo".
        var entityType: String?
        var previous: String?
        var lastModified: Timestamp?
        var metadata: [[UInt8]: String] = [:]
    }

    func createUploadSession(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let uriText = body["uri"]?.stringValue, !uriText.isEmpty else { throw APIError.param() }
        var size: Int64 = 0
        if let s = body["size"], !s.isNull {
            guard let n = s.int64Value, n >= 0 else { throw APIError.param() }
            size = n
        }
        let entityType = body["entity_type"]?.stringValue ?? ""
        guard ["", "version", "live_photo"].contains(entityType) else { throw APIError.param() }
        let policyID = body["policy_id"]?.stringValue ?? ""
        // Up to 4.10 `policy_id` was a required binding (§4).
        if version.requiresPolicyID && policyID.isEmpty { throw APIError.param() }
        let uri = try CloudreveURI.parse(uriText)
        if !policyID.isEmpty {
            guard let decoded = hashids.decode(policyID, .policy) else { throw APIError.param("unknown policy id") }
            if version.requiresPolicyID && decoded != Store.policyID { throw APIError.param("unknown policy id") }
        }
        let metadata = try MetadataRules.parse(body["metadata"])
        var lastModified: Timestamp? = nil
        if let ms = body["last_modified"]?.int64Value, ms > 0 { lastModified = Timestamp(milliseconds: ms) }
        let previous = version.acceptsPrevious ? body["previous"]?.stringValue : nil

        let sessionID = Random.uuid()
        var session = try prepareUpload(
            UploadRequest(uri: uri, size: size, entityType: entityType.isEmpty ? nil : entityType,
                          previous: previous, lastModified: lastModified, metadata: metadata),
            sessionID: sessionID, signedIn: isSignedIn(request))
        let direct = try directUploadFields(&session)   // S3Policy.swift; none for local and relay
        sessions[sessionID] = session
        stats.sessionsCreated += 1
        return try .ok(.object([
            ("session_id", .string(session.id)),
            ("upload_id", .string(session.s3?.uploadID ?? "")),
            ("chunk_size", .int(session.chunkSize)),
            ("expires", .int(session.expires.seconds)),
            ("storage_policy", storagePolicyJSON),
            ("uri", .string(session.uri)),
            ("callback_secret", .string(session.callbackSecret)),
        ] + direct + remoteOrOneDriveFields(session)))
    }

    /// The checks, in the documented order, and the placeholder: login (401), existence (40004),
    /// lock (40073), name (40052), size (40049), quota (40051), `previous` (40076).
    func prepareUpload(_ upload: UploadRequest, sessionID: String, signedIn: Bool) throws -> UploadSession {
        let located = try locate(upload.uri, signedIn: signedIn)
        guard located.space == .my else { throw APIError.notSupported }
        let path = upload.uri.components
        if let existing = located.node, upload.entityType == nil || existing.isFolder { throw APIError.objectExists }
        if located.node == nil && upload.entityType == "live_photo" { throw APIError.pathNotExist }
        try ensureUnlocked(path)
        guard nameRules.isAcceptableFileName(upload.uri.name) else { throw illegalName }
        if config.maxSize > 0 && upload.size > config.maxSize { throw APIError.fileTooLarge }
        if tree.usedBytes + upload.size > config.quota { throw APIError.insufficientCapacity }

        let now = rowNow
        let node: FileNode
        if let existing = located.node {
            if let previous = upload.previous, !previous.isEmpty {
                guard let expected = hashids.decode(previous, .entity) else { throw APIError.param("Unknown version ID") }
                if existing.primaryEntity == 0 || existing.primaryEntity != expected { throw APIError.staleVersion }
            }
            // `RemoveStaleEntities`: placeholders of earlier, abandoned sessions go away.
            for id in existing.entityIDs {
                if let e = tree.entities[id], e.uploadSessionID != nil, tree.removeEntity(id) != nil { blobs.remove(id) }
            }
            node = existing
        } else {
            let parent = try makeParentFolders(located)
            node = tree.createNode(parent: parent, name: upload.uri.name, isFolder: false, now: now)
        }
        let entity = tree.addEntity(to: node, size: upload.size, uploadSessionID: sessionID, now: now)
        try blobs.create(entity.id, preallocate: upload.size)
        tree.setMetadata(node, Array("sys:upload_session_id".utf8), sessionID)

        let expires = self.now.adding(seconds: config.sessionTTL)
        let token = locks.create(path: path, application: "upload", type: 0, expires: expires)
        return UploadSession(id: sessionID, fileID: node.id, entityID: entity.id, path: path, size: upload.size,
                             chunkSize: config.policy == "relay" ? 0 : config.chunkSize, expires: expires, lastModified: upload.lastModified,
                             metadata: upload.metadata, lockToken: token, callbackSecret: Random.alphanumeric(32),
                             createdNewFile: located.node == nil)
    }

    /// A live session, or nil when it never existed, completed, was cancelled or expired.
    func liveSession(_ id: String) -> UploadSession? {
        guard let session = sessions[id] else { return nil }
        if session.expires <= now {
            sessions[id] = nil
            runUploadSentinel(session)   // S3Policy.swift
            return nil
        }
        return session
    }

    func cancelUploadSession(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let id = body["id"]?.stringValue, !id.isEmpty, let uriText = body["uri"]?.stringValue, !uriText.isEmpty
        else { throw APIError.param() }
        let uri = try CloudreveURI.parse(uriText)
        let session = liveSession(id)
        let target = session?.s3
        let located = try locate(uri, signedIn: isSignedIn(request))
        guard located.space == .my, !uri.isRoot, let node = located.node else { throw APIError.pathNotExist }
        if let session, session.fileID != node.id { throw APIError.notFound("Upload session not found") }
        // A zero-depth lock on the file, ignoring the session's own lock (it is in the same lock session).
        let others = locks.conflicts(with: uri.components, zeroDepth: true, now: now).filter { $0.token != session?.lockToken }
        if !others.isEmpty { throw APIError.lockConflict(LockTable.conflictJSON(others)) }

        tree.setMetadata(node, Array("sys:upload_session_id".utf8), nil)
        tree.setMetadata(node, Array("thumb:disabled".utf8), nil)
        sessions[id] = nil
        if let session { dropRemoteOrOneDrive(session) }
        stats.sessionsCancelled += 1
        guard let entityID = node.entityIDs.first(where: { tree.entities[$0]?.uploadSessionID == id }) else {
            return try abortStorage(target)
        }
        if let session { locks.release(session.lockToken) }
        if node.entityIDs.count == 1 {
            removePermanently(node)   // a new file's placeholder: the file goes, for good
        } else {
            tree.removeEntity(entityID)
            blobs.remove(entityID)
        }
        return try abortStorage(target)
    }

    /// `CompleteUpload`: the placeholder entity becomes the primary version, the session key goes,
    /// its metadata is applied, older versions are dropped (retention 1) and the file unlocks.
    func completeUpload(_ session: UploadSession) throws {
        guard let node = tree.lookup(session.path).node, !node.isFolder else { throw APIError.pathNotExist }
        guard locks.confirm(token: session.lockToken, path: session.path, now: now) else { throw APIError.lockExpired }
        guard let entity = tree.entities[session.entityID], entity.fileID == node.id else {
            throw APIError(50001, "Failed to update placeholder file")
        }
        tree.clearUploadSession(entityID: entity.id)
        tree.setPrimary(node, entity: entity)
        if version.updatedAtFollowsLastModified {
            if let lastModified = session.lastModified { tree.setUpdatedAt(node, lastModified) }
        } else {
            tree.setUpdatedAt(node, rowNow)
        }
        tree.setMetadata(node, Array("sys:upload_session_id".utf8), nil)
        tree.setMetadata(node, Array("thumb:disabled".utf8), nil)
        for (key, value) in session.metadata { tree.setMetadata(node, key, value) }
        // Version retention 1: older finished versions go; other sessions' placeholders stay.
        for id in node.entityIDs where id != entity.id && tree.entities[id]?.uploadSessionID == nil {
            tree.removeEntity(id)
            blobs.remove(id)
        }
        locks.release(session.lockToken)
        sessions[session.id] = nil
        stats.completions[session.uri, default: 0] += 1
    }
}
