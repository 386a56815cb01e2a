/// Which paths under a sync root are left alone: gitignore-style patterns, plus editors' and browsers'
/// temporary files unless the caller opts out.
///
/// The rules are gitignore(5)'s: `*`, `?`, `[abc]`, `[!a-z]`, `**/`, `/**`, `/**/`; a leading "/" or a "/"
/// in the middle anchors a pattern to the root, otherwise it matches the name at any depth; a trailing "/"
/// names directories only; `!pattern` takes back an earlier exclusion, and the last matching line wins.
/// As in git, nothing inside an excluded directory can be taken back: the watcher never even looks there.
public struct PathFilter: Sendable {
    /// Files that exist only while a program works on another file: uploading them would race their
    /// deletion and leave clutter on the server. `*.tmp` is deliberately not here: some programs keep real
    /// data under that name, so a user who wants it excluded lists it.
    public static let temporaryFileDefaults = [
        "*.swp",        // vim swap file
        "*~",           // emacs, gedit and many others: backup copy
        ".~lock.*",     // LibreOffice lock file (".~lock.report.odt#")
        "*.part",       // Firefox and others: download in progress
        "*.crdownload", // Chrome: download in progress
        ".#*",          // emacs lock symlink
        "4913",         // vim's probe file, written to test that the folder is writable
    ]

    private let patterns: [PathFilterPattern]
    /// Root-relative paths excluded before any pattern is read, so no `!pattern` can take them back:
    /// crsync's own state folder and configuration file when they lie inside the root (`OwnFiles`).
    private var protected: [[UInt8]] = []

    /// A filter that excludes nothing.
    public static let none = PathFilter(compiled: [])

    /// Compiles `patterns` (one gitignore line each; blank lines and "#" comments are skipped). The
    /// defaults come first, so a user's `!*.part` can take one of them back.
    /// - Throws: `PathFilterError` naming the first malformed pattern, e.g. an unclosed "[".
    public init(patterns: [String], includeDefaults: Bool = true) throws {
        let lines = (includeDefaults ? Self.temporaryFileDefaults : []) + patterns
        self.patterns = try lines.compactMap(PathFilterPattern.compile)
    }

    private init(compiled: [PathFilterPattern]) {
        patterns = compiled
    }

    /// Whether `relativePath` ("/"-separated, relative to the root) is excluded, either itself or
    /// because a directory above it is. The root ("" or ".") is never excluded.
    public func excludes(_ relativePath: String, isDirectory: Bool) -> Bool {
        for own in protected where relativePath.utf8.starts(with: own) {
            let rest = relativePath.utf8.dropFirst(own.count)
            if rest.isEmpty || rest.first == UInt8(ascii: "/") { return true }
        }
        if patterns.isEmpty { return false }
        // Split on the scalar "/", never on Characters: a combining mark right after "/" would otherwise be
        // glued to it and the split would miss.
        let components = relativePath.unicodeScalars.split(separator: "/").map(Array.init)
        if components.isEmpty || components == [["."]] { return false }
        for depth in 1..<components.count where verdict(Array(components[..<depth]), isDirectory: true) {
            return true
        }
        return verdict(components, isDirectory: isDirectory)
    }

    /// `excludes` for an entry of a folder that is itself known to be included, as in a walk that never
    /// enters an excluded folder: only the entry's own verdict is left to find. `parent` holds the folder's
    /// path components, `path` the entry's whole relative path as bytes.
    func excludesEntry(parent: [[Unicode.Scalar]], name: [UInt8], path: [UInt8], isDirectory: Bool) -> Bool {
        for own in protected where path.starts(with: own) {
            if path.count == own.count || path[own.count] == PathBytes.slash { return true }
        }
        if patterns.isEmpty { return false }
        return verdict(parent + [Array(String(decoding: name, as: UTF8.self).unicodeScalars)], isDirectory: isDirectory)
    }

    /// Whether any pattern can exclude anything: a walk skips building scalar paths when none can.
    var isEmpty: Bool { patterns.isEmpty && protected.isEmpty }

    /// This filter, also excluding `relativePaths` and everything under them, whatever the patterns say.
    public func protecting(_ relativePaths: [String]) -> PathFilter {
        var copy = self
        copy.protected += relativePaths.map { Array($0.utf8) }
        return copy
    }

    /// Whether some pattern's verdict depends on more than an entry's own name. Only then can moving a
    /// directory change what is excluded inside it, so only then must the watcher look inside again.
    var dependsOnLocation: Bool {
        !protected.isEmpty || patterns.contains { pattern in
            pattern.segments.count != 2 || pattern.segments.first != .anyDirectories
        }
    }

    /// The last matching pattern decides; no match means included.
    private func verdict(_ components: [[Unicode.Scalar]], isDirectory: Bool) -> Bool {
        for pattern in patterns.reversed() where pattern.matches(components, isDirectory: isDirectory) {
            return !pattern.negated
        }
        return false
    }
}

/// A pattern that could not be compiled, and why.
public struct PathFilterError: Error, Equatable, CustomStringConvertible {
    public var pattern: String
    public var reason: String

    public var description: String {
        "exclude pattern “\(pattern)” is malformed: \(reason)"
    }
}
