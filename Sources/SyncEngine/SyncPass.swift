import CloudreveAPI
import Foundation

/// A local folder kept uploaded to a folder on the server.
public struct SyncRoot: Sendable {
    /// Absolute path.
    public var local: String
    public var remote: CloudrevePath

    public init(local: String, remote: CloudrevePath) {
        self.local = local
        self.remote = remote
    }

    /// The journal's name for this pairing.
    public var key: String { "\(local) -> \(remote)" }
}

/// What one pass did, for the summary and the exit code.
public struct SyncReport: Sendable {
    public var uploaded: [(path: String, bytes: Int64)] = []
    public var unchanged = 0
    /// Found on the server already as we would have sent it (no journal entry yet).
    public var adopted = 0
    public var failed: [(path: String, reason: String)] = []
    /// Files whose server copy had changed since our last upload: ours went beside theirs under `copy`.
    public var conflicts: [(path: String, copy: String)] = []
    /// Things not synced by design (symlinks, FIFOs): reported, not failures.
    public var notes: [String] = []
    public var bytesSent: Int64 = 0
    /// Upload sessions cancelled on the server because they could no longer finish.
    public var cancelledSessions: [String] = []
    public var serverVersion: ServerVersion?
}

/// Called as files finish, from worker threads.
public struct SyncEvents: Sendable {
    public var uploaded: @Sendable (_ path: String, _ bytes: Int64) -> Void = { _, _ in }
    public var failed: @Sendable (_ path: String, _ reason: String) -> Void = { _, _ in }
    public init() {}
}

/// One pass over a root: scan, journal what was seen, upload everything new or changed with a pool of
/// workers, and report. Data flows one way: scanner → journal → workers → client.
public struct SyncPass {
    let client: CloudreveClient
    let journal: Journal
    let root: SyncRoot
    let options: SyncOptions
    let events: SyncEvents

    public init(client: CloudreveClient, journal: Journal, root: SyncRoot, options: SyncOptions, events: SyncEvents = SyncEvents()) {
        self.client = client
        self.journal = journal
        self.root = root
        self.options = options
        self.events = events
    }

    /// Throws only for what stops the whole pass (no server, not signed in, unreadable root); a file that
    /// fails is in the report.
    public func run() throws -> SyncReport {
        var report = SyncReport()
        let version = try client.ping()
        report.serverVersion = version
        let server = ServerSnapshot(version: version, policyID: try rootPolicy())

        let scan = try Scanner.scan(root: root.local)
        report.failed += scan.problems.map { ($0.path, $0.reason) }
        report.notes += scan.skipped.map(\.description)

        var work: [FileRecord] = []
        let seen = Set(scan.files.map { Array($0.path.utf8) })
        // One transaction for the whole scan: one fsync, not one per file.
        for record in try journal.noteScanned(root: root.key, files: scan.files) {
            switch record.state {
            case .synced: report.unchanged += 1
            case .failed where record.permanentFailure:
                report.failed.append((record.path, (record.lastError ?? "failed") + " (not retried until the file changes; `crsync retry` forces it)"))
            default: work.append(record)
            }
        }
        // Copy semantics: a file gone from disk is forgotten, not deleted on the server.
        for record in try journal.records(root: root.key) where !seen.contains(Array(record.path.utf8)) {
            try journal.forget(fileRowID: record.id)
        }

        // After the scan, so that sessions of files that vanished or changed are among the stale ones.
        let janitor = Janitor(client: client, journal: journal)
        try janitor.remember(root: root.remote)
        do {
            report.cancelledSessions = try janitor.sweep(roots: [root.remote], orphans: options.cancelOrphanedUploads)
        } catch {
            // Cleanup is housekeeping: it must not stop uploads. The next pass tries again.
            report.notes.append("stale upload sessions not cleaned: \(error)")
        }

        let lock = NSLock()
        let listings = FolderListings(client: client)
        let uploader = FileUploader(client: client, journal: journal, server: server, options: options, throughput: Throughput())
        runOnWorkers(work, count: options.workers) { record in
            let outcome = self.sync(record, uploader: uploader, listings: listings, version: version)
            lock.withLock {
                switch outcome {
                case .uploaded(let bytes, let sent, let conflictCopy):
                    report.uploaded.append((record.path, bytes))
                    report.bytesSent += sent
                    if let conflictCopy { report.conflicts.append((record.path, conflictCopy.description)) }
                case .adopted: report.adopted += 1
                case .failed(let reason): report.failed.append((record.path, reason))
                }
            }
        }
        return report
    }

    private enum Outcome {
        case uploaded(bytes: Int64, sent: Int64, conflictCopy: CloudrevePath?)
        case adopted
        case failed(String)
    }

    private func sync(_ record: FileRecord, uploader: FileUploader, listings: FolderListings, version: ServerVersion) -> Outcome {
        let localPath = root.local + "/" + record.path
        let remote = root.remote.appending(record.path)
        do {
            if record.remote == nil, try journal.session(fileRowID: record.id) == nil,
               let info = try listings.entry(remote), serverAlreadyHas(info, identity: record.local, version: version) {
                try journal.markSynced(fileRowID: record.id, identity: record.local,
                                       remote: RemoteBaseline(fileID: info.id, entity: info.primaryEntity ?? "", size: info.size,
                                                              mtimeNs: record.local.mtimeNs))
                return .adopted
            }
            let done = try uploader.upload(record: record, localPath: localPath, remote: remote)
            try journal.markSynced(fileRowID: record.id, identity: done.identity, remote: done.remote)
            events.uploaded(record.path, done.identity.size)
            return .uploaded(bytes: done.identity.size, sent: done.bytesSent, conflictCopy: done.conflictCopy)
        } catch {
            let failure = error as? UploadFailure ?? UploadFailure(reason: "\(error)", permanent: (error as? CloudreveError)?.isPermanentForFile ?? false)
            let retryAt = Date().addingTimeInterval(backoffDelay(attempt: record.attempts + 1, base: 30, cap: 3600, random: Double.random(in: 0..<1)))
            try? journal.markFailed(fileRowID: record.id, reason: failure.reason, permanent: failure.permanent,
                                    nextAttemptAt: failure.permanent ? nil : retryAt)
            events.failed(record.path, failure.reason)
            return .failed(failure.reason)
        }
    }

    /// The policy id from the root's listing, creating the root when it is missing.
    private func rootPolicy() throws -> String? {
        do {
            return try client.list(root.remote).storagePolicy?.id
        } catch CloudreveError.api(40016, _, _, _) {
            try client.createFolder(root.remote)
            return try client.list(root.remote).storagePolicy?.id
        }
    }
}

/// Remote folder listings fetched at most once per pass, for files the journal has no record of.
final class FolderListings: @unchecked Sendable {
    private let client: CloudreveClient
    private let lock = NSLock()
    /// Keyed by the folder's encoded URI; names by their bytes, since NFC and NFD spellings differ.
    private var folders: [String: [[UInt8]: FileInfo]] = [:]

    init(client: CloudreveClient) { self.client = client }

    func entry(_ path: CloudrevePath) throws -> FileInfo? {
        let folder = path.parent.uri
        if let cached = lock.withLock({ folders[folder] }) { return cached[Array(path.name.utf8)] }
        var entries: [[UInt8]: FileInfo] = [:]
        do {
            for info in try client.list(path.parent).files { entries[Array(info.name.utf8)] = info }
        } catch CloudreveError.api(40016, _, _, _) {
            // A folder not yet on the server: nothing in it to skip.
        }
        lock.withLock { folders[folder] = entries }
        return entries[Array(path.name.utf8)]
    }
}
