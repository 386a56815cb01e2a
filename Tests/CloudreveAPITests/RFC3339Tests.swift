import Foundation
import XCTest
@testable import CloudreveAPI

/// The hand-written reader must agree with Foundation's formatter on every form a server writes.
final class RFC3339Tests: XCTestCase {
    private func foundation(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }

    func testAgreesWithFoundationOnServerForms() throws {
        let samples = ["2025-01-31T23:59:59Z", "2025-03-01T00:00:00.5Z", "2024-02-29T12:34:56.123456789+08:00",
                       "1999-12-31T23:59:59.999-05:30", "2026-11-30T17:07:21.000001+00:00", "1970-01-01T00:00:00Z",
                       "1969-12-31T23:59:59Z", "2100-02-28T01:02:03.04Z", "2000-02-29T00:00:00z"]
        for text in samples {
            let fast = try XCTUnwrap(fastRFC3339(text), text)
            let reference = try XCTUnwrap(foundation(text), text)
            XCTAssertEqual(fast.timeIntervalSince1970, reference.timeIntervalSince1970, accuracy: 0.001, text)
        }
    }

    func testKeepsNanosecondsThatFoundationRoundsToMilliseconds() throws {
        let date = try XCTUnwrap(parseRFC3339("2025-06-01T10:00:00.123456789Z"))
        XCTAssertEqual(date.timeIntervalSince1970.truncatingRemainder(dividingBy: 1), 0.123456789, accuracy: 1e-6)
    }

    /// What the fast reader refuses goes to Foundation's formatter, which is more lenient (it rolls
    /// 2025-02-30 over to March): the reader must not be stricter in a way that loses a date, only never
    /// invent one.
    func testFastReaderRefusesWhatIsNotADate() {
        for text in ["", "2025-01-31", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2023-02-29T00:00:00Z",
                     "2025-01-31T24:00:00Z", "2025-01-31T23:59:59", "2025-01-31T23:59:59.Z", "2025-01-31T23:59:59+0800",
                     "2025-01-31T23:59:59Zjunk", "2025/01/31T23:59:59Z", "２０２５-01-31T23:59:59Z"] {
            XCTAssertNil(fastRFC3339(text), text)
        }
    }
}
