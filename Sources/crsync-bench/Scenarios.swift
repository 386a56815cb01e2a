import Foundation

/// Sizes of a run: `--quick` for CI (under 3 minutes on 2 cores), the full run for the README.
struct Sizes {
    var smallFiles: Int
    var smallRounds: Int
    var workers = 8
    var bigFile: Int64
    var bigRounds: Int
    var rescanFiles: Int
    var millionFolders: Int
    var idleSeconds: Int

    static let quick = Sizes(smallFiles: 500, smallRounds: 2, bigFile: 256 << 20, bigRounds: 2, rescanFiles: 20_000,
                             millionFolders: 1_000, idleSeconds: 15)
    static let full = Sizes(smallFiles: 2_000, smallRounds: 3, bigFile: 1 << 30, bigRounds: 3, rescanFiles: 200_000,
                            millionFolders: 10_000, idleSeconds: 60)
}

/// The scenarios of issue 11, each adding its rows to the report.
struct Scenarios {
    let server: BenchServer
    let plain: PlainClient
    let scratch: String
    let sizes: Sizes
    let report: Report

    // MARK: Small files

    /// N × 4 KiB new files: crsync `sync --workers W` and the plain client, rounds alternating, each round
    /// into a folder of its own so every file is new.
    func smallFiles() throws {
        let local = scratch + "/small"
        let paths = try Trees.smallFiles(root: local, count: sizes.smallFiles, size: 4096)
        var crsyncRates: [Double] = [], plainRates: [Double] = []
        var crsyncRequests: [RequestCount] = [], plainRequests: [RequestCount] = []
        var peakKiB = 0
        var crsyncCPU = 0.0, plainCPU = 0.0
        var problems: [String] = []
        for round in 1...sizes.smallRounds {
            var mark = server.requestsByRoute()
            let child = try server.crsync(["sync", local, "cloudreve://my/bench/small-crsync-\(round)", "--workers", "\(sizes.workers)"])
            let code = child.wait()
            let elapsed = Date().timeIntervalSince(child.started)
            if code != 0 { problems.append("crsync round \(round) exit \(code): \(child.stderr.suffix(300))") }
            crsyncRates.append(Double(paths.count) / elapsed)
            crsyncRequests.append(RequestCount(before: mark, after: server.requestsByRoute()))
            peakKiB = max(peakKiB, child.peakRSSKiB)
            crsyncCPU += child.cpuSeconds

            mark = server.requestsByRoute()
            let files = paths.map { (local: $0, uri: "cloudreve://my/bench/small-plain-\(round)/" + ($0 as NSString).lastPathComponent) }
            let cpuBefore = ownCPUSeconds()
            let seconds = try plain.uploadSmallFiles(files, workers: sizes.workers)
            plainCPU += ownCPUSeconds() - cpuBefore
            plainRates.append(Double(paths.count) / seconds)
            plainRequests.append(RequestCount(before: mark, after: server.requestsByRoute()))
        }
        let ours = median(crsyncRates), theirs = median(plainRates)
        let perRoundFiles = Double(paths.count * sizes.smallRounds)
        let rounds = { (rates: [Double]) in rates.map { fmt($0) }.joined(separator: ", ") }
        report.add(Row(name: "small files: \(fmt(Double(sizes.smallFiles))) × 4 KiB, \(sizes.workers) workers",
                       goal: "≥ 0.95× plain",
                       measured: "\(fmt(ours)) files/s = \(fmt(ours / theirs, 2))× (rounds \(rounds(crsyncRates)))",
                       baseline: "\(fmt(theirs)) files/s (rounds \(rounds(plainRates)))",
                       note: "median of \(sizes.smallRounds) alternating rounds; crsync's time is the whole `crsync sync` process "
                           + "(start-up, version check, stale-upload search included), the plain client's only its uploads; "
                           + "CPU per file (user + system): crsync \(fmt(crsyncCPU * 1000 / perRoundFiles, 2)) ms, "
                           + "plain client \(fmt(plainCPU * 1000 / perRoundFiles, 2)) ms"
                           + (problems.isEmpty ? "" : "; PROBLEMS: " + problems.joined(separator: "; ")),
                       values: ["crsync_files_per_s": ours, "plain_files_per_s": theirs, "ratio": ours / theirs,
                                "crsync_cpu_ms_per_file": crsyncCPU * 1000 / perRoundFiles,
                                "plain_cpu_ms_per_file": plainCPU * 1000 / perRoundFiles]))
        let files = Double(sizes.smallFiles)
        let total = crsyncRequests.map { Double($0.total) / files }
        let last = crsyncRequests.last!
        report.add(Row(name: "requests per small file (crsync)", goal: "2",
                       measured: "\(fmt(median(total), 2)) (per file: \(fmt(Double(last.sessions) / files, 2)) session, "
                           + "\(fmt(Double(last.chunks) / files, 2)) chunk, \(fmt(Double(last.otherTotal) / files, 2)) other)",
                       baseline: "\(fmt(Double(plainRequests.last!.total) / files, 2))",
                       note: "counted by crsync-devserver per route (`/__dev/stats`); other requests of the last round: \(last.otherSummary)",
                       values: ["requests_per_file": median(total), "other_requests": Double(last.otherTotal)]))
        report.add(Row(name: "peak RSS, small files, \(sizes.workers) workers", goal: "—", measured: mib(peakKiB),
                       values: ["peak_rss_mib": Double(peakKiB) / 1024]))
    }

