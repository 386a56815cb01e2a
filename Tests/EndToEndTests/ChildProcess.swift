import Foundation

/// A real child process, started with posix_spawn so tests can SIGKILL it and read its peak RSS from
/// wait4 (Foundation's Process reaps children itself). Output goes to files, read after or during the run.
final class ChildProcess {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private(set) var exitStatus: Int32?
    /// Peak resident memory of the program itself, from /proc's VmHWM sampled every 20 ms. Not wait4's
    /// ru_maxrss: posix_spawn clones with CLONE_VM, and at exec the kernel records the old (the test
    /// runner's) mm high-water mark into the child's maxrss, so that figure grows with the test runner.
    private(set) var maxRSSKiB: Int = 0
    private let samplerLock = NSLock()
    private var sampledPeak = 0

    /// Where `swift build` put the package's executables: beside the test bundle.
    static let binDir: String = {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
         scratch: String) throws {
        let path = executable.hasPrefix("/") ? executable : ChildProcess.binDir + "/" + executable
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("no executable at \(path): run `swift build` first")
        }
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = scratch + "/\(URL(fileURLWithPath: path).lastPathComponent)-\(tag).out"
        stderrPath = scratch + "/\(URL(fileURLWithPath: path).lastPathComponent)-\(tag).err"
        var stdinPath = "/dev/null"
        if let stdin {
            stdinPath = scratch + "/stdin-\(tag)"
            try Data(stdin.utf8).write(to: URL(fileURLWithPath: stdinPath))
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw HarnessError("posix_spawn \(path) failed: \(String(cString: strerror(rc)))") }
        pid = child
        startSampling()
    }

    /// Waits for the exit and returns the exit code (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        maxRSSKiB = samplerLock.withLock { sampledPeak }
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// Whether it has exited, without blocking.
    var hasExited: Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, WNOHANG, &usage) == pid else { return false }
        maxRSSKiB = samplerLock.withLock { sampledPeak }
        exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return true
    }

    /// Reads VmHWM (the kernel's own high-water mark for this program's memory) until the process ends.
    private func startSampling() {
        let pid = self.pid
        Thread.detachNewThread { [weak self] in
            while let self, self.exitStatus == nil {
                guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return }
                if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                   let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") {
                    self.samplerLock.withLock { self.sampledPeak = max(self.sampledPeak, kib) }
                }
                usleep(20_000)
            }
        }
    }

    func signal(_ sig: Int32) {
        if exitStatus == nil { kill(pid, sig) }
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace` seconds; waits for it either way.
    func stop(grace: TimeInterval = 10) {
        signal(SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while !hasExited, Date() < deadline { usleep(20_000) }
        signal(SIGKILL)
        wait()
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            wait()
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
