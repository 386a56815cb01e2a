import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload a folder once: everything new or changed, then a summary.",
        discussion: """
        Copies LOCAL into REMOTE (deleted local files are not deleted on the server). A file already \
        uploaded and unchanged since costs no request. Interrupted uploads resume from the last chunk the \
        server acknowledged. REMOTE names are plain, e.g. "cloudreve://my/My Documents".
        Exit codes: 0 everything arrived, 1 some files failed, 2 usage error, 4 not signed in.
        """)

    @Argument(help: ArgumentHelp("The local folder to upload.", valueName: "LOCAL"))
    var local: String

    @Argument(help: ArgumentHelp("Where it goes, e.g. cloudreve://my/Backups/laptop.", valueName: "REMOTE"))
    var remote: String

    @Option(help: ArgumentHelp("Server address; must be the one signed in to (default: that one).", valueName: "URL"))
    var server: String?

    @Option(help: "Files uploaded at once.")
    var workers = 4

    @OptionGroup var state: StateOptions

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
    }

    func run() throws {
        do {
            let root = SyncRoot(local: absolutePath(local), remote: try CloudrevePath(parsing: remote))
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root.local, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw UsageError(message: "\(root.local) is not a folder")
            }
            let client = try state.signedInClient(server: server)
            let journal = try state.openJournal()
            var options = SyncOptions()
            options.workers = workers
            var events = SyncEvents()
            events.uploaded = { path, bytes, _ in print("uploaded \(path) (\(formatBytes(bytes)))") }
            events.failed = { path, reason in complain("failed: \(path): \(reason)") }
            let started = Date()
            let report = try RootSync(client: client, journal: journal, root: root, options: options, events: events).reconcile()
            printSummary(report, seconds: Date().timeIntervalSince(started))
            if !report.failed.isEmpty { throw ExitCode(ExitStatus.someFilesFailed) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error)
        }
    }

    private func printSummary(_ report: SyncReport, seconds: TimeInterval) {
        for note in report.notes { print("skipped \(note)") }
        let bytes = report.uploaded.reduce(0) { $0 + $1.bytes }
        var line = "\(report.uploaded.count) uploaded (\(formatBytes(bytes)) in \(String(format: "%.1f", seconds)) s), "
            + "\(report.unchanged + report.adopted) unchanged, \(report.failed.count) failed"
        if let version = report.serverVersion { line += " [Cloudreve \(version)]" }
        print(line)
        for conflict in report.conflicts {
            print("conflict: \(conflict.path) changed on the server since our last upload; theirs kept, ours uploaded as \(conflict.copy)")
        }
        for cancelled in report.cancelledSessions { print("cancelled stale upload session: \(CloudrevePath(uriOrRaw: cancelled))") }
        // Failures again at the end, where a person looks; each names the path and the reason.
        for failure in report.failed { complain("not uploaded: \(failure.path): \(failure.reason)") }
    }
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
