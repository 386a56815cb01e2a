import SyncEngine
import XCTest

final class ConfigLoadTests: XCTestCase {
    static let example = """
        [server]
        url = "https://cloud.example.com"
        email = "me@example.com"

        [upload]
        workers = 4
        quiet_seconds = 2
        max_delay = "5m"
        bandwidth = "off"

        [[sync]]
        local = "/home/me/Documents"
        remote = "cloudreve://my/Documents"
        deletes = "trash"
        exclude = ["*.tmp", "node_modules/"]
        """

    func testTheDocumentedExampleParsesToItsValues() throws {
        let config = try parseConfig(Self.example)
        XCTAssertEqual(config.path, "crsync.toml")
        XCTAssertEqual(config.profiles, ["default": ServerProfile(name: "default", url: "https://cloud.example.com", email: "me@example.com")])
        XCTAssertEqual(config.upload.workers, 4)
        XCTAssertEqual(config.upload.quietSeconds, 2)
        XCTAssertEqual(config.upload.maxDelay, 300)
        XCTAssertEqual(config.upload.bandwidth, .unlimited)
        XCTAssertEqual(config.roots.count, 1)
        let root = config.roots[0]
        XCTAssertEqual(root.local, "/home/me/Documents")
        XCTAssertEqual(root.remote.segments, ["Documents"])
        XCTAssertEqual(root.deletes, .trash)
        XCTAssertEqual(root.exclude, ["*.tmp", "node_modules/"])
        XCTAssertEqual(root.profile, "default")
        XCTAssertEqual(root.line, 11)
        XCTAssertNil(config.metrics)
        XCTAssertEqual(config.log, LogSettings())
    }

    func testDefaultsWhenSectionsAreLeftOut() throws {
        let config = try parseConfig(minimalServer + "\n" + minimalSync)
        XCTAssertEqual(config.upload, UploadSettings())
        XCTAssertEqual(config.upload.workers, 4)
        XCTAssertEqual(config.upload.chunkConcurrency, 4)
        XCTAssertEqual(config.upload.rescanInterval, 3600)
        XCTAssertTrue(config.upload.cancelOrphanedUploads)
        XCTAssertEqual(config.log.level, "info")
        XCTAssertNil(config.log.format)
        XCTAssertEqual(config.roots[0].deletes, .trash)
        XCTAssertEqual(config.roots[0].exclude, [])
    }

    func testEveryUploadLogAndMetricsSetting() throws {
        let config = try parseConfig(minimalServer + """

            [upload]
            workers = 8
            chunk_concurrency = 2
            quiet_seconds = 0.5
            max_delay = 120
            rescan_interval = "6h"
            bandwidth = "08:00,2M 19:00,10M 23:00,off"
            clean_orphans = false

            [log]
            level = "debug"
            format = "json"

            [metrics]
            addr = "[::1]:9464"

            """ + minimalSync)
        XCTAssertEqual(config.upload.workers, 8)
        XCTAssertEqual(config.upload.chunkConcurrency, 2)
        XCTAssertEqual(config.upload.quietSeconds, 0.5)
        XCTAssertEqual(config.upload.maxDelay, 120)
        XCTAssertEqual(config.upload.rescanInterval, 21_600)
        XCTAssertEqual(config.upload.bandwidth.description, "08:00,2M 19:00,10M 23:00,off")
        XCTAssertFalse(config.upload.cancelOrphanedUploads)
        XCTAssertEqual(config.upload.syncOptions.workers, 8)
        XCTAssertFalse(config.upload.syncOptions.cancelOrphanedUploads)
        XCTAssertEqual(config.log.level, "debug")
        XCTAssertEqual(config.log.format, .json)
        XCTAssertEqual(config.metrics, MetricsSettings(host: "::1", port: 9464))
    }

