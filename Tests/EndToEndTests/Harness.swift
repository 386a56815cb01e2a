import CloudreveAPI
import Foundation
import Transport
import XCTest

/// A `crsync-devserver` process on a random free port with its own data folder.
final class DevServerProcess {
    let process: ChildProcess
    let url: String
    let dataDir: String
    let arguments: [String]
    static let email = "tester@example.com"
    /// Test data, passed through the environment so it never shows in a process list.
    static let password = "correct horse battery"

    init(scratch: String, dataDir: String? = nil, port: Int = 0, arguments: [String] = []) throws {
        self.dataDir = dataDir ?? scratch + "/server-data"
        self.arguments = arguments
        try FileManager.default.createDirectory(atPath: self.dataDir, withIntermediateDirectories: true)
        process = try ChildProcess("crsync-devserver", ["--port", "\(port)", "--data", self.dataDir, "--user", DevServerProcess.email] + arguments,
                                   environment: ["CRSYNC_DEVSERVER_PASSWORD": DevServerProcess.password], scratch: scratch)
        let deadline = Date().addingTimeInterval(20)
        var found: String?
        while found == nil, Date() < deadline, !process.hasExited {
            if let line = process.stdout.split(separator: "\n").first(where: { $0.contains("listening on ") }) {
                found = String(line[line.range(of: "listening on ")!.upperBound...]).trimmingCharacters(in: .whitespaces)
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            process.signal(SIGKILL)
            throw HarnessError("crsync-devserver did not start: \(process.stderr)")
        }
        url = found
    }

    /// A restart on the same data folder and port: sessions and locks are lost, files and tokens kept.
    func restarted(scratch: String) throws -> DevServerProcess {
        stop()
        let port = Int(url.split(separator: ":").last ?? "0") ?? 0
        return try DevServerProcess(scratch: scratch, dataDir: dataDir, port: port, arguments: arguments)
    }

    func stop() {
        process.stop()
    }

    func devGet(_ path: String) throws -> [String: Any] {
        let response = try HTTPTransport().perform(HTTPRequest(method: "GET", url: url + path))
        return (try JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    func devPost(_ path: String, _ body: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: body)
        _ = try HTTPTransport().perform(HTTPRequest(method: "POST", url: url + path, headers: [("Content-Type", "application/json")],
                                                    body: .bytes(Array(data))))
    }

    func stats() throws -> Stats { Stats(raw: try devGet("/__dev/stats")) }

    struct Stats {
        var raw: [String: Any]
        func int(_ key: String) -> Int { (raw[key] as? NSNumber)?.intValue ?? 0 }
        var chunkRequests: Int { int("chunk_requests") }
        var chunkBytes: Int { int("chunk_bytes") }
        var sessionsCreated: Int { int("sessions_created") }
        /// API requests per route ("GET file/info", "POST file/upload/{id}/{index}", …).
        var requests: [String: Int] {
            ((raw["requests"] as? [String: Any]) ?? [:]).mapValues { ($0 as? NSNumber)?.intValue ?? 0 }
        }
        var completions: [String: Int] {
            ((raw["completions"] as? [String: Any]) ?? [:]).mapValues { ($0 as? NSNumber)?.intValue ?? 0 }
        }
    }

    /// A client of our own, signed in, to check what arrived.
    func client() throws -> CloudreveClient {
        let client = CloudreveClient(server: url)
        _ = try client.signIn(email: DevServerProcess.email, password: DevServerProcess.password)
        return client
    }
}

/// A scratch folder with a dev server and a crsync state directory signed in to it. The dev server's
/// storage policy is `policy` (StoragePolicy.swift): for `remote` a second dev server in node role and
/// for `s3` a moto server are started first, in the same scratch folder, and stopped by `tearDown`.
final class Scenario {
    let scratch: String
    var server: DevServerProcess
    let stateDir: String
    let policy: StoragePolicy
    /// The slave node behind a `remote` policy.
    let node: DevServerProcess?
    /// The S3-compatible server behind an `s3` policy (or `ks3`, `cos`... given in `serverArguments`).
    let moto: MotoServer?

    /// `emulate` is the release the master (and a node) emulate; nil leaves the dev server's default.
    /// A `--policy` in `serverArguments` overrides `policy`'s own (e.g. `ks3` on the s3 backend).
    init(policy: StoragePolicy = .local, emulate: String? = nil, serverArguments: [String] = []) throws {
        self.policy = policy
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crsync-e2e-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let release = emulate.map { ["--emulate", $0] } ?? []
        // Started in order; what started is stopped again if a later one fails.
        var startedMoto: MotoServer?, startedNode: DevServerProcess?
        do {
            startedMoto = policy == .s3 ? try MotoServer(scratch: scratch) : nil  // XCTSkip when moto_server is not installed
            startedNode = policy == .remote
                ? try DevServerProcess(scratch: scratch, dataDir: scratch + "/node-data", arguments: ["--role", "node"] + release) : nil
            let (name, storage): (String?, [String]) = switch policy {
            case .local: (nil, [])
            case .relay: ("relay", [])
            case .remote: ("remote", ["--node", startedNode!.url])
            case .s3: ("s3", ["--s3-endpoint", startedMoto!.url])
            case .onedrive: ("onedrive", [])
            }
            // A `--policy` in serverArguments (ks3, cos, oss or obs on the s3 backend) replaces the backend's own.
            let own = serverArguments.contains("--policy") ? [] : name.map { ["--policy", $0] } ?? []
            server = try DevServerProcess(scratch: scratch, arguments: release + own + storage + serverArguments)
        } catch {
            startedNode?.stop()
            startedMoto?.stop()
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        moto = startedMoto
        node = startedNode
        stateDir = scratch + "/state"
        let login = try crsync(["login", "--server", server.url, "--email", DevServerProcess.email, "--password-stdin"],
                               stdin: DevServerProcess.password + "\n")
        guard login.status == 0 else {
            tearDown()
            throw HarnessError("login failed (\(login.status)): \(login.stderr)")
        }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var maxRSSKiB: Int
    }

    /// Runs crsync to the end.
    func crsync(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let child = try start(arguments, stdin: stdin, environment: environment)
        let status = child.wait()
        return Result(status: status, stdout: child.stdout, stderr: child.stderr, maxRSSKiB: child.maxRSSKiB)
    }

    func start(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess("crsync", arguments + ["--state-dir", stateDir], environment: environment, stdin: stdin, scratch: scratch)
    }

    func sync(_ local: String, _ remote: String, _ extra: [String] = []) throws -> Result {
        try crsync(["sync", local, remote] + extra)
    }

    func tearDown() {
        server.stop()
        node?.stop()
        moto?.stop()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Every placeholder (open upload) left under `folder` (§6 search).
    func placeholders(under folder: String) throws -> [FileInfo] {
        try server.client().list(try CloudrevePath(parsing: folder), search: "meta_sys:upload_session_id=").files
    }

    /// Downloads every file of `local` from `remote` and compares bytes; returns the paths that differ
    /// or are missing, with why.
    func mismatches(local: String, remote: String, skipping: (String) -> Bool = { _ in false }) throws -> [String] {
        let client = try server.client()
        let root = try CloudrevePath(parsing: remote)
        var problems: [String] = []
        let scratchFile = scratch + "/download.tmp"
        for relative in try regularFiles(under: local) where !skipping(relative) {
            let remotePath = root.appending(relative)
            do {
                let url = try client.downloadURLs([remotePath])[0]
                let fd = open(scratchFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                defer { close(fd) }
                _ = try client.download(url: url, into: fd)
                if !(try sameBytes(local + "/" + relative, scratchFile)) { problems.append("\(relative): content differs") }
            } catch {
                problems.append("\(relative): \(error)")
            }
        }
        return problems
    }
}

/// Relative paths of the regular files under `root`, by raw directory walk.
func regularFiles(under root: String) throws -> [String] {
    var out: [String] = []
    func walk(_ relative: String) {
        let dir = relative.isEmpty ? root : root + "/" + relative
        guard let handle = opendir(dir) else { return }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name == "." || name == ".." { continue }
            let child = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(root + "/" + child, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR { walk(child) } else if (st.st_mode & S_IFMT) == S_IFREG { out.append(child) }
        }
    }
    walk("")
    return out
}

func sameBytes(_ a: String, _ b: String) throws -> Bool {
    guard let fa = FileHandle(forReadingAtPath: a), let fb = FileHandle(forReadingAtPath: b) else { return false }
    defer {
        try? fa.close()
        try? fb.close()
    }
    while true {
        let da = fa.readData(ofLength: 4 << 20)
        let db = fb.readData(ofLength: 4 << 20)
        if da != db { return false }
        if da.isEmpty { return true }
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        withUnsafeBytes(of: state) { word in
            for b in word where i < count {
                out[i] = b
                i += 1
            }
        }
    }
    return out
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw HarnessError("cannot write \(path)") }
}

extension Scenario {
    /// Writes a configuration for this scenario's server and returns its path.
    func writeConfig(_ body: String, name: String = "config.toml") throws -> String {
        let path = scratch + "/" + name
        let text = """
            [server]
            url = "\(server.url)"
            email = "\(DevServerProcess.email)"

            \(body)
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `crsync run` with `config`; logs go to the child's stderr file.
    func startDaemon(config: String, environment: [String: String] = [:]) throws -> ChildProcess {
        try start(["run", "--config", config], environment: environment)
    }

    /// The file on the server, if it is there complete (not a placeholder).
    func remoteFile(_ remote: String) throws -> FileInfo? {
        let info = try server.client().fileInfoIfExists(try CloudrevePath(parsing: remote))
        return info?.uploadSessionID == nil ? info : nil
    }
}

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval, every interval: TimeInterval = 0.1, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return try condition()
}

/// A test case with a fresh scenario per test and at most one daemon, both stopped after each test.
class ScenarioTestCase: XCTestCase {
    var scenario: Scenario!
    var daemon: ChildProcess?
    /// The dev server's arguments for every test of the case.
    var serverArguments: [String] { [] }

    override func setUpWithError() throws {
        scenario = try Scenario(serverArguments: serverArguments)
    }

    override func tearDown() {
        stopDaemon()
        scenario.tearDown()
    }

    /// SIGTERM, then SIGKILL after 10 s; forgets the daemon.
    func stopDaemon() {
        daemon?.stop()
        daemon = nil
    }
}
