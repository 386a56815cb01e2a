/// An upload session id as people see it in messages: its first 8 characters and an ellipsis. Enough
/// to tell sessions apart in `crsync sessions` and a log, without a 36-character id on every line.
public func shortSessionID(_ id: String) -> String {
    id.count > 8 ? id.prefix(8) + "…" : id
}

/// A request path for messages: `/file/upload/{session id}/{index}` with the session id shortened.
func shortenedSessionPath(_ path: String) -> String {
    let prefix = "/file/upload/"
    guard path.hasPrefix(prefix) else { return path }
    let rest = path.dropFirst(prefix.count)
    let id = rest.prefix { $0 != "/" }
    return prefix + shortSessionID(String(id)) + rest.dropFirst(id.count)
}
