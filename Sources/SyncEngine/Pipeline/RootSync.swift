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
    private var server: ServerSnapshot? { serverLock.withLock { serverSnapshot } }
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

    /// Learns the server's release and storage policy (creating the remote root if missing). Throws for
    /// what stops the whole root: no server, not signed in.
    public func prepare() throws {
        let version = try client.ping()
        let policy = try rootPolicy()
        let snapshot = ServerSnapshot(version: version, policyID: policy?.id, maxSize: policy?.maxSize)
        serverLock.withLock { serverSnapshot = snapshot }
        try Janitor(client: client, journal: journal).remember(root: root.remote)
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

        // What the journal knows, read once: an unchanged file costs no statement of its own.
        var known: [[UInt8]: FileRecord] = [:]
        for record in try journal.records(root: root.key) { known[Array(record.path.utf8)] = record }
        let seen = Set(scan.files.map { Array($0.path.utf8) })
        var vanished = try known.values.filter { !seen.contains(Array($0.path.utf8)) }.sorted { $0.path < $1.path }.map(settleInterrupted)
        let changed = scan.files.filter { file in
            guard let record = known[Array(file.path.utf8)] else { return true }
            return record.local != file.identity || record.state != .synced
        }
        report.unchanged += scan.files.count - changed.count

        // A vanished file whose exact identity (device, inode, size, mtime) reappears under a new name was
        // renamed or moved while nobody watched: moved on the server, nothing sent again.
        let newcomers = changed.filter { known[Array($0.path.utf8)] == nil }.map {
            FileRecord(id: 0, root: root.key, path: $0.path, state: .pending, local: $0.identity, remote: nil, attempts: 0,
                       nextAttemptAt: nil, lastError: nil, permanentFailure: false)
        }
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
            if self.server == nil { try prepare() }
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
            switch sync(record, uploader: uploader, listings: item.checkServer ? passListings : nil, version: server.version) {
            case .uploaded(let bytes, let sent, let conflictCopy):
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
            if result.retryAt == nil { try journal.finish([item]) }
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

    private func sync(_ record: FileRecord, uploader: FileUploader, listings: FolderListings?, version: ServerVersion) -> Outcome {
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
            try journal.markSynced(fileRowID: record.id, identity: done.identity, remote: done.remote)
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
            if let session = try? journal.session(fileRowID: record.id) {
                try? client.cancelUploadSession(id: session.sessionID, uri: session.uri)
                try? journal.deleteSession(sessionID: session.sessionID)
            }
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

    /// Local deletions (relative paths; folders include everything under them). With `deletes = "trash"`
    /// what the server holds goes to its trash — a whole folder in one call — otherwise it stays there;
    /// either way the journal forgets it.
    ///
    /// The one rule for every deletion, from the watcher or a rescan: only what the user deleted goes.
    /// Nothing is deleted while the root is gone or empty (`RootPresence`), nor a path that is still there
    /// as what it was or cannot be inspected (`LocalKind.isGone`). A path whose folder above it is gone (or
    /// is now a file) is removed as that folder, so the server ends as the disk is.
    public func remove(_ paths: [(path: String, isDirectory: Bool)]) throws -> SyncReport {
        var report = SyncReport()
        guard !paths.isEmpty else { return report }
        if let refusal = RootPresence.of(root.local).refusal(root.local, count: paths.count) {
            report.warnings.append(refusal)
            return report
        }
        // Keyed by bytes: NFC and NFD spellings of a name are different files.
        var gone: [[UInt8]: (path: String, isDirectory: Bool)] = [:]
        for (path, isDirectory) in paths where LocalKind.of(root.local + "/" + path).isGone(wasDirectory: isDirectory) {
            if let folder = topmostGoneFolder(above: path, root: root.local) {
                gone[Array(folder.utf8)] = (folder, true)
            } else {
                gone[Array(path.utf8)] = (path, isDirectory)
            }
        }
        var onServer: [String] = []
        var forgotten: [FileRecord] = []
        for path in topmostPaths(gone.values.map(\.path)) {
            let isDirectory = gone[Array(path.utf8)]?.isDirectory ?? false
            // A folder's records are those below it (a file now at its path is new); a file's, its own.
            let records = try journal.records(root: root.key, under: path)
                .filter { (Array($0.path.utf8) == Array(path.utf8)) != isDirectory }
                .map(settleInterrupted)
            forgotten += records
            // A folder is trashed as one item when anything under it was uploaded; a file when it was.
            if records.contains(where: { $0.remote != nil }) { onServer.append(path) }
        }
        // Paths whose server copy could not be trashed: their records stay, so the next pass tries again.
        var kept: [[UInt8]] = []
        if root.deletes == .trash, !onServer.isEmpty {
            for batch in stride(from: 0, to: onServer.count, by: 1000).map({ Array(onServer[$0..<min($0 + 1000, onServer.count)]) }) {
                do {
                    // A lost answer is asked again; a batch that partly went is then settled below.
                    try serverStep({ try client.delete(batch.map { root.remote.appending($0) }) }, done: { false })
                    report.trashed += batch
                } catch let error as CloudreveError where error.code == 40016 || error.code == 40081 || batch.count > 1 {
                    // One path of the batch is gone already (an answer lost, a crash between two calls) or
                    // refused: each is settled alone, so one path never blocks every later deletion.
                    for path in batch {
                        let remote = root.remote.appending(path)
                        do {
                            guard try client.fileInfoIfExists(remote) != nil else { continue }  // gone: nothing to trash
                            try client.delete([remote])
                            report.trashed.append(path)
                        } catch {
                            report.failed.append((path, "could not move to the server's trash: \(error)"))
                            kept.append(Array(path.utf8))
                        }
                    }
                } catch {
                    report.failed += batch.map { ($0, "could not move to the server's trash: \(error)") }
                    kept += batch.map { Array($0.utf8) }
                }
            }
        }
        for record in forgotten {
            let path = Array(record.path.utf8)
            if kept.contains(where: { path == $0 || (path.count > $0.count && path.starts(with: $0 + [0x2f])) }) { continue }
            // Deleted while it uploaded (its worker was stopped first): the placeholder must not stay behind.
            if let session = try journal.session(fileRowID: record.id), (try? client.cancelUploadSession(id: session.sessionID, uri: session.uri)) != nil {
                try journal.deleteSession(sessionID: session.sessionID)
                report.cancelledSessions.append(session.uri)
            }  // else left journaled: the stale-session sweep cancels it later
            try journal.forget(fileRowID: record.id)
        }
        for (path, _) in gone.values { try journal.dropQueued(root: root.key, under: path) }
        return report
    }

    /// A crash can fall between the server completing an upload and the journal recording it (§8.5).
    /// Before such a session is given up (its file vanished, moved or changed), the server is asked; a
    /// completed upload becomes the file's baseline, so the server copy then follows the local file —
    /// moved, trashed, or replaced by the next version — instead of staying behind as a file the disk no
    /// longer has. Returns the record as the journal holds it after.
    func settleInterrupted(_ record: FileRecord) throws -> FileRecord {
        guard let session = try journal.session(fileRowID: record.id),
              session.uri == root.remote.appending(record.path).uri,  // not a conflict copy's session
              let info = try client.fileInfoIfExists(root.remote.appending(record.path)),
              isCompletedUpload(info, of: session, replacing: record.remote) else { return record }
        try journal.markSynced(fileRowID: record.id, identity: session.identity, remote: RemoteBaseline(completed: info, session: session))
        return try journal.record(id: record.id) ?? record
    }

    /// A file or folder moved within the root: moved (and renamed) on the server, so no byte is sent
    /// again. Returns false when the server holds nothing to move, or refused: the caller uploads `to`
    /// afresh and removes `from` instead.
    public func move(from: String, to: String) throws -> Bool {
        let records = try journal.records(root: root.key, under: from).map(settleInterrupted)
        // An upload under the source that did not complete (stopped for this move) is cancelled, not moved:
        // its placeholder would travel with the folder and its session would finish under the old name.
        for record in records where record.remote == nil || record.state != .synced {
            if let session = try journal.session(fileRowID: record.id) {
                try client.cancelUploadSession(id: session.sessionID, uri: session.uri)
                try journal.deleteSession(sessionID: session.sessionID)
            }
        }
        // A record at the destination that holds nothing on the server (a scan just noted the moved file)
        // gives way; one that does hold something means the move would replace a server file: upload instead.
        let atTarget = try journal.records(root: root.key, under: to)
        guard records.contains(where: { $0.remote != nil }), !atTarget.contains(where: { $0.remote != nil }) else { return false }
        for record in atTarget where try journal.session(fileRowID: record.id) != nil { return false }
        if server == nil { try prepare() }
        let source = root.remote.appending(from)
        let target = root.remote.appending(to)
        // A move to another folder and a rename are two calls; between them the server copy is here.
        let halfway = target.parent.appending(source.name)
        let halfwayPath = to.split(separator: "/").dropLast().map(String.init) + [source.name]
        var movedHalfway = source.parent.uri == target.parent.uri
        do {
            if !movedHalfway {
                try serverStep({ try client.createFolder(target.parent) }, done: { try client.fileInfoIfExists(target.parent)?.isFolder == true })
                try serverStep({ try client.move([source], into: target.parent) },
                               done: { try client.fileInfoIfExists(halfway) != nil && client.fileInfoIfExists(source) == nil })
                movedHalfway = true
            }
            if source.name != target.name {
                try serverStep({ try client.rename(halfway, to: target.name) },
                               done: { try client.fileInfoIfExists(target) != nil && client.fileInfoIfExists(halfway) == nil })
            }
        } catch let error as CloudreveError {
            if movedHalfway && source.parent.uri != target.parent.uri {
                // The server copy is at the halfway name now: the journal follows it, so a later pass trashes
                // it (deletes = "trash") or forgets it, instead of looking for it where it no longer is.
                try journal.move(root: root.key, from: from, to: halfwayPath.joined(separator: "/"))
            }
            events.note("could not move \(from) to \(to) on the server (\(error)); uploading it again instead")
            return false
        }
        for record in atTarget { try journal.forget(fileRowID: record.id) }
        try journal.move(root: root.key, from: from, to: to)
        return true
    }

    /// One server call of a move, rename, folder creation or deletion: retried when it may pass later, and
    /// counted as done when its effect is already there (its answer was lost, or a crash came after it).
    private func serverStep(_ call: () throws -> Void, done: () throws -> Bool) throws {
        var attempt = 0
        while true {
            do {
                return try call()
            } catch let error as CloudreveError {
                if (try? done()) == true { return }
                attempt += 1
                guard error.isRetryable, attempt < 3 else { throw error }
                Thread.sleep(forTimeInterval: backoffDelay(attempt: attempt, base: options.backoffBase, cap: options.backoffCap,
                                                           random: Double.random(in: 0..<1)))
            }
        }
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

    /// The policy id from the root's listing, creating the root when it is missing.
    private func rootPolicy() throws -> StoragePolicy? {
        do {
            return try client.list(root.remote).storagePolicy
        } catch CloudreveError.api(40016, _, _, _) {
            try client.createFolder(root.remote)
            return try client.list(root.remote).storagePolicy
        }
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

/// The paths not under another path of the list: deleting a folder covers what is inside it.
func topmostPaths(_ paths: [String]) -> [String] {
    let sorted = paths.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    var kept: [[UInt8]] = []
    for path in sorted {
        if let last = kept.last, path.count > last.count, path.starts(with: last + [UInt8(ascii: "/")]) { continue }
        if kept.last == path { continue }
        kept.append(path)
    }
    return kept.map { String(decoding: $0, as: UTF8.self) }
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
