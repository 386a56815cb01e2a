import CloudreveAPI
import Foundation

/// What a root does on the server for local deletions and moves, and for uploads a crash interrupted:
/// the one deletion rule, server-side moves that send no byte again, and settling a session the server
/// may have completed before the journal knew.
extension RootSync {
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
            // When the server cannot be asked it stays journaled, and the stale-session sweep cancels it later.
            if let session = try journal.session(fileRowID: record.id), (try? Janitor(client: client, journal: journal).cancel(session)) != nil {
                report.cancelledSessions.append(session.uri)
            }
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
            if let session = try journal.session(fileRowID: record.id) { try Janitor(client: client, journal: journal).cancel(session) }
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
