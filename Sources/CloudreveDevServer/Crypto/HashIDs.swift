/// Opaque, reversible ids in the spirit of Cloudreve's hashids: every row id is shown as a short
/// string that names its kind, so a file id cannot be passed where an entity id is expected.
/// The mixing multiplier comes from the installation secret, so ids differ per data directory
/// (reference §8b: "The policy hashid differs per installation: read it, never hard-code it").
struct HashIDs {
    enum Kind: UInt64 {
        case user = 0, file = 1, policy = 2, entity = 3
    }

    private static let bits: UInt64 = 40
    private static let mask: UInt64 = (1 << 40) - 1
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    private static let width = 7   // 62^7 > 2^40

    private let multiplier: UInt64
    private let inverse: UInt64

    init(secret: [UInt8]) {
        var m: UInt64 = 0
        for byte in SHA256.hash(Array("hashids".utf8) + secret).prefix(8) { m = m << 8 | UInt64(byte) }
        multiplier = (m & HashIDs.mask) | 1
        // Newton's iteration doubles the correct low bits each round: 3 → 6 → … → 96 ≥ 64.
        var inv = multiplier
        for _ in 0..<5 { inv = inv &* (2 &- multiplier &* inv) }
        inverse = inv & HashIDs.mask
    }

    func encode(_ id: Int64, _ kind: Kind) -> String {
        let n = (UInt64(id) << 4 | kind.rawValue) & HashIDs.mask
        var x = (n &* multiplier) & HashIDs.mask
        var chars = [UInt8](repeating: HashIDs.alphabet[0], count: HashIDs.width)
        for i in (0..<HashIDs.width).reversed() {
            chars[i] = HashIDs.alphabet[Int(x % 62)]
            x /= 62
        }
        return String(decoding: chars, as: UTF8.self)
    }

    func decode(_ text: String, _ kind: Kind) -> Int64? {
        let chars = Array(text.utf8)
        guard chars.count == HashIDs.width else { return nil }
        var x: UInt64 = 0
        for c in chars {
            guard let v = HashIDs.alphabet.firstIndex(of: c) else { return nil }
            x = x * 62 + UInt64(v)
        }
        guard x <= HashIDs.mask else { return nil }
        let n = (x &* inverse) & HashIDs.mask
        guard n & 0xF == kind.rawValue else { return nil }
        return Int64(n >> 4)
    }
}
