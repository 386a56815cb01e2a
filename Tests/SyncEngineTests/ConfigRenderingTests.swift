@testable import SyncEngine
import XCTest

final class ConfigRenderingTests: XCTestCase {
    private let full = minimalServer + """

        [servers."night shift"]
        url = "https://other.example"
        email = "night@example.com"

        [upload]
        workers = 16
        chunk_concurrency = 8
        quiet_seconds = 0.25
        max_delay = "1h30m"
        rescan_interval = 86400
        bandwidth = "8:00,512 19:00,1.5M 23:30,0"
        clean_orphans = false

        [log]
        level = "warning"
        format = "human"

        [metrics]
        addr = "[::1]:9100"

        [[sync]]
        local = "~/Pictures"
        remote = 'cloudreve://my/Pictures "2024"/a\\b'
        server = "night shift"
        deletes = "keep"
        exclude = ["*.tmp", "dir with space/", "quote\\"d"]

        """ + minimalSync

    func testRenderedOutputParsesBackToAnEqualConfig() throws {
        for text in [full, ConfigLoadTests.example, CrsyncConfig.starter] {
            let config = try parseConfig(text)
            let again = try parseConfig(config.rendered())
            XCTAssertEqual(again, config, config.rendered())
        }
    }

    func testRenderedSpellsOutEveryDefault() throws {
        let rendered = try parseConfig(minimalServer + "\n" + minimalSync).rendered()
        XCTAssertEqual(rendered, """
            # crsync configuration in effect, read from crsync.toml
            # Every setting is shown, defaults included.

            [server]
            url = "https://cloud.example.com"
            email = "me@example.com"

            [upload]
            workers = 4
            chunk_concurrency = 4
            quiet_seconds = "2s"
            max_delay = "5m"
            rescan_interval = "1h"
            bandwidth = "off"
            clean_orphans = true

            [log]
            level = "info"
            # format is not set: human-readable on a terminal, otherwise crsync's choice

            # [metrics] is not set: no metrics endpoint

            [[sync]]
            local = "/home/me/Documents"
            remote = "cloudreve://my/Documents"
            server = "default"
            deletes = "trash"
            exclude = []

            """)
    }

    func testRenderedShowsNormalizedValues() throws {
        let rendered = try parseConfig(full).rendered()
        XCTAssertTrue(rendered.contains(#"bandwidth = "08:00,512K 19:00,1536K 23:30,off""#), rendered)
        XCTAssertTrue(rendered.contains(#"max_delay = "1h30m""#))
        XCTAssertTrue(rendered.contains(#"quiet_seconds = "250ms""#))
        XCTAssertTrue(rendered.contains(#"rescan_interval = "1d""#))
        XCTAssertTrue(rendered.contains(#"[servers."night shift"]"#))
        XCTAssertTrue(rendered.contains(#"local = "/home/me/Pictures""#))
        XCTAssertTrue(rendered.contains(#"addr = "[::1]:9100""#))
    }

    func testSecretsAreMasked() throws {
        XCTAssertFalse(try parseConfig(full).rendered().contains("********"), "nothing in today's file is a secret")
        XCTAssertEqual(setting("password", .string("hunter2")), #"password = "********""#)
        XCTAssertEqual(setting("api_token", .string("abc")), #"api_token = "********""#)
        XCTAssertEqual(setting("client_secret", .string("abc")), #"client_secret = "********""#)
        XCTAssertEqual(setting("email", .string("a@b.c")), #"email = "a@b.c""#)
    }
}
