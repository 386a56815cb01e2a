import Glibc

/// Paths as the kernel sees them: bytes, not Swift `Character`s.
///
/// Swift's `String ==` and hashing equate canonically equivalent spellings (NFC "é" and NFD "e\u{301}"),
/// and `Character` splitting glues a combining mark to a preceding "/". Linux and the server do neither,
/// so everything here works on UTF-8 bytes.
enum PathBytes {
    static let slash = UInt8(ascii: "/")

    /// The parent folder of `path`: "/a/b" for "/a/b/c", "/" for "/c", "" for a bare name.
    static func parent(of path: String) -> String {
        let bytes = Array(path.utf8)
        guard let last = bytes.lastIndex(of: slash) else { return "" }
        return last == 0 ? "/" : String(decoding: bytes[..<last], as: UTF8.self)
    }

    /// `path` cut at slashes into pieces each shorter than `limit` bytes, to be opened one relative to the
    /// one before: the kernel refuses a path of PATH_MAX (4096) bytes or more, but not a deep folder.
    /// A piece never starts with a slash except the first of an absolute path.
    static func pieces(of path: String, under limit: Int) -> [String] {
        let bytes = Array(path.utf8)
        var pieces: [String] = []
        var start = 0
        while start < bytes.count {
            var end = bytes.count
            if end - start >= limit {
                // The last slash that keeps the piece under the limit; a name is at most 255 bytes.
                end = bytes[start..<(start + limit - 1)].lastIndex(of: slash) ?? (start + limit - 1)
                if end == start { end = start + 1 }  // a leading "/" alone: the root
            }
            pieces.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
            while start < bytes.count && bytes[start] == slash { start += 1 }
        }
        return pieces
    }

    /// `name` as a `String` when it is valid UTF-8, else nil. The bytes of the result are exactly `name`.
    static func decodedUTF8(_ name: [UInt8]) -> String? {
        String(validating: name, as: UTF8.self)
    }

    /// `bytes` for showing to a person: valid UTF-8 as is, every byte of an invalid sequence and every
    /// control character as `\xNN`, so that an odd name can be found and renamed from the message alone.
    static func display(_ bytes: [UInt8]) -> String {
        var text = ""
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = scalar(in: bytes, at: index), !isControl(scalar) {
                text.unicodeScalars.append(scalar)
                index += length
            } else {
                text += "\\x" + hex(bytes[index])
                index += 1
            }
        }
        return text
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7f
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }

    /// The scalar encoded at `start` and its length in bytes, or nil if the bytes there are not well-formed
    /// UTF-8 (overlong forms, surrogates and values past U+10FFFF included).
    private static func scalar(in bytes: [UInt8], at start: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[start]
        let length: Int
        switch lead {
        case 0x00...0x7f: return (Unicode.Scalar(lead), 1)
        case 0xc2...0xdf: length = 2
        case 0xe0...0xef: length = 3
        case 0xf0...0xf4: length = 4
        default: return nil
        }
        guard start + length <= bytes.count else { return nil }
        let sequence = Array(bytes[start..<start + length])
        guard let decoded = decodedUTF8(sequence), let scalar = decoded.unicodeScalars.first else { return nil }
        return (scalar, length)
    }

    /// `strerror` for `code`, e.g. "Permission denied".
    static func systemError(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
