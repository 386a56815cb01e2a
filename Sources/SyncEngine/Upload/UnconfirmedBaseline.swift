import CloudreveAPI

/// Two requests per new small file (session, chunk): when the reply to the completing chunk proves the
/// upload complete, the file's id and primary entity are not asked for at once. The journal records the
/// upload with an empty `fileID` ("unconfirmed"); a folder listing after the pass fills it in for every
/// such file of a folder at once (`RootSync.learnUploadedBaselines`), and the next version of a file
/// whose baseline is still unconfirmed asks `GET /file/info` first (`FileUploader.confirmBaseline`).
extension RemoteBaseline {
    /// Uploaded and completed, the file's id and entity not learned yet.
    static func unconfirmed(size: Int64, mtimeNs: Int64) -> RemoteBaseline {
        RemoteBaseline(fileID: "", entity: "", size: size, mtimeNs: mtimeNs)
    }

    /// A server file always has an id, so an empty one marks an upload whose id and entity are unknown.
    public var isUnconfirmed: Bool { fileID.isEmpty }
}

/// Whether the code 0 that acknowledged every chunk of a session proves that the server completed it, so
/// that `GET /file/info` can wait (reference §4):
/// - only a *retried* chunk can answer 0 without completing (4.18, after a failed completion), so every
///   chunk must have been acknowledged on its first try, in this attempt, of a session created in it
///   (a resumed session's earlier chunks may have been sent before a lost reply);
/// - 4.0–4.17 complete on the last index, sent alone after the others were acknowledged; 4.18 on the last
///   distinct index received: in both, the completing request answers 0 only once completion succeeded;
/// - only the server's own chunk route: a slave node, OneDrive or S3 completes elsewhere, via callbacks.
func acknowledgementsProveCompletion(route: ChunkRoute, createdInThisAttempt: Bool, chunksRetried: Int) -> Bool {
    route == .server && createdInThisAttempt && chunksRetried == 0
}

/// Whether `info`, found where we uploaded `baseline` without learning its id, is that upload: a
/// completed file of our size and, from 4.4 on (where `updated_at` is our `last_modified`), our mtime.
/// Before 4.4 `updated_at` is the completion time, so the size is all there is to compare.
func isUnconfirmedUpload(_ info: FileInfo, baseline: RemoteBaseline, version: ServerVersion) -> Bool {
    guard !info.isFolder, info.uploadSessionID == nil, info.size == baseline.size else { return false }
    guard version.keepsLastModified else { return true }
    return serverAlreadyHas(info, identity: FileIdentity(device: 0, inode: 0, size: baseline.size, mtimeNs: baseline.mtimeNs),
                            version: version)
}

extension RemoteBaseline {
    /// `baseline` (unconfirmed) with the id and entity of `info`, the file it turned out to be.
    init(learned info: FileInfo, from baseline: RemoteBaseline) {
        self.init(fileID: info.id, entity: info.primaryEntity ?? "", size: baseline.size, mtimeNs: baseline.mtimeNs)
    }
}
