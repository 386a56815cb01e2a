import Foundation
import Transport

/// Chunks to a slave node (`remote` policy, reference §5 and §8c). The node checks an HMAC over the URL
/// path, so `?chunk=N` may be added but no `X-Cr-*` header may be sent (it would be part of the
/// signature: 40071), and the credential goes verbatim, without our Bearer token. The node completes the
/// upload itself inside the last chunk's request.
extension CloudreveClient {
    func uploadRemoteChunk(url: String, credential: String, index: Int, fd: Int32, offset: Int64, length: Int64,
                           progress: BodyProgress?) throws {
        var stopped = false
        let watched: BodyProgress = { sent in
            let goOn = progress?(sent) ?? true
            if !goOn { stopped = true }
            return goOn
        }
        do {
            try postToNode(url: url, credential: credential, index: index, body: .fileRange(fd: fd, offset: offset, length: length),
                           progress: watched)
        } catch CloudreveError.transport(let error) where length > 0 && !stopped && !error.isLocalReadError && !error.isStall {
            // A node that refuses a chunk answers and closes without reading the body, which reaches us as
            // a broken pipe or reset (§8c). An empty request reads what it says: 40013 (the length) means
            // the session and credential are fine, so the failure was the network's and is retried as such.
            if let said = try? nodeAnswer(url: url, credential: credential, index: index), said.code != 40013 {
                throw said
            }
            throw CloudreveError.transport(error)
        }
    }

    /// What the node answers to an empty chunk request, or nil when it answers 0 or not at all.
    private func nodeAnswer(url: String, credential: String, index: Int) throws -> CloudreveError? {
        do {
            try postToNode(url: url, credential: credential, index: index, body: .bytes([]), progress: nil)
            return nil
        } catch let error as CloudreveError {
            if case .api = error { return error }
            return nil
        }
    }

    private func postToNode(url: String, credential: String, index: Int, body: RequestBody, progress: BodyProgress?) throws {
        let headers = [("Accept", "application/json"), ("Authorization", credential), ("Content-Type", "application/octet-stream")]
        let named = "POST " + nodeURLForMessages(url) + "?chunk=\(index)"
        let transport = transports.take()
        defer { transports.give(transport) }
        let response: HTTPResponse
        do {
            response = try transport.perform(HTTPRequest(method: "POST", url: url + "?chunk=\(index)", headers: headers, body: body, timeout: 0),
                                             progress: progress)
        } catch var error as TransportError {
            error.url = named
            throw CloudreveError.transport(error)
        }
        let _: Empty? = try decodeEnvelope(response, path: named, acceptCodes: [0])
    }
}

/// An upload URL for messages: without its query (a Graph upload URL carries its credential there) and
/// with its last segment (the session id) shortened.
func nodeURLForMessages(_ url: String) -> String {
    let bare = url.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? url
    guard let slash = bare.lastIndex(of: "/") else { return bare }
    return String(bare[...slash]) + shortSessionID(String(bare[bare.index(after: slash)...]))
}
