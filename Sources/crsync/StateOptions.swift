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

    var credentialFile: CredentialFile { CredentialFile(path: directory + "/credentials.json") }

    /// The saved sign-in, or exit 4 with what to do.
    func signedInClient(server: String?) throws -> CloudreveClient {
        guard let credentials = try credentialFile.load() else {
            throw CloudreveError.notSignedIn("no saved sign-in in \(directory)")
        }
        if let server, normalized(server) != normalized(credentials.server) {
            throw CloudreveError.notSignedIn("signed in to \(credentials.server), not \(server)")
        }
        return CloudreveClient(server: credentials.server, credentials: credentials, credentialFile: credentialFile)
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

func absolutePath(_ path: String) -> String {
    if path.hasPrefix("/") { return (path as NSString).standardizingPath }
    return ((FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) as NSString).standardizingPath
}
