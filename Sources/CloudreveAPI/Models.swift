import Foundation

/// A file or folder as `GET /file/info` and listings describe it (`FileResponse`, §3).
public struct FileInfo: Decodable, Sendable {
    public var type: Int
    public var id: String
    public var name: String
    public var size: Int64
    public var path: String
    public var createdAt: String?
    public var updatedAt: String?
    public var primaryEntity: String?
    public var metadata: [String: String]?
    public var extendedInfo: ExtendedInfo?

    public var isFolder: Bool { type == 1 }
    /// The upload session that still owns this file, if it is an unfinished placeholder (§6).
    public var uploadSessionID: String? { metadata?["sys:upload_session_id"] }
    public var updatedAtDate: Date? { updatedAt.flatMap(parseRFC3339) }
    public var createdAtDate: Date? { createdAt.flatMap(parseRFC3339) }

    enum CodingKeys: String, CodingKey {
        case type, id, name, size, path, metadata
        case createdAt = "created_at", updatedAt = "updated_at", primaryEntity = "primary_entity", extendedInfo = "extended_info"
    }

    public struct ExtendedInfo: Decodable, Sendable {
        public var entities: [Entity]?
    }

    public struct Entity: Decodable, Sendable {
        public var id: String
        public var size: Int64
        public var type: Int
        public var createdAt: String?

        enum CodingKeys: String, CodingKey {
            case id, size, type
            case createdAt = "created_at"
        }
    }
}

public struct StoragePolicy: Codable, Sendable {
    public var id: String
    public var name: String?
    public var type: String
    public var maxSize: Int64?
    public var relay: Bool?
    public var chunkConcurrency: Int?

    enum CodingKeys: String, CodingKey {
        case id, name, type, relay
        case maxSize = "max_size", chunkConcurrency = "chunk_concurrency"
    }
}

/// One folder's full listing, every page followed.
public struct FolderListing: Sendable {
    public var files: [FileInfo]
    public var storagePolicy: StoragePolicy?
}

/// What `PUT /file/upload` answers (`UploadSessionResponse`, §4). The raw JSON is kept by the caller.
public struct UploadSession: Decodable, Sendable {
    public var sessionID: String
    public var chunkSize: Int64
    /// Unix seconds.
    public var expires: Int64
    public var uri: String
    public var storagePolicy: StoragePolicy?
    public var uploadURLs: [String]?

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", chunkSize = "chunk_size", expires, uri
        case storagePolicy = "storage_policy", uploadURLs = "upload_urls"
    }

    /// Whether chunks go to this server (local policy, or any policy in relay mode). Other policies
    /// upload straight to a storage provider, which crsync does not speak yet.
    public var uploadsThroughServer: Bool {
        guard let policy = storagePolicy else { return true }
        return policy.type == "local" || policy.relay == true
    }
}

public struct UploadSessionRequest: Encodable, Sendable {
    public var uri: String
    public var size: Int64
    /// Milliseconds since the epoch.
    public var lastModified: Int64
    public var policyID: String?
    /// Always "version": create-or-replace (§4).
    public var entityType = "version"
    public var previous: String?
    public var mimeType: String?

    public init(uri: String, size: Int64, lastModified: Int64, policyID: String?, previous: String?) {
        self.uri = uri
        self.size = size
        self.lastModified = lastModified
        self.policyID = policyID
        self.previous = previous
    }

    enum CodingKeys: String, CodingKey {
        case uri, size, previous
        case lastModified = "last_modified", policyID = "policy_id", entityType = "entity_type", mimeType = "mime_type"
    }
}

public struct Capacity: Decodable, Sendable {
    public var total: Int64
    public var used: Int64
}

/// RFC 3339 with or without fractional seconds, any offset.
public func parseRFC3339(_ text: String) -> Date? {
    let withFraction = ISO8601DateFormatter()
    withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = withFraction.date(from: text) { return date }
    let plain = ISO8601DateFormatter()
    plain.formatOptions = [.withInternetDateTime]
    return plain.date(from: text)
}
