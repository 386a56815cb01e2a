import CloudreveAPI
import Foundation

/// A Cloudreve account crsync uploads to. `[server]` in the file is the profile named "default";
/// `[servers.NAME]` tables add others, which a `[[sync]]` table picks with `server = "NAME"`.
/// The password is never in the config: `crsync login` keeps the sign-in elsewhere.
public struct ServerProfile: Equatable, Sendable {
    public var name: String
    /// http(s) address of the server, as written (the client trims a trailing `/` or `/api/v4`).
    public var url: String
    public var email: String
    /// `ca_file`: a PEM bundle of the CAs to trust for this server (a private CA), absolute, `~` expanded.
    public var caFile: String?

    public init(name: String, url: String, email: String, caFile: String? = nil) {
        self.name = name
        self.url = url
        self.email = email
        self.caFile = caFile
    }
}

/// What happens on the server when a synced file is deleted locally.
public enum DeletePolicy: String, Sendable, CaseIterable {
    /// Move the server copy to the Cloudreve trash, where it can still be restored.
    case trash
    /// Leave the server copy alone.
    case keep
}

/// One `[[sync]]` table: a local folder kept uploaded to a folder on a server.
public struct RootConfig: Sendable, Equatable {
    /// Absolute, `~` expanded, without `.`/`..` parts or a trailing `/`. Symbolic links are not resolved:
    /// the folder need not exist yet when the config is read.
    public var local: String
    public var remote: CloudrevePath
    public var deletes: DeletePolicy = .trash
    /// Patterns of paths not to upload, as written.
    public var exclude: [String] = []
    /// The `ServerProfile` this folder uploads to.
    public var profile: String = "default"
    /// The line of the `[[sync]]` header, for messages about this folder.
    public var line: Int

    public init(local: String, remote: CloudrevePath, deletes: DeletePolicy = .trash, exclude: [String] = [],
                profile: String = "default", line: Int) {
        self.local = local
        self.remote = remote
        self.deletes = deletes
        self.exclude = exclude
        self.profile = profile
        self.line = line
    }

    /// Two roots are equal when they configure the same thing; where they were written (`line`) is not
    /// part of the setting, so a config and its `rendered()` text compare equal.
    public static func == (a: RootConfig, b: RootConfig) -> Bool {
        a.local == b.local && a.remote.segments == b.remote.segments && a.deletes == b.deletes
            && a.exclude == b.exclude && a.profile == b.profile
    }
}

/// `[upload]`: how eagerly and how fast files go up.
public struct UploadSettings: Sendable, Equatable {
    /// Files uploaded at once, 1–64.
    public var workers = 4
    /// Chunk requests of one file in flight at once, 1–16; the storage policy may allow fewer.
    public var chunkConcurrency = 4
    /// A changed file is uploaded once it has stayed unchanged this long...
    public var quietSeconds: TimeInterval = 2
    /// ...but no later than this after its first change, even if it keeps changing. At least `quietSeconds`.
    public var maxDelay: TimeInterval = 300
    /// How often every folder is walked in full, to catch changes the watcher missed. More than 0.
    public var rescanInterval: TimeInterval = 3600
    public var bandwidth = BandwidthSchedule.unlimited
    /// `clean_orphans` in the file: cancel unfinished uploads other clients left under a synced folder
    /// once they are older than the server's session lifetime.
    public var cancelOrphanedUploads = true

    public init() {}

    /// The settings a sync pass takes from these; the rest of `SyncOptions` keeps its defaults.
    public var syncOptions: SyncOptions {
        var options = SyncOptions()
        options.workers = workers
        options.chunkConcurrency = chunkConcurrency
        options.cancelOrphanedUploads = cancelOrphanedUploads
        return options
    }
}

/// `[metrics] addr = "HOST:PORT"`: where Prometheus metrics are served. No `[metrics]`, no endpoint.
public struct MetricsSettings: Sendable, Equatable {
    /// A name or address; an IPv6 address without its brackets.
    public var host: String
    /// 1–65535.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// As written in the file: `127.0.0.1:9464`, `[::1]:9464`.
    public var addr: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }
}

public enum LogFormat: String, Sendable, CaseIterable {
    case human, json
}

/// `[log]`.
public struct LogSettings: Sendable, Equatable {
    /// The least severe level written; swift-log's names, which `Logger.Level(rawValue:)` reads.
    public var level = "info"
    /// nil when the file does not say: the caller decides (human on a terminal).
    public var format: LogFormat? = nil

    public static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public init() {}
}
