import Foundation
import Transport

/// crsync-devserver on a free loopback port, with crsync signed in to it, as the end-to-end tests do it
/// (Tests/EndToEndTests/Harness.swift): the password goes to the server through its environment and to
/// `crsync login` through a 0600 file on stdin, never through argv; crsync keeps its tokens in
/// `credentials.json` (0600) in the bench's state folder.
final class BenchServer {
    static let email = "bench@example.com"
    /// Bench data, not a secret, but kept out of argv and logs all the same.
    static let password = "bench horse battery"

    let scratch: String
    let process: Child
    let url: String
    let stateDir: String
    /// A crsync environment that cannot see the user's own configuration or state.
    let environment: [String: String]

    init(scratch: String, chunkSize: Int64 = 25 << 20) throws {
        self.scratch = scratch
        let data = scratch + "/server-data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        process = try Child("crsync-devserver", ["--port", "0", "--data", data, "--user", BenchServer.email,
                                                 "--chunk-size", "\(chunkSize)"],
                            environment: ["CRSYNC_DEVSERVER_PASSWORD": BenchServer.password], scratch: scratch)
        var found: String?
        let deadline = Date().addingTimeInterval(30)
        while found == nil, Date() < deadline, !process.hasExited {
            if let line = process.stdout.split(separator: "\n").first(where: { $0.contains("listening on ") }) {
                found = String(line[line.range(of: "listening on ")!.upperBound...]).trimmingCharacters(in: .whitespaces)
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            process.stop()
            throw BenchError("crsync-devserver did not start: \(process.stderr)")
        }
        url = found
        stateDir = scratch + "/state"
        environment = ["XDG_CONFIG_HOME": scratch + "/xdg-config", "XDG_STATE_HOME": scratch + "/xdg-state"]
        let passwordFile = scratch + "/password"
        guard FileManager.default.createFile(atPath: passwordFile, contents: Data((BenchServer.password + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw BenchError("cannot write \(passwordFile)")
        }
        defer { unlink(passwordFile) }
        let login = try crsync(["login", "--server", url, "--email", BenchServer.email, "--password-stdin"], stdinFile: passwordFile)
        let code = login.wait()
        guard code == 0 else { throw BenchError("crsync login failed (exit \(code)): \(login.stderr)") }
    }

    /// Starts crsync with the bench's state folder.
    func crsync(_ arguments: [String], stdinFile: String? = nil) throws -> Child {
        try Child("crsync", arguments + ["--state-dir", stateDir], environment: environment, stdinFile: stdinFile, scratch: scratch)
    }

    /// A configuration for this server plus `body` (TOML).
    func writeConfig(_ body: String, name: String) throws -> String {
        let path = scratch + "/" + name
        try """
            [server]
            url = "\(url)"
            email = "\(BenchServer.email)"

            \(body)

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func stop() { process.stop() }

    /// API requests served so far, per route ("PUT file/upload", "POST file/upload/{id}/{index}", …): the
    /// server's own counters, which the request-count tests read too.
    func requestsByRoute() -> [String: Int] {
        ((stats()["requests"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.intValue }
    }

    /// `GET /__dev/stats` (the counters the tests read).
    func stats() -> [String: Any] {
        guard let response = try? HTTPTransport().perform(HTTPRequest(method: "GET", url: url + "/__dev/stats")),
              let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { return [:] }
        return json
    }
}

/// What requests a run sent: the difference of the server's per-route counters before and after it.
struct RequestCount {
    var total = 0
    var sessions = 0
    var chunks = 0
    var other: [String: Int] = [:]

    init(before: [String: Int] = [:], after: [String: Int] = [:]) {
        for (route, count) in after {
            let n = count - before[route, default: 0]
            guard n > 0 else { continue }
            total += n
            switch route {
            case "PUT file/upload": sessions += n
            case "POST file/upload/{id}/{index}": chunks += n
            default: other[route, default: 0] += n
            }
        }
    }

    var otherTotal: Int { other.values.reduce(0, +) }
    var otherSummary: String { other.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
}
