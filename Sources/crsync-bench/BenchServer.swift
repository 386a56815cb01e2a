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

    /// Requests the server has logged so far (one stderr line each, see crsync-devserver's help), without
    /// the bench's own `/__dev/` calls.
    func requestLog() -> [Substring] {
        let log = process.stderr
        return log.split(separator: "\n").filter { !$0.contains(" /__dev/") && ($0.hasPrefix("GET ") || $0.hasPrefix("PUT ")
            || $0.hasPrefix("POST ") || $0.hasPrefix("DELETE ") || $0.hasPrefix("PATCH ") || $0.hasPrefix("HEAD ")) }
    }

    /// `GET /__dev/stats` (the counters the tests read).
    func stats() -> [String: Any] {
        guard let response = try? HTTPTransport().perform(HTTPRequest(method: "GET", url: url + "/__dev/stats")),
              let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { return [:] }
        return json
    }
}

/// What requests a run sent, counted from the server's log between two marks.
struct RequestCount {
    var total = 0
    var sessions = 0
    var chunks = 0
    var other: [String: Int] = [:]

    init(_ lines: ArraySlice<Substring>) {
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            total += 1
            let method = parts[0], path = parts[1]
            if method == "PUT" && path.hasSuffix("/file/upload") {
                sessions += 1
            } else if method == "POST" && path.contains("/file/upload/") {
                chunks += 1
            } else {
                // Ids vary; the route's shape is what matters.
                let route = path.split(separator: "/").prefix(4).joined(separator: "/")
                other["\(method) /\(route)", default: 0] += 1
            }
        }
    }

    var otherTotal: Int { other.values.reduce(0, +) }
    var otherSummary: String { other.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
}
