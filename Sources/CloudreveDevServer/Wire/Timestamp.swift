import Foundation

/// A point in time as nanoseconds since the Unix epoch: exact for `last_modified` milliseconds and for
/// Go's nanosecond clock, and cheap to compare and persist.
struct Timestamp: Comparable, Hashable {
    var nanoseconds: Int64

    static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }

    init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    init(milliseconds: Int64) { self.nanoseconds = milliseconds &* 1_000_000 }
    init(seconds: Int64) { self.nanoseconds = seconds &* 1_000_000_000 }

    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// Whole seconds, rounded down (JWT NumericDate and `expires` are seconds).
    var seconds: Int64 { nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000 }

    func adding(seconds s: Int) -> Timestamp { Timestamp(nanoseconds: nanoseconds &+ Int64(s) &* 1_000_000_000) }

    /// Database rows keep microseconds (what PostgreSQL and SQLite's Go driver round-trip).
    var truncatedToMicroseconds: Timestamp { Timestamp(nanoseconds: nanoseconds - nanoseconds % 1000) }

    /// RFC 3339 with fractional seconds and trailing zeros dropped, as Go's time.Time marshals
    /// (RFC3339Nano). The server runs in UTC, so the offset is `Z`.
    var rfc3339: String {
        var secs = time_t(seconds)
        var parts = tm()
        gmtime_r(&secs, &parts)
        let frac = nanoseconds - seconds * 1_000_000_000
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if frac > 0 {
            var digits = String(format: "%09lld", frac)
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }
}
