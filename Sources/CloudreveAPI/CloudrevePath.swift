/// A location in the user's own Cloudreve space, held as decoded path segments so that names keep their
/// exact bytes (NFC and NFD spellings stay distinct) until they are encoded for the wire.
public struct CloudrevePath: Sendable, CustomStringConvertible {
    public var segments: [String]

    public init(segments: [String]) { self.segments = segments }

    public static let root = CloudrevePath(segments: [])

    /// Parses what a person types: `cloudreve://my/Backups/Photos` (plain, not percent-encoded names).
    /// Throws a message that says what is accepted.
    public init(parsing text: String) throws {
        let prefix = "cloudreve://my"
        guard text.hasPrefix(prefix) else {
            throw CloudreveError.usage("remote '\(text)' must start with \(prefix)/ (for example cloudreve://my/Backups)")
        }
        let rest = text.dropFirst(prefix.count)
        guard rest.isEmpty || rest.hasPrefix("/") else {
            throw CloudreveError.usage("remote '\(text)' must start with \(prefix)/ (for example cloudreve://my/Backups)")
        }
        if rest.contains("?") {
            throw CloudreveError.usage("remote '\(text)' must not contain '?': Cloudreve reads it as a search query")
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts.contains(where: { $0 == "." || $0 == ".." }) {
            throw CloudreveError.usage("remote '\(text)' must not contain '.' or '..' segments")
        }
        segments = parts
    }

    /// Parses an encoded URI as the server writes it (`FileInfo.path`): `cloudreve://my/a%20b/c`.
    public init(uri: String) throws {
        let prefix = "cloudreve://my"
        guard uri.hasPrefix(prefix) else { throw CloudreveError.usage("'\(uri)' is not a cloudreve://my URI") }
        var rest = uri.dropFirst(prefix.count)
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        segments = rest.split(separator: "/", omittingEmptySubsequences: true).map { percentDecode(String($0)) }
    }

    /// Appends a relative, "/"-separated local path.
    public func appending(_ relativePath: String) -> CloudrevePath {
        CloudrevePath(segments: segments + relativePath.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
    }

    public var parent: CloudrevePath { CloudrevePath(segments: Array(segments.dropLast())) }
    public var name: String { segments.last ?? "" }

    /// The URI as the server parses it: each segment encoded like JS encodeURIComponent (§3 "Encoding").
    public var uri: String {
        segments.isEmpty ? "cloudreve://my" : "cloudreve://my/" + segments.map(encodeURIComponent).joined(separator: "/")
    }

    /// The form a person reads: unencoded.
    public var description: String { "cloudreve://my/" + segments.joined(separator: "/") }
}

/// JavaScript's encodeURIComponent: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` is percent-encoded,
/// byte by byte of the UTF-8 form.
public func encodeURIComponent(_ text: String) -> String {
    percentEncode(text, keeping: "-_.!~*'()")
}

/// Encoding for a value inside a query string (the whole URI encoded again, §3): like encodeURIComponent,
/// so `%`, `&`, `=`, `+` and `#` in the already-encoded URI survive the server's query parsing.
public func encodeQueryValue(_ text: String) -> String {
    percentEncode(text, keeping: "-_.~")
}

private func percentEncode(_ text: String, keeping extra: String) -> String {
    let keep = Set(extra.utf8)
    var out = [UInt8]()
    out.reserveCapacity(text.utf8.count)
    let hex = Array("0123456789ABCDEF".utf8)
    for byte in text.utf8 {
        let isAlnum = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        if isAlnum || keep.contains(byte) {
            out.append(byte)
        } else {
            out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Undoes percent-encoding byte by byte, so the name keeps its exact UTF-8 bytes.
func percentDecode(_ text: String) -> String {
    var out = [UInt8]()
    let bytes = Array(text.utf8)
    var i = 0
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let value = UInt8(String(decoding: bytes[i + 1...i + 2], as: UTF8.self), radix: 16) {
            out.append(value)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}
