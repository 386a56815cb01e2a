import SyncEngine
import XCTest

final class DurationTextTests: XCTestCase {
    func testDurationsTable() throws {
        let table: [(String, TimeInterval)] = [
            ("300", 300), ("2.5", 2.5), ("0", 0),
            ("300ms", 0.3), ("2s", 2), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("1d", 86_400),
            ("1d2h3m4s5ms", 93_784.005), ("1.5h", 5400), (" 10s ", 10), ("1h 30m", 5400),
        ]
        for (text, seconds) in table {
            XCTAssertEqual(try parseDuration(text), seconds, accuracy: 1e-9, text)
        }
    }

    func testNegativeEmptyAndGarbageSayWhatIsAllowed() {
        for (text, reason) in [
            ("-5s", "cannot be negative"), ("", "empty"), ("5x", "unknown unit 'x'"), ("1h30", "missing unit after 30"),
            ("h", "expected a number before 'h'"), ("five", "expected a number before 'five'"), ("1..5s", "expected a number"),
        ] {
            XCTAssertThrowsError(try parseDuration(text), text) { error in
                let description = "\(error)"
                XCTAssertTrue(description.contains(reason), "\(text): \(description)")
                XCTAssertTrue(description.contains(#""1h30m""#), "\(text): an example of what is allowed: \(description)")
            }
        }
        XCTAssertThrowsError(try durationSeconds(-1))
        XCTAssertThrowsError(try parseDuration("99999d"))
    }

    func testFormatWritesTheShortestFormThatReadsBack() throws {
        let table: [(TimeInterval, String)] = [
            (0, "0s"), (0.3, "300ms"), (2, "2s"), (2.5, "2s500ms"), (300, "5m"), (3600, "1h"), (5400, "1h30m"), (86_400, "1d"),
        ]
        for (seconds, text) in table {
            XCTAssertEqual(formatDuration(seconds), text)
            XCTAssertEqual(try parseDuration(text), seconds, accuracy: 1e-9)
        }
    }

    func testKeptToTheMillisecond() throws {
        XCTAssertEqual(try durationSeconds(0.0004), 0)
        XCTAssertEqual(try parseDuration("1.0006s"), 1.001, accuracy: 1e-12)
    }
}
