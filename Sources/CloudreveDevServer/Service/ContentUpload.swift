import Foundation

/// `PUT /file/content?uri=&previous=` (reference §4): create-or-new-version in one request, body
/// at most `maxEditSize` (50 MiB). The body streams into a temp file; the server's checks and the
/// version switch happen once it has arrived, like `manager.Update` (PrepareUpload, Upload,
/// CompleteUpload, and `OnUploadFailed` when the bytes fall short).
final class ContentUpload: BodyReceiver {
    private let store: Store
    private let request: Request
    private let tempPath: String
    private var fd: Int32
    private var received: Int64 = 0
    private let writeLimit: Int64

    init(store: Store, request: Request) {
        self.store = store
        self.request = request
        tempPath = store.blobs.newTempPath()
        fd = open(tempPath, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        // Nothing is kept for a body that will be refused as too large anyway.
        writeLimit = request.declaredBodyLength > Store.maxEditSize ? 0 : request.declaredBodyLength
    }

    deinit { cleanUp() }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let room = max(0, writeLimit - received)
        let part = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(min(Int64(bytes.count), room))])
        if fd >= 0, !part.isEmpty, !pwriteAll(fd, part, offset: received) { close(fd); fd = -1 }
        received += Int64(bytes.count)
        return true
    }

    func abandon() { cleanUp() }

    func finish() -> Reply {
        let writeFailed = fd < 0
        if fd >= 0 { close(fd); fd = -1 }
        do {
            return try store.sync { try store.putContent(request, tempPath: tempPath, received: received, writeFailed: writeFailed) }
        } catch let e as APIError {
            return .error(e)
        } catch {
            return .error(.unclassified)
        }
    }

    private func cleanUp() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
    }
}

extension Store {
    fileprivate func putContent(_ request: Request, tempPath: String, received: Int64, writeFailed: Bool) throws -> Reply {
        guard let uriText = request.queryValue("uri"), !uriText.isEmpty else { throw APIError.param() }
        // With neither Content-Length nor X-Expected-Entity-Length the size counts as 0 (§4).
        let size = request.declaredBodyLength
        if size > Store.maxEditSize { throw APIError.fileTooLarge }
        let uri = try CloudreveURI.parse(uriText)
        let session = try prepareUpload(UploadRequest(uri: uri, size: size, entityType: "version",
                                                      previous: request.queryValue("previous")),
                                        sessionID: Random.uuid(), signedIn: isSignedIn(request))
        stats.contentPuts += 1
        guard !writeFailed, received >= size else {
            // OnUploadFailed: unlock, then drop the new file or the new version.
            locks.release(session.lockToken)
            if session.createdNewFile, let node = tree.files[session.fileID] {
                removePermanently(node)
            } else if let node = tree.files[session.fileID] {
                tree.removeEntity(session.entityID)
                blobs.remove(session.entityID)
                tree.setMetadata(node, Array("sys:upload_session_id".utf8), nil)
            }
            throw APIError.io("Failed to upload file")
        }
        truncate(tempPath, off_t(size))
        try blobs.adopt(tempPath: tempPath, as: session.entityID)
        try completeUpload(session)
        guard let node = tree.files[session.fileID] else { throw APIError.pathNotExist }
        return .ok(fileJSON(node))
    }
}
