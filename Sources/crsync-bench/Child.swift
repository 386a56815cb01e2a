import Foundation

/// A program the bench started (crsync or crsync-devserver from the same build folder), with its output in
/// files of the scratch folder and its peak memory sampled from /proc.
final class Child {
    let pid: pid_t
    let name: String
    let stdoutPath: String
    let stderrPath: String
    let started = Date()
    private let lock = NSLock()
    private var exitCode: Int32?
    private var peakKiB = 0

    /// Where `swift build` put our siblings: beside this executable.
    static let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path

    /// Every child still running, so that an interrupted bench stops them all.
    static let running = NSLock()
    nonisolated(unsafe) static var live: [pid_t: Child] = [:]

    init(_ program: String, _ arguments: [String], environment: [String: String] = [:], stdinFile: String? = nil,
         scratch: String) throws {
        let path = Child.binDir + "/" + program
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError("no \(program) beside crsync-bench in \(Child.binDir): build it with `swift build -c release` first")
        }
        name = program
        let tag = UUID().uuidString.prefix(8)
        stdoutPath = scratch + "/\(program)-\(tag).out"
        stderrPath = scratch + "/\(program)-\(tag).err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinFile ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
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
        guard rc == 0 else { throw BenchError("cannot start \(path): \(String(cString: strerror(rc)))") }
        pid = child
        Child.running.withLock { Child.live[child] = self }
        startSampling()
    }

    /// Peak resident memory in KiB from VmHWM, sampled every 20 ms. Not wait4's ru_maxrss: posix_spawn
    /// clones with CLONE_VM and the kernel then hands the child the parent's (the bench's) high-water mark.
    var peakRSSKiB: Int { lock.withLock { peakKiB } }

    private func startSampling() {
        let pid = self.pid
        Thread.detachNewThread { [weak self] in
            while let self, self.lock.withLock({ self.exitCode == nil }) {
                if let hwm = ProcStatus.read(pid: pid)?["VmHWM"] {
                    self.lock.withLock { self.peakKiB = max(self.peakKiB, hwm) }
                }
                usleep(20_000)
            }
        }
    }

    /// Waits for the exit; returns the exit code (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        if let code = lock.withLock({ exitCode }) { return code }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return reaped(status, usage)
    }

    var hasExited: Bool {
        if lock.withLock({ exitCode }) != nil { return true }
        var status: Int32 = 0
        var usage = rusage()
        guard wait4(pid, &status, WNOHANG, &usage) == pid else { return false }
        _ = reaped(status, usage)
        return true
    }

    /// User + system CPU seconds of the whole run (wait4's times are the child's own, unlike its maxrss).
    private(set) var cpuSeconds: Double = 0

    private func reaped(_ status: Int32, _ usage: rusage) -> Int32 {
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        lock.withLock {
            exitCode = code
            cpuSeconds = usage.ru_utime.seconds + usage.ru_stime.seconds
        }
        Child.running.withLock { _ = Child.live.removeValue(forKey: pid) }
        return code
    }

    /// SIGTERM, then SIGKILL after `grace` seconds.
    func stop(grace: TimeInterval = 10) {
        guard !hasExited else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while !hasExited, Date() < deadline { usleep(20_000) }
        if !hasExited { kill(pid, SIGKILL) }
        wait()
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// SIGKILL for every child still running (the bench was interrupted or failed).
    static func killAll() {
        let children = running.withLock { Array(live.values) }
        for child in children {
            kill(child.pid, SIGKILL)
            child.wait()
        }
    }
}

extension timeval {
    var seconds: Double { Double(tv_sec) + Double(tv_usec) / 1e6 }
}

/// CPU seconds this process (the bench, so the plain client) has used so far.
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_utime.seconds + usage.ru_stime.seconds
}

/// Fields of /proc/PID/status in KiB (Vm*, Rss*) or counts (ctxt switches).
enum ProcStatus {
    static func read(pid: pid_t, task: String? = nil) -> [String: Int]? {
        let path = task.map { "/proc/\(pid)/task/\($0)/status" } ?? "/proc/\(pid)/status"
        guard let text = readSmallFile(path) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            guard key.hasPrefix("Vm") || key.hasPrefix("Rss") || key.hasSuffix("ctxt_switches") || key == "Threads" else { continue }
            let value = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
            if let value { fields[key] = value }
        }
        return fields
    }

    /// Context switches per thread, by "name (tid)", to tell which thread keeps waking (the process's own
    /// line counts only its main thread).
    static func wakeupsByThread(pid: pid_t) -> [String: Int] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var byThread: [String: Int] = [:]
        for task in tasks {
            let status = read(pid: pid, task: task) ?? [:]
            let name = readSmallFile("/proc/\(pid)/task/\(task)/comm")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            byThread["\(name) (\(task))"] = (status["voluntary_ctxt_switches"] ?? 0) + (status["nonvoluntary_ctxt_switches"] ?? 0)
        }
        return byThread
    }

    /// /proc/PID/io: read_bytes, write_bytes (what reached the storage layer), syscw (write calls), …
    static func io(pid: pid_t) -> [String: Int] {
        guard let text = readSmallFile("/proc/\(pid)/io") else { return [:] }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let value = Int(parts[1]) { fields[parts[0]] = value }
        }
        return fields
    }

    /// utime + stime of the whole process, in seconds.
    static func cpuSeconds(pid: pid_t) -> Double {
        guard let text = readSmallFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after "(comm)": state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        var total = 0
        while total < buffer.count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, $0.count - total) }
            if n <= 0 { break }
            total += n
        }
        return String(decoding: buffer[..<total], as: UTF8.self)
    }
}

/// Set by Ctrl-C or SIGTERM: the loops that write many files stop, so the scratch folder can be removed
/// without the bench writing into it again.
enum Interrupt {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var requested = false
    static func request() { lock.withLock { requested = true } }
    static func check() throws {
        if lock.withLock({ requested }) { throw BenchError("interrupted") }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
