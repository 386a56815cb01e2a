import CloudreveAPI

/// The steps a direct-upload policy adds around the chunks (reference §5). A slave node (`remote`) needs
/// none: it completes the upload inside the last chunk. OneDrive is asked what arrived before anything is
/// sent, and told by the client's callback when everything did.
extension FileUploader {
    /// A resumed session with its acknowledged chunks as the storage reports them, when it can say
    /// (OneDrive's `nextExpectedRanges`): a range whose reply a crash lost counts as sent, and one the
    /// journal has but the storage does not goes again, since Graph takes the bytes in order.
    func reconciledWithStorage(_ session: SessionRecord) throws -> SessionRecord {
        guard case .oneDrive(let url, _, _) = session.route else { return session }
        let plan = ChunkPlan(size: session.identity.size, chunkSize: session.chunkSize)
        let next: Int64?
        do {
            next = try client.oneDriveNextExpected(url: url)
        } catch let error as CloudreveError {
            throw UploadFailure(reason: "could not ask the OneDrive upload session of \(session.uri) how far it got: \(error)",
                                permanent: false)
        }
        guard let next else {
            // Gone: Graph made the item once every range arrived (perhaps the last one's reply was lost to a
            // crash), or the session expired or was cancelled. Nothing can be sent to it either way; the
            // callback tells which (40055 or 40011 end the session, after a completion check).
            var all = session
            all.acknowledged = Set(0..<plan.count)
            return all
        }
        var updated = session
        updated.acknowledged = plan.acknowledged(upTo: next)
        for index in updated.acknowledged.subtracting(session.acknowledged).sorted() {
            try journal.acknowledgeChunk(sessionID: session.sessionID, index: index)
        }
        return updated
    }

    /// An empty file on OneDrive, which takes no empty range (Graph's ranges have at least one byte, and
    /// Cloudreve's web client refuses such files): the session is cancelled and the file written with
    /// `PUT /file/content`, which works on every policy. Its `updated_at` is then the server's time, which
    /// the journal's baseline does not depend on. nil for every other file.
    func uploadedEmptyInstead(_ session: SessionRecord, previous: String?) throws -> Done? {
        guard session.identity.size == 0, case .oneDrive = session.route else { return nil }
        try cancel(session)
        let path = try CloudrevePath(uri: session.uri)
        do {
            guard let info = try client.putContent(path, bytes: [], previous: previous) else {
                throw UploadFailure(reason: "the server did not describe \(path) after writing it", permanent: false)
            }
            return Done(remote: RemoteBaseline(completed: info, session: session), identity: session.identity, bytesSent: 0)
        } catch let error as CloudreveError {
            throw UploadFailure(reason: "could not write the empty file \(path): \(error)", permanent: error.isPermanentForFile, code: error.code)
        }
    }

    /// After the last chunk: OneDrive's callback, where Cloudreve checks the size and completes the file.
    func finishOnStorage(_ session: SessionRecord) throws {
        guard case .oneDrive(_, let id, let secret) = session.route else { return }
        do {
            try client.oneDriveCallback(sessionID: id, callbackSecret: secret)
        } catch let error as CloudreveError where [40011, 40016, 40055].contains(error.code ?? 0) {
            // Gone (maybe completed by an earlier callback whose reply was lost) or the size disagrees: the
            // file is checked, then the session is cancelled and the upload starts again.
            throw SessionLost(reason: "the OneDrive callback was refused (\(error))")
        } catch let error as CloudreveError {
            throw UploadFailure(reason: "the OneDrive callback for \(session.uri) failed: \(error)", permanent: false)
        }
    }
}

extension ChunkPlan {
    /// The chunks that lie wholly before byte `next`, the first one a storage still expects.
    public func acknowledged(upTo next: Int64) -> Set<Int> {
        Set((0..<count).filter { index in
            let (offset, length) = range(of: index)
            return length > 0 && offset + length <= next
        })
    }
}
