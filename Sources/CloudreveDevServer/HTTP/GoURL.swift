/// Percent-decoding and query parsing with the exact semantics of Go's net/url, which is what a
/// real Cloudreve runs every URI through. Everything works on bytes: a name's bytes must come out
/// exactly as the client encoded them (NFC and NFD spellings stay different).
enum GoURL {
    struct InvalidEscape: Error {}

    /// `url.PathUnescape`-style decoding: `%XX` becomes the byte, `+` stays a plus.
    /// `QueryUnescape` (`plusIsSpace`) also turns `+` into a space. A `%` not followed by two hex
    /// digits is an error, as in Go.
    static func unescape(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2])
                else { throw InvalidEscape() }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i += 1
            }
        }
        return out
    }

    static func unescape(_ bytes: [UInt8], plusIsSpace: Bool) throws -> [UInt8] {
        try unescape(bytes[...], plusIsSpace: plusIsSpace)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// `url.ParseQuery`: pairs split on `&`; a key containing `;` or a pair with a bad escape is
    /// dropped (gin's `c.Query` ignores the error and reads what parsed). Values keep their order.
    static func parseQuery(_ raw: ArraySlice<UInt8>) -> [(key: [UInt8], value: [UInt8])] {
        var result: [(key: [UInt8], value: [UInt8])] = []
        for pair in raw.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            if pair.contains(UInt8(ascii: ";")) { continue }
            let eq = pair.firstIndex(of: UInt8(ascii: "="))
            let rawKey = eq.map { pair[pair.startIndex..<$0] } ?? pair
            let rawValue = eq.map { pair[($0 + 1)...] } ?? []
            guard let key = try? unescape(rawKey, plusIsSpace: true),
                  let value = try? unescape(rawValue, plusIsSpace: true) else { continue }
            result.append((key, value))
        }
        return result
    }

    /// Cloudreve's `fs.PathEscape`: JavaScript's encodeURIComponent, byte by byte
    /// (A–Z a–z 0–9 - _ . ! ~ * ' ( ) stay; everything else becomes %XX).
    static func pathEscape(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if isUnreservedComponent(b) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreservedComponent(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("-_.!~*'()".utf8).contains(b)
        }
    }
}
