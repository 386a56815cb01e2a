/// `GET /site/config/{section}` and `GET /user/me`, reduced to the fields a headless client reads
/// (reference §2 "GET /site/ping and GET /site/config/{section}"). Every field there is omitempty,
/// so what is left out means false or empty.
extension Store {
    func siteConfig(_ request: Request, section: String) throws -> Reply {
        let signedIn = try isSignedIn(request)
        switch section {
        case "login":
            // No captcha, no registration, no passkeys: nothing to report.
            return .ok(.object([]))
        case "explorer":
            return .ok(.object([("max_batch_size", .int(Store.maxBatch))]))
        default:
            let user: JSON = signedIn ? userJSON : .object([("id", .string("")), ("nickname", .string("")),
                                                            ("created_at", .string("0001-01-01T00:00:00Z")),
                                                            ("anonymous", .bool(true))])
            return .ok(.object([("instance_id", .string(Hex.encode(Array(SHA256.hash(secret).prefix(16))))),
                                ("title", .string("Cloudreve")), ("user", user)]))
        }
    }

    func me(_ request: Request) throws -> Reply {
        guard try isSignedIn(request) else { throw APIError.loginRequired }
        return .ok(userJSON)
    }
}
