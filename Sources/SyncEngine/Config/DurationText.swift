import Foundation

/// Durations as a person writes them in the config: seconds as a plain number (`300`, `2.5`) or a string
/// of number-and-unit parts (`"300ms"`, `"2s"`, `"5m"`, `"1h30m"`, `"1d"`). Kept to the millisecond, so
/// that `formatDuration` writes back exactly what was read.
public struct DurationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What is wrong with the text, e.g. "unknown unit 'x'".
    public var reason: String

    public static let allowed = #"write a number of seconds (300, 2.5) or a string like "300ms", "2s", "5m", "1h30m" or "1d""#

    public var description: String { "\(reason): \(DurationError.allowed)" }
}

/// Longer than this is surely a typo, and larger numbers would overflow the date arithmetic that uses it.
let longestDuration: TimeInterval = 3650 * 86_400

private let unitSeconds: [String: TimeInterval] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400]

/// Seconds from a duration string.
public func parseDuration(_ text: String) throws -> TimeInterval {
    // "1h 30m" and "5 m" mean what they say; spaces only separate parts.
    let trimmed = String(text.filter { $0 != " " && $0 != "\t" })
    guard !trimmed.isEmpty else { throw DurationError(reason: "empty duration") }
    if trimmed.hasPrefix("-") { throw DurationError(reason: "a duration cannot be negative") }
    if let seconds = Double(trimmed), trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
        return try durationSeconds(seconds)
    }
    var total: TimeInterval = 0
    var rest = Substring(trimmed)
    while !rest.isEmpty {
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        rest = rest.dropFirst(number.count)
        let unit = rest.prefix { $0.isLetter }
        rest = rest.dropFirst(unit.count)
        guard !number.isEmpty, let value = Double(number) else {
            let at = unit.isEmpty ? String(rest.prefix(1)) : String(unit)
            throw DurationError(reason: "expected a number before '\(at)' in \"\(text)\"")
        }
        guard !unit.isEmpty else {
            throw DurationError(reason: "missing unit after \(number) in \"\(text)\" (ms, s, m, h or d)")
        }
        guard let scale = unitSeconds[String(unit)] else {
            throw DurationError(reason: "unknown unit '\(unit)' in \"\(text)\" (ms, s, m, h or d)")
        }
        total += value * scale
    }
    return try durationSeconds(total)
}

/// Checks seconds given as a number and keeps them to the millisecond.
public func durationSeconds(_ seconds: Double) throws -> TimeInterval {
    guard seconds >= 0 else { throw DurationError(reason: "a duration cannot be negative") }
    guard seconds <= longestDuration else { throw DurationError(reason: "a duration must be at most 3650d") }
    return (seconds * 1000).rounded() / 1000
}

/// The shortest string `parseDuration` reads back to the same seconds: `"5m"`, `"1h30m"`, `"2s500ms"`.
public func formatDuration(_ seconds: TimeInterval) -> String {
    var milliseconds = Int64((max(0, min(seconds, longestDuration)) * 1000).rounded())
    if milliseconds == 0 { return "0s" }
    var out = ""
    for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
        let count = milliseconds / size
        if count > 0 { out += "\(count)\(unit)" }
        milliseconds %= size
    }
    return out
}
