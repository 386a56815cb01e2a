import CloudreveAPI

/// The `[[sync]]` tables: which local folder goes to which server folder.
extension ConfigReader {
    static let syncKeys = ["local", "remote", "server", "deletes", "exclude"]

    func readRoots(_ top: ConfigSection, profiles: [String: ServerProfile]) throws -> [RootConfig] {
        let sections = try top.arrayOfTables("sync", heading: "[[sync]]")
        guard !sections.isEmpty else {
            throw ConfigError(path: file, message: """
                no folder to sync: add a [[sync]] table, like
                [[sync]]
                local = "~/Documents"
                remote = "cloudreve://my/Documents"
                """)
        }
        var roots: [RootConfig] = []
        for section in sections {
            let root = try readRoot(section, profiles: profiles)
            try checkNoOverlap(root, with: roots, section: section)
            roots.append(root)
        }
        return roots
    }

    private func readRoot(_ section: ConfigSection, profiles: [String: ServerProfile]) throws -> RootConfig {
        try section.rejectUnknownKeys(Self.syncKeys)
        let localAllowed = #"must be an absolute folder path, like "/home/me/Documents" or "~/Documents""#
        let localValue = try section.required("local", example: #""~/Documents""#)
        guard case .string(let written) = localValue.content, let local = absoluteFolder(written, home: home) else {
            throw section.invalid("local", localValue, localAllowed)
        }

        let remoteValue = try section.required("remote", example: #""cloudreve://my/Documents""#)
        guard case .string(let remoteText) = remoteValue.content else {
            throw section.invalid("remote", remoteValue, #"must be a folder on the server, like "cloudreve://my/Documents""#)
        }
        let remote: CloudrevePath
        do {
            remote = try CloudrevePath(parsing: remoteText)
        } catch {
            throw section.error("remote", "\(error)", line: remoteValue.line)
        }

        let profile = try section.string("server", allowed: #"must name a server profile, like "work" for [servers.work]"#) ?? "default"
        if profiles[profile] == nil {
            let known = profiles.keys.sorted().map { "\"\($0)\"" }
            if let value = section.table["server"] {
                throw section.error("server", "no server profile \"\(profile)\"; this file defines \(spokenList(known, or: false)). Add a [servers.\(tomlKey(profile))] table with url and email, or name one of those", line: value.line)
            }
            throw section.error("server", "this folder names no server and the file has no [server] table; add server = \(known[0]) here (the file defines \(spokenList(known, or: false))), or add a [server] table", line: section.table.line)
        }

        let deletes = try section.choice("deletes", from: DeletePolicy.allCases.map(\.rawValue)).flatMap(DeletePolicy.init(rawValue:)) ?? .trash
        let exclude = try section.stringArray("exclude", allowed: #"must be a list of patterns, like ["*.tmp", "node_modules/"]"#) ?? []
        return RootConfig(local: local, remote: remote, deletes: deletes, exclude: exclude, profile: profile, line: section.table.line)
    }

    /// Two roots over the same files would upload them twice, and two local folders into one server
    /// folder would overwrite each other's files of the same name.
    private func checkNoOverlap(_ root: RootConfig, with earlier: [RootConfig], section: ConfigSection) throws {
        for other in earlier {
            let localLine = section.table["local"]?.line ?? root.line
            if root.local == other.local {
                throw section.error("local", "\(root.local) is already synced by the [[sync]] on line \(other.line); give each folder one [[sync]] table", line: localLine)
            }
            if let (inner, outer) = nested(root.local, other.local) {
                throw section.error("local", "\(inner) is inside \(outer), so this [[sync]] and the one on line \(other.line) would upload the same files twice; keep only the outer folder, and use exclude for what should not go up", line: localLine)
            }
            if root.profile == other.profile, root.remote.segments == other.remote.segments {
                throw section.error("remote", "\(root.remote) already receives the [[sync]] on line \(other.line) on the same server; two folders in one place would overwrite each other's files, so give each its own remote folder",
                                    line: section.table["remote"]?.line ?? root.line)
            }
        }
    }
}

/// When one folder is inside the other: (inside, outside).
private func nested(_ a: String, _ b: String) -> (String, String)? {
    func isInside(_ inner: String, _ outer: String) -> Bool {
        outer == "/" ? inner != "/" : inner.hasPrefix(outer + "/")
    }
    if isInside(a, b) { return (a, b) }
    if isInside(b, a) { return (b, a) }
    return nil
}

/// An absolute path with `~` expanded and `.`, `..`, repeated and trailing `/` removed; nil for a
/// relative path, `~user`, or nothing at all. Does not touch the disk.
func absoluteFolder(_ written: String, home: String) -> String? {
    var path = written
    if path == "~" || path.hasPrefix("~/") {
        path = home + path.dropFirst()
    }
    guard path.hasPrefix("/") else { return nil }
    var parts: [Substring] = []
    for part in path.split(separator: "/") {
        switch part {
        case ".": continue
        case "..": _ = parts.popLast()
        default: parts.append(part)
        }
    }
    return "/" + parts.joined(separator: "/")
}
