import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

/// `--config FILE`, defaulting to `$XDG_CONFIG_HOME/crsync/config.toml`.
struct ConfigOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Configuration file (default: $XDG_CONFIG_HOME/crsync/config.toml).", valueName: "FILE"))
    var config: String?

    var path: String { config.map(absolutePath) ?? CrsyncConfig.defaultPath(environment: ProcessInfo.processInfo.environment) }

    /// The configuration, or exit 2 naming the file, line and key.
    func load() throws -> CrsyncConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw UsageError(message: "no configuration at \(path): write one with `crsync init`, or pass --config FILE")
        }
        do {
            return try CrsyncConfig.load(path: path)
        } catch {
            throw UsageError(message: "\(error)")
        }
    }
}

extension StateOptions {
    /// Each profile signs in on its own; the default profile keeps the plain name.
    func credentialFile(profile: String) -> CredentialFile {
        profile == "default" ? credentialFile : CredentialFile(path: directory + "/credentials-\(profile).json")
    }

    /// A signed-in client for a configured profile, or exit 4 naming the login command to run.
    func client(for profile: ServerProfile) throws -> CloudreveClient {
        let file = try secured(credentialFile(profile: profile.name))
        let hint = profile.name == "default" ? "" : " --profile \(profile.name)"
        guard let credentials = try file.load() else {
            throw CloudreveError.notSignedIn("no saved sign-in for \(profile.email) at \(profile.url) (crsync login\(hint))")
        }
        guard CloudreveClient(server: credentials.server).server == CloudreveClient(server: profile.url).server else {
            throw CloudreveError.notSignedIn("the saved sign-in is for \(credentials.server), not \(profile.url) (crsync login\(hint))")
        }
        return CloudreveClient(server: credentials.server, credentials: credentials, credentialFile: file, caFile: profile.caFile)
    }

    /// One RootSync per configured root, sharing a client per profile.
    /// `recover`: the caller holds the state lock, so a damaged journal may be moved aside and rebuilt.
    func roots(of config: CrsyncConfig, options: SyncOptions, events: SyncEvents, control: UploadControl, recover: Bool = true) throws -> [RootSync] {
        let journal = recover ? try openJournalRecovering(note: events.note) : try openJournal()
        var clients: [String: CloudreveClient] = [:]
        return try config.roots.map { root in
            guard let profile = config.profiles[root.profile] else {
                throw UsageError(message: "\(config.path): no server profile '\(root.profile)'")
            }
            let client = try clients[root.profile] ?? self.client(for: profile)
            clients[root.profile] = client
            let sync = SyncRoot(local: root.local, remote: root.remote, deletes: root.deletes, exclude: root.exclude,
                                ownFiles: [directory, config.path])
            return try RootSync(client: client, journal: journal, root: sync, options: options, events: events, control: control)
        }
    }
}
