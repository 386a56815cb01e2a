import Foundation

/// What a valid configuration can still get wrong on this machine, for `crsync config check`: each a
/// sentence naming the `[[sync]]` tables by line, what is wrong and what to do.
extension CrsyncConfig {
    /// `realPath` resolves symbolic links and gives nil for a folder that does not exist (`realpath(3)`);
    /// passed in so that the decision is tested without a disk.
    public func rootWarnings(realPath: (String) -> String?) -> [String] {
        var warnings: [String] = []
        let real = roots.map { realPath($0.local) }
        for (root, resolved) in zip(roots, real) where resolved == nil {
            warnings.append("[[sync]] at line \(root.line): the folder \(root.local) does not exist: create it, or correct `local`")
        }
        for i in roots.indices {
            for j in roots.indices where j > i {
                let (a, b) = (roots[i], roots[j])
                if let ra = real[i], let rb = real[j], ra == rb {
                    let through = a.local == b.local ? "" : " (both are \(ra) once symbolic links are followed)"
                    warnings.append("[[sync]] at lines \(a.line) and \(b.line): \(a.local) and \(b.local) are the same folder\(through); "
                                    + "keep one of the two tables")
                }
                if a.profile == b.profile, let (outer, inner) = nesting(a, b) {
                    warnings.append("[[sync]] at lines \(a.line) and \(b.line): \(inner.remote) is inside \(outer.remote) on the same server, "
                                    + "so the two folders' files mix there and one's deletions can trash the other's files; "
                                    + "give each [[sync]] a remote folder of its own")
                }
            }
        }
        return warnings
    }

    /// The two roots as (outer, inner) when one's remote folder is the other's or inside it.
    private func nesting(_ a: RootConfig, _ b: RootConfig) -> (RootConfig, RootConfig)? {
        if b.remote.segments.starts(with: a.remote.segments) { return (a, b) }
        if a.remote.segments.starts(with: b.remote.segments) { return (b, a) }
        return nil
    }
}
