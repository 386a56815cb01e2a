import Foundation

// Request and reply shapes that only the client sees.

struct TokenPair: Decodable {
    var accessToken: String
    var refreshToken: String
    var accessExpires: String
    var refreshExpires: String

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token"
        case accessExpires = "access_expires", refreshExpires = "refresh_expires"
    }

    func credentials(server: String, email: String) throws -> Credentials {
        guard let access = parseRFC3339(accessExpires), let refresh = parseRFC3339(refreshExpires) else {
            throw CloudreveError.malformed(path: "/session/token", detail: "token expiry is not RFC 3339")
        }
        return Credentials(server: server, email: email, accessToken: accessToken, refreshToken: refreshToken,
                           accessExpires: access, refreshExpires: refresh, receivedAt: Date())
    }
}

/// Sign-in answers either `{user, token}` or, with code 203, the two-factor session id as a string.
enum SignInReply: Decodable {
    case token(TokenPair)
    case twoFactor(String)

    private struct WithToken: Decodable { var token: TokenPair }

    init(from decoder: Decoder) throws {
        if let id = try? decoder.singleValueContainer().decode(String.self) {
            self = .twoFactor(id)
        } else {
            self = .token(try WithToken(from: decoder).token)
        }
    }
}

struct ListReply: Decodable {
    var files: [FileInfo]
    var pagination: Pagination?
    var storagePolicy: StoragePolicy?

    enum CodingKeys: String, CodingKey {
        case files, pagination
        case storagePolicy = "storage_policy"
    }

    struct Pagination: Decodable {
        var nextToken: String?
        enum CodingKeys: String, CodingKey { case nextToken = "next_token" }
    }
}

struct CreateRequest: Encodable {
    var uri: String
    var type: String
}

struct DeleteRequest: Encodable {
    var uris: [String]
    var skipSoftDelete: Bool
    enum CodingKeys: String, CodingKey {
        case uris
        case skipSoftDelete = "skip_soft_delete"
    }
}

struct MoveRequest: Encodable {
    var uris: [String]
    var dst: String
    var copy: Bool
}

struct URLRequestBody: Encodable {
    var uris: [String]
    var download: Bool
}

struct URLReply: Decodable {
    var urls: [Link]
    struct Link: Decodable { var url: String }
}

struct CancelRequest: Encodable {
    var id: String
    var uri: String
}
