import Foundation
import Transport

/// What the answer to an OSS or OBS completion means. There the storage calls Cloudreve's callback itself
/// (`POST /callback/{oss,obs}/{sid}/{secret}`, signature-checked, §5) and its result comes back in the
/// storage's answer to `POST completeURL`; the client has no callback of its own to call or to retry.
public enum ProviderCompletion: Equatable, Sendable {
    /// HTTP 200 carrying Cloudreve's `{"code":0}`: the file is complete on Cloudreve.
    case done
    /// HTTP 200 with something else than Cloudreve's envelope (e.g. a bare `CompleteMultipartUploadResult`):
    /// the object is assembled, and only the file on Cloudreve can tell whether the callback went through.
    case askFile
    /// The object was assembled but Cloudreve's callback failed: OSS answers HTTP 203 `CallbackFailed`
    /// (its documentation: e.g. "Error status : 401." when Cloudreve refused, "-1" when unreachable); OBS the
    /// same status with a JSON `{"code":"CallbackFailed","message":…}` [inferred from the web client, which
    /// reads `message` from OBS's error]. A 200 whose envelope has another code than 0 counts here too.
    /// The multipart upload is gone: this session cannot be completed any more.
    case callbackFailed(String)
    /// 404 / NoSuchUpload: completed by an earlier request whose answer was lost, or aborted.
    case uploadGone
    /// Refused for good (403 signature or expiry, InvalidPart, MalformedXML…): this session cannot complete.
    case refused(String)
    /// The storage's own trouble (5xx, 408, 429): the same request may pass later.
    case retry(String)
}

/// Pure: the meaning of the completion answer `status` / `body`.
public func providerCompletion(status: Int, body: [UInt8]) -> ProviderCompletion {
    let text = String(decoding: body.prefix(4096), as: UTF8.self)
    let json = try? JSONSerialization.jsonObject(with: Data(body.prefix(65536))) as? [String: Any]
    let xmlCode = storageErrorCode(body)
    let jsonCode = json?["code"] as? String
    let message = (json?["message"] as? String) ?? xmlTag("Message", in: text) ?? ""
    if status == 203 || xmlCode == "CallbackFailed" || jsonCode == "CallbackFailed" {
        return .callbackFailed(message.isEmpty ? "HTTP \(status) CallbackFailed" : "CallbackFailed: \(message)")
    }
    if (200..<300).contains(status) {
        if let code = json?["code"] as? Int {
            let msg = (json?["msg"] as? String) ?? ""
            return code == 0 ? .done : .callbackFailed("Cloudreve's callback answered code \(code)\(msg.isEmpty ? "" : " \(msg)")")
        }
        // A 200 with an S3 `<Error>` (S3 may fail a completion so, e.g. InternalError) is classified below.
        if xmlCode == nil { return .askFile }
    }
    let code = xmlCode ?? jsonCode ?? ""
    let what = "HTTP \(status)\(code.isEmpty ? "" : " \(code)")\(message.isEmpty ? "" : " (\(message))")"
    if code == "NoSuchUpload" || status == 404 { return .uploadGone }
    if status >= 500 || status == 408 || status == 429 || code == "SlowDown" || code == "InternalError" { return .retry(what) }
    return .refused(what)
}

func xmlTag(_ name: String, in text: String) -> String? {
    guard let start = text.range(of: "<\(name)>"), let end = text.range(of: "</\(name)>", range: start.upperBound..<text.endIndex)
    else { return nil }
    return String(text[start.upperBound..<end.lowerBound])
}

extension CloudreveClient {
    /// `POST completeURL` of an OSS or OBS session (its body and headers per `S3Flavor`); the storage runs
    /// Cloudreve's callback inside it. Transport errors are thrown; every HTTP answer is classified.
    public func completeWithProviderCallback(url: String, etags: [Int: String], policyType: String) throws -> ProviderCompletion {
        let flavor = S3Flavor.of(policyType)
        let body = flavor.completionListsParts ? Array(completeMultipartXML(etags).utf8) : []
        let transport = transports.take()
        defer { transports.give(transport) }
        do {
            let response = try transport.perform(HTTPRequest(method: "POST", url: url, headers: flavor.completionHeaders,
                                                             body: .bytes(body), timeout: 120))
            return providerCompletion(status: response.status, body: response.body)
        } catch var error as TransportError {
            error.url = withoutQuery(error.url)
            throw CloudreveError.transport(error)
        }
    }
}
