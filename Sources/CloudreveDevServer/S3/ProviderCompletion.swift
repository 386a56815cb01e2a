import Foundation

/// OSS and OBS (reference §5): the storage itself calls Cloudreve's callback while it completes the multipart
/// upload, and gives the client the callback's result as its answer. moto calls nobody back, so an oss/obs
/// session's `completeURL` points at this dev server instead:
///
/// **`POST /__provider/{oss,obs}/complete` stands in for the provider's own completion and its callback to
/// Cloudreve.** It refuses what the provider's signature would (the signed Content-Type; OSS's two signed
/// headers and its empty body), checks what moto does not (each part's exact length), completes the
/// multipart upload on moto from its ListParts, then runs Cloudreve 4.18's callback handling in-process
/// (`POST /callback/{oss,obs}/{sid}/{secret}`, the URL taken from the `callback` parameter as the provider
/// would: session, secret, OSS's size check) and answers as the provider does: HTTP 200 with Cloudreve's
/// JSON, or HTTP 203 `CallbackFailed` with the object left complete in the bucket.
extension Store {
    /// The oss/obs session fields: part URLs presigned on moto (signing what each driver's `Token` signs), and
    /// the completion URL here, carrying Cloudreve's callback policy (base64 JSON) as the drivers put it.
    func providerCallbackFields(_ session: UploadSession, storage: S3Storage, lengths: [Int64], expires: Int) -> [(String, JSON)] {
        guard let target = session.s3 else { return [] }
        let type = config.policy
        // driver/oss signs only the Content-Type of a part; driver/obs its Content-Length and Content-Type.
        // §5 of the protocol reference names the parts' Content-Type, not OBS's signed length: that is from
        // Cloudreve 4.18's drivers (`pkg/filemanager/driver/{oss,obs}`, their `Token`). The callback policy
        // rides here as a `callback=` query parameter of the completion URL for both, where §5 names OBS's
        // `x-obs-callback` parameter; the URL is opaque to the client, so only this stand-in's shape differs.
        let parts = storage.partURLs(key: target.key, uploadID: target.uploadID, lengths: lengths, expires: expires, now: Date(),
                                     signsLength: type == "obs", contentType: "application/octet-stream")
        let callbackURL = baseURL + "/api/v4/callback/\(type)/\(session.id)/\(session.callbackSecret)"
        let policy = JSON.object([("callbackUrl", .string(callbackURL)),
                                  ("callbackBody", .string(type == "oss" ? #"{"name":${x:fname},"source_name":${object},"size":${size}}"#
                                                                         : #"{"name":${key},"source_name":${fname},"size":${size}}"#)),
                                  ("callbackBodyType", .string("application/json"))])
        let query = [("key", target.key), ("uploadId", target.uploadID), ("callback", Data(policy.encoded()).base64EncodedString()),
                     ("Expires", String(now.nanoseconds / 1_000_000_000 + Int64(expires)))]
        let complete = baseURL + "/__provider/\(type)/complete?" + query.map { "\($0.0)=\(SigV4.encode($0.1))" }.joined(separator: "&")
        return [("upload_urls", .array(parts.map { .string($0) })), ("completeURL", .string(complete))]
    }

    /// The provider's completion (see the type comment). Runs under the state lock.
    func providerCompletion(_ request: Request, type: String) -> Reply {
        guard type == policyType, let storage = s3Storage, let key = request.queryValue("key"),
              let uploadID = request.queryValue("uploadId") else {
            return providerError(type, 404, "NoSuchUpload", "The specified upload does not exist.")
        }
        if let expiry = request.queryValue("Expires").flatMap(Int64.init), expiry < now.nanoseconds / 1_000_000_000 {
            return providerError(type, 403, "AccessDenied", "Request has expired.")
        }
        if let refusal = Store.providerRefusal(type: type, header: { request.headers.first(name: $0) }, bodyIsEmpty: request.body.isEmpty) {
            return providerError(type, refusal.status, refusal.code, refusal.message)
        }
        do {
            guard let held = try storage.parts(key: key, uploadID: uploadID) else {
                return providerError(type, 404, "NoSuchUpload", "The specified upload does not exist.")
            }
            var etags = held.mapValues(\.etag)
            if type == "obs" {
                // The client's list must name the parts the storage holds, with their ETags.
                guard let listed = listedParts(request.body) else {
                    return providerError(type, 400, "MalformedXML", "The XML you provided was not well-formed.")
                }
                for (number, etag) in listed where held[number].map({ unquoted($0.etag) != unquoted(etag) }) ?? true {
                    return providerError(type, 400, "InvalidPart", "Part \(number) is not the one uploaded.")
                }
                etags = etags.filter { listed[$0.key] != nil }
            }
            // moto takes parts of any length. OBS's part URLs sign the length, so OBS refuses another one before
            // anything is assembled. DEPARTURE for OSS: its part URLs sign only the Content-Type, so real OSS
            // would assemble parts of other sizes and Cloudreve's callback would then refuse the total (401
            // "size mismatch", 203 CallbackFailed). Refused here at once all the same: crsync sends every part
            // at its planned length, and one rule for both keeps this stand-in small.
            if let session = sessions.values.first(where: { $0.s3?.uploadID == uploadID }) {
                let plan = session.chunkPlan
                for index in 0..<plan.chunkCount where held[index + 1]?.size != plan.expectedLength(index) {
                    return providerError(type, 400, "InvalidPart", "Part \(index + 1) has \(held[index + 1]?.size ?? 0) bytes, "
                                         + "its URL was signed for \(plan.expectedLength(index)).")
                }
            }
            try storage.complete(key: key, uploadID: uploadID, etags: etags)
        } catch let failure as S3Storage.Failure {
            return providerError(type, failure.status, failure.code, "")
        } catch {
            return providerError(type, 500, "InternalError", "\(error)")
        }
        // The provider's callback, with what it reads from the callback policy.
        let (status, body) = providerCallback(type: type, policy: request.queryValue("callback") ?? "", key: key, storage: storage)
        guard status == 200 else {
            // OSS's documented messages (its "HTTP status code 203" page); OBS's wording is not documented here.
            let unreachable = type == "oss" ? "Error status : -1.OSS can not connect to your callbackUrl, please check it"
                                            : "Error status : -1. cannot connect to the callback URL"
            return providerError(type, 203, "CallbackFailed", status < 0 ? unreachable : "Error status : \(status).")
        }
        return Reply(status: 200, contentType: "application/json", body: .bytes(body), code: 0)
    }

    /// Cloudreve 4.18's `POST /callback/{oss,obs}/{sid}/{secret}` (`UseUploadSession`, for OSS
    /// `OSSCallbackValidate`'s size check, then `ProcessCallback` answering 400 on errors). Returns the HTTP
    /// status (-1 when it cannot be reached) and body Cloudreve answers the provider.
    private func providerCallback(type: String, policy: String, key: String, storage: S3Storage) -> (Int, [UInt8]) {
        if faults.callbackUnreachable { return (-1, []) }
        guard let decoded = Data(base64Encoded: policy), let json = try? JSON.parse(Array(decoded)),
              let url = json["callbackUrl"]?.stringValue else { return (-1, []) }
        let segments = url.split(separator: "/").map(String.init)
        guard segments.count >= 2 else { return (-1, []) }
        let (sessionID, secret) = (segments[segments.count - 2], segments[segments.count - 1])
        func envelope(_ status: Int, _ error: APIError) -> (Int, [UInt8]) {
            guard case .bytes(let bytes) = Reply.error(error).body else { return (status, []) }
            return (status, bytes)
        }
        let session: UploadSession
        switch callbackSession(sessionID, secret: secret) {
        case .success(let found): session = found
        case .failure(let error): return envelope(401, error)
        }
        guard session.s3?.key == key else { return envelope(401, .sessionExpired) }
        do {
            if type == "oss" {
                // OSS's callback body carries ${size}: the object's size as OSS assembled it.
                let size = try storage.objectSize(key: key) ?? -1
                guard size == session.size else { return (401, Array(#"{"error":"size mismatch"}"#.utf8)) }
            }
            try completeFromStorage(session, key: key, storage: storage)
        } catch let error as APIError {
            return envelope(400, error)
        } catch {
            return envelope(400, APIError(-1, "\(error)"))
        }
        guard case .bytes(let ok) = Reply.ok().body else { return (200, []) }
        return (200, ok)
    }

    /// What the provider refuses before it completes anything (pure): a signed header missing or different
    /// (the completion URL signs Content-Type, and for OSS both x-oss-* headers), or a body with OSS's
    /// complete-all. §5 of the protocol reference lists only the x-oss-* headers for the completion; its signed
    /// Content-Type is from the drivers' `Token` (Cloudreve 4.18), which the web client matches.
    static func providerRefusal(type: String, header: (String) -> String?, bodyIsEmpty: Bool)
        -> (status: Int, code: String, message: String)? {
        var signed = [("Content-Type", "application/octet-stream")]
        if type == "oss" { signed += [("x-oss-forbid-overwrite", "true"), ("x-oss-complete-all", "yes")] }
        for (name, value) in signed where header(name) != value {
            return (403, "SignatureDoesNotMatch", "\(name) must be \(value): the URL was signed with it.")
        }
        if type == "oss", !bodyIsEmpty { return (400, "InvalidArgument", "x-oss-complete-all requires an empty body.") }
        return nil
    }

    /// An error answer in the provider's own form: OSS answers XML; OBS, for callback failures, a JSON
    /// `{code, message}` [inferred from Cloudreve's web client, which reads `message` from it] and XML otherwise.
    private func providerError(_ type: String, _ status: Int, _ code: String, _ message: String) -> Reply {
        let requestID = Random.uuid()
        if type == "obs" && code == "CallbackFailed" {
            let json = JSON.object([("code", .string(code)), ("message", .string(message)), ("request_id", .string(requestID))])
            return Reply(status: status, contentType: "application/json", body: .bytes(json.encoded()))
        }
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>\#(code)</Code><Message>\#(message)</Message>"#
            + "<RequestId>\(requestID)</RequestId></Error>"
        return Reply(status: status, contentType: "application/xml", body: .bytes(Array(xml.utf8)))
    }

    /// The parts an OBS completion body lists, by part number; nil when it is not a parts list.
    private func listedParts(_ body: [UInt8]) -> [Int: String]? {
        let text = String(decoding: body, as: UTF8.self)
        guard text.contains("<CompleteMultipartUpload>") else { return nil }
        var parts: [Int: String] = [:]
        for part in text.components(separatedBy: "<Part>").dropFirst() {
            let bytes = Array(part.utf8)
            guard let number = S3Storage.tag("PartNumber", in: bytes).flatMap(Int.init), let etag = S3Storage.tag("ETag", in: bytes) else { return nil }
            parts[number] = etag
        }
        return parts
    }

    private func unquoted(_ etag: String) -> String {
        etag.replacingOccurrences(of: "&quot;", with: "").replacingOccurrences(of: "\"", with: "")
    }
}
