/// An upload session id as people see it in messages: its first 8 characters and an ellipsis. Enough
/// to tell sessions apart in `crsync sessions` and a log, without a 36-character id on every line.
public func shortSessionID(_ id: String) -> String {
    id.count > 8 ? id.prefix(8) + "…" : id
}
