import Foundation

/// HS256 JSON Web Tokens with Cloudreve's claims (reference §2, `pkg/auth/jwt.go`): `token_type`,
/// `sub`, `exp`, `nbf`, and for refresh tokens `root_token_id` and `state_hash`. Signed with the
/// secret kept under the data directory, so tokens outlive a restart exactly as they do on a real
/// server (they are stateless there too).
struct TokenClaims {
    enum Kind: String { case access, refresh }
    var kind: Kind
    var subject: String
    var notBefore: Int64
    var expires: Int64
    var rootTokenID: String?
    var stateHash: [UInt8]?
}

struct JWT {
    let key: [UInt8]

    func sign(_ claims: TokenClaims) -> String {
        let header = JSON.object([("alg", .string("HS256")), ("typ", .string("JWT"))])
        var pairs: [(String, JSON)] = [("token_type", .string(claims.kind.rawValue)), ("sub", .string(claims.subject)),
                                       ("exp", .int(claims.expires)), ("nbf", .int(claims.notBefore))]
        if let hash = claims.stateHash { pairs.append(("state_hash", .string(Base64URL.standard(hash)))) }
        if let root = claims.rootTokenID { pairs.append(("root_token_id", .string(root))) }
        // A registered `jti` Cloudreve leaves empty: here it makes every issued token distinct even
        // within one second, so a rotation is always visible to the client.
        pairs.append(("jti", .string(Random.uuid())))
        let signingInput = Base64URL.encode(header.encoded()) + "." + Base64URL.encode(JSON.object(pairs).encoded())
        return signingInput + "." + Base64URL.encode(SHA256.hmac(key: key, message: Array(signingInput.utf8)))
    }

    /// The claims of a well-signed token that is valid at `now`; nil for anything else (garbage,
    /// bad signature, expired, not yet valid): Cloudreve treats all of those alike (§2).
    func verify(_ token: String, now: Timestamp) -> TokenClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3,
              let signature = Base64URL.decode(parts[2]),
              constantTimeEqual(signature, SHA256.hmac(key: key, message: Array((parts[0] + "." + parts[1]).utf8))),
              let payload = Base64URL.decode(parts[1]),
              let claims = try? JSON.parse(payload),
              let kind = claims["token_type"]?.stringValue.flatMap(TokenClaims.Kind.init(rawValue:)),
              let subject = claims["sub"]?.stringValue,
              let exp = claims["exp"]?.int64Value,
              let nbf = claims["nbf"]?.int64Value
        else { return nil }
        // golang-jwt: valid while now < exp and now >= nbf, at whole-second precision.
        guard now.seconds < exp, now.seconds >= nbf else { return nil }
        return TokenClaims(kind: kind, subject: subject, notBefore: nbf, expires: exp,
                           rootTokenID: claims["root_token_id"]?.stringValue,
                           stateHash: claims["state_hash"]?.stringValue.flatMap(Base64URL.decodeStandard))
    }
}

extension Base64URL {
    /// Go marshals a []byte claim as standard, padded base64.
    static func standard(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
    static func decodeStandard(_ text: String) -> [UInt8]? { Data(base64Encoded: text).map { [UInt8]($0) } }
}
