import CloudreveAPI
import Foundation

/// Turns a parsed TOML file into `CrsyncConfig`, one section at a time; the `[[sync]]` tables are
/// `ConfigReader+Roots`'s. Every key a section does not know is an error.
struct ConfigReader {
    let file: String
    /// What `~` in a folder stands for.
    let home: String

    static let topLevelKeys = ["server", "servers", "upload", "sync", "metrics", "log"]

    func read(_ root: TOMLTable) throws -> CrsyncConfig {
        let top = ConfigSection(table: root, name: "", heading: "the file", file: file)
        try top.rejectUnknownKeys(Self.topLevelKeys, shownAs: ["[server]", "[servers.NAME]", "[upload]", "[[sync]]", "[metrics]", "[log]"])
        // Settings before the checks that need the whole file ("no server", "no folder"), so that a
        // mistake on a line is reported at that line first.
        let upload = try top.section("upload", heading: "[upload]").map(readUpload) ?? UploadSettings()
        let log = try top.section("log", heading: "[log]").map(readLog) ?? LogSettings()
        let metrics = try top.section("metrics", heading: "[metrics]").map(readMetrics)
        let profiles = try readProfiles(top)
        let roots = try readRoots(top, profiles: profiles)
        return CrsyncConfig(path: file, profiles: profiles, upload: upload, roots: roots, metrics: metrics, log: log)
    }

    // MARK: Servers

    private func readProfiles(_ top: ConfigSection) throws -> [String: ServerProfile] {
        var profiles: [String: ServerProfile] = [:]
        if let server = try top.section("server", heading: "[server]") {
            profiles["default"] = try readProfile(server, name: "default")
        }
        if let servers = try top.section("servers", heading: "[servers]") {
            for (name, value) in servers.table.entries {
                guard case .table(let table) = value.content else {
                    throw servers.invalid(name, value, "must be a server table: write [servers.\(tomlKey(name))] with url and email below it")
                }
                if profiles[name] != nil {
                    throw servers.error(name, "the profile \"default\" is already defined by [server]; give this one another name", line: value.line)
                }
                let section = ConfigSection(table: table, name: servers.keyName(tomlKey(name)), heading: "[servers.\(tomlKey(name))]", file: file)
                profiles[name] = try readProfile(section, name: name)
            }
        }
        guard !profiles.isEmpty else {
            throw ConfigError(path: file, message: #"no server: add a [server] table with url = "https://cloud.example.com" and email = "me@example.com""#)
        }
        return profiles
    }

    private func readProfile(_ section: ConfigSection, name: String) throws -> ServerProfile {
        try section.rejectUnknownKeys(["url", "email", "ca_file"])
        let urlAllowed = #"must be the server's http:// or https:// address, like "https://cloud.example.com""#
        let urlValue = try section.required("url", example: #""https://cloud.example.com""#)
        // Checked before anything echoes the value: a password written into the address is never repeated.
        if case .string(let url) = urlValue.content, ServerAddress.withoutUserInfo(url) != url {
            throw section.error("url", "must not carry a user name or password (\(ServerAddress.withoutUserInfo(url)) with "
                                + "'user:password@' before the host): remove it, set email, and sign in with `crsync login`", line: urlValue.line)
        }
        guard case .string(let url) = urlValue.content, isWebAddress(url) else { throw section.invalid("url", urlValue, urlAllowed) }
        let emailValue = try section.required("email", example: #""me@example.com""#)
        guard case .string(let email) = emailValue.content, !email.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw section.invalid("email", emailValue, "must be the email address you sign in to the server with")
        }
        var caFile: String?
        if let caValue = section.table["ca_file"] {
            let caAllowed = #"must be the absolute path of a PEM file of CA certificates, like "/etc/ssl/private-ca.pem" or "~/ca.pem""#
            guard case .string(let written) = caValue.content, let path = absoluteFolder(written, home: home) else {
                throw section.invalid("ca_file", caValue, caAllowed)
            }
            caFile = path
        }
        return ServerProfile(name: name, url: url, email: email, caFile: caFile)
    }

    // MARK: Upload, log, metrics

    private func readUpload(_ section: ConfigSection) throws -> UploadSettings {
        try section.rejectUnknownKeys(["workers", "chunk_concurrency", "quiet_seconds", "max_delay", "rescan_interval", "bandwidth", "clean_orphans"])
        var upload = UploadSettings()
        upload.workers = try section.integer("workers", in: 1...64) ?? upload.workers
        upload.chunkConcurrency = try section.integer("chunk_concurrency", in: 1...16) ?? upload.chunkConcurrency
        upload.quietSeconds = try section.duration("quiet_seconds") ?? upload.quietSeconds
        upload.maxDelay = try section.duration("max_delay") ?? upload.maxDelay
        upload.rescanInterval = try section.duration("rescan_interval") ?? upload.rescanInterval
        upload.bandwidth = try section.bandwidth("bandwidth") ?? upload.bandwidth
        upload.cancelOrphanedUploads = try section.boolean("clean_orphans") ?? upload.cancelOrphanedUploads
        if upload.maxDelay < upload.quietSeconds {
            // Reported where the two disagree; whichever line the person changes, the other is named.
            let value = section.table["max_delay"] ?? section.table["quiet_seconds"]!
            throw section.error(section.table["max_delay"] == nil ? "quiet_seconds" : "max_delay",
                                "max_delay (\(formatDuration(upload.maxDelay))) must be at least quiet_seconds (\(formatDuration(upload.quietSeconds))): a file is never held back longer than max_delay",
                                line: value.line)
        }
        if upload.rescanInterval == 0, let value = section.table["rescan_interval"] {
            throw section.invalid("rescan_interval", value, #"must be more than 0, like "1h""#)
        }
        return upload
    }

    private func readLog(_ section: ConfigSection) throws -> LogSettings {
        try section.rejectUnknownKeys(["level", "format"])
        var log = LogSettings()
        log.level = try section.choice("level", from: LogSettings.levels) ?? log.level
        log.format = try section.choice("format", from: LogFormat.allCases.map(\.rawValue)).flatMap(LogFormat.init(rawValue:))
        return log
    }

    private func readMetrics(_ section: ConfigSection) throws -> MetricsSettings {
        try section.rejectUnknownKeys(["addr"])
        let allowed = #"must be "HOST:PORT" with a port from 1 to 65535, like "127.0.0.1:9464" (or "0.0.0.0:9464" for every interface, "[::1]:9464" for IPv6)"#
        let value = try section.required("addr", example: #""127.0.0.1:9464""#)
        guard case .string(let text) = value.content, let metrics = parseHostPort(text) else {
            throw section.invalid("addr", value, allowed)
        }
        return metrics
    }
}

/// `http://` or `https://` followed by a host.
func isWebAddress(_ text: String) -> Bool {
    guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
          scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty
    else { return false }
    return true
}

/// `host:port` or `[v6]:port`; nil when either part is missing or the port is out of range.
func parseHostPort(_ text: String) -> MetricsSettings? {
    let host: Substring, portText: Substring
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        host = text[text.index(after: text.startIndex)..<close]
        let rest = text[text.index(after: close)...]
        guard rest.hasPrefix(":") else { return nil }
        portText = rest.dropFirst()
    } else {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        host = text[..<colon]
        portText = text[text.index(after: colon)...]
        if host.contains(":") { return nil }   // an IPv6 address needs brackets to tell it from the port
    }
    guard !host.isEmpty, !host.contains(" "), portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port) else {
        return nil
    }
    return MetricsSettings(host: String(host), port: port)
}