    // MARK: Big file

    /// One big file in 25 MiB chunks: crsync with 8 workers and 8 connections for the file, the plain client
    /// with 8 connections on the same chunks; each round a new file on the server.
    func bigFile() throws {
        let folder = scratch + "/big"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/big.bin"
        try Trees.bigFile(path, size: sizes.bigFile)
        var crsyncRates: [Double] = [], plainRates: [Double] = []
        var peaks: [Int] = []
        var problems: [String] = []
        // One untimed upload first, deleted again, so that round 1 also writes into memory already in use.
        _ = try plain.uploadLargeFile(path, to: "cloudreve://my/bench/big-warm-up/big.bin", workers: sizes.workers)
        try plain.deletePermanently("cloudreve://my/bench/big-warm-up/big.bin")
        sync()
        for round in 1...sizes.bigRounds {
            // `sync --config` takes [upload] from a file that names its folders: one per round.
            let config = try server.writeConfig("""
                [upload]
                workers = \(sizes.workers)
                chunk_concurrency = \(sizes.workers)

                [[sync]]
                local = "\(folder)"
                remote = "cloudreve://my/bench/big-crsync-\(round)"
                """, name: "big-\(round).toml")
            // Every round writes into the same state: the last round's gigabyte deleted on the server and
            // flushed. Without this, rounds after the second ran at a fifth of the speed for both clients
            // (1,875 then 326 MB/s in one run): perf showed the server's writes copying into page-cache
            // memory this VM had never touched, not anything either client did.
            let child = try server.crsync(["sync", "--config", config])
            let code = child.wait()
            let elapsed = Date().timeIntervalSince(child.started)
            if code != 0 { problems.append("crsync round \(round) exit \(code): \(child.stderr.suffix(300))") }
            crsyncRates.append(Double(sizes.bigFile) / elapsed / 1e6)
            peaks.append(child.peakRSSKiB)
            try plain.deletePermanently("cloudreve://my/bench/big-crsync-\(round)/big.bin")
            sync()
            let plainURI = "cloudreve://my/bench/big-plain-\(round)/big.bin"
            let seconds = try plain.uploadLargeFile(path, to: plainURI, workers: sizes.workers)
            plainRates.append(Double(sizes.bigFile) / seconds / 1e6)
            try plain.deletePermanently(plainURI)
            sync()
        }
        let ours = median(crsyncRates), theirs = median(plainRates)
        let size = sizes.bigFile >= 1 << 30 ? "\(sizes.bigFile >> 30) GiB" : "\(sizes.bigFile >> 20) MiB"
        report.add(Row(name: "big file: \(size), 25 MiB chunks, 8 connections", goal: "≥ 0.95× plain",
                       measured: "\(fmt(ours)) MB/s = \(fmt(ours / theirs, 2))× (rounds \(crsyncRates.map { fmt($0) }.joined(separator: ", ")))",
                       baseline: "\(fmt(theirs)) MB/s (rounds \(plainRates.map { fmt($0) }.joined(separator: ", ")))",
                       note: "median of \(sizes.bigRounds) alternating rounds after an untimed warm-up, each round's file deleted on the server and the disk flushed before the next; crsync with `[upload] workers = \(sizes.workers)`, "
                           + "`chunk_concurrency = \(sizes.workers)`" + (problems.isEmpty ? "" : "; PROBLEMS: " + problems.joined(separator: "; ")),
                       values: ["crsync_mb_per_s": ours, "plain_mb_per_s": theirs, "ratio": ours / theirs]))
        report.add(Row(name: "peak RSS, big file, 8 workers, 25 MiB chunks", goal: "≤ 48 MiB",
                       measured: "\(mib(peaks.max() ?? 0)) (rounds \(peaks.map { mib($0) }.joined(separator: ", ")))",
                       note: "VmHWM sampled every 20 ms",
                       values: ["peak_rss_mib": Double(peaks.max() ?? 0) / 1024]))
        unlink(path)
    }

