import Foundation
import XCTest
@testable import CloudreveAPI

final class ServerAddressTests: XCTestCase {
    func testHTTPAndHTTPSAddressesPass() throws {
        XCTAssertEqual(try ServerAddress.checked("https://cloud.example.com"), "https://cloud.example.com")
        XCTAssertEqual(try ServerAddress.checked(" http://127.0.0.1:5212/ "), "http://127.0.0.1:5212/")
    }

    func testOtherSchemesAndHostlessAddressesAreRefused() {
        for bad in ["ftp://cloud.example.com", "file:///etc/passwd", "cloud.example.com", "https://", "ws://h"] {
            XCTAssertThrowsError(try ServerAddress.checked(bad), bad) { error in
                guard case CloudreveError.usage(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("https://cloud.example.com"), message)
            }
        }
    }

    func testAPasswordInTheAddressIsRefusedAndNeverRepeated() {
        for bad in ["https://bob:hunter2@cloud.example.com/", "http://hunter2@h:5212", "https://bob:hunter2@h/path@x"] {
            XCTAssertThrowsError(try ServerAddress.checked(bad), bad) { error in
                let message = "\(error)"
                XCTAssertFalse(message.contains("hunter2"), message)
                XCTAssertTrue(message.contains("user name or password"), message)
            }
        }
        XCTAssertEqual(ServerAddress.withoutUserInfo("https://bob:hunter2@h:1/a?b=c@d"), "https://h:1/a?b=c@d")
        XCTAssertEqual(ServerAddress.withoutUserInfo("bob:hunter2@h"), "h")
        XCTAssertEqual(ServerAddress.withoutUserInfo("https://h/a@b"), "https://h/a@b", "an @ in the path is not a password")
    }

    func testTheProfilesCAFileWinsOverTheEnvironment() {
        XCTAssertEqual(trustedCAFile(configured: "/a.pem", environment: ["SSL_CERT_FILE": "/b.pem"]), "/a.pem")
        XCTAssertEqual(trustedCAFile(configured: nil, environment: ["SSL_CERT_FILE": "/b.pem", "CURL_CA_BUNDLE": "/c.pem"]), "/b.pem")
        XCTAssertEqual(trustedCAFile(configured: nil, environment: ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": "/c.pem"]), "/c.pem")
        XCTAssertNil(trustedCAFile(configured: nil, environment: [:]))
    }

    func testOnlyTemporaryCopiesOfDeadLoginsAreLeftovers() {
        let names = ["credentials.json", "credentials.json.tmp.100", "credentials.json.tmp.200", "credentials.json.tmp.x",
                     "credentials-work.json.tmp.100", "journal.sqlite"]
        let leftovers = CredentialFile.leftoverTemporaryCopies(of: "credentials.json", among: names, isRunning: { $0 == 200 })
        XCTAssertEqual(leftovers, ["credentials.json.tmp.100"])
    }
}
