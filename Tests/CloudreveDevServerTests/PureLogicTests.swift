@testable import CloudreveDevServer
import XCTest

final class PureLogicTests: XCTestCase {
    func testSHA256KnownVector() {
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
