/// A regular file a scan found, with a name Cloudreve accepts.
public struct ScannedFile: Sendable {
    /// Relative to the scanned root, "/"-separated, byte-exact: compare with `path.utf8`, never with `==`.
    public var path: String
    public var identity: FileIdentity

    public init(path: String, identity: FileIdentity) {
        self.path = path
        self.identity = identity
    }
}

/// Something under the root that a scan could not, or would not, take.
public struct ScanProblem: Sendable, CustomStringConvertible {
    /// Relative to the root, for display: bytes that are not UTF-8 and control characters appear as `\xNN`.
    public var path: String
    /// What is wrong and what to do about it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

public struct ScanResult: Sendable {
    /// Sorted by the bytes of `path`.
    public var files: [ScannedFile]
    /// Names Cloudreve would refuse and entries that could not be read. A folder here was not entered.
    public var problems: [ScanProblem]
    /// Symlinks, FIFOs, sockets and devices: notes, not errors.
    public var skipped: [ScanProblem]

    public init(files: [ScannedFile] = [], problems: [ScanProblem] = [], skipped: [ScanProblem] = []) {
        self.files = files
        self.problems = problems
        self.skipped = skipped
    }
}

/// The root itself could not be read, so nothing under it was scanned.
public struct ScanError: Error, CustomStringConvertible, Sendable {
    public var root: String
    /// What went wrong and what to do.
    public var reason: String

    public init(root: String, reason: String) {
        self.root = root
        self.reason = reason
    }

    public var description: String { "cannot scan \(root): \(reason)" }
}
