import NIOHTTP1

/// Maps a request head to what will take its body and answer it (`routers/router.go`, the parts a
/// sync client touches), plus the `/__dev/` test controls. Unknown routes get gin's plain-text 404.
struct Router {
    let store: Store

    func receiver(for request: Request) -> BodyReceiver {
        let path = request.pathString
        let method = request.method
        if let direct = directReceiver(for: request, store: store) { return direct }
        if method == .POST, path == "/__provider/oss/complete" || path == "/__provider/obs/complete" {
            // The stand-in for OSS's and OBS's own completion and callback (S3/ProviderCompletion.swift).
            let type = String(path.split(separator: "/")[1])
            return buffered(request, api: false, offLoop: true) { req in store.providerCompletion(req, type: type) }
        }

        if path.hasPrefix("/__dev/") {
            switch (method, path) {
            case (.GET, "/__dev/stats"): return buffered(request, api: false) { _ in store.devStats() }
            case (.POST, "/__dev/stats/reset"): return buffered(request, api: false) { _ in store.devResetStats() }
            case (.POST, "/__dev/faults"): return buffered(request, api: false, store.devSetFaults)
            case (.POST, "/__dev/clock"): return buffered(request, api: false, store.devAdvanceClock)
            default: return buffered(request, api: false) { _ in .notFound }
            }
        }

        guard path.hasPrefix("/api/v4/") else { return buffered(request, api: false) { _ in .notFound } }
        let route = String(path.dropFirst("/api/v4/".count))
        let segments = route.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        // A search (`uri` with a query, e.g. the stale-upload sweep) counts apart from a plain listing, and
        // an extended info (the sweep's look at a placeholder's entities) apart from a plain one.
        let search = route == "file" && (request.queryValue("uri")?.contains("?") ?? false)
        let extended = route == "file/info" && (try? request.queryBool("extended")) == true
        let name = "\(method.rawValue) \(Router.routeName(segments))\(search ? "?search" : "")\(extended ? "?extended" : "")"
        store.sync { store.stats.requests[name, default: 0] += 1 }

        // Routes with path parameters.
        if segments.count == 4, segments[0] == "file", segments[1] == "upload", method == .POST {
            // ChunkUpload runs the middleware check itself, so the request still counts in the stats.
            return ChunkUpload(store: store, request: request, sessionID: segments[2], indexText: segments[3])
        }
        if segments.count == 5, segments[0] == "file", segments[1] == "content", method == .GET {
            let entity = segments[2]
            return buffered(request, api: true) { req in
                let (blob, download) = try store.signedContent(req, entity: entity)
                var reply = Reply(contentType: "application/octet-stream", body: .file(path: blob), code: 0)
                if download { reply.headers.append(("Content-Disposition", "attachment; filename=\"\(segments[4])\"")) }
                return reply
            }
        }
        if segments.count == 4, segments[0] == "callback", method == .GET, ["s3", "ks3", "cos"].contains(segments[1]) {
            // The S3 family's callback: GET, no Authorization, the secret in the path (§8c).
            return buffered(request, api: false, offLoop: true) { _ in
                store.storageCallback(type: segments[1], sessionID: segments[2], secret: segments[3])
            }
        }
        if segments.count == 3, segments[0] == "site", segments[1] == "config", method == .GET {
            let section = segments[2]
            return buffered(request, api: true) { try store.siteConfig($0, section: section) }
        }
        if method == .PUT && route == "file/content" {
            if let denied = middlewareRefusal(request) { return Answered(denied) }
            return ContentUpload(store: store, request: request)
        }

        let handler: ((Request) throws -> Reply)?
        switch (method, route) {
        case (.GET, "site/ping"): handler = { _ in .ok(.string(store.version.description)) }
        case (.POST, "session/token"): handler = store.login
        case (.POST, "session/token/2fa"): handler = store.verifyTwoFactor
        case (.POST, "session/token/refresh"): handler = store.refreshTokens
        case (.DELETE, "session/token"): handler = store.signOut
        case (.GET, "user/capacity"): handler = store.capacity
        case (.GET, "user/me"): handler = store.me
        case (.GET, "file"): handler = store.list
        case (.GET, "file/info"): handler = store.fileInfo
        case (.POST, "file/create"): handler = store.create
        case (.POST, "file/rename"): handler = store.rename
        case (.POST, "file/move"): handler = store.move
        case (.POST, "file/url"): handler = store.fileURLs
        case (.DELETE, "file"): handler = store.delete
        case (.DELETE, "file/lock"): handler = store.unlock
        case (.POST, "file/restore"): handler = store.restore
        case (.PATCH, "file/metadata"): handler = store.patchMetadata
        case (.PUT, "file/upload"): handler = store.createUploadSession
        case (.DELETE, "file/upload"): handler = store.cancelUploadSession
        default: handler = nil
        }
        guard let handler else { return buffered(request, api: false) { _ in .notFound } }
        return buffered(request, api: true, handler)
    }

    /// The route's name in the stats: path parameters (session ids, chunk indexes, entities) as placeholders.
    static func routeName(_ segments: [String]) -> String {
        switch (segments.first, segments.count) {
        case ("file", 4) where segments[1] == "upload": return "file/upload/{id}/{index}"
        case ("file", 5) where segments[1] == "content": return "file/content/{entity}/{name}"
        case ("callback", 4): return "callback/\(segments[1])/{id}/{secret}"
        case ("site", 3) where segments[1] == "config": return "site/config/{section}"
        default: return segments.joined(separator: "/")
        }
    }

    /// A buffered route run under the state lock. API routes first pass the `CurrentUser`
    /// middleware, which refuses a refresh token used as access token (40020) before any binding.
    /// `offLoop`: for handlers that call the storage (moto) and wait for it, which must not hold an event
    /// loop. They still hold the store's lock meanwhile (the session's state and the storage's move together);
    /// other requests wait for it, as in a server that handles the callback in one transaction.
    private func buffered(_ request: Request, api: Bool, offLoop: Bool = false,
                          _ handler: @escaping (Request) throws -> Reply) -> BodyReceiver {
        BufferedBody(request, offLoop: offLoop) { req in
            store.sync {
                do {
                    if api { _ = try store.isSignedIn(req) }
                    return try handler(req)
                } catch let e as APIError {
                    return .error(e)
                } catch {
                    return .error(.unclassified)
                }
            }
        }
    }

    /// The middleware verdict for streaming routes, decided before their bodies are read.
    private func middlewareRefusal(_ request: Request) -> Reply? {
        store.sync {
            do {
                _ = try store.isSignedIn(request)
                return nil
            } catch let e as APIError {
                return .error(e)
            } catch {
                return .error(.unclassified)
            }
        }
    }
}

/// A receiver whose answer was settled at the head: drains the body, then answers.
final class Answered: BodyReceiver {
    private let reply: Reply
    init(_ reply: Reply) { self.reply = reply }
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool { true }
    func finish() -> Reply { reply }
    func abandon() {}
}
