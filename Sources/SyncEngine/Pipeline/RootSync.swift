import CloudreveAPI
import Foundation

/// Keeps one root uploaded: a whole pass (`plan`, which queues what must go), one queued upload on a pool
/// worker (`perform`), local deletions (`remove`) and moves (`move`). `crsync sync` plans once and drains
/// the queue; the daemon keeps one
/// of these per root. Data flows one way: scanner or watcher → journal → workers → client.
public final class RootSync: @unchecked Sendable {
    public let root: SyncRoot
    let client: CloudreveClient
    let journal: Journal
    public let options: SyncOptions
    let events: SyncEvents
    let control: UploadControl
    /// The root's `exclude` patterns plus the temporary-file defaults.
    public let filter: PathFilter
    /// crsync's own files inside this root, relative to it: never uploaded (`OwnFiles`).
    public let ownInside: [String]
    /// Learned by `prepare`, from the coordinator or any pool worker: read and written under `serverLock`.
    private var serverSnapshot: ServerSnapshot?
    private let serverLock = NSLock()
    var server: ServerSnapshot? { serverLock.withLock { serverSnapshot } }
    private let throughput = Throughput()
    /// Folder listings of the current whole pass, for files a scan queued with `checkServer`.
    private var passListingsStore: FolderListings
    private var passListings: FolderListings {
        get { serverLock.withLock { passListingsStore } }
        set { serverLock.withLock { passListingsStore = newValue } }
    }
    /// A file of at most this many bytes is one chunk: the pool's fairness rule lets it take any worker.
    public var smallFileLimit: Int64 { throughput.chunkSize }

    public init(client: CloudreveClient, journal: Journal, root: SyncRoot, options: SyncOptions, events: SyncEvents = SyncEvents(),
                control: UploadControl = UploadControl()) throws {
        ownInside = OwnFiles.inside(root: root.local, root.ownFiles)
        do {
            filter = try PathFilter(patterns: root.exclude).protecting(ownInside)
        } catch {
            throw CloudreveError.usage("\(root.local): \(error)")
        }
        self.client = client
        passListingsStore = FolderListings(client: client)
        self.journal = journal
        self.root = root
        self.options = options
        self.events = events
        self.control = control
    }

    /// Learns the server's release. Throws for what stops the whole root: no server, not signed in.
    public func prepare() throws {
        let version = try client.ping()
        serverLock.withLock { serverSnapshot = ServerSnapshot(version: version, policyID: nil) }
        try Janitor(client: client, journal: journal).remember(root: root.remote)
    }

    /// Learns the storage policy from the root's listing (creating the remote root if missing), once per
    /// `RootSync`: only when something is to be uploaded, so that a pass with nothing to send sends only the
    /// version check and the search for stale uploads.
    func learnPolicy() throws {
        if server == nil { try prepare() }
        guard server?.policyKnown == false else { return }
        let policy = try rootPolicy()
        serverLock.withLock {
            serverSnapshot?.policyID = policy?.id
            serverSnapshot?.maxSize = policy?.maxSize
            serverSnapshot?.policyKnown = true
        }
    }

