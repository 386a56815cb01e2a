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

/// RFC 3339 with or without fractional seconds, any offset. Read by hand: the after-pass listing reads one
/// date per uploaded file, and creating an `ISO8601DateFormatter` (an ICU formatter) cost more than a
/// file's whole journal work (6 % of a small-file sync's CPU, measured with perf). Anything the fast
/// reader does not take (a leap second, an odd form) goes to Foundation's formatter.
public func parseRFC3339(_ text: String) -> Date? {
    if let date = fastRFC3339(text) { return date }
    let withFraction = ISO8601DateFormatter()
    withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = withFraction.date(from: text) { return date }
    let plain = ISO8601DateFormatter()
    plain.formatOptions = [.withInternetDateTime]
    return plain.date(from: text)
}

private func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as Go's `time.RFC3339Nano` writes it; nil for anything else.
func fastRFC3339(_ text: String) -> Date? {
    var text = text
    return text.withUTF8 { b -> Date? in
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                let d = Int(b[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74, b[13] == 0x3A, b[16] == 0x3A,
              let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2),
              let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D, b.count == i + 6, b[i + 3] == 0x3A,
                  let h = digits(i + 1, 2), let m = digits(i + 4, 2), h < 24, m < 60 {
            offset = (h * 60 + m) * 60 * (b[i] == 0x2D ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
