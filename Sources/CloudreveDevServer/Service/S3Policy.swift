import Foundation

/// Where an S3-policy session's bytes go on the storage.
struct S3Target {
    let key: String
    let uploadID: String
}

/// The S3 policy (reference §5, §8c): the session hands out presigned part URLs and a completion URL on a
/// real S3-compatible server; the client's GET callback is accepted only once the object there is complete
/// with the session's size and part count; cancelling aborts the multipart upload.
extension Store {
    /// The policy type reported in listings and sessions ("relay" is an s3 policy with relay on).
    var policyType: String {
        switch config.policy {
        case "local": return "local"
        case "relay": return "s3"
        default: return config.policy
        }
    }

    var s3Storage: S3Storage? { config.s3Endpoint.map { S3Storage(endpoint: $0, bucket: config.s3Bucket) } }

    /// The session fields of a direct policy; creates the multipart upload for the S3 family. Types the dev
    /// server only names (qiniu, upyun) get a URL nobody listens on: a client must refuse them first.
    func directUploadFields(_ session: inout UploadSession) throws -> [(String, JSON)] {
        switch config.policy {
        case "local", "relay", "remote", "onedrive":
            return []  // remote and onedrive: `remoteOrOneDriveFields`
        case "s3", "ks3", "cos", "oss", "obs":
            // KS3 and COS take the same presigned parts and XML completion; only the callback route differs.
            // OSS and OBS differ in what their URLs sign and in their completion (ProviderCompletion.swift).
            guard let storage = s3Storage else { throw APIError(-1, "the s3 policy has no endpoint (--s3-endpoint)") }
            let key = "uploads/\(session.id)/\(String(decoding: session.path.last ?? [], as: UTF8.self))"
            let uploadID: String
            do {
                uploadID = try storage.createMultipartUpload(key: key)
            } catch {
                throw APIError(-1, "Failed to create multipart upload: \(error)")
            }
            session.s3 = S3Target(key: key, uploadID: uploadID)
            let plan = session.chunkPlan
            let lengths = (0..<plan.chunkCount).map { plan.expectedLength($0) }
            // Signed for the session's lifetime less one second, as Cloudreve does (§8c).
            let expires = max(1, config.sessionTTL - 1)
            if config.policy == "oss" || config.policy == "obs" {
                return providerCallbackFields(session, storage: storage, lengths: lengths, expires: expires)
            }
            return [("upload_urls", .array(storage.partURLs(key: key, uploadID: uploadID, lengths: lengths, expires: expires, now: Date())
                        .map { .string($0) })),
                    ("completeURL", .string(storage.completeURL(key: key, uploadID: uploadID, expires: expires, now: Date())))]
        default:
            return [("upload_urls", .array([.string("http://127.0.0.1:9/\(config.policy)/\(session.id)")])),
                    ("credential", .string("unsupported-\(config.policy)"))]
        }
    }

    /// `GET /callback/{s3,ks3,cos}/{session_id}/{secret}`. Errors answer HTTP 400 (-1 not complete, 40055 size)
    /// or 401 (40011 no such session, 40020 wrong secret), as 4.18 does (§8c).
    func storageCallback(type: String, sessionID: String, secret: String) -> Reply {
        func fail(_ status: Int, _ error: APIError) -> Reply {
            var reply = Reply.error(error)
            reply.status = status
            return reply
        }
        let session: UploadSession
        switch callbackSession(sessionID, secret: secret) {
        case .success(let found): session = found
        case .failure(let error): return fail(401, error)
        }
        guard let target = session.s3, type == policyType else { return fail(401, .sessionExpired) }
        guard let storage = s3Storage else { return fail(400, .unclassified) }
        do {
            guard let size = try storage.objectSize(key: target.key) else { return fail(400, .unclassified) }
            guard size == session.size else {
                return fail(400, APIError(40055, "File size not match, expected: \(session.size), actual: \(size)"))
            }
            // moto checks neither signatures nor part lengths: a part cut at another size than the session's
            // shows in the part count of the multipart ETag ("…-N").
            if let etag = try storage.objectETag(key: target.key), let dash = etag.lastIndex(of: "-"),
               let parts = Int(etag[etag.index(after: dash)...].filter(\.isNumber)), parts != session.chunkPlan.chunkCount {
                return fail(400, APIError(40055, "File size not match, expected \(session.chunkPlan.chunkCount) parts, got \(parts)"))
            }
            try completeFromStorage(session, key: target.key, storage: storage)
            return .ok()
        } catch let error as APIError {
            return fail(400, error)
        } catch {
            return fail(400, APIError(-1, "\(error)"))
        }
    }

    /// Cloudreve's `UseUploadSession` for a storage's callback: the live session, its secret checked from
    /// 4.18 on (≤4.17 did not check the secret segment, §5). Both refusals answer HTTP 401.
    func callbackSession(_ sessionID: String, secret: String) -> Result<UploadSession, APIError> {
        guard let session = liveSession(sessionID) else { return .failure(.sessionExpired) }
        if version >= EmulatedVersion(4, 18), secret != session.callbackSecret { return .failure(.credentialInvalid("invalid callback secret")) }
        return .success(session)
    }

    /// `CompleteUpload` of a session whose object is complete on the storage. A copy in the dev server's own
    /// blob store keeps its download links and checks unchanged.
    func completeFromStorage(_ session: UploadSession, key: String, storage: S3Storage) throws {
        let temp = blobs.newTempPath()
        let fd = open(temp, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { throw APIError.io("cannot write \(temp)") }
        do {
            try storage.download(key: key, into: fd)
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        try blobs.adopt(tempPath: temp, as: session.entityID)
        try completeUpload(session)
    }

    /// Cloudreve's upload sentinel aborts an expired session's multipart upload at `expires + 5 min` (§4);
    /// the dev server does it as soon as it notices the expiry, so tests need not wait.
    func runUploadSentinel(_ session: UploadSession) {
        guard let target = session.s3, let storage = s3Storage else { return }
        try? storage.abort(key: target.key, uploadID: target.uploadID)
    }

    /// After `DELETE /file/upload` cleaned up the placeholder: aborts the multipart upload. When the client
    /// had completed it already, the abort fails and the answer is -1, the placeholder gone anyway (§8c).
    func abortStorage(_ target: S3Target?) throws -> Reply {
        guard let target, let storage = s3Storage else { return .ok() }
        do {
            try storage.abort(key: target.key, uploadID: target.uploadID)
        } catch {
            throw APIError(-1, "Failed to abort multipart upload: \(error)")
        }
        return .ok()
    }
}
