/// One line of a gitignore-style list, compiled: which paths it names, and whether it excludes them or
/// (with a leading "!") takes them back.
///
/// Matching works on Unicode scalars, never on `Character`s or normalized text: "café" typed in NFC does
/// not match a file whose name is stored in NFD, exactly as git and the kernel see it, and "?" is one
/// scalar (so "caf?" matches the NFC "café" but not the NFD one, which has five scalars).
struct PathFilterPattern: Sendable {
    /// The line as written, for error messages and debugging.
    let source: String
    /// A leading "!": a match re-includes instead of excluding.
    let negated: Bool
    /// A trailing "/": the pattern names directories only.
    let directoryOnly: Bool
    /// The "/"-separated parts of the pattern. A pattern without a "/" starts with `.anyDirectories` so
    /// that it matches the name at any depth.
    let segments: [Segment]

    enum Segment: Equatable, Sendable {
        /// "**" as a whole part: any number of directories (at least one when it ends the pattern, since
        /// gitignore's "abc/**" names everything inside abc but not abc itself).
        case anyDirectories
        /// One path component's glob.
        case glob([GlobToken])
    }

    enum GlobToken: Equatable, Sendable {
        case literal(Unicode.Scalar)
        /// "?"
        case anyScalar
        /// "*": any run of scalars within one component.
        case anyRun
        /// "[...]": one scalar in (or, negated, not in) the set.
        case set(ScalarSet)
    }

