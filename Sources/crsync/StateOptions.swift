import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

/// Where crsync keeps its journal and sign-in: `$XDG_STATE_HOME/crsync`, else `~/.local/state/crsync`.
struct StateOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: ArgumentHelp("Folder for the journal and the saved sign-in.", valueName: "DIR"))
    var stateDir: String?

    var directory: String {
        if let stateDir { return absolutePath(stateDir) }
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_STATE_HOME"], xdg.hasPrefix("/") { return xdg + "/crsync" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/crsync"
    }

    /// A state directory that is a file (or lies under one) stops every command before it starts, with
    /// exit 2 and a plain message rather than Foundation's error dump from deep inside.
    func validate() throws {
        if let problem = stateDirectoryProblem(directory) {
            complain(problem)
            throw ExitCode(ExitStatus.usage)
        }
    }

    var credentialFile: CredentialFile { CredentialFile(path: directory + "/credentials.json") }

    /// The saved sign-in, or exit 4 with what to do. A profile of `profiles` for the same server lends its
    /// `ca_file`.
    func signedInClient(server: String?, profiles: [ServerProfile] = []) throws -> CloudreveClient {
        guard let credentials = try secured(credentialFile).load() else {
            throw CloudreveError.notSignedIn("no saved sign-in in \(directory)")
        }
        if let server, normalized(try ServerAddress.checked(server)) != normalized(credentials.server) {
            throw CloudreveError.notSignedIn("signed in to \(credentials.server), not \(server)")
        }
        let caFile = profiles.first { normalized($0.url) == normalized(credentials.server) }?.caFile
        return CloudreveClient(server: credentials.server, credentials: credentials, credentialFile: credentialFile, caFile: caFile)
    }

    /// `file`, after making it and its folder private and removing what a killed login left (each change
    /// said on stderr); throws when it is open to others and cannot be closed.
    func secured(_ file: CredentialFile) throws -> CredentialFile {
        for note in try file.tighten() { complain(note) }
        return file
    }

    func openJournal() throws -> Journal {
        try Journal(path: directory + "/journal.sqlite")
    }

    /// The journal for a command that holds the state lock and changes things (`sync`, `run`): a damaged
    /// one is moved aside and replaced (`Journal.openRecovering`), and `note` is told where it went.
    /// Commands without the lock use `openJournal`, since a running crsync may still have the file open.
    func openJournalRecovering(note: (String) -> Void) throws -> Journal {
        let opened = try Journal.openRecovering(path: directory + "/journal.sqlite")
        if let message = Journal.movedAsideNote(opened) { note(message) }
        return opened.journal
    }

    private func normalized(_ url: String) -> String {
        CloudreveClient(server: url).server
    }
}

/// Why `directory` cannot be the state directory (it, or the nearest part of it that exists, is not a
/// folder), or nil when it is one or can be created.
func stateDirectoryProblem(_ directory: String) -> String? {
    var path = directory
    while !path.isEmpty, path != "/" {
        var info = stat()
        if stat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { return nil }
            let what = path == directory ? "\(directory) is" : "\(directory) cannot be created: \(path) is"
            return "the state directory \(what) a file, not a folder: pass --state-dir with a folder (created if missing), or move the file away"
        }
        path = (path as NSString).deletingLastPathComponent
    }
    return nil
}

func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return (path as NSString).standardizingPath }
    return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
}
