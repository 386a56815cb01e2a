import CloudreveAPI
import Foundation
import Transport
import XCTest

/// The daemon as people run it for years (issue 5): configuration errors, sign-in expiry, status while
/// uploading, SIGTERM, secrets, bandwidth, metrics. Everything drives the real binary.
final class CommandLineTests: XCTestCase {
    func testBadConfigExitsTwoNamingFileLineAndKey() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let config = try scenario.writeConfig("""
            [upload]
            workers = "four"

            [[sync]]
            local = "\(scenario.scratch)"
            remote = "cloudreve://my/X"
            """)
        for command in [["config", "check", "--config", config], ["sync", "--config", config], ["run", "--config", config]] {
            let result = try scenario.crsync(command)
            XCTAssertEqual(result.status, 2, "\(command): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("config.toml:6"), "file and line: \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("workers"), "key: \(result.stderr)")
        }
    }

    func testConfigCheckPrintsTheEffectiveConfigurationAndInitWritesAStarter() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let config = try scenario.writeConfig("""
            [upload]
            max_delay = "5m"
            bandwidth = "8M"

            [[sync]]
            local = "\(scenario.scratch)"
            remote = "cloudreve://my/X"
            """)
        let check = try scenario.crsync(["config", "check", "--config", config])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("quiet_seconds"), "defaults spelled out: \(check.stdout)")
        let starter = scenario.scratch + "/new/config.toml"
        XCTAssertEqual(try scenario.crsync(["init", "--config", starter]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: starter))
        XCTAssertEqual(try scenario.crsync(["init", "--config", starter]).status, 2, "init never overwrites")
    }

    func testExpiredRefreshTokenExitsFourAndSaysToLogIn() throws {
        let scenario = try Scenario(serverArguments: ["--access-ttl", "1", "--refresh-ttl", "2"])
        defer { scenario.tearDown() }
        try writeFile(scenario.scratch + "/tree/a.txt", Array("a".utf8))
        sleep(3)
        let result = try scenario.sync(scenario.scratch + "/tree", "cloudreve://my/Expired")
        XCTAssertEqual(result.status, 4, result.stderr)
        XCTAssertTrue(result.stderr.contains("crsync login"), result.stderr)
    }

    func testStatusJSONShowsTheFileInFlightWithGrowingBytes() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(256 << 10)", "--chunk-concurrency", "1"])
        defer { scenario.tearDown() }
        try writeFile(scenario.scratch + "/tree/slow.bin", pseudoRandomBytes(40 * (256 << 10), seed: 9))
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 150])
        let sync = try scenario.start(["sync", scenario.scratch + "/tree", "cloudreve://my/Status"])
        var samples: [Int64] = []
        _ = try eventually(timeout: 20) {
            let status = try scenario.crsync(["status", "--json"])
            guard let object = try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
                  let roots = object["roots"] as? [[String: Any]] else { return false }
            let inFlight = roots.flatMap { ($0["in_flight"] as? [[String: Any]]) ?? [] }
            if let entry = inFlight.first(where: { ($0["path"] as? String) == "slow.bin" }), let sent = (entry["sent"] as? NSNumber)?.int64Value {
                samples.append(sent)
            }
            return samples.count >= 2 && samples.last! > samples.first!
        }
        sync.signal(SIGKILL)
        sync.wait()
        XCTAssertGreaterThanOrEqual(samples.count, 2, "status --json never showed slow.bin in flight")
        XCTAssertGreaterThan(samples.last ?? 0, samples.first ?? 0, "bytes sent did not grow: \(samples)")
    }

    func testSIGTERMStopsWithinTenSecondsAndTheNextRunResumes() throws {
        let chunk = 256 << 10
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(chunk)", "--chunk-concurrency", "1"])
        defer { scenario.tearDown() }
        let size = 40 * chunk
        try writeFile(scenario.scratch + "/tree/big.bin", pseudoRandomBytes(size, seed: 4))
        try scenario.server.devPost("/__dev/faults", ["delay_ms": 100])
        let sync = try scenario.start(["sync", scenario.scratch + "/tree", "cloudreve://my/Term", "--workers", "1"])
        sleep(2)
        let signalled = Date()
        sync.signal(SIGTERM)
        XCTAssertTrue(eventually(timeout: 10) { sync.hasExited }, "still running 10 s after SIGTERM")
        print("SIGTERM to exit: \(String(format: "%.2f", Date().timeIntervalSince(signalled))) s")
        XCTAssertEqual(sync.wait(), 143)
        try scenario.server.devPost("/__dev/faults", [:])
        let sentBefore = try scenario.server.stats().chunkBytes
        XCTAssertGreaterThan(sentBefore, 0)
        let resumed = try scenario.sync(scenario.scratch + "/tree", "cloudreve://my/Term", ["--workers", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let resent = try scenario.server.stats().chunkBytes - size
        print("after SIGTERM the next run re-sent \(resent) bytes (one chunk is \(chunk))")
        XCTAssertLessThanOrEqual(resent, chunk, "the next start must resume from the journal, not start over")
        XCTAssertEqual(try scenario.mismatches(local: scenario.scratch + "/tree", remote: "cloudreve://my/Term"), [])
    }

    func testNoTokenOrPasswordInAnythingCrsyncWrites() throws {
        let scenario = try Scenario(serverArguments: ["--access-ttl", "2"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        for i in 0..<5 { try writeFile(local + "/f\(i).txt", pseudoRandomBytes(300_000, seed: UInt64(i + 1))) }
        let port = try freePort()
        let config = try scenario.writeConfig("""
            [upload]
            quiet_seconds = 1

            [log]
            level = "trace"

            [metrics]
            addr = "127.0.0.1:\(port)"

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Secret"
            deletes = "trash"
            """)
        var output = ""
        let sync = try scenario.crsync(["sync", "--config", config, "--json"])
        output += sync.stdout + sync.stderr
        let daemon = try scenario.startDaemon(config: config)
        try writeFile(local + "/later.txt", Array("later".utf8))
        _ = try eventually(timeout: 15) { try scenario.remoteFile("cloudreve://my/Secret/later.txt") != nil }
        sleep(3)  // outlive an access token, so a refresh happens under the daemon
        let status = try scenario.crsync(["status", "--json"])
        output += status.stdout + status.stderr
        output += (try? String(decoding: HTTPTransport().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics")).body, as: UTF8.self)) ?? ""
        daemon.signal(SIGTERM)
        daemon.wait()
        output += daemon.stdout + daemon.stderr
        output += (try? String(contentsOfFile: scenario.stateDir + "/status.json", encoding: .utf8)) ?? ""
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: scenario.stateDir + "/credentials.json"))) as? [String: Any]
        let secrets = [saved?["access_token"] as? String, saved?["refresh_token"] as? String, DevServerProcess.password].compactMap { $0 }
        XCTAssertEqual(secrets.count, 3)
        XCTAssertGreaterThan(output.count, 500, "the run must have written something to check")
        for secret in secrets {
            XCTAssertFalse(output.contains(secret), "a secret appears in crsync's output")
            XCTAssertFalse(output.contains(String(secret.prefix(24))), "part of a secret appears in crsync's output")
        }
    }

    func testBandwidthLimitOfTwoMiBPerSecondSlowsTenMiB() throws {
        let scenario = try Scenario(serverArguments: ["--chunk-size", "\(1 << 20)"])
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        try writeFile(local + "/ten.bin", pseudoRandomBytes(10 << 20, seed: 10))
        let config = try scenario.writeConfig("""
            [upload]
            bandwidth = "2M"

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Slow"
            """)
        let started = Date()
        let result = try scenario.crsync(["sync", "--config", config])
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 0, result.stderr)
        print("10 MiB at bandwidth = \"2M\": \(String(format: "%.1f", seconds)) s")
        XCTAssertGreaterThanOrEqual(seconds, 4.5)
    }

    func testMetricsParseAsPrometheusTextAndMatchTheRun() throws {
        let scenario = try Scenario()
        defer { scenario.tearDown() }
        let local = scenario.scratch + "/tree"
        for i in 0..<3 { try writeFile(local + "/m\(i).txt", Array("metric \(i)".utf8)) }
        let port = try freePort()
        let config = try scenario.writeConfig("""
            [upload]
            quiet_seconds = 1

            [metrics]
            addr = "127.0.0.1:\(port)"

            [[sync]]
            local = "\(local)"
            remote = "cloudreve://my/Metrics"
            """)
        let daemon = try scenario.startDaemon(config: config)
        defer {
            daemon.signal(SIGTERM)
            daemon.wait()
        }
        try writeFile(local + "/m3.txt", Array("metric 3".utf8))
        XCTAssertTrue(try eventually(timeout: 15) { try scenario.remoteFile("cloudreve://my/Metrics/m3.txt") != nil }, daemon.stderr)
        var text = ""
        XCTAssertTrue(eventually(timeout: 5) {
            text = (try? String(decoding: HTTPTransport().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/metrics")).body, as: UTF8.self)) ?? ""
            return sample(text, "crsync_files_uploaded_total") == 4
        }, text)
        let bytes = (0..<4).reduce(0) { $0 + "metric \($1)".utf8.count }
        XCTAssertEqual(sample(text, "crsync_bytes_sent_total"), Double(bytes), text)
        // Every sample belongs to a declared metric: the exposition parses.
        var declared = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") { declared.insert(String(line.split(separator: " ")[2])) }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let base = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
            XCTAssertTrue(declared.contains(name) || declared.contains(base), "undeclared sample: \(line)")
            XCTAssertNotNil(Double(line.split(separator: " ").last ?? ""), "not a number: \(line)")
        }
    }
}

private func sample(_ text: String, _ name: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
}

/// A port nothing listens on right now.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw HarnessError("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