    // MARK: Journaled trees

    /// A tree of `folders` × 100 empty files whose journal says every file is uploaded: one real sync of a
    /// seed file, then the seed row copied for every other file (see `JournalSeeder`).
    func journaledTree(name: String, folders: Int) throws -> (root: String, remote: String, files: Int, note: String) {
        let root = scratch + "/" + name
        let remote = "cloudreve://my/bench/" + name
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Trees.write(root + "/seed.txt", Array("seed\n".utf8))
        let seed = try server.crsync(["sync", root, remote])
        let code = seed.wait()
        guard code == 0 else { throw BenchError("seed sync of \(root) failed (exit \(code)): \(seed.stderr.suffix(300))") }
        var start = Date()
        let files = try Trees.manyFiles(root: root, folders: folders, perFolder: 100)
        let created = Date().timeIntervalSince(start)
        start = Date()
        try JournalSeeder.copySeedRow(journal: server.stateDir + "/journal.sqlite", seedPath: "seed.txt", root: root, files: files)
        let seeded = Date().timeIntervalSince(start)
        return (root, remote, files.count + 1, "tree of \(fmt(Double(folders))) folders × 100 empty files made in \(fmt(created, 1)) s, "
                + "journal rows copied from a really synced seed row in \(fmt(seeded, 1)) s")
    }

    /// A no-change `crsync sync` over a journaled tree, twice (the second on a warm cache), then the
    /// daemon's first rescan of the same tree.
    func rescan() throws {
        let tree = try journaledTree(name: "rescan", folders: sizes.rescanFiles / 100)
        var rates: [Double] = []
        var summary = ""
        var requests = RequestCount()
        var problems: [String] = []
        for _ in 1...2 {
            let mark = server.requestsByRoute()
            let child = try server.crsync(["sync", tree.root, tree.remote])
            let code = child.wait()
            rates.append(Double(tree.files) / Date().timeIntervalSince(child.started))
            requests = RequestCount(before: mark, after: server.requestsByRoute())
            summary = child.stdout.split(separator: "\n").last.map(String.init) ?? ""
            if code != 0 { problems.append("exit \(code): \(child.stderr.suffix(300))") }
        }
        report.add(Row(name: "no-change `crsync sync`, \(fmt(Double(tree.files))) files", goal: "≥ 100,000 files/s",
                       measured: "\(fmt(rates[1])) files/s (first pass \(fmt(rates[0])) files/s)",
                       note: "whole process, warm cache; \(requests.total) request(s): \(requests.otherSummary); its summary: \"\(summary)\"; "
                           + tree.note + (problems.isEmpty ? "" : "; PROBLEMS: " + problems.joined(separator: "; ")),
                       values: ["files_per_s": rates[1], "first_pass_files_per_s": rates[0], "requests": Double(requests.total)]))
        let start = try daemonStartUp(root: tree.root, remote: tree.remote, configName: "rescan.toml")
        defer { start.daemon.stop() }
        report.add(Row(name: "daemon's first rescan, \(fmt(Double(tree.files))) files", goal: "≥ 100,000 files/s",
                       measured: start.rescanSeconds.map { "\(fmt(Double(tree.files) / $0)) files/s (\(fmt($0, 1)) s)" } ?? "not seen",
                       note: "from the daemon's \"starting\" log line to its \"rescan of\" line (watching every folder included); "
                           + "spawn to rescan done \(start.readySeconds.map { fmt($0, 1) + " s" } ?? "not seen")",
                       values: ["files_per_s": start.rescanSeconds.map { Double(tree.files) / $0 } ?? 0]))
    }

    /// The big journal: start-up to "watching, first rescan done", the idle memory after it, then an idle
    /// stretch of the same daemon.
    func bigJournal() throws {
        let tree = try journaledTree(name: "million", folders: sizes.millionFolders)
        let start = try daemonStartUp(root: tree.root, remote: tree.remote, configName: "million.toml")
        defer { start.daemon.stop() }
        let pid = start.daemon.pid
        let files = fmt(Double(tree.files))
        report.add(Row(name: "daemon start-up, \(files) files in \(fmt(Double(sizes.millionFolders))) folders", goal: "≤ 30 s",
                       measured: start.readySeconds.map { fmt($0, 1) + " s" } ?? "not seen within 10 min",
                       note: "spawn of `crsync run` to its \"rescan of\" log line (watches are set up before the rescan); " + tree.note,
                       values: ["seconds": start.readySeconds ?? -1]))
        sleep(3)
        let status = ProcStatus.read(pid: pid) ?? [:]
        let rss = status["VmRSS"] ?? 0, anon = status["RssAnon"] ?? 0, file = status["RssFile"] ?? 0, shmem = status["RssShmem"] ?? 0
        report.add(Row(name: "daemon idle RSS, \(files) files", goal: "≤ 80 MiB",
                       measured: "\(mib(rss)): anonymous (heap) \(mib(anon)), files (shared libraries) \(mib(file)), shmem \(mib(shmem))",
                       note: "VmRSS, RssAnon, RssFile, RssShmem from /proc/PID/status 3 s after the first rescan; peak during start-up "
                           + mib(status["VmHWM"] ?? 0),
                       values: ["rss_mib": Double(rss) / 1024, "anon_mib": Double(anon) / 1024, "file_mib": Double(file) / 1024,
                                "hwm_mib": Double(status["VmHWM"] ?? 0) / 1024]))
        try idle(pid: pid, files: files)
    }