    /// A whole pass up to the uploads: scan, compare with the journal in memory, move what was renamed
    /// while unwatched, apply local deletions per the root's policy, journal what changed and queue its
    /// upload (to be checked against the server first), handing each batch to `feed` as it goes so the
    /// pool starts while a large tree is still being journaled; then cancel stale upload sessions (not
    /// those of paths `busy` says are uploading). A file that cannot be read is in the report.
    public func plan(feed: ([WorkItem]) -> Void, busy: @escaping (String) -> Bool = { _ in false }) throws -> SyncReport {
        if server == nil { try prepare() }
        var report = SyncReport()
        report.serverVersion = server?.version
        let scan = try Scanner.scan(root: root.local, filter: filter)
        report.failed += scan.problems.map { ($0.path, $0.reason) }
        report.notes += scan.skipped.map(\.description)
        report.notes += ownInside.map { "\($0): crsync's own state or configuration, never uploaded" }
        passListings = FolderListings(client: client)

        // What the journal knows, read once: an unchanged file costs no statement of its own. Each scanned
        // path takes its row out, so what is left at the end was journaled and is gone from the disk.
        var known = try journal.scanBaselines(root: root.key)
        var changed: [ScannedFile] = []
        var newcomers: [FileRecord] = []
        for file in scan.files {
            guard let baseline = known.removeValue(forKey: ExactPath(file.path)) else {
                changed.append(file)
                newcomers.append(FileRecord(id: 0, root: root.key, path: file.path, state: .pending, local: file.identity, remote: nil,
                                            attempts: 0, nextAttemptAt: nil, lastError: nil, permanentFailure: false))
                continue
            }
            if baseline.local != file.identity || !baseline.synced { changed.append(file) }
        }
        report.unchanged += scan.files.count - changed.count
        var vanished = try known.keys.map(\.path).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .compactMap { try journal.record(root: root.key, path: $0) }.map(settleInterrupted)
        known = [:]
        // Something to upload, or an empty root (whose remote folder is created, as a user expects).
        if !changed.isEmpty || scan.files.isEmpty { try learnPolicy() }

        // A vanished file whose exact identity (device, inode, size, mtime) reappears under a new name was
        // renamed or moved while nobody watched: moved on the server, nothing sent again.
        for (source, target) in renamesAmong(vanished: vanished, new: newcomers) where try move(from: source.path, to: target.path) {
            vanished.removeAll { $0.id == source.id }
        }
        if !vanished.isEmpty {
            if scan.files.isEmpty && root.deletes == .trash {
                // An empty root with a full journal is far more likely an unmounted disk than a deliberate
                // deletion of everything: nothing is trashed on the server.
                report.warnings.append(RootPresence.empty.refusal(root.local, count: vanished.count)!)
            } else {
                report.merge(try remove(vanished.map { ($0.path, false) }))
            }
        }

        var free: Int64?? = nil  // asked at most once per pass, and only if a quota refusal is waiting
        for start in stride(from: 0, to: changed.count, by: 1000) {
            var work: [FileRecord] = []
            for record in try journal.noteScanned(root: root.key, files: Array(changed[start..<min(start + 1000, changed.count)])) {
                if record.state == .failed, record.permanentFailure, record.failureCode == 40051 {
                    if free == nil { free = .some((try? client.capacity()).map { $0.total - $0.used }) }
                    if let room = free ?? nil, room >= record.local.size {
                        // The quota freed since (§8 step 6): worth another try, as a pending file.
                        try journal.markPending(fileRowID: record.id)
                        work.append(record)
                        continue
                    }
                }
                if options.honorBackoff, record.state == .failed, !record.permanentFailure, let next = record.nextAttemptAt, next > Date() {
                    report.failed.append((record.path, (record.lastError ?? "failed") + " (next try after \(next))"))
                    continue
                }
                switch record.state {
                case .synced: report.unchanged += 1  // renamed on the server just now, or touched without a change
                case .failed where record.permanentFailure:
                    report.failed.append((record.path, (record.lastError ?? "failed") + " (not retried until the file changes; `crsync retry` forces it)"))
                default: work.append(record)
                }
            }
            guard !work.isEmpty else { continue }
            events.planned(work.count, work.reduce(0) { $0 + $1.local.size })
            let now = Date()
            feed(try journal.enqueue(work.map { WorkItem(root: root.key, path: $0.path, kind: .upload, due: now, checkServer: true) }))
        }

        // Sessions of files that vanished or changed are stale now; one the server completed after all is
        // first recorded as the file's baseline. A session a worker is using right now is left alone.
        do {
            let janitor = Janitor(client: client, journal: journal)
            let inUse: (SessionRecord) -> Bool = { [journal] session in
                (try? journal.record(id: session.fileRowID)).flatMap { $0 }.map { busy($0.path) } ?? false
            }
            for session in try janitor.staleJournalSessions() where !inUse(session) {
                if let record = try journal.record(id: session.fileRowID), record.root == root.key { _ = try settleInterrupted(record) }
            }
            report.cancelledSessions = try janitor.sweep(roots: [root.remote], orphans: options.cancelOrphanedUploads, skip: inUse)
        } catch let error as SQLiteError where stateTrouble(error) != nil {
            throw error
        } catch {
            // Housekeeping must not stop uploads; the next pass tries again.
            report.notes.append("stale upload sessions not cleaned: \(error)")
        }
        control.metrics?.add(.sessionsCancelled, Double(report.cancelledSessions.count))
        return report
    }

