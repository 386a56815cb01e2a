import Foundation
import SyncEngine
import XCTest

final class BandwidthScheduleTests: XCTestCase {
    private var utc: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    /// 2024-03-15 (a Friday) at HH:MM:SS UTC.
    private func at(_ hour: Int, _ minute: Int, _ second: Int = 0, day: Int = 15) -> Date {
        utc.date(from: DateComponents(year: 2024, month: 3, day: day, hour: hour, minute: minute, second: second))!
    }

    private func rate(_ text: String) throws -> Int64? {
        try BandwidthSchedule(parsing: text).limit(at: at(12, 0), calendar: utc)
    }

    func testRatesUseRcloneBinaryUnitsAndBareNumbersAreKiB() throws {
        XCTAssertEqual(try rate("8M"), 8 * 1_048_576)
        XCTAssertEqual(try rate("512K"), 512 * 1024)
        XCTAssertEqual(try rate("512k"), 512 * 1024)
        XCTAssertEqual(try rate("1G"), 1_073_741_824)
        XCTAssertEqual(try rate("100B"), 100)
        XCTAssertEqual(try rate("1.5M"), 1_572_864)
        XCTAssertEqual(try rate("8Mi"), 8 * 1_048_576)
        XCTAssertEqual(try rate("8MiB"), 8 * 1_048_576)
        XCTAssertEqual(try rate("512"), 512 * 1024, "a bare number is KiB/s, as in rclone")
    }

    func testOffAndZeroAreUnlimited() throws {
        XCTAssertNil(try rate("off"))
        XCTAssertNil(try rate("OFF"))
        XCTAssertNil(try rate("0"))
        XCTAssertNil(try rate("0M"))
        XCTAssertEqual(try BandwidthSchedule(parsing: "off"), .unlimited)
        XCTAssertNil(BandwidthSchedule.unlimited.nextChange(after: at(12, 0), calendar: utc))
    }

    func testBadRatesSayWhatIsAllowed() {
        for (text, reason) in [
            ("10X", "unknown unit 'X'"), ("-8M", "negative"), ("fast", "expected a number"), ("", "empty"),
            ("10M:1M", "only uploads"), ("0.5B", "less than 1 byte"),
            ("08:00,2M 07:00,off", "time order"), ("08:00,2M 08:00,off", "time order"), ("24:00,1M", "00:00 to 23:59"),
            ("8:0,1M", "00:00 to 23:59"), ("Mon-08:00,1M", "weekday"), ("08:00 2M", "HH:MM,RATE"), ("08:00,2M,3M", "HH:MM,RATE"),
        ] {
            XCTAssertThrowsError(try BandwidthSchedule(parsing: text), text) { error in
                let description = "\(error)"
                XCTAssertTrue(description.contains(reason), "\(text): \(description)")
                XCTAssertTrue(description.contains(#""08:00,2M 19:00,10M 23:00,off""#), "\(text): shows an example: \(description)")
            }
        }
    }

    func testTimetableAtSeveralMinutesOfTheDay() throws {
        let schedule = try BandwidthSchedule(parsing: "08:00,2M 19:00,10M 23:00,off")
        let table: [(Date, Int64?, String)] = [
            (at(0, 0), nil, "midnight, before the first entry: yesterday's 23:00 off still holds"),
            (at(7, 59, 59), nil, "one second before the first switch"),
            (at(8, 0), 2 * 1_048_576, "exactly at the switch minute"),
            (at(8, 0, 30), 2 * 1_048_576, "within the switch minute"),
            (at(12, 30), 2 * 1_048_576, "midday"),
            (at(18, 59), 2 * 1_048_576, "the minute before 19:00"),
            (at(19, 0), 10 * 1_048_576, "exactly 19:00"),
            (at(22, 59, 59), 10 * 1_048_576, "just before 23:00"),
            (at(23, 0), nil, "23:00 off"),
            (at(23, 59, 59), nil, "end of the day"),
        ]
        for (date, expected, why) in table {
            XCTAssertEqual(schedule.limit(at: date, calendar: utc), expected, why)
        }
    }

    func testTimetableFollowsTheCalendarsTimeZone() throws {
        var tokyo = utc
        tokyo.timeZone = TimeZone(identifier: "Asia/Tokyo")!   // UTC+9, no daylight saving
        let schedule = try BandwidthSchedule(parsing: "08:00,2M 19:00,10M")
        XCTAssertEqual(schedule.limit(at: at(0, 0), calendar: tokyo), 2 * 1_048_576, "00:00 UTC is 09:00 in Tokyo")
        XCTAssertEqual(schedule.limit(at: at(0, 0), calendar: utc), 10 * 1_048_576)
    }

    func testSingleEntryTimetableHoldsAllDay() throws {
        let schedule = try BandwidthSchedule(parsing: "08:00,1M")
        XCTAssertEqual(schedule.limit(at: at(3, 0), calendar: utc), 1_048_576)
        XCTAssertEqual(schedule.limit(at: at(9, 0), calendar: utc), 1_048_576)
        XCTAssertNil(schedule.nextChange(after: at(9, 0), calendar: utc))
    }

    func testNextChangeIsTheNextMinuteWhoseRateDiffers() throws {
        let schedule = try BandwidthSchedule(parsing: "08:00,2M 19:00,10M 23:00,off")
        XCTAssertEqual(schedule.nextChange(after: at(3, 0), calendar: utc), at(8, 0))
        XCTAssertEqual(schedule.nextChange(after: at(8, 0), calendar: utc), at(19, 0), "at the switch minute the next change is the one after")
        XCTAssertEqual(schedule.nextChange(after: at(7, 59, 59), calendar: utc), at(8, 0))
        XCTAssertEqual(schedule.nextChange(after: at(23, 30), calendar: utc), at(8, 0, day: 16), "wraps to tomorrow")
    }

    func testNextChangeSkipsEntriesThatKeepTheSameRate() throws {
        let schedule = try BandwidthSchedule(parsing: "08:00,2M 12:00,2048K 19:00,off")
        XCTAssertEqual(schedule.nextChange(after: at(9, 0), calendar: utc), at(19, 0))
        XCTAssertEqual(schedule.nextChange(after: at(20, 0), calendar: utc), at(8, 0, day: 16))
        XCTAssertNil(try BandwidthSchedule(parsing: "08:00,1M 20:00,1024K").nextChange(after: at(9, 0), calendar: utc))
    }

    func testDescriptionRoundTrips() throws {
        for (text, written) in [
            ("off", "off"), ("0", "off"), ("8M", "8M"), ("512", "512K"), ("1.5M", "1536K"), ("100B", "100B"), ("1024M", "1G"),
            ("8:00,2M 19:00,10M 23:00,off", "08:00,2M 19:00,10M 23:00,off"), ("08:00,512;19:30,0", "08:00,512K 19:30,off"),
        ] {
            let schedule = try BandwidthSchedule(parsing: text)
            XCTAssertEqual(schedule.description, written, text)
            XCTAssertEqual(try BandwidthSchedule(parsing: schedule.description), schedule, text)
        }
    }
}