    func testMetricsAddrForms() throws {
        for (addr, host, port) in [("127.0.0.1:9464", "127.0.0.1", 9464), ("0.0.0.0:1", "0.0.0.0", 1), ("localhost:65535", "localhost", 65535)] {
            let config = try parseConfig(minimalServer + "\n[metrics]\naddr = \"\(addr)\"\n" + minimalSync)
            XCTAssertEqual(config.metrics, MetricsSettings(host: host, port: port), addr)
            XCTAssertEqual(config.metrics?.addr, addr)
        }
    }

    func testNamedProfilesAndRootsThatPickThem() throws {
        let config = try parseConfig(minimalServer + """

            [servers.work]
            url = "http://nas.local:5212"
            email = "me@work.example"

            [[sync]]
            local = "~/Work"
            remote = "cloudreve://my/Work"
            server = "work"
            deletes = "keep"

            """ + minimalSync)
        XCTAssertEqual(config.profiles["work"], ServerProfile(name: "work", url: "http://nas.local:5212", email: "me@work.example"))
        XCTAssertEqual(config.profiles.count, 2)
        XCTAssertEqual(config.roots.map(\.profile), ["work", "default"])
        XCTAssertEqual(config.roots[0].local, "/home/me/Work", "~ is the home folder")
        XCTAssertEqual(config.roots[0].deletes, .keep)
    }

    func testOnlyNamedProfilesIsEnough() throws {
        let config = try parseConfig("""
            [servers.home]
            url = "https://home.example"
            email = "a@b.c"
            [[sync]]
            local = "/data"
            remote = "cloudreve://my/"
            server = "home"
            """)
        XCTAssertEqual(Array(config.profiles.keys), ["home"])
        XCTAssertEqual(config.roots[0].remote.segments, [])
    }

    func testLocalFoldersAreNormalized() throws {
        let config = try parseConfig(minimalServer + """

            [[sync]]
            local = "/srv//photos/./2024/../"
            remote = "cloudreve://my/Photos"
            """)
        XCTAssertEqual(config.roots[0].local, "/srv/photos")
    }

    func testTheStarterFileParses() throws {
        let config = try parseConfig(CrsyncConfig.starter)
        XCTAssertEqual(config.profiles["default"]?.url, "https://cloud.example.com")
        XCTAssertEqual(config.upload, UploadSettings(), "the starter spells out the defaults")
        XCTAssertEqual(config.log, LogSettings())
        XCTAssertEqual(config.roots.map(\.local), ["/home/me/Documents"])
        XCTAssertEqual(config.roots[0].remote.description, "cloudreve://my/Documents")
    }

    func testLoadReadsTheFile() throws {
        let folder = try TemporaryFolder()
        let path = try folder.file("config.toml", contents: Self.example)
        let config = try CrsyncConfig.load(path: path)
        XCTAssertEqual(config.path, path)
        XCTAssertEqual(config.roots.first?.local, "/home/me/Documents")
    }

    func testLoadOfAMissingFileSaysHowToMakeOne() {
        XCTAssertThrowsError(try CrsyncConfig.load(path: "/nonexistent/crsync/config.toml")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/crsync/config.toml: no config file here; create one with `crsync init`, then edit it")
        }
    }

    func testDefaultPathFollowsXDG() {
        XCTAssertEqual(CrsyncConfig.defaultPath(environment: ["XDG_CONFIG_HOME": "/cfg", "HOME": "/home/me"]), "/cfg/crsync/config.toml")
        XCTAssertEqual(CrsyncConfig.defaultPath(environment: ["XDG_CONFIG_HOME": "/cfg/", "HOME": "/home/me"]), "/cfg/crsync/config.toml")
        XCTAssertEqual(CrsyncConfig.defaultPath(environment: ["HOME": "/home/me"]), "/home/me/.config/crsync/config.toml")
        XCTAssertEqual(CrsyncConfig.defaultPath(environment: ["XDG_CONFIG_HOME": "", "HOME": "/home/me"]), "/home/me/.config/crsync/config.toml")
        XCTAssertEqual(CrsyncConfig.defaultPath(environment: ["XDG_CONFIG_HOME": "relative", "HOME": "/home/me"]), "/home/me/.config/crsync/config.toml",
                       "the XDG spec says to ignore a relative path")
    }
}