    /// Records that a whole pass of this root completed (`crsync status` shows when).
    public func notePassCompleted() throws {
        try journal.setSetting(RootSync.lastPassKey + root.key, ISO8601DateFormatter().string(from: Date()))
    }

    /// Settings key prefix of when each root's last whole pass completed.
    public static let lastPassKey = "last_pass:"

    /// What a whole pass would do, changing nothing (`--dry-run`): uploads, and local deletions that
    /// would go to the server's trash (or only be forgotten).
    public func dryRun() throws -> (upload: [(path: String, bytes: Int64)], move: [(from: String, to: String)], delete: [String],
                                    problems: [ScanProblem]) {
        let scan = try Scanner.scan(root: root.local, filter: filter)
        let seen = Set(scan.files.map { Array($0.path.utf8) })
        var vanished = try journal.records(root: root.key).filter { !seen.contains(Array($0.path.utf8)) && $0.remote != nil }
        var upload: [(String, Int64)] = []
        var move: [(String, String)] = []
        for file in scan.files {
            let record = try journal.record(root: root.key, path: file.path)
            if record == nil, let source = vanished.first(where: { $0.local == file.identity && $0.state == .synced }) {
                move.append((source.path, file.path))
                vanished.removeAll { $0.id == source.id }
            } else if record == nil || record?.local != file.identity || record?.state != .synced {
                upload.append((file.path, file.identity.size))
            }
        }
        return (upload, move, root.deletes == .trash ? topmostPaths(vanished.map(\.path)) : [], scan.problems)
    }

    /// What became of one queued item on a pool worker.
    public struct Performed: Sendable {
        public var report = SyncReport()
        /// The root cannot go on now (no server, sign-in gone): the pool holds its work back.
        public var rootError: CloudreveError?
        /// The file failed for now: when to try it again (the daemon re-queues it then).
        public var retryAt: Date?
        /// Left in the queue: the run stopped, or the upload was cancelled for a deletion or a move.
        public var interrupted = false
    }

    /// Uploads one queued file, on a pool worker, if it is new or changed since the journal last saw it,
    /// and finishes its queue item unless it must be tried again.
    func perform(_ item: WorkItem, cancel: CancelFlag) -> Performed {
        var result = Performed()
        let server: ServerSnapshot
        do {
            try learnPolicy()
            guard let prepared = self.server else { return result }
            server = prepared
        } catch let error as CloudreveError {
            result.rootError = error
            return result
        } catch {
            result.rootError = .usage("\(root.remote): \(error)")
            return result
        }
        do {
            // Through its folder when the path is PATH_MAX or longer.
            guard let st = LocalFile.linkStatus(root.local + "/" + item.path), (st.st_mode & S_IFMT) == S_IFREG,
                  !excludedWithFolders(item.path) else {
                // Gone, not a file any more, or excluded: nothing to upload (a deletion, if any, is its own item).
                // Worth a note for a file a scan saw; the watcher's vanished names are mostly temporary files.
                if item.checkServer, LocalKind.of(root.local + "/" + item.path) == .none {
                    result.report.notes.append("\(item.path): deleted before it was uploaded; nothing sent")
                }
                try journal.finish([item])
                return result
            }
            let record = try journal.noteScanned(root: root.key, path: item.path, identity: Scanner.identity(of: st))
            if record.state == .synced || record.permanentFailure {
                try journal.finish([item])
                return result
            }
            if options.honorBackoff, record.state == .failed, let next = record.nextAttemptAt, next > Date() {
                result.retryAt = next
                return result
            }
            var uploader = FileUploader(client: client, journal: journal, server: server, options: options, throughput: throughput,
                                        control: control, allowAppends: item.appends, warn: events.warning)
            uploader.cancel = cancel
            // A file the watcher just saw appear cannot be on the server already as ours; a scan's might (a lost journal).
            var finished = false
            switch sync(record, item: item, uploader: uploader, listings: item.checkServer ? passListings : nil, version: server.version) {
            case .uploaded(let bytes, let sent, let conflictCopy):
                finished = true  // in the transaction that recorded it
                result.report.uploaded.append((record.path, bytes))
                result.report.bytesSent += sent
                if let conflictCopy { result.report.conflicts.append((record.path, conflictCopy.description)) }
            case .adopted: result.report.adopted += 1
            case .vanished: result.report.notes.append("\(record.path): deleted before it was uploaded; nothing sent")
            case .failed(let reason, let permanent, let unreachable):
                result.report.failed.append((record.path, reason))
                if !permanent { result.retryAt = (try journal.record(id: record.id))?.nextAttemptAt ?? Date().addingTimeInterval(30) }
                if unreachable { result.rootError = .usage("the server of \(root.remote) cannot be reached: \(reason)") }
            case .interrupted:
                result.report.interrupted = control.isStopping
                result.interrupted = true
                return result
            case .halted(let message):
                // The journal cannot be written (full disk, damage): the item stays queued for the next pass.
                result.report.halted = message
                result.interrupted = true
                return result
            }
            if result.retryAt == nil, !finished { try journal.finish([item]) }
        } catch let error as SQLiteError where stateTrouble(error) != nil {
            result.report.halted = stateTrouble(error)
            result.interrupted = true
        } catch {
            result.report.failed.append((item.path, "\(error)"))
            result.retryAt = Date().addingTimeInterval(30)
        }
        return result
    }

