import Foundation

/// The upload speed limit, constant or by time of day, in rclone's `--bwlimit` syntax:
/// `"off"`, `"8M"`, or a timetable `"08:00,2M 19:00,10M 23:00,off"`. In a timetable the entry in force is
/// the latest whose time has come today; before the first entry, yesterday's last one still holds.
/// Times are wall-clock times in the calendar's time zone. Rates: see `parseBandwidthRate`.
public struct BandwidthSchedule: Sendable, Equatable, CustomStringConvertible {
    /// From `minuteOfDay` (0 = midnight) on, uploads are held to `bytesPerSecond`; nil is unlimited.
    public struct Entry: Sendable, Equatable {
        public var minuteOfDay: Int
        public var bytesPerSecond: Int64?

        public init(minuteOfDay: Int, bytesPerSecond: Int64?) {
            self.minuteOfDay = minuteOfDay
            self.bytesPerSecond = bytesPerSecond
        }
    }

    public enum Rule: Sendable, Equatable {
        case constant(bytesPerSecond: Int64?)
        /// In time order, at least one entry.
        case timetable([Entry])
    }

    public let rule: Rule

    public static let unlimited = BandwidthSchedule(rule: .constant(bytesPerSecond: nil))

    public init(rule: Rule) { self.rule = rule }

    /// Throws `BandwidthError` saying what is wrong and what is allowed.
    public init(parsing text: String) throws {
        // rclone separates entries by spaces, and newer releases also by semicolons.
        let tokens = text.split { $0 == " " || $0 == "\t" || $0 == ";" }.map(String.init)
        guard !tokens.isEmpty else { throw BandwidthError(reason: "empty bandwidth") }
        if tokens.count == 1, !tokens[0].contains(",") {
            rule = .constant(bytesPerSecond: try parseBandwidthRate(tokens[0]))
            return
        }
        var entries: [Entry] = []
        for token in tokens {
            let entry = try parseTimetableEntry(token)
            if let previous = entries.last, entry.minuteOfDay <= previous.minuteOfDay {
                throw BandwidthError(reason: "timetable entries must be in time order, each at a different minute: \(token) comes after \(formatMinute(previous.minuteOfDay))")
            }
            entries.append(entry)
        }
        rule = .timetable(entries)
    }

    /// Written back in the syntax `init(parsing:)` reads, with rates in their largest exact unit.
    public var description: String {
        switch rule {
        case .constant(let bytes): return formatBandwidthRate(bytes)
        case .timetable(let entries):
            return entries.map { formatMinute($0.minuteOfDay) + "," + formatBandwidthRate($0.bytesPerSecond) }.joined(separator: " ")
        }
    }

    /// The limit in force at `date`, in bytes per second; nil is unlimited.
    public func limit(at date: Date, calendar: Calendar = .current) -> Int64? {
        switch rule {
        case .constant(let bytes): return bytes
        case .timetable(let entries): return entries[entryIndex(in: entries, at: date, calendar: calendar)].bytesPerSecond
        }
    }

    /// When the limit next changes after `date`, so that a daemon can switch at the configured minute
    /// instead of polling; nil when it never changes.
    public func nextChange(after date: Date, calendar: Calendar = .current) -> Date? {
        guard case .timetable(let entries) = rule else { return nil }
        let current = entryIndex(in: entries, at: date, calendar: calendar)
        // Walking the entries onward from the one in force visits their next occurrences in time order
        // (later today, then tomorrow up to the current one), so the first different rate is the next change.
        for step in 1..<max(entries.count, 1) {
            let entry = entries[(current + step) % entries.count]
            guard entry.bytesPerSecond != entries[current].bytesPerSecond else { continue }
            let when = DateComponents(hour: entry.minuteOfDay / 60, minute: entry.minuteOfDay % 60, second: 0)
            return calendar.nextDate(after: date, matching: when, matchingPolicy: .nextTime)
        }
        return nil
    }

    private func entryIndex(in entries: [Entry], at date: Date, calendar: Calendar) -> Int {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        return entries.lastIndex { $0.minuteOfDay <= minute } ?? entries.count - 1
    }
}

/// `HH:MM,RATE`.
private func parseTimetableEntry(_ token: String) throws -> BandwidthSchedule.Entry {
    let pieces = token.split(separator: ",", omittingEmptySubsequences: false)
    guard pieces.count == 2 else {
        throw BandwidthError(reason: "timetable entry \"\(token)\" is not HH:MM,RATE")
    }
    let time = pieces[0]
    if time.contains("-") {
        throw BandwidthError(reason: "weekday entries like \"\(token)\" are not supported; every entry applies to every day")
    }
    let clock = time.split(separator: ":", omittingEmptySubsequences: false)
    guard clock.count == 2, (1...2).contains(clock[0].count), clock[1].count == 2,
          clock.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
          let hour = Int(clock[0]), let minute = Int(clock[1]), hour < 24, minute < 60
    else {
        throw BandwidthError(reason: "\"\(time)\" in \"\(token)\" is not a time of day from 00:00 to 23:59")
    }
    return BandwidthSchedule.Entry(minuteOfDay: hour * 60 + minute, bytesPerSecond: try parseBandwidthRate(String(pieces[1])))
}

private func formatMinute(_ minuteOfDay: Int) -> String {
    let hour = minuteOfDay / 60, minute = minuteOfDay % 60
    return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
}
