import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One pass: upload everything new or changed, then a summary.",
        discussion: """
        Without arguments, every folder of the configuration, each following its `deletes` setting. With \
        LOCAL and REMOTE, that folder alone; it copies (local deletions are not propagated unless \
        --deletes trash). A file already uploaded and unchanged costs no request; interrupted uploads resume \
        from the last chunk the server acknowledged. REMOTE names are plain: "cloudreve://my/My Documents".
        Exit codes: 0 everything arrived, 1 some files failed (each named), 2 usage or configuration error, \
        3 another crsync is using the state directory, 4 sign-in needed (run `crsync login`), 130/143 interrupted by SIGINT/SIGTERM.
        """)

    @Argument(help: ArgumentHelp("A local folder to upload (default: the configured folders).", valueName: "LOCAL"))
    var local: String?

    @Argument(help: ArgumentHelp("Where it goes, e.g. cloudreve://my/Backups/laptop.", valueName: "REMOTE"))
    var remote: String?

    @Option(help: ArgumentHelp("Server address, with LOCAL REMOTE: must be the one signed in to (default: that one).", valueName: "URL"))
    var server: String?

    @Option(help: ArgumentHelp("With LOCAL REMOTE: what a local deletion does on the server, trash or keep.", valueName: "POLICY"))
    var deletes = "keep"

    @Option(help: "Files uploaded at once (default: the configuration's, else 4).")
    var workers: Int?

    @Option(help: ArgumentHelp("Upload speed limit, like [upload] bandwidth: \"8M\" (bytes/s), \"off\", or a timetable \"08:00,2M 19:00,off\" (default: the configuration's).", valueName: "RATE"))
    var bwlimit: String?

    @Flag(help: "List what would be uploaded and deleted; change nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON event per line instead of text.")
    var json = false

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var state: StateOptions

    func validate() throws {
        if let workers, !(1...64).contains(workers) { throw ValidationError("--workers must be between 1 and 64") }
        if (local == nil) != (remote == nil) { throw ValidationError("give both LOCAL and REMOTE, or neither (then the configured folders are synced)") }
        if DeletePolicy(rawValue: deletes) == nil { throw ValidationError("--deletes must be trash or keep") }
        if let bwlimit {
            do { _ = try BandwidthSchedule(parsing: bwlimit) } catch { throw ValidationError("--bwlimit: \(error)") }
        }
    }

    func run() throws {
        let output = PassOutput(json: json)
        let control = UploadControl()
        let signals = SignalWatch([SIGTERM, SIGINT]) { _ in control.stop() }
        defer { signals.cancel() }
        do {
            if !dryRun { try StateLock.take(directory: state.directory, command: "sync") }
            let progress = output.isTerminal && !output.json ? ProgressLine(board: control.board) : nil
            let (roots, upload) = try prepareRoots(output: output, control: control, progress: progress)
            if dryRun { return try printDryRun(roots, output: output) }
            if let schedule = try bwlimit.map(BandwidthSchedule.init(parsing:)) ?? upload?.bandwidth {
                control.setThrottle(limiter(for: schedule))
            }
            let publisher = StatusPublisher(stateDirectory: state.directory, board: control.board, command: "sync")
            publisher.start()
            progress?.start()
            var report = SyncReport()
            let started = Date()
            // The daemon's engine, run until its queue is empty: each root is scanned and its work queued
            // (journaled), and one pool of workers shared by every root uploads it.
            let pool = UploadPool(workers: roots.first?.options.workers ?? 4, control: control)
            publisher.setQueue { pool.status() }
            pool.start()
            defer {
                control.stop()  // a sign-in error leaves the loop early: nothing more may start
                pool.stop()
            }
            var planned: [RootSync] = []
            for root in roots {
                if control.isStopping { break }
                if report.halted != nil || pool.report.halted != nil { break }
                do {
                    report.merge(try root.plan(feed: { pool.submit($0, root: root) },
                                               busy: { pool.isRunning(root: root.root.key, under: $0) }))
                    planned.append(root)
                } catch let error as CloudreveError {
                    if case .notSignedIn = error { throw error }
                    report.failed.append((root.root.local, "\(error)"))
                } catch let error as SQLiteError where stateTrouble(error) != nil {
                    report.halted = stateTrouble(error)
                }
            }
            pool.waitUntilIdle()
            report.merge(pool.report)
            if control.isStopping { report.interrupted = true }
            // The ids and entities the uploads did not ask for: one listing per folder (UnconfirmedBaseline.swift).
            // Not when stopping: an exit waits for no listing; the next pass (or the next version) learns them.
            if !report.interrupted && report.halted == nil {
                for root in planned {
                    _ = try? root.learnUploadedBaselines()
                    try? root.notePassCompleted()
                }
            }
            progress?.stop()
            publisher.stop()
            output.summary(report, seconds: Date().timeIntervalSince(started))
            if let code = signals.interruptionExitCode { throw ExitCode(code) }
            if !report.failed.isEmpty || report.halted != nil { throw ExitCode(ExitStatus.someFilesFailed) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    /// The ad-hoc folder, or every configured one, each with its signed-in client.
    private func prepareRoots(output: PassOutput, control: UploadControl, progress: ProgressLine?) throws -> ([RootSync], UploadSettings?) {
        var events = SyncEvents()
        events.uploaded = { path, bytes, seconds in
            output.uploaded(path, bytes, seconds)
            progress?.finished(bytes)
        }
        events.planned = { files, bytes in progress?.planned(files, bytes) }
        events.failed = { path, reason in output.failed(path, reason) }
        events.note = { message in output.note(message) }
        events.warning = { message in output.note("warning: " + message) }
        if let local, let remote {
            let root = SyncRoot(local: absolutePath(local), remote: try CloudrevePath(parsing: remote), deletes: DeletePolicy(rawValue: deletes)!,
                                ownFiles: [state.directory, configOptions.path])
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.local, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UsageError(message: "\(root.local) is not a folder")
            }
            // The configuration's [upload] settings (and the signed-in server's ca_file) apply here too; a
            // default configuration that does not exist is no error, a --config that does not is.
            let config = configOptions.config != nil || FileManager.default.fileExists(atPath: configOptions.path) ? try configOptions.load() : nil
            var options = config?.upload.syncOptions ?? SyncOptions()
            if let workers { options.workers = workers }
            let client = try state.signedInClient(server: server, profiles: config.map { Array($0.profiles.values) } ?? [])
            let journal = dryRun ? try state.openJournal() : try state.openJournalRecovering(note: events.note)
            return ([try RootSync(client: client, journal: journal, root: root, options: options, events: events, control: control)],
                    config?.upload)
        }
        let config = try configOptions.load()
        var options = config.upload.syncOptions
        if let workers { options.workers = workers }
        return (try state.roots(of: config, options: options, events: events, control: control, recover: !dryRun), config.upload)
    }

    private func printDryRun(_ roots: [RootSync], output: PassOutput) throws {
        for root in roots {
            let plan = try root.dryRun()
            for item in plan.upload { output.plan("would upload", root.root.local + "/" + item.path, item.bytes) }
            for item in plan.move {
                output.plan("would move on the server", "\(root.root.remote.appending(item.from)) -> \(root.root.remote.appending(item.to))", nil)
            }
            for path in plan.delete { output.plan("would move to the server's trash", root.root.remote.appending(path).description, nil) }
            for problem in plan.problems { output.plan("cannot upload (\(problem.reason))", root.root.local + "/" + problem.path, nil) }
        }
    }
}