    private enum Outcome {
        case uploaded(bytes: Int64, sent: Int64, conflictCopy: CloudrevePath?)
        case adopted
        /// Deleted locally before or during its upload: a note, not a failure.
        case vanished
        /// `unreachable`: the server could not be reached at all.
        case failed(String, permanent: Bool, unreachable: Bool)
        case interrupted
        /// The state directory is full or the journal damaged: the pass stops (`stateTrouble`).
        case halted(String)
    }

    private func sync(_ record: FileRecord, item: WorkItem, uploader: FileUploader, listings: FolderListings?, version: ServerVersion) -> Outcome {
        let localPath = root.local + "/" + record.path
        let remote = root.remote.appending(record.path)
        let started = Date()
        var record = record
        do {
            // What the server holds may have been learned since the pass began (`settleInterrupted`).
            if let fresh = try journal.record(id: record.id) { record.remote = fresh.remote }
            let session = try journal.session(fileRowID: record.id)
            if let listings, record.remote == nil, session == nil,
               let info = try listings.entry(remote), serverAlreadyHas(info, identity: record.local, version: version) {
                try journal.markSynced(fileRowID: record.id, identity: record.local,
                                       remote: RemoteBaseline(fileID: info.id, entity: info.primaryEntity ?? "", size: info.size,
                                                              mtimeNs: record.local.mtimeNs))
                return .adopted
            }
            // A resumed upload starts where the server's acknowledgements left it, not at 0 %.
            control.board.begin(record.id, root: root.local, path: record.path, size: record.local.size,
                                alreadySent: session.map { acknowledgedBytes($0) } ?? 0)
            defer { control.board.end(record.id) }
            let done = try uploader.upload(record: record, localPath: localPath, remote: remote)
            CrashHook.reached(.beforeSynced)
            try journal.markSynced(fileRowID: record.id, identity: done.identity, remote: done.remote, finishing: [item])
            events.uploaded(record.path, done.identity.size, Date().timeIntervalSince(started))
            control.metrics?.add(.filesUploaded)
            control.metrics?.add(.bytesSent, Double(done.bytesSent))
            control.metrics?.observe(.uploadDuration, Date().timeIntervalSince(started))
            return .uploaded(bytes: done.identity.size, sent: done.bytesSent, conflictCopy: done.conflictCopy)
        } catch is Stopped {
            return .interrupted
        } catch is FileVanished {
            // Its session (one a crash left, say) must not stay behind holding a placeholder and quota; one
            // the server completed becomes the baseline, for the deletion to act on.
            _ = try? settleInterrupted(record)
            if let session = try? journal.session(fileRowID: record.id) { try? Janitor(client: client, journal: journal).cancel(session) }
            return .vanished
        } catch let error as SQLiteError where stateTrouble(error) != nil {
            // Not this file's failure, and not journaled as one: it stays pending, and a session it
            // started stays journaled (or its creation marker does), so the next pass resumes or cancels it.
            return .halted(stateTrouble(error)!)
        } catch {
            let failure = error as? UploadFailure
                ?? UploadFailure(reason: "\(error)", permanent: (error as? CloudreveError)?.isPermanentForFile ?? false,
                                 code: (error as? CloudreveError)?.code)
            let retryAt = Date().addingTimeInterval(backoffDelay(attempt: record.attempts + 1, base: 30, cap: 3600, random: Double.random(in: 0..<1)))
            try? journal.markFailed(fileRowID: record.id, reason: failure.reason, permanent: failure.permanent,
                                    nextAttemptAt: failure.permanent ? nil : retryAt, code: failure.code)
            events.failed(record.path, failure.reason)
            control.metrics?.add(.filesFailed)
            var unreachable = failure.unreachable
            if case .transport(let transport)? = error as? CloudreveError, !transport.isLocalReadError { unreachable = true }
            return .failed(failure.reason, permanent: failure.permanent, unreachable: unreachable)
        }
    }

