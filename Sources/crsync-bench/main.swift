import Foundation

// crsync-bench: runs the built `crsync` and `crsync-devserver` (beside this executable) against each other
// on loopback, next to a plain client doing the same requests, and prints one row per figure with the goal
// of issue 11 beside it. It measures and never asserts: exit 0 unless it could not run at all.

let usage = """
    usage: crsync-bench [--quick] [--json FILE] [--only LIST]
      --quick      smaller counts, under 3 minutes on 2 cores (CI)
      --json FILE  also write the rows as JSON to FILE
      --only LIST  run only these scenarios (comma-separated): small-files, big-file, rescan, big-journal
    Run it with swift run -c release crsync-bench: it builds crsync and crsync-devserver beside itself
    first (or runs the ones beside it when it is not inside a SwiftPM .build folder).
    """

var quick = false
var jsonPath: String?
var only: Set<String>?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--quick": quick = true
    case "--json":
        guard let path = arguments.popFirst() else {
            FileHandle.standardError.write(Data("--json needs a file name\n\(usage)\n".utf8))
            exit(2)
        }
        jsonPath = path
    case "--only":
        guard let list = arguments.popFirst() else {
            FileHandle.standardError.write(Data("--only needs a list of scenarios\n\(usage)\n".utf8))
            exit(2)
        }
        only = Set(list.split(separator: ",").map(String.init))
    case "-h", "--help":
        print(usage)
        exit(0)
    default:
        FileHandle.standardError.write(Data("unknown argument \(argument)\n\(usage)\n".utf8))
        exit(2)
    }
}

let sizes = quick ? Sizes.quick : Sizes.full
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crsync-bench-\(UUID().uuidString.prefix(8))").path

/// Removes the scratch folder (a million files: rm is faster than FileManager).
func removeScratch() {
    var pid: pid_t = 0
    let words: [String] = ["/bin/rm", "-rf", scratch]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    if posix_spawn(&pid, "/bin/rm", nil, nil, argv, environ) == 0 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

// Ctrl-C or a CI timeout: stop every child and leave nothing behind.
var signalSources: [DispatchSourceSignal] = []
for sig in [SIGINT, SIGTERM] {
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    source.setEventHandler {
        FileHandle.standardError.write(Data("crsync-bench: interrupted; stopping its processes and removing \(scratch)\n".utf8))
        Interrupt.request()
        Child.killAll()
        // The main thread may be writing one last file of a tree: remove until nothing is left.
        for _ in 0..<10 where FileManager.default.fileExists(atPath: scratch) {
            removeScratch()
            usleep(200_000)
        }
        exit(128 + sig)
    }
    source.resume()
    signalSources.append(source)
}

// `swift run -c release crsync-bench` builds only the bench: build (or bring up to date) the two programs it
// runs, with the bench's own configuration, so that it never measures a missing or stale binary.
if let range = Child.binDir.range(of: "/.build/") {
    let packageRoot = String(Child.binDir[..<range.lowerBound])
    let configuration = Child.binDir.hasSuffix("/debug") ? "debug" : "release"
    for product in ["crsync", "crsync-devserver"] {
        print("crsync-bench: swift build -c \(configuration) --product \(product)")
        fflush(stdout)
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", configuration, "--product", product]
        build.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        do {
            try build.run()
            build.waitUntilExit()
        } catch {
            FileHandle.standardError.write(Data("crsync-bench: cannot run swift build in \(packageRoot): \(error)\n".utf8))
            exit(2)
        }
        guard build.terminationStatus == 0 else {
            FileHandle.standardError.write(Data("crsync-bench: swift build --product \(product) failed (exit \(build.terminationStatus))\n".utf8))
            exit(2)
        }
    }
}

let mode = quick ? "quick" : "full"
print("crsync-bench (\(mode)): \(ProcessInfo.processInfo.activeProcessorCount) cores, binaries from \(Child.binDir), scratch \(scratch)")
if Child.binDir.contains("/debug") {
    print("note: these are debug binaries; figures for the README come from `swift run -c release crsync-bench`")
}
fflush(stdout)

let report = Report()
var couldRun = true
do {
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let server = try BenchServer(scratch: scratch)
    defer { server.stop() }
    let scenarios = Scenarios(server: server, plain: try PlainClient(server: server.url), scratch: scratch, sizes: sizes, report: report)
    let steps: [(String, () throws -> Void)] = [
        ("small-files", scenarios.smallFiles),
        ("big-file", scenarios.bigFile),
        ("rescan", scenarios.rescan),
        ("big-journal", scenarios.bigJournal),
    ]
    if let unknown = only?.subtracting(steps.map(\.0)).first {
        throw BenchError("--only: no scenario \(unknown); there are \(steps.map(\.0).joined(separator: ", "))")
    }
    for (name, step) in steps where only?.contains(name) ?? true {
        do {
            try step()
        } catch {
            // One scenario failing leaves the others' figures worth having.
            report.add(Row(name: name, goal: "—", measured: "not measured", note: "\(error)"))
        }
    }
} catch {
    FileHandle.standardError.write(Data("crsync-bench could not run: \(error)\n".utf8))
    couldRun = false
}
Child.killAll()
removeScratch()
report.printTable()
if let jsonPath {
    do { try report.writeJSON(to: jsonPath, mode: mode) } catch {
        FileHandle.standardError.write(Data("cannot write \(jsonPath): \(error)\n".utf8))
    }
}
exit(couldRun ? 0 : 1)
