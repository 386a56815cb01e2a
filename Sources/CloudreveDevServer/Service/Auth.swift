/// Sign-in, 2FA, token refresh and sign-out (reference §2, `service/user/login.go`, `pkg/auth/jwt.go`).
extension Store {
    /// The `CurrentUser` middleware every /api/v4 route runs: true for the signed-in user, false for
    /// anonymous. An expired, garbled or badly signed token is silently anonymous; a valid refresh
    /// token used as an access token is 40020 "Invalid token type".
    func isSignedIn(_ request: Request) throws -> Bool {
        guard let token = request.bearerToken, let claims = jwt.verify(token, now: now) else { return false }
        guard claims.kind == .access else { throw APIError.credentialInvalid("Invalid token type") }
        guard hashids.decode(claims.subject, .user) == Store.userID else { throw APIError.notFound("User not found") }
        return true
    }

    func login(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let email = body["email"]?.stringValue, let password = body["password"]?.stringValue else {
            throw APIError.param("Parameter error")
        }
        // Binding rules of UserLoginService: a valid email, a password of 4–128 characters.
        guard email.contains("@"), !email.hasPrefix("@"), !email.hasSuffix("@") else { throw APIError.param("Email format not correct") }
        guard (4...128).contains(password.count) else { throw APIError.param("Password length not correct") }
        guard Array(email.utf8) == Array(config.email.utf8), Array(password.utf8) == Array(config.password.utf8) else {
            throw APIError(40080, "Incorrect password or email address")
        }
        if config.twoFactorCode != nil {
            let sessionID = Random.uuid()
            twoFactorSessions[sessionID] = now.adding(seconds: 600)
            return Reply(body: .bytes(JSON.object([("code", .int(203)), ("data", .string(sessionID)), ("msg", .string(""))]).encoded()),
                         code: 203)
        }
        return .ok(.object([("user", userJSON), ("token", issueTokens(rootTokenID: nil))]))
    }

    func verifyTwoFactor(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let otp = body["otp"]?.stringValue, !otp.isEmpty,
              let sessionID = body["session_id"]?.stringValue, !sessionID.isEmpty else { throw APIError.param() }
        guard let expires = twoFactorSessions[sessionID], now < expires else {
            throw APIError.notFound("Session not found")
        }
        // A wrong code keeps the session so the user can try again (the KV entry is only deleted on success).
        guard Array(otp.utf8) == Array((config.twoFactorCode ?? "").utf8) else { throw APIError(40022, "Incorrect 2FA code") }
        twoFactorSessions[sessionID] = nil
        return .ok(.object([("user", userJSON), ("token", issueTokens(rootTokenID: nil))]))
    }

    /// Rotation: a new pair in the same family; the old refresh token stays valid until it expires
    /// or the family is revoked (`jwt.go Refresh`).
    func refreshTokens(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let token = body["refresh_token"]?.stringValue, !token.isEmpty else { throw APIError.param() }
        let failed = APIError.credentialInvalid("Failed to issue token pair")
        guard let claims = jwt.verify(token, now: now), claims.kind == .refresh,
              hashids.decode(claims.subject, .user) == Store.userID,
              claims.stateHash == userStateHash,
              let root = claims.rootTokenID,
              !isRevoked(root) else { throw failed }
        return .ok(issueTokens(rootTokenID: root))
    }

    /// Sign-out revokes the whole refresh family for refresh TTL + 10 s; access tokens already
    /// issued stay valid until they expire (verification never checks revocation).
    func signOut(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let token = body["refresh_token"]?.stringValue, !token.isEmpty else { throw APIError.param() }
        guard let claims = jwt.verify(token, now: now) else { throw APIError.credentialInvalid("Failed to parse token") }
        if let root = claims.rootTokenID {
            revokeFamily(root, expires: now.adding(seconds: config.refreshTTL + 10).seconds)
        }
        return .ok(.string(""))
    }

    func capacity(_ request: Request) throws -> Reply {
        guard try isSignedIn(request) else { throw APIError.loginRequired }
        return .ok(.object([("total", .int(config.quota)), ("used", .int(tree.usedBytes))]))
    }

    // MARK: Private

    private func isRevoked(_ root: String) -> Bool {
        guard let until = revokedFamilies[root] else { return false }
        return now.seconds < until
    }

    /// sha256 of email/password/site id: changing the password (a restart with another
    /// --password) invalidates every refresh token, as on a real server.
    private var userStateHash: [UInt8] {
        SHA256.hash(Array("\(config.email)/\(config.password)/\(Hex.encode(Array(secret.prefix(8))))".utf8))
    }

    private func issueTokens(rootTokenID: String?) -> JSON {
        let issued = now
        let accessExpires = issued.adding(seconds: config.accessTTL)
        let refreshExpires = issued.adding(seconds: config.refreshTTL)
        let subject = userHashID
        let access = jwt.sign(TokenClaims(kind: .access, subject: subject, notBefore: issued.seconds,
                                          expires: accessExpires.seconds, rootTokenID: nil, stateHash: nil))
        let refresh = jwt.sign(TokenClaims(kind: .refresh, subject: subject, notBefore: issued.seconds,
                                           expires: refreshExpires.seconds, rootTokenID: rootTokenID ?? Random.uuid(),
                                           stateHash: userStateHash))
        return .object([
            ("access_token", .string(access)),
            ("refresh_token", .string(refresh)),
            ("access_expires", .string(accessExpires.rfc3339)),
            ("refresh_expires", .string(refreshExpires.rfc3339)),
        ])
    }

    var userJSON: JSON {
        .object([
            ("id", .string(userHashID)),
            ("email", .string(config.email)),
            ("nickname", .string(String(config.email.split(separator: "@").first ?? "admin"))),
            ("status", .string("active")),
            ("created_at", .string(tree.root.createdAt.rfc3339)),
            ("group", .object([("id", .string(hashids.encode(1, .user))), ("name", .string("Admin"))])),
        ])
    }
}
