/// The routes of direct uploads, checked before the API's own: a node's `/api/v4/slave/upload`, the
/// master's `/api/v4/callback/{remote,onedrive}/{session}/{secret}`, and the Graph-style upload URL
/// `/__onedrive/upload/{session}` (none of them takes a user's token).
func directReceiver(for request: Request, store: Store) -> BodyReceiver? {
    let segments = request.pathString.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    if store.config.direct.isNode, request.method == .POST, request.pathString == "/__dev/node" {
        // Test control: refused chunks get a reset instead of an answer, the worst a real node does.
        return locked(request, store) { req in
            store.direct.resetRefusedChunks = (try req.jsonBody())["reset_refused_chunks"]?.boolValue ?? false
            return .plainJSON(.object([]))
        }
    }
    // ["", "api", "v4", "slave", "upload", sid?]
    if store.config.direct.isNode, segments.count >= 5, segments[1] == "api", segments[2] == "v4", segments[3] == "slave",
       segments[4] == "upload" {
        switch (request.method, segments.count) {
        case (.PUT, 5): return locked(request, store) { try store.createSlaveSession($0) }
        case (.POST, 6): return SlaveChunkUpload(store: store, request: request, sessionID: segments[5])
        case (.DELETE, 6): return locked(request, store) { try store.deleteSlaveSession($0, id: segments[5]) }
        default: return nil
        }
    }
    if segments.count == 7, segments[1] == "api", segments[2] == "v4", segments[3] == "callback", request.method == .POST {
        let (id, secret) = (segments[5], segments[6])
        switch segments[4] {
        case "remote" where store.config.direct.policy == "remote":
            return locked(request, store) { try store.remoteCallback($0, sessionID: id, secret: secret) }
        case "onedrive" where store.config.direct.policy == "onedrive":
            return locked(request, store) { try store.oneDriveCallback($0, sessionID: id, secret: secret) }
        default: return nil
        }
    }
    if segments.count == 4, segments[1] == "__onedrive", segments[2] == "upload", store.config.direct.policy == "onedrive" {
        switch request.method {
        case .PUT: return OneDriveRangeUpload(store: store, request: request, sessionID: segments[3])
        case .GET: return locked(request, store) { _ in store.oneDriveStatus(segments[3]) }
        default: return nil
        }
    }
    return nil
}

/// A buffered route run under the state lock; errors answer in the envelope.
private func locked(_ request: Request, _ store: Store, _ handler: @escaping (Request) throws -> Reply) -> BodyReceiver {
    BufferedBody(request) { req in
        store.sync {
            do { return try handler(req) } catch let e as APIError { return .error(e) } catch { return .error(.unclassified) }
        }
    }
}
