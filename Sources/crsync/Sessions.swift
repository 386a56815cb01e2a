import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List open upload sessions, or cancel the stale ones (`crsync sessions clean`).",
        discussion: """
        Cloudreve never cleans up an upload that was abandoned: its placeholder keeps a lock on the path and \
        counts against the quota. `crsync sync` cancels stale ones at the start of each pass; \
        `crsync sessions clean` does it now.
        """,
        subcommands: [List.self, Clean.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open upload sessions: ours (resumable or stale) and placeholders left by others.")

        @OptionGroup var targets: SessionTargets

        func run() throws {
            do {
                let (janitor, roots) = try targets.open()
                let stale = Set(try janitor.staleJournalSessions().map(\.sessionID))
                var shown = Set<String>()
                for root in roots {
                    for upload in try janitor.openUploads(under: root) {
                        shown.insert(upload.sessionID)
                        let owner: String
                        if let ours = upload.ours {
                            owner = "ours\(policyNote(ours)), \(ours.acknowledged.count)/\(ours.chunkCount) chunks acknowledged"
                                + (stale.contains(ours.sessionID) ? ", stale" : ", resumable")
                        } else {
                            owner = upload.age > janitor.sessionTTL ? "orphaned, older than the session lifetime"
                                : "another client's or orphaned, recent"
                        }
                        print(printable("\(CloudrevePath(uriOrRaw: upload.path))") + "  session \(shortSessionID(upload.sessionID))  age \(Int(upload.age)) s  \(owner)")
                    }
                }
                for session in try janitor.journal.sessions() where !shown.contains(session.sessionID) {
                    print(printable("\(CloudrevePath(uriOrRaw: session.uri))") + "  session \(shortSessionID(session.sessionID))  journaled only (placeholder gone)")
                }
            } catch {
                throw fail(error)
            }
        }
    }

    struct Clean: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel stale and orphaned upload sessions now.")

        @OptionGroup var targets: SessionTargets

        func run() throws {
            do {
                // A running sync's sessions are live, not stale: never cancel them from beside it.
                try StateLock.take(directory: targets.state.directory, command: "sessions clean")
                let (janitor, roots) = try targets.open()
                let cancelled = try janitor.sweep(roots: roots)
                for item in cancelled { print(printable("cancelled \(CloudrevePath(uriOrRaw: item))")) }
                print("\(cancelled.count) upload session(s) cancelled")
            } catch {
                throw fail(error)
            }
        }
    }
}

/// The remote folders to search and the state directory, shared by `sessions` and `sessions clean`.
/// Where a session's chunks go, when not to the server itself.
func policyNote(_ session: SessionRecord) -> String {
    switch session.route {
    case .remote: return " (slave node)"
    case .oneDrive: return " (OneDrive)"
    default: return session.s3.map { " (\($0.policyType) bucket)" } ?? ""
    }
}

struct SessionTargets: ParsableArguments {
    @Argument(help: ArgumentHelp("Remote folders to search (default: every folder crsync has synced to).", valueName: "REMOTE"))
    var remotes: [String] = []

    @OptionGroup var state: StateOptions

    func open() throws -> (Janitor, [CloudrevePath]) {
        let client = try state.signedInClient(server: nil)
        let janitor = Janitor(client: client, journal: try state.openJournal())
        let roots = remotes.isEmpty ? try janitor.rememberedRoots() : try remotes.map { try CloudrevePath(parsing: $0) }
        return (janitor, roots)
    }
}

extension CloudrevePath {
    /// For display: the decoded path when `text` is a URI, else the text itself.
    init(uriOrRaw text: String) {
        self = (try? CloudrevePath(uri: text)) ?? CloudrevePath(segments: [text])
    }
}

struct Retry: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make failed files pending again, including those that failed for good (too large, quota, name).",
        discussion: "The next `crsync sync` (or the running daemon) tries them at once.")

    @OptionGroup var state: StateOptions

    func run() throws {
        do {
            let count = try state.openJournal().retryFailed()
            print("\(count) failed file(s) will be tried again")
        } catch {
            throw fail(error)
        }
    }
}
