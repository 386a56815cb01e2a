import Foundation

/// crsync's configuration, read from one TOML file (see `starter` for a commented example):
/// server profiles, upload settings, the folders to sync, and optional logging and metrics settings.
public struct CrsyncConfig: Sendable, Equatable {
    /// The file it was read from, for messages.
    public var path: String
    /// By name; `[server]` is "default".
    public var profiles: [String: ServerProfile]
    public var upload: UploadSettings
    /// In the order of their `[[sync]]` tables.
    public var roots: [RootConfig]
    /// nil when the file has no `[metrics]`: no metrics endpoint.
    public var metrics: MetricsSettings?
    public var log: LogSettings

    public init(path: String, profiles: [String: ServerProfile], upload: UploadSettings = UploadSettings(),
                roots: [RootConfig], metrics: MetricsSettings? = nil, log: LogSettings = LogSettings()) {
        self.path = path
        self.profiles = profiles
        self.upload = upload
        self.roots = roots
        self.metrics = metrics
        self.log = log
    }

    /// Reads and checks the file at `path`; `~` in folders is this process's `$HOME`.
    /// Throws `ConfigError` saying where the problem is and what to write instead.
    public static func load(path: String) throws -> CrsyncConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigError(path: path, message: "no config file here; create one with `crsync init`, then edit it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(path: path, message: "cannot read the config file; check that it is a file you may read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(path: path, message: "the config file is not UTF-8 text; save it as UTF-8")
        }
        return try parse(text, path: path)
    }

    /// `load` without the file: for tests and for checking text before it is written.
    public static func parse(_ text: String, path: String) throws -> CrsyncConfig {
        try parse(text, path: path, environment: ProcessInfo.processInfo.environment)
    }

    /// As `parse(_:path:)`, with `~` expanded from `environment["HOME"]`.
    public static func parse(_ text: String, path: String, environment: [String: String]) throws -> CrsyncConfig {
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text, path: path)
        } catch let error as TOMLError {
            throw ConfigError(error)
        }
        return try ConfigReader(file: path, home: homeFolder(environment)).read(document.root)
    }

    /// `$XDG_CONFIG_HOME/crsync/config.toml`, else `~/.config/crsync/config.toml`, as the XDG base
    /// directory specification says (a relative `XDG_CONFIG_HOME` is ignored).
    public static func defaultPath(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            return trimmingTrailingSlashes(xdg) + "/crsync/config.toml"
        }
        return trimmingTrailingSlashes(homeFolder(environment)) + "/.config/crsync/config.toml"
    }
}

/// `$HOME`, or the account's home folder when it is unset (as under some service managers).
func homeFolder(_ environment: [String: String]) -> String {
    if let home = environment["HOME"], home.hasPrefix("/") { return home }
    return NSHomeDirectory()
}

private func trimmingTrailingSlashes(_ path: String) -> String {
    var out = path
    while out.count > 1, out.hasSuffix("/") { out.removeLast() }
    return out == "/" ? "" : out
}
