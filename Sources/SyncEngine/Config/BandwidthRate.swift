/// One upload rate written the way rclone's `--bwlimit` writes it, so that a line copied from an rclone
/// setup means the same here: binary units (`512K` = 512 KiB/s, `8M`, `1G`, `100B`), a bare number is
/// KiB/s, and `off` or any zero means unlimited.
public struct BandwidthError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong, e.g. "unknown unit 'X' in \"10X\"".
    public var reason: String

    public static let allowed = #"write "off", a rate like "512K", "8M" or "1G" (bytes per second in binary units; a bare number is KiB/s, as in rclone), or a timetable like "08:00,2M 19:00,10M 23:00,off""#

    public var description: String { "\(reason): \(BandwidthError.allowed)" }
}

private let unitBytes: [Character: Double] = [
    "B": 1, "K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776, "P": 1_125_899_906_842_624,
]

/// Bytes per second from rclone's rate syntax; nil means unlimited.
func parseBandwidthRate(_ text: String) throws -> Int64? {
    if text.lowercased() == "off" { return nil }
    if text.contains(":") {
        throw BandwidthError(reason: "\"\(text)\" looks like rclone's UPLOAD:DOWNLOAD pair; crsync only uploads, so give one rate")
    }
    let number = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
    var unit = text.dropFirst(number.count).uppercased()
    // rclone also reads the IEC spellings: 8Mi, 8MiB.
    if unit.count > 1, unit.hasSuffix("IB") { unit.removeLast(2) } else if unit.count > 1, unit.hasSuffix("I") { unit.removeLast() }
    guard !number.isEmpty, let value = Double(number) else {
        throw BandwidthError(reason: text.hasPrefix("-") ? "a rate cannot be negative" : "expected a number in \"\(text)\"")
    }
    let scale: Double
    if unit.isEmpty {
        scale = 1024
    } else if unit.count == 1, let known = unitBytes[unit.first!] {
        scale = known
    } else {
        throw BandwidthError(reason: "unknown unit '\(text.dropFirst(number.count))' in \"\(text)\" (B, K, M, G, T or P)")
    }
    let bytes = (value * scale).rounded(.down)
    if value == 0 { return nil }   // rclone: a zero limit is no limit
    guard bytes >= 1 else { throw BandwidthError(reason: "\"\(text)\" is less than 1 byte per second") }
    guard bytes < 9.0e18 else { throw BandwidthError(reason: "\"\(text)\" is too large") }
    return Int64(bytes)
}

/// The rate in the largest binary unit that divides it exactly: `8M`, `1536K`, `100B`; nil is `off`.
func formatBandwidthRate(_ bytesPerSecond: Int64?) -> String {
    guard let bytes = bytesPerSecond, bytes > 0 else { return "off" }
    for (unit, size) in [("T", Int64(1) << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)] where bytes % size == 0 {
        return "\(bytes / size)\(unit)"
    }
    return "\(bytes)B"
}