    /// An idle stretch of a daemon that has finished its first rescan: what it wrote, how often it woke,
    /// what CPU it used.
    private func idle(pid: pid_t, files: String) throws {
        let io0 = ProcStatus.io(pid: pid), threads0 = ProcStatus.wakeupsByThread(pid: pid), cpu0 = ProcStatus.cpuSeconds(pid: pid)
        sleep(UInt32(sizes.idleSeconds))
        let io1 = ProcStatus.io(pid: pid), threads1 = ProcStatus.wakeupsByThread(pid: pid), cpu1 = ProcStatus.cpuSeconds(pid: pid)
        let wake0 = threads0.values.reduce(0, +), wake1 = threads1.values.reduce(0, +)
        let busiest = threads1.map { ($0.key, $0.value - (threads0[$0.key] ?? 0)) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
            .prefix(4).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        func delta(_ key: String) -> Int { (io1[key] ?? 0) - (io0[key] ?? 0) }
        let seconds = "\(sizes.idleSeconds) s"
        report.add(Row(name: "idle daemon, \(seconds), \(files) files: disk writes", goal: "0",
                       measured: "write_bytes \(delta("write_bytes")), syscw \(delta("syscw")) (read_bytes \(delta("read_bytes")), syscr \(delta("syscr")))",
                       note: "/proc/PID/io deltas; write_bytes is what reached the storage layer, syscw counts every write call (log lines too)",
                       values: ["write_bytes": Double(delta("write_bytes")), "syscw": Double(delta("syscw")),
                                "read_bytes": Double(delta("read_bytes"))]))
        report.add(Row(name: "idle daemon, \(seconds): wake-ups", goal: "few",
                       measured: "\(wake1 - wake0) context switches (\(fmt(Double(wake1 - wake0) / Double(sizes.idleSeconds), 1))/s)",
                       note: "voluntary + nonvoluntary context switches summed over every thread (/proc/PID/task/*/status); "
                           + "busiest threads: \(busiest.isEmpty ? "none" : busiest)",
                       values: ["wakeups": Double(wake1 - wake0)]))
        report.add(Row(name: "idle daemon, \(seconds): CPU", goal: "≈ 0",
                       measured: "\(fmt(cpu1 - cpu0, 2)) s", note: "utime + stime from /proc/PID/stat",
                       values: ["cpu_seconds": cpu1 - cpu0]))
    }

    struct DaemonStart {
        var daemon: Child
        /// Spawn to the "rescan of" line.
        var readySeconds: Double?
        /// The "starting" line to the "rescan of" line.
        var rescanSeconds: Double?
    }

    /// Starts `crsync run` on one root and watches its log (polled every 10 ms) for its first rescan.
    private func daemonStartUp(root: String, remote: String, configName: String) throws -> DaemonStart {
        let config = try server.writeConfig("""
            [upload]
            workers = \(sizes.workers)

            [[sync]]
            local = "\(root)"
            remote = "\(remote)"
            deletes = "keep"
            """, name: configName)
        let daemon = try server.crsync(["run", "--config", config])
        var startingAt: Date?
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline, !daemon.hasExited {
            let log = daemon.stderr
            if startingAt == nil, log.contains(" starting with ") { startingAt = Date() }
            if log.contains("rescan of ") {
                let now = Date()
                return DaemonStart(daemon: daemon, readySeconds: now.timeIntervalSince(daemon.started),
                                   rescanSeconds: startingAt.map { now.timeIntervalSince($0) })
            }
            usleep(10_000)
        }
        if daemon.hasExited { throw BenchError("crsync run exited with \(daemon.wait()): \(daemon.stderr.suffix(400))") }
        return DaemonStart(daemon: daemon, readySeconds: nil, rescanSeconds: nil)
    }
}
