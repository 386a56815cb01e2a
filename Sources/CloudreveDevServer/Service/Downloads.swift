/// `POST /file/url` and the signed content route it hands out (reference §3 "POST /file/url"):
/// `<site>/api/v4/file/content/<entity>/0/<name>?sign=...`, served without Authorization.
extension Store {
    /// How long a download link stays valid (`EntityUrlValidDuration`).
    static let downloadLinkTTL = 3600

    func fileURLs(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        let uris = try batchURIs(body)
        let download = body["download"]?.boolValue == true
        let skipError = body["skip_error"]?.boolValue == true
        let preferredEntity = body["entity"]?.stringValue ?? ""
        let signedIn = try isSignedIn(request)
        _ = try uris.map { try CloudreveURI.parse($0) }
        let expires = now.adding(seconds: Store.downloadLinkTTL)
        let host = request.headers.first(name: "Host").map { "http://" + $0 } ?? baseURL

        var urls: [JSON] = []
        var failures: [(String, APIError)] = []
        for text in uris {
            do {
                let (_, node) = try existing(text, signedIn: signedIn)
                var entityID = node.primaryEntity
                if uris.count == 1 && !preferredEntity.isEmpty {
                    guard let id = hashids.decode(preferredEntity, .entity), node.entityIDs.contains(id) else {
                        throw APIError.entityNotExist
                    }
                    entityID = id
                }
                guard !node.isFolder, entityID != 0, tree.entities[entityID] != nil else { throw APIError.entityNotExist }
                let entity = hashids.encode(entityID, .entity)
                var url = "\(host)/api/v4/file/content/\(entity)/0/\(GoURL.pathEscape(displayName(node)))?sign=\(sign(entity, expires))"
                if download { url += "&download=true" }
                urls.append(.object([("url", .string(url))]))
            } catch let e as APIError {
                failures.append((text, e))
            }
        }
        if !failures.isEmpty && !skipError { throw APIError.batch(failures) }
        return .ok(.object([("urls", .array(urls)), ("expires", .string(expires.rfc3339))]))
    }

    /// The blob behind a signed content URL, checked like `SignRequired` (40020 on a bad or stale sign).
    func signedContent(_ request: Request, entity: String) throws -> (path: String, download: Bool) {
        guard let sign = request.queryValue("sign"), verify(sign, entity: entity) else {
            throw APIError.credentialInvalid("invalid sign")
        }
        guard let id = hashids.decode(entity, .entity) else { throw APIError.param("Failed to parse object ID") }
        guard tree.entities[id] != nil else { throw APIError.entityNotExist }
        return (blobs.path(id), request.queryValue("download") == "true")
    }

    private func sign(_ entity: String, _ expires: Timestamp) -> String {
        let message = Array("\(entity):\(expires.seconds)".utf8)
        return Base64URL.encode(SHA256.hmac(key: secret, message: message)) + ":\(expires.seconds)"
    }

    private func verify(_ sign: String, entity: String) -> Bool {
        let parts = sign.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let expires = Int64(parts[1]), now.seconds < expires else { return false }
        return Array(sign.utf8) == Array(self.sign(entity, Timestamp(seconds: expires)).utf8)
    }
}
