import Foundation
import Transport

/// Ranges to a OneDrive upload session (`onedrive` policy, reference §5). The upload URL is itself the
/// credential: no Authorization header goes there (Graph refuses one). Ranges go in order; `GET` on the URL
/// says which bytes it still expects, so a resume asks it rather than trusting the journal alone. Then
/// the client calls Cloudreve's callback, which checks the size.
extension CloudreveClient {
    func uploadOneDriveRange(url: String, fd: Int32, offset: Int64, length: Int64, total: Int64, progress: BodyProgress?) throws {
        let headers = [("Content-Range", "bytes \(offset)-\(offset + length - 1)/\(total)")]
        let response = try graphRequest(HTTPRequest(method: "PUT", url: url, headers: headers,
                                                    body: .fileRange(fd: fd, offset: offset, length: length), timeout: 0),
                                        progress: progress)
        switch response.status {
        case 200, 201, 202: return
        default: throw graphError(response, url: url, method: "PUT")
        }
    }

    /// The first byte the upload session still expects, or nil when the session is gone (Graph's 404: it
    /// completed, was cancelled or expired).
    public func oneDriveNextExpected(url: String) throws -> Int64? {
        let response = try graphRequest(HTTPRequest(method: "GET", url: url, timeout: 60), progress: nil)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw graphError(response, url: url, method: "GET") }
        guard let status = try? JSONDecoder().decode(GraphUploadStatus.self, from: Data(response.body)) else {
            throw CloudreveError.malformed(path: "GET " + nodeURLForMessages(url), detail: "no nextExpectedRanges")
        }
        return nextExpectedOffset(status.nextExpectedRanges ?? [])
    }

    /// `POST /callback/onedrive/{id}/{secret}` after the last range: Cloudreve checks the size (40055)
    /// and completes the upload.
    public func oneDriveCallback(sessionID: String, callbackSecret: String) throws {
        let path = "/callback/onedrive/\(sessionID)/\(callbackSecret)"
        do {
            let _: Empty? = try call("POST", path, token: nil)
        } catch let error as CloudreveError {
            // The secret stays out of every message.
            let shown = "/callback/onedrive/\(shortSessionID(sessionID))/…"
            switch error {
            case .api(let code, let message, _, let tokens): throw CloudreveError.api(code: code, message: message, path: shown, lockTokens: tokens)
            case .http(let status, _, let snippet): throw CloudreveError.http(status: status, path: shown, snippet: snippet)
            case .malformed(_, let detail): throw CloudreveError.malformed(path: shown, detail: detail)
            case .transport(var transport):
                transport.url = "POST " + api + shown
                throw CloudreveError.transport(transport)
            default: throw error
            }
        }
    }

    private func graphRequest(_ request: HTTPRequest, progress: BodyProgress?) throws -> HTTPResponse {
        let transport = transports.take()
        defer { transports.give(transport) }
        do {
            return try transport.perform(request, progress: progress)
        } catch var error as TransportError {
            error.url = request.method + " " + nodeURLForMessages(request.url)
            throw CloudreveError.transport(error)
        }
    }

    /// Graph's errors in the terms the uploader acts on: a gone session reads as 40011, a range it did not
    /// expect as 40013 (both end the session after a completion check); anything else is an HTTP error,
    /// retried.
    private func graphError(_ response: HTTPResponse, url: String, method: String) -> CloudreveError {
        let path = method + " " + nodeURLForMessages(url)
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        switch response.status {
        case 404: return .api(code: 40011, message: "the OneDrive upload session is gone (HTTP 404)", path: path)
        case 416: return .api(code: 40013, message: "OneDrive expected other bytes (HTTP 416): \(text)", path: path)
        default: return .http(status: response.status, path: path, snippet: text)
        }
    }
}

struct GraphUploadStatus: Decodable {
    var nextExpectedRanges: [String]?
}

/// The start of the first of Graph's `nextExpectedRanges` ("12345-" or "12345-67890"); nil when none.
public func nextExpectedOffset(_ ranges: [String]) -> Int64? {
    ranges.compactMap { Int64($0.split(separator: "-", omittingEmptySubsequences: false).first ?? "") }.min()
}
