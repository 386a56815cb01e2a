/// A `cloudreve://[id@]fs/path[?search]` URI parsed the way the server does it (reference §3,
/// `pkg/filemanager/fs/uri.go`): Go's `url.Parse`, one trailing slash stripped, then `path.Clean`.
/// The path is kept as byte components; `%2F` inside a segment becomes a separator, as in Go,
/// because Go decodes the whole path before splitting it.
struct CloudreveURI {
    /// `my`, `trash`, `share`, `shared_with_me` (lower-cased host).
    var fileSystem: String
    var userID: String?
    var components: [[UInt8]]
    /// Search parameters from the URI's own query (`?meta_sys:upload_session_id=`), if any.
    var search: SearchQuery?

    /// The name Cloudreve validates for uploads: `path.Base` of the cleaned path ("/" for the root).
    var name: [UInt8] { components.last ?? [UInt8(ascii: "/")] }
    var isRoot: Bool { components.isEmpty }

    static func parse(_ text: String) throws -> CloudreveURI {
        guard let uri = parseBytes(Array(text.utf8)) else { throw APIError.param("unknown uri") }
        return uri
    }

    private static func parseBytes(_ input: [UInt8]) -> CloudreveURI? {
        // Go rejects ASCII control characters anywhere in a URL.
        if input.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return nil }
        var raw = input[...]
        if let hash = raw.firstIndex(of: UInt8(ascii: "#")) { raw = raw[..<hash] }

        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = String(decoding: raw[..<colon], as: UTF8.self).lowercased()
        guard scheme == "cloudreve" else { return nil }
        var rest = raw[(colon + 1)...]

        var rawQuery: ArraySlice<UInt8>? = nil
        if let q = rest.firstIndex(of: UInt8(ascii: "?")) {
            rawQuery = rest[(q + 1)...]
            rest = rest[..<q]
        }
        guard rest.starts(with: Array("//".utf8)) else { return nil }
        rest = rest.dropFirst(2)
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let authority = rest[..<slash]
        let rawPath = rest[slash...]

        var userID: String? = nil
        var host = authority
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            guard let user = try? GoURL.unescape(authority[..<at], plusIsSpace: false) else { return nil }
            let name = user.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
            userID = String(decoding: name, as: UTF8.self)
            host = authority[(at + 1)...]
        }
        if let portColon = host.lastIndex(of: UInt8(ascii: ":")) {
            // Go: a port must be digits only.
            guard host[(portColon + 1)...].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        }
        guard let hostBytes = try? GoURL.unescape(host, plusIsSpace: false),
              let path = try? GoURL.unescape(rawPath, plusIsSpace: false) else { return nil }

        var search: SearchQuery? = nil
        if let rawQuery { search = SearchQuery(GoURL.parseQuery(rawQuery)) }
        return CloudreveURI(fileSystem: String(decoding: hostBytes, as: UTF8.self).lowercased(), userID: userID,
                            components: cleanPath(path), search: search)
    }

    /// Go's `path.Clean` on a rooted path, returned as its elements.
    static func cleanPath(_ path: [UInt8]) -> [[UInt8]] {
        var stack: [[UInt8]] = []
        for element in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if element.elementsEqual([UInt8(ascii: ".")]) { continue }
            if element.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !stack.isEmpty { stack.removeLast() }
                continue
            }
            stack.append(Array(element))
        }
        return stack
    }

    /// The canonical string the server answers with: components escaped like encodeURIComponent.
    static func string(fileSystem: String, components: [[UInt8]]) -> String {
        var s = "cloudreve://" + fileSystem
        for c in components { s += "/" + GoURL.pathEscape(c) }
        return s
    }
}

/// The search part of a listing URI (`inventory.SearchFileParameters`), reduced to what a sync
/// client uses: metadata filters, name filters and type.
struct SearchQuery {
    struct MetadataFilter {
        var key: [UInt8]
        var value: [UInt8]
        var exact: Bool
    }

    var names: [[UInt8]] = []
    var metadata: [MetadataFilter] = []
    var type: Int? = nil
    var caseFolding = false

    /// nil when the query holds no search parameter (Go's SearchParameters returns nil then).
    init?(_ pairs: [(key: [UInt8], value: [UInt8])]) {
        var any = false
        for (key, value) in pairs {
            let k = String(decoding: key, as: UTF8.self)
            if k == "name" { names.append(value); any = true }
            else if k == "case_folding" { caseFolding = true }
            else if k == "type" { type = String(decoding: value, as: UTF8.self) == "folder" ? 1 : 0; any = true }
            else if key.starts(with: Array("meta_".utf8)) {
                // Go keeps only the first value per key (v[0]).
                let name = Array(key.dropFirst(5))
                if !metadata.contains(where: { $0.key == name && !$0.exact }) {
                    metadata.append(MetadataFilter(key: name, value: value, exact: false))
                }
                any = true
            } else if key.starts(with: Array("exact_meta_".utf8)) {
                let name = Array(key.dropFirst(11))
                if !metadata.contains(where: { $0.key == name && $0.exact }) {
                    metadata.append(MetadataFilter(key: name, value: value, exact: true))
                }
                any = true
            }
        }
        if !any { return nil }
    }
}
