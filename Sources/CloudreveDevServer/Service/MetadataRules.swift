/// Which metadata a client may write (`manager/metadata.go validateMetadata`, reference §3): the
/// key needs a `category:` prefix from the allowed set; `sys:` keys are the server's own.
enum MetadataRules {
    static func validate(key: String, value: String, remove: Bool) throws {
        let parts = key.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw APIError.param("Invalid metadata key") }
        switch parts[0] {
        case "dav", "thumb", "props":
            return
        case "tag":
            if !remove && !value.isEmpty && !isColor(value) { throw APIError.param("Invalid metadata patch") }
        case "customize":
            if key == "customize:icon_color" && !remove && !isColor(value) { throw APIError.param("Invalid metadata patch") }
        case "sys":
            throw APIError.param("Invalid metadata patch")
        default:
            throw APIError.param("Invalid metadata key")
        }
    }

    /// The metadata map of an upload session or create request: at most 256 entries, each valid.
    static func parse(_ json: JSON?) throws -> [[UInt8]: String] {
        guard let json, !json.isNull else { return [:] }
        guard let pairs = json.objectValue else { throw APIError.param("JSON marshall error") }
        guard pairs.count <= 256 else { throw APIError.param() }
        var result: [[UInt8]: String] = [:]
        for (key, value) in pairs {
            guard let text = value.stringValue else { throw APIError.param("JSON marshall error") }
            try validate(key: key, value: text, remove: false)
            result[Array(key.utf8)] = text
        }
        return result
    }

    /// `iscolor`: hex (#rgb / #rrggbb), rgb(), rgba(), hsl(), hsla() — hex is what clients send.
    private static func isColor(_ value: String) -> Bool {
        let v = Array(value.utf8)
        if v.first == UInt8(ascii: "#") && (v.count == 4 || v.count == 7) {
            return v.dropFirst().allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
        }
        return ["rgb(", "rgba(", "hsl(", "hsla("].contains { value.lowercased().hasPrefix($0) } && value.hasSuffix(")")
    }
}
