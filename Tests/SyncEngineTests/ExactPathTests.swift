import SyncEngine
import XCTest

/// A whole pass keys the journal's rows by `ExactPath`: the NFC and NFD spellings of a name, equal as
/// Swift `String`s, must stay two files.
final class ExactPathTests: XCTestCase {
    func testNFCAndNFDSpellingsAreTwoKeys() {
        let nfc = "caf\u{E9}.txt", nfd = "cafe\u{301}.txt"
        XCTAssertEqual(nfc, nfd, "precondition: Swift compares them as equal")
        var keys: [ExactPath: Int] = [ExactPath(nfc): 1]
        keys[ExactPath(nfd)] = 2
        XCTAssertEqual(keys.count, 2)
        XCTAssertEqual(keys[ExactPath(nfc)], 1)
        XCTAssertEqual(keys[ExactPath(nfd)], 2)
    }

    func testEqualBytesAreOneKeyHoweverTheStringWasMade() {
        // A path read from the journal and one put together from a scan's components are different
        // String values with the same bytes: one key.
        let path = "docs/notes/2026 — plan.txt"
        let rebuilt = String(path.split(separator: "/").joined(separator: "/"))
        XCTAssertEqual(ExactPath(path), ExactPath(rebuilt))
        XCTAssertEqual(Set([ExactPath(path), ExactPath(rebuilt), ExactPath("docs/notes")]).count, 2)
        XCTAssertNotEqual(ExactPath("a"), ExactPath("a/"))
        XCTAssertNotEqual(ExactPath(""), ExactPath("a"))
    }
}