    /// Learns the id and entity of files uploaded without asking for them (UnconfirmedBaseline.swift): one
    /// listing per folder that has such files, after their uploads are done, instead of one `GET /file/info`
    /// per file. A file the listing does not show as ours stays unconfirmed; its next version asks for it.
    /// Returns how many were learned. Listing errors are left for the next pass.
    @discardableResult
    public func learnUploadedBaselines() throws -> Int {
        let records = try journal.unconfirmedRecords(root: root.key)
        guard !records.isEmpty else { return 0 }
        if server == nil { try prepare() }
        guard let version = server?.version else { return 0 }
        var learned: [(fileRowID: Int64, was: RemoteBaseline, now: RemoteBaseline)] = []
        let folders = Dictionary(grouping: records) { root.remote.appending($0.path).parent.uri }
        for group in folders.values {
            guard let listing = try? client.list(root.remote.appending(group[0].path).parent) else { continue }
            var byName: [[UInt8]: FileInfo] = [:]
            for info in listing.files { byName[Array(info.name.utf8)] = info }
            for record in group {
                guard let baseline = record.remote, let info = byName[Array(root.remote.appending(record.path).name.utf8)],
                      isUnconfirmedUpload(info, baseline: baseline, version: version) else { continue }
                learned.append((record.id, baseline, RemoteBaseline(learned: info, from: baseline)))
            }
        }
        try journal.learnBaselines(learned)
        return learned.count
    }

    /// Whether `path` or any folder above it is excluded.
    private func excludedWithFolders(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for end in parts.indices {
            let prefix = parts[...end].joined(separator: "/")
            if filter.excludes(prefix, isDirectory: end < parts.count - 1) { return true }
        }
        return false
    }

    /// The policy id from the root's listing, creating the root when it is missing. The listing also
    /// serves the pass's check of the root's own files (`passListings`).
    private func rootPolicy() throws -> StoragePolicy? {
        let listing: FolderListing
        do {
            listing = try client.list(root.remote)
        } catch CloudreveError.api(40016, _, _, _) {
            try client.createFolder(root.remote)
            listing = try client.list(root.remote)
        }
        passListings.remember(root.remote, listing.files)
        return listing.storagePolicy
    }
}

/// Bytes of a session's chunks that the server acknowledged.
func acknowledgedBytes(_ session: SessionRecord) -> Int64 {
    let plan = ChunkPlan(size: session.identity.size, chunkSize: session.chunkSize)
    return session.acknowledged.reduce(0) { $0 + plan.range(of: $1).length }
}

/// Pairs files that vanished with new files of the same identity: renames done while unwatched.
func renamesAmong(vanished: [FileRecord], new: [FileRecord]) -> [(FileRecord, FileRecord)] {
    let candidates = vanished.filter { $0.remote != nil && $0.state == .synced }
    var byIdentity: [FileIdentity: FileRecord] = [:]
    for record in candidates { byIdentity[record.local] = record }
    return new.compactMap { target in
        guard target.remote == nil, let source = byIdentity[target.local] else { return nil }
        byIdentity[target.local] = nil
        return (source, target)
    }
}