    struct ScalarSet: Equatable, Sendable {
        var negated = false
        var ranges: [ClosedRange<UInt32>] = []

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) } != negated
        }
    }

    /// Compiles one line; nil for a blank line or a "#" comment.
    static func compile(_ line: String) throws -> PathFilterPattern? {
        var scalars = Array(line.unicodeScalars)
        // gitignore drops trailing spaces unless the last one is escaped ("name\ " keeps one space).
        while scalars.last == " " && !(scalars.count >= 2 && scalars[scalars.count - 2] == "\\") {
            scalars.removeLast()
        }
        if scalars.isEmpty || scalars.first == "#" { return nil }
        let negated = scalars.first == "!"
        if negated { scalars.removeFirst() }
        let directoryOnly = scalars.last == "/"
        while scalars.last == "/" { scalars.removeLast() }
        // A "/" at the start or in the middle anchors the pattern to the root; without one it names the
        // entry at any depth (gitignore(5), "PATTERN FORMAT").
        let anchored = scalars.contains("/")
        let parts = scalars.split(separator: "/", omittingEmptySubsequences: true)
        guard !parts.isEmpty else {
            throw PathFilterError(pattern: line, reason: "it names no path; remove the line")
        }
        var segments: [Segment] = anchored ? [] : [.anyDirectories]
        for part in parts {
            if Array(part) == ["*", "*"] {
                // "a/**/**/b" means the same as "a/**/b"; folding keeps matching linear in such lines.
                if segments.last != .anyDirectories { segments.append(.anyDirectories) }
            } else {
                segments.append(.glob(try globTokens(Array(part), line: line)))
            }
        }
        return PathFilterPattern(source: line, negated: negated, directoryOnly: directoryOnly, segments: segments)
    }

    /// Whether the pattern names the path whose components are `components`.
    func matches(_ components: [[Unicode.Scalar]], isDirectory: Bool) -> Bool {
        if directoryOnly && !isDirectory { return false }
        // The common shape ("*.swp", "node_modules"): a name at any depth. Only the last component can
        // match it; the general matcher would try every depth to find that out.
        if segments.count == 2, segments[0] == .anyDirectories, case .glob(let tokens) = segments[1] {
            guard let last = components.last else { return false }
            return Self.glob(tokens[...], last[...])
        }
        return Self.match(segments[...], components[...])
    }

    private static func match(_ segments: ArraySlice<Segment>, _ components: ArraySlice<[Unicode.Scalar]>) -> Bool {
        guard let first = segments.first else { return components.isEmpty }
        switch first {
        case .anyDirectories:
            let rest = segments.dropFirst()
            if rest.isEmpty { return !components.isEmpty }
            var remaining = components
            while true {
                if match(rest, remaining) { return true }
                if remaining.isEmpty { return false }
                remaining = remaining.dropFirst()
            }
        case .glob(let tokens):
            guard let component = components.first, glob(tokens[...], component[...]) else { return false }
            return match(segments.dropFirst(), components.dropFirst())
        }
    }

    /// Glob matching within one component, backtracking to the last "*" on a mismatch (linear in
    /// practice; no pattern a person writes makes it slow).
    private static func glob(_ tokens: ArraySlice<GlobToken>, _ name: ArraySlice<Unicode.Scalar>) -> Bool {
        var t = tokens.startIndex, n = name.startIndex
        var starToken: Int?, starName = n
        while n < name.endIndex {
            if t < tokens.endIndex {
                switch tokens[t] {
                case .anyRun:
                    starToken = t
                    starName = n
                    t += 1
                    continue
                case .anyScalar:
                    t += 1; n += 1
                    continue
                case .literal(let scalar) where scalar == name[n]:
                    t += 1; n += 1
                    continue
                case .set(let set) where set.contains(name[n]):
                    t += 1; n += 1
                    continue
                default:
                    break
                }
            }
            guard let star = starToken else { return false }
            t = star + 1
            starName += 1
            n = starName
        }
        while t < tokens.endIndex, tokens[t] == .anyRun { t += 1 }
        return t == tokens.endIndex
    }

    private static func globTokens(_ part: [Unicode.Scalar], line: String) throws -> [GlobToken] {
        var tokens: [GlobToken] = []
        var index = 0
        while index < part.count {
            let scalar = part[index]
            switch scalar {
            case "\\":
                guard index + 1 < part.count else {
                    throw PathFilterError(pattern: line, reason: "it ends in a lone “\\”; write “\\\\” for a backslash")
                }
                tokens.append(.literal(part[index + 1]))
                index += 2
            case "*":
                // "foo**bar" is two ordinary stars: one is enough.
                if tokens.last != .anyRun { tokens.append(.anyRun) }
                index += 1
            case "?":
                tokens.append(.anyScalar)
                index += 1
            case "[":
                let (set, next) = try bracket(part, from: index, line: line)
                tokens.append(.set(set))
                index = next
            default:
                tokens.append(.literal(scalar))
                index += 1
            }
        }
        return tokens
    }

    /// Parses "[...]" starting at `start` (the "["): the set and the index just past its "]".
    private static func bracket(_ part: [Unicode.Scalar], from start: Int, line: String) throws -> (ScalarSet, Int) {
        var set = ScalarSet()
        var index = start + 1
        if index < part.count, part[index] == "!" || part[index] == "^" {
            set.negated = true
            index += 1
        }
        var first = true
        while index < part.count {
            var scalar = part[index]
            // A "]" right after "[" or "[!" is a member, as in every glob dialect.
            if scalar == "]" && !first { return (set, index + 1) }
            first = false
            if scalar == "[", index + 1 < part.count, part[index + 1] == ":" {
                let (ranges, next) = try characterClass(part, from: index, line: line)
                set.ranges += ranges
                index = next
                continue
            }
            if scalar == "\\" {
                guard index + 1 < part.count else { break }
                index += 1
                scalar = part[index]
            }
            if index + 2 < part.count, part[index + 1] == "-", part[index + 2] != "]" {
                var upper = part[index + 2]
                var next = index + 3
                if upper == "\\" {
                    guard index + 3 < part.count else { break }
                    upper = part[index + 3]
                    next += 1
                }
                guard scalar.value <= upper.value else {
                    throw PathFilterError(pattern: line, reason: "the range “\(scalar)-\(upper)” runs backwards")
                }
                set.ranges.append(scalar.value...upper.value)
                index = next
            } else {
                set.ranges.append(scalar.value...scalar.value)
                index += 1
            }
        }
        throw PathFilterError(pattern: line, reason: "a “[” is not closed; write “\\[” for a literal bracket")
    }

    /// "[:alpha:]" and its kin (ASCII only, as in git's wildmatch): the ranges and the index past ":]".
    private static func characterClass(_ part: [Unicode.Scalar], from start: Int, line: String) throws
        -> ([ClosedRange<UInt32>], Int) {
        var end = start + 2
        while end + 1 < part.count, !(part[end] == ":" && part[end + 1] == "]") { end += 1 }
        guard end + 1 < part.count else {
            throw PathFilterError(pattern: line, reason: "a “[:” class is not closed with “:]”")
        }
        let name = String(String.UnicodeScalarView(part[(start + 2)..<end]))
        let ascii: (Character) -> UInt32 = { UInt32($0.asciiValue!) }
        let ranges: [ClosedRange<UInt32>]
        switch name {
        case "alpha": ranges = [ascii("a")...ascii("z"), ascii("A")...ascii("Z")]
        case "digit": ranges = [ascii("0")...ascii("9")]
        case "alnum": ranges = [ascii("a")...ascii("z"), ascii("A")...ascii("Z"), ascii("0")...ascii("9")]
        case "lower": ranges = [ascii("a")...ascii("z")]
        case "upper": ranges = [ascii("A")...ascii("Z")]
        case "xdigit": ranges = [ascii("0")...ascii("9"), ascii("a")...ascii("f"), ascii("A")...ascii("F")]
        case "space": ranges = [9...13, 32...32]
        case "blank": ranges = [9...9, 32...32]
        case "punct": ranges = [33...47, 58...64, 91...96, 123...126]
        case "cntrl": ranges = [0...31, 127...127]
        case "print": ranges = [32...126]
        case "graph": ranges = [33...126]
        default:
            throw PathFilterError(pattern: line, reason: "“[:\(name):]” is not a character class "
                                  + "(alpha digit alnum lower upper xdigit space blank punct cntrl print graph)")
        }
        return (ranges, end + 2)
    }
}
