import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what is pending, uploading and failed, per folder; works while the daemon runs.",
        discussion: "Reads the journal (SQLite in WAL mode, safe to read while crsync writes it) and the running crsync's status.json.")

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var state: StateOptions

    struct RootStatus: Codable {
        var root: String
        var pendingFiles = 0
        var pendingBytes: Int64 = 0
        var failed: [[String: String]] = []
        var inFlight: [ProgressBoard.Entry] = []
        /// The running crsync's upload queue for this root (nil when none runs).
        var queue: UploadPool.QueueStatus?
        var lastPassCompleted: String?

        enum CodingKeys: String, CodingKey {
            case root, failed, queue
            case pendingFiles = "pending_files", pendingBytes = "pending_bytes", inFlight = "in_flight"
            case lastPassCompleted = "last_pass_completed"
        }
    }

    struct Output: Codable {
        var running: Bool
        var pid: Int32?
        var serverVersion: String?
        var rate: Double?
        var quotaUsed: Int64?
        var quotaTotal: Int64?
        /// How the storage policy uploads (relay cannot resume), from the last session created.
        var uploadMode: String?
        var roots: [RootStatus]
        enum CodingKeys: String, CodingKey {
            case running, pid, rate, roots
            case uploadMode = "upload_mode"
            case serverVersion = "server_version", quotaUsed = "quota_used", quotaTotal = "quota_total"
        }
    }

    func run() throws {
        do {
            let journal = try state.openJournal()
            let live = StatusPublisher.read(stateDirectory: state.directory)
            var keys = try journal.rootKeys()
            if let config = try? CrsyncConfig.load(path: configOptions.path) {
                let configured = config.roots.map { SyncRoot(local: $0.local, remote: $0.remote).key }
                keys = configured + keys.filter { key in !configured.contains { Array($0.utf8) == Array(key.utf8) } }
            }
            var roots: [RootStatus] = []
            for key in keys {
                var status = RootStatus(root: key)
                for record in try journal.records(root: key) {
                    switch record.state {
                    case .pending:
                        status.pendingFiles += 1
                        status.pendingBytes += record.local.size
                    case .failed:
                        status.failed.append(["path": record.path, "reason": record.lastError ?? "failed"])
                    case .synced: break
                    }
                }
                let local = key.components(separatedBy: " -> ").first ?? key
                status.inFlight = live?.inFlight.filter { $0.root == local } ?? []
                status.queue = live?.queue?.first { Array($0.root.utf8) == Array(key.utf8) }
                status.lastPassCompleted = try journal.setting(RootSync.lastPassKey + key)
                roots.append(status)
            }
            var output = Output(running: live != nil, pid: live?.pid, serverVersion: live?.serverVersion, rate: live?.rate, roots: roots)
            output.uploadMode = try UploadMode.current(journal: journal)
            // The server is asked only when signed in; status works offline too.
            if let client = try? state.signedInClient(server: nil) {
                output.serverVersion = output.serverVersion ?? (try? client.ping())?.description
                if let capacity = try? client.capacity() {
                    output.quotaUsed = capacity.used
                    output.quotaTotal = capacity.total
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(output), as: UTF8.self))
            } else {
                printText(output)
            }
        } catch {
            throw fail(error)
        }
    }

    private func printText(_ output: Output) {
        if let pid = output.pid {
            print("crsync is running (pid \(pid))" + (output.rate.map { ", uploading at \(formatBytes(Int64($0)))/s" } ?? ""))
        } else {
            print("crsync is not running")
        }
        if let version = output.serverVersion { print("server: Cloudreve \(version)") }
        if let mode = output.uploadMode { print("uploads: \(mode)") }
        if let used = output.quotaUsed, let total = output.quotaTotal { print("quota: \(formatBytes(used)) of \(formatBytes(total)) used") }
        if output.roots.isEmpty { print("nothing synced yet") }
        for root in output.roots {
            print("\n" + printable(root.root))
            print("  pending: \(root.pendingFiles) file(s), \(formatBytes(root.pendingBytes))")
            for entry in root.inFlight {
                let percent = entry.size > 0 ? Int(Double(entry.sent) * 100 / Double(entry.size)) : 100
                print("  uploading: \(printable(entry.path)) \(percent)% of \(formatBytes(entry.size))" + (entry.stalled.map { "; " + printable($0) } ?? ""))
            }
            if let queue = root.queue {
                var line = "  queue: \(queue.pending) file(s) queued (\(formatBytes(queue.pendingBytes))), \(queue.running) uploading, "
                    + "\(queue.waiting) waiting for their quiet period"
                if let until = queue.backingOffUntil { line += "; backing off until \(ISO8601DateFormatter().string(from: until))" }
                print(line)
            }
            for failure in root.failed { print(printable("  failed: \(failure["path"] ?? ""): \(failure["reason"] ?? "")")) }
            print("  last complete pass: \(root.lastPassCompleted ?? "never")")
        }
    }
}
