import SyncEngine
import XCTest

/// Every way a config is refused names the file, the line and the key, and says what is allowed.
final class ConfigErrorTests: XCTestCase {
    private func upload(_ lines: String) -> String {
        minimalServer + "\n[upload]\n" + lines + "\n" + minimalSync
    }

    func testBadWorkersNamesFileLineAndKey() {
        let error = configError(upload(#"workers = "four""#))
        XCTAssertEqual(error?.description, #"crsync.toml:5: key 'upload.workers': must be a whole number from 1 to 64 (got "four")"#)
        XCTAssertEqual(error?.line, 5)
        XCTAssertEqual(error?.key, "upload.workers")
    }

    func testNumbersOutOfRange() {
        XCTAssertEqual(configError(upload("workers = 65"))?.description, "crsync.toml:5: key 'upload.workers': must be a whole number from 1 to 64 (got 65)")
        XCTAssertEqual(configError(upload("workers = 2.5"))?.description, "crsync.toml:5: key 'upload.workers': must be a whole number from 1 to 64 (got 2.5)")
        XCTAssertEqual(configError(upload("chunk_concurrency = 0"))?.description,
                       "crsync.toml:5: key 'upload.chunk_concurrency': must be a whole number from 1 to 16 (got 0)")
        XCTAssertEqual(configError(upload("clean_orphans = \"yes\""))?.description,
                       #"crsync.toml:5: key 'upload.clean_orphans': must be true or false (got "yes")"#)
    }

    func testUnknownKeyListsTheAllowedKeys() {
        let error = configError(upload("worker = 4"))
        XCTAssertEqual(error?.description, "crsync.toml:5: key 'upload.worker': unknown key; did you mean 'workers'? [upload] allows: workers, chunk_concurrency, quiet_seconds, max_delay, rescan_interval, bandwidth, clean_orphans")
    }

    func testUnknownKeyInSyncAndUnknownTable() {
        let sync = configError(minimalServer + "\n" + minimalSync + "\nexcludes = [\"*.tmp\"]")
        XCTAssertEqual(sync?.line, 7)
        XCTAssertEqual(sync?.key, "sync.excludes")
        XCTAssertTrue(sync?.message.contains("did you mean 'exclude'? [[sync]] on line 4 allows: local, remote, server, deletes, exclude") ?? false,
                      sync?.message ?? "")

        let table = configError(minimalServer + "\n[uplod]\nworkers = 4\n" + minimalSync)
        XCTAssertEqual(table?.line, 4)
        XCTAssertEqual(table?.key, "uplod")
        XCTAssertTrue(table?.message.contains("did you mean 'upload'?") ?? false, table?.message ?? "")
        XCTAssertTrue(table?.message.hasSuffix("the file allows: [server], [servers.NAME], [upload], [[sync]], [metrics], [log]") ?? false,
                      table?.message ?? "")
    }

    func testUnknownProfileIsAnErrorOnItsLine() {
        let error = configError(minimalServer + "\n" + minimalSync + "\nserver = \"wrok\"")
        XCTAssertEqual(error?.line, 7)
        XCTAssertEqual(error?.key, "sync.server")
        XCTAssertEqual(error?.description, #"crsync.toml:7: key 'sync.server': no server profile "wrok"; this file defines "default". Add a [servers.wrok] table with url and email, or name one of those"#)
    }

    func testRootWithoutServerWhenThereIsNoDefaultProfile() {
        let error = configError("""
            [servers.work]
            url = "https://w.example"
            email = "a@b.c"

            """ + minimalSync)
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(error?.key, "sync.server")
        XCTAssertTrue(error?.message.contains(#"add server = "work" here"#) ?? false, error?.message ?? "")
    }

    func testOverlappingRootsAreRefused() {
        let inside = configError(minimalServer + "\n" + minimalSync + """

            [[sync]]
            local = "~/Documents/Taxes"
            remote = "cloudreve://my/Taxes"
            """)
        XCTAssertEqual(inside?.line, 8)
        XCTAssertEqual(inside?.key, "sync.local")
        XCTAssertEqual(inside?.message, "/home/me/Documents/Taxes is inside /home/me/Documents, so this [[sync]] and the one on line 4 would upload the same files twice; keep only the outer folder, and use exclude for what should not go up")

        let outside = configError(minimalServer + "\n" + minimalSync + "\n[[sync]]\nlocal = \"/home/me\"\nremote = \"cloudreve://my/Home\"")
        XCTAssertEqual(outside?.line, 8)
        XCTAssertTrue(outside?.message.hasPrefix("/home/me/Documents is inside /home/me,") ?? false, outside?.message ?? "")

        let same = configError(minimalServer + "\n" + minimalSync + "\n[[sync]]\nlocal = \"/home/me/Documents/\"\nremote = \"cloudreve://my/Other\"")
        XCTAssertTrue(same?.message.contains("already synced by the [[sync]] on line 4") ?? false, same?.message ?? "")
    }

    func testSiblingFoldersWithACommonPrefixDoNotOverlap() throws {
        let config = try parseConfig(minimalServer + "\n" + minimalSync + "\n[[sync]]\nlocal = \"/home/me/Documents2\"\nremote = \"cloudreve://my/D2\"")
        XCTAssertEqual(config.roots.count, 2)
    }

    func testTwoFoldersIntoOneRemoteFolderAreRefused() {
        let error = configError(minimalServer + "\n" + minimalSync + "\n[[sync]]\nlocal = \"/srv/docs\"\nremote = \"cloudreve://my/Documents\"")
        XCTAssertEqual(error?.line, 9)
        XCTAssertEqual(error?.key, "sync.remote")
    }

    func testBadDurationSaysWhatIsAllowed() {
        let error = configError(upload(#"max_delay = "5 minutes""#))
        XCTAssertEqual(error?.line, 5)
        XCTAssertEqual(error?.key, "upload.max_delay")
        XCTAssertEqual(error?.message, #"unknown unit 'minutes' in "5 minutes" (ms, s, m, h or d): write a number of seconds (300, 2.5) or a string like "300ms", "2s", "5m", "1h30m" or "1d" (got "5 minutes")"#)
        XCTAssertEqual(configError(upload("quiet_seconds = -1"))?.key, "upload.quiet_seconds")
        XCTAssertEqual(configError(upload("rescan_interval = true"))?.key, "upload.rescan_interval")
        XCTAssertEqual(configError(upload("rescan_interval = 0"))?.key, "upload.rescan_interval")
    }

    func testMaxDelayShorterThanQuietPeriod() {
        let error = configError(upload("quiet_seconds = 10\nmax_delay = 5"))
        XCTAssertEqual(error?.line, 6)
        XCTAssertEqual(error?.key, "upload.max_delay")
        XCTAssertTrue(error?.message.contains("must be at least quiet_seconds (10s)") ?? false, error?.message ?? "")
    }

    func testBadBandwidthSaysWhatIsAllowed() {
        let error = configError(upload(#"bandwidth = "10 mbit""#))
        XCTAssertEqual(error?.line, 5)
        XCTAssertEqual(error?.key, "upload.bandwidth")
        XCTAssertTrue(error?.message.contains(#""08:00,2M 19:00,10M 23:00,off""#) ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.hasSuffix(#"(got "10 mbit")"#) ?? false, error?.message ?? "")
        XCTAssertEqual(configError(upload(#"bandwidth = "25:00,1M""#))?.key, "upload.bandwidth")
    }

    func testBadRemoteReportsCloudrevePathsMessage() {
        let error = configError(minimalServer + "\n[[sync]]\nlocal = \"/data\"\nremote = \"/Documents\"")
        XCTAssertEqual(error?.description, "crsync.toml:6: key 'sync.remote': remote '/Documents' must start with cloudreve://my/ (for example cloudreve://my/Backups)")
    }

    func testBadLocalFolder() {
        let error = configError(minimalServer + "\n[[sync]]\nlocal = \"Documents\"\nremote = \"cloudreve://my/D\"")
        XCTAssertEqual(error?.description, #"crsync.toml:5: key 'sync.local': must be an absolute folder path, like "/home/me/Documents" or "~/Documents" (got "Documents")"#)
    }

    func testBadServerSettings() {
        let url = configError("[server]\nurl = \"cloud.example.com\"\nemail = \"a@b.c\"\n" + minimalSync)
        XCTAssertEqual(url?.line, 2)
        XCTAssertEqual(url?.key, "server.url")
        XCTAssertTrue(url?.message.contains("http:// or https://") ?? false)
        let email = configError("[server]\nurl = \"https://x.example\"\nemail = \"\"\n" + minimalSync)
        XCTAssertEqual(email?.key, "server.email")
        let missing = configError("[servers.work]\nurl = \"https://x.example\"\n" + minimalSync)
        XCTAssertEqual(missing?.description, #"crsync.toml:1: key 'servers.work.email': missing; add it to [servers.work], like email = "me@example.com""#)
    }

    func testAMistakeOnALineIsReportedBeforeAMissingSection() {
        XCTAssertEqual(configError("[upload]\nworkers = 0")?.line, 2)
        XCTAssertEqual(configError("upload = 4")?.description,
                       "crsync.toml:1: key 'upload': must be a table: write [upload] on a line of its own, with its settings below it (got 4)")
    }

    func testMissingRootOrServerSaysWhatToAdd() {
        let noSync = configError(minimalServer)
        XCTAssertEqual(noSync?.path, "crsync.toml")
        XCTAssertTrue(noSync?.message.contains("add a [[sync]] table") ?? false, noSync?.message ?? "")
        let noServer = configError(minimalSync)
        XCTAssertTrue(noServer?.message.contains("add a [server] table") ?? false, noServer?.message ?? "")
    }

    func testSingleBracketSyncIsToldToUseDoubleBrackets() {
        let error = configError(minimalServer + "\n[sync]\nlocal = \"/a\"\nremote = \"cloudreve://my/a\"")
        XCTAssertEqual(error?.line, 4)
        XCTAssertEqual(error?.key, "sync")
        XCTAssertTrue(error?.message.contains("write [[sync]] (two brackets)") ?? false, error?.message ?? "")
    }

    func testChoicesListWhatIsAllowed() {
        let deletes = configError(minimalServer + "\n" + minimalSync + "\ndeletes = \"delete\"")
        XCTAssertEqual(deletes?.description, #"crsync.toml:7: key 'sync.deletes': must be "trash" or "keep" (got "delete")"#)
        let level = configError(minimalServer + "\n[log]\nlevel = \"verbose\"\n" + minimalSync)
        XCTAssertEqual(level?.key, "log.level")
        XCTAssertTrue(level?.message.contains(#""trace", "debug", "info", "notice", "warning", "error" or "critical""#) ?? false)
        XCTAssertEqual(configError(minimalServer + "\n[log]\nformat = \"xml\"\n" + minimalSync)?.key, "log.format")
        let exclude = configError(minimalServer + "\n" + minimalSync + "\nexclude = \"*.tmp\"")
        XCTAssertEqual(exclude?.key, "sync.exclude")
        XCTAssertTrue(exclude?.message.contains(#"must be a list of patterns"#) ?? false)
    }

    func testBadMetricsAddr() {
        for addr in ["9464", "localhost", ":9464", "127.0.0.1:0", "127.0.0.1:70000", "::1:9464", "127.0.0.1:http"] {
            let error = configError(minimalServer + "\n[metrics]\naddr = \"\(addr)\"\n" + minimalSync)
            XCTAssertEqual(error?.line, 5, addr)
            XCTAssertEqual(error?.key, "metrics.addr", addr)
            XCTAssertTrue(error?.message.contains("port from 1 to 65535") ?? false, addr)
        }
    }

    func testTOMLSyntaxErrorHasLineAndColumn() {
        let error = configError(minimalServer + "\n[upload]\nworkers = four\n" + minimalSync)
        XCTAssertEqual(error?.line, 5)
        XCTAssertEqual(error?.column, 11)
        XCTAssertEqual(error?.description, #"crsync.toml:5:11: expected a value, found the bare word 'four': quote text, like "four""#)
    }

    func testDuplicateKeyInConfig() {
        let error = configError(upload("workers = 4\nworkers = 8"))
        XCTAssertEqual(error?.line, 6)
        XCTAssertTrue(error?.description.contains("already set on line 5") ?? false)
    }
}
