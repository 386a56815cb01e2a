import CloudreveAPI
import XCTest
@testable import SyncEngine

/// The pure decisions behind hostile-input answers: escaping, refusals in words, config warnings.
final class EdgeCaseDecisionTests: XCTestCase {
    func testControlCharactersAreShownAsEscapes() {
        XCTAssertEqual(printable("plain é 日本.txt"), "plain é 日本.txt")
        XCTAssertEqual(printable("a\u{1B}[2Jb\nc\rd\te\u{7F}"), "a\\x1b[2Jb\\x0ac\\x0dd\\x09e\\x7f")
        let once = printable("x\ny")
        XCTAssertEqual(printable(once), once, "escaping twice changes nothing")
    }

    func testQuotaRefusalSaysWhatIsNeededAndWhatIsFree() {
        let text = refusalReason(code: 40051, path: "big.bin", size: 3 << 20, free: 1 << 20, maxSize: nil) ?? ""
        XCTAssertTrue(text.contains("big.bin needs 3.0 MiB (3145728 bytes) and 1.0 MiB (1048576 bytes) is free"), text)
        XCTAssertTrue(text.contains("40051"), text)
        let unknown = refusalReason(code: 40051, path: "a", size: 1, free: nil, maxSize: nil) ?? ""
        XCTAssertTrue(unknown.contains("a needs 1 bytes and the free space is unknown"), unknown)
    }

    func testTooLargeNamesThePolicyLimitWhenKnown() {
        let text = refusalReason(code: 40049, path: "v.mkv", size: 200_000, free: nil, maxSize: 100_000) ?? ""
        XCTAssertTrue(text.contains("v.mkv is 195.3 KiB (200000 bytes), larger than the storage policy's size limit of 97.7 KiB (100000 bytes)"), text)
        let unknown = refusalReason(code: 40049, path: "v.mkv", size: 10, free: nil, maxSize: 0) ?? ""
        XCTAssertTrue(unknown.contains("larger than the storage policy's size limit (server code 40049)"), unknown)
    }

    func testADeniedExtensionIsNamed() {
        let text = refusalReason(code: 40052, path: "tools/virus.EXE", size: 1, free: nil, maxSize: nil) ?? ""
        XCTAssertTrue(text.contains("does not allow the extension .exe"), text)
        XCTAssertTrue(text.contains("exclude = [\"*.exe\"]"), text)
        XCTAssertFalse(text.contains("Invalid object name"), text)
        XCTAssertNil(refusalReason(code: 40004, path: "a", size: 1, free: nil, maxSize: nil))
    }

    func testConfigWarningsForMissingLinkedTwiceAndNestingRoots() throws {
        func root(_ local: String, _ remote: String, profile: String = "default", line: Int) throws -> RootConfig {
            RootConfig(local: local, remote: try CloudrevePath(parsing: remote), profile: profile, line: line)
        }
        let profiles = ["default": ServerProfile(name: "default", url: "http://a", email: "e"),
                        "work": ServerProfile(name: "work", url: "http://b", email: "e")]
        let config = CrsyncConfig(path: "/c.toml", profiles: profiles, roots: [
            try root("/home/me/docs", "cloudreve://my/Docs", line: 5),
            try root("/home/me/link-to-docs", "cloudreve://my/Other", line: 9),
            try root("/home/me/gone", "cloudreve://my/Docs/Inner", line: 13),
            try root("/home/me/photos", "cloudreve://my/Docs/Inner", profile: "work", line: 17),
            try root("/home/me/music", "cloudreve://my/Docsy", line: 21),
        ])
        let disk = ["/home/me/docs": "/home/me/docs", "/home/me/link-to-docs": "/home/me/docs",
                    "/home/me/photos": "/home/me/photos", "/home/me/music": "/home/me/music"]
        let warnings = config.rootWarnings(realPath: { disk[$0] })
        XCTAssertEqual(warnings.count, 3, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.hasPrefix("[[sync]] at line 13: the folder /home/me/gone does not exist") }, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.hasPrefix("[[sync]] at lines 5 and 9: /home/me/docs and /home/me/link-to-docs are the same folder") }, "\(warnings)")
        XCTAssertTrue(warnings.contains { $0.hasPrefix("[[sync]] at lines 5 and 13: cloudreve://my/Docs/Inner is inside cloudreve://my/Docs on the same server") }, "\(warnings)")
    }

    func testCAFileIsReadPerProfileAndRenderedBack() throws {
        let config = try parseConfig("""
            [server]
            url = "https://cloud.example.com"
            email = "me@example.com"
            ca_file = "~/ca.pem"

            [servers.work]
            url = "https://work.example.com"
            email = "me@example.com"
            ca_file = "/etc/ssl/work-ca.pem"

            \(minimalSync)
            """)
        XCTAssertEqual(config.profiles["default"]?.caFile, "/home/me/ca.pem")
        XCTAssertEqual(config.profiles["work"]?.caFile, "/etc/ssl/work-ca.pem")
        XCTAssertEqual(try parseConfig(config.rendered()), config)
        let relative = configError("[server]\nurl = \"https://h\"\nemail = \"e\"\nca_file = \"ca.pem\"\n\(minimalSync)")
        XCTAssertTrue("\(relative!)".contains("ca_file"), "\(relative!)")
    }

    func testAPasswordInTheConfiguredURLIsRefusedWithoutBeingRepeated() {
        let error = configError("[server]\nurl = \"https://me:hunter2@cloud.example.com\"\nemail = \"e\"\n\(minimalSync)")
        let text = "\(error!)"
        XCTAssertFalse(text.contains("hunter2"), text)
        XCTAssertTrue(text.contains("https://cloud.example.com"), text)
        XCTAssertTrue(text.contains("user name or password"), text)
    }
}
