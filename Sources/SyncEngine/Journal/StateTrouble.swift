/// Journal failures that stop a whole pass rather than fail one file: every later file would fail the
/// same way, and a failure line per file would bury the one thing to do.
///
/// The message names the state directory (the journal's folder), since that is what the person must
/// act on, and says that nothing is lost by stopping.
public func stateTrouble(_ error: SQLiteError) -> String? {
    let folder = PathBytes.parent(of: error.path)
    if error.isDiskFull {
        return "the disk holding crsync's state directory \(folder) is full (\(error.statement): \(error.message)): "
            + "the pass stopped; free space there (or use --state-dir on another disk) and run crsync again: "
            + "interrupted uploads resume and nothing already on the server is sent again"
    }
    if error.isCorruption {
        return "crsync's journal \(error.path) is damaged (\(error.statement): \(error.message)): the pass stopped; "
            + "run crsync again: it moves the damaged journal aside and rebuilds it from a scan and the server's listing, "
            + "without sending again what the server holds"
    }
    return nil
}
