/// The configuration in effect, written back as TOML that `CrsyncConfig.parse` reads to an equal config:
/// what `crsync` shows when asked what it is running with.
extension CrsyncConfig {
    /// Every default spelled out; durations and rates in their short forms ("5m", "8M"); folders with
    /// `~` expanded. Any setting named like a secret is masked, so the output is safe to paste into a
    /// bug report.
    public func rendered() -> String {
        var lines = ["# crsync configuration in effect, read from \(path)", "# Every setting is shown, defaults included."]

        for profile in profiles.values.sorted(by: profileOrder) {
            lines.append("")
            lines.append(profile.name == "default" ? "[server]" : "[servers.\(tomlKey(profile.name))]")
            lines.append(setting("url", .string(profile.url)))
            lines.append(setting("email", .string(profile.email)))
            if let caFile = profile.caFile { lines.append(setting("ca_file", .string(caFile))) }
        }

        lines += ["", "[upload]",
                  setting("workers", .integer(Int64(upload.workers))),
                  setting("chunk_concurrency", .integer(Int64(upload.chunkConcurrency))),
                  setting("quiet_seconds", .string(formatDuration(upload.quietSeconds))),
                  setting("max_delay", .string(formatDuration(upload.maxDelay))),
                  setting("rescan_interval", .string(formatDuration(upload.rescanInterval))),
                  setting("bandwidth", .string(upload.bandwidth.description)),
                  setting("clean_orphans", .boolean(upload.cancelOrphanedUploads))]

        lines += ["", "[log]", setting("level", .string(log.level))]
        if let format = log.format {
            lines.append(setting("format", .string(format.rawValue)))
        } else {
            lines.append("# format is not set: human-readable on a terminal, otherwise crsync's choice")
        }

        lines.append("")
        if let metrics {
            lines += ["[metrics]", setting("addr", .string(metrics.addr))]
        } else {
            lines.append("# [metrics] is not set: no metrics endpoint")
        }

        for root in roots {
            lines += ["", "[[sync]]",
                      setting("local", .string(root.local)),
                      setting("remote", .string(root.remote.description)),
                      setting("server", .string(root.profile)),
                      setting("deletes", .string(root.deletes.rawValue)),
                      setting("exclude", .array(root.exclude.map { TOMLValue(.string($0), line: 0, column: 0) }))]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// "default" first, then by name, so the output is the same on every run.
private func profileOrder(_ a: ServerProfile, _ b: ServerProfile) -> Bool {
    if (a.name == "default") != (b.name == "default") { return a.name == "default" }
    return a.name < b.name
}

/// Keys whose values never appear in output. None exist in the file today; a `password` or `token`
/// added one day is masked from the start instead of when someone notices it in a pasted log.
let secretKeys: Set<String> = ["password", "token", "secret"]

/// One `key = value` line, masking secrets.
func setting(_ key: String, _ content: TOMLValue.Content) -> String {
    let isSecret = secretKeys.contains { key.lowercased().contains($0) }
    let value = isSecret ? tomlString("********") : TOMLValue(content, line: 0, column: 0).tomlText
    return "\(tomlKey(key)) = \(value)"
}
