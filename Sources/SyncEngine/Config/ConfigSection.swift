import Foundation

/// One table of the config file while it is read: typed getters that turn a wrong value into a
/// `ConfigError` naming the file, the value's line, the dotted key and what is allowed.
struct ConfigSection {
    let table: TOMLTable
    /// The dotted prefix of its keys in messages: "upload", "servers.work", "sync"; "" at the top.
    let name: String
    /// How a person finds it in the file: "[upload]", "[[sync]] on line 12".
    let heading: String
    let file: String

    func keyName(_ key: String) -> String { name.isEmpty ? key : name + "." + key }

    func error(_ key: String?, _ message: String, line: Int?) -> ConfigError {
        ConfigError(path: file, line: line, key: key.map(keyName), message: message)
    }

    /// `allowed` followed by what was written: `must be a whole number from 1 to 64 (got "four")`.
    func invalid(_ key: String, _ value: TOMLValue, _ allowed: String) -> ConfigError {
        let got: String
        if case .table = value.content { got = "a table" } else { got = value.tomlText }
        return error(key, "\(allowed) (got \(got))", line: value.line)
    }

    /// Typos must not be silently ignored: a key this table does not know is an error listing the keys it does.
    /// `shownAs` lists them as the file writes them, when that differs (`[[sync]]` for `sync`).
    func rejectUnknownKeys(_ allowed: [String], shownAs: [String]? = nil) throws {
        for (key, value) in table.entries where !allowed.contains(key) {
            let guess = closestKey(to: key, in: allowed).map { "did you mean '\($0)'? " } ?? ""
            let list = (shownAs ?? allowed).joined(separator: ", ")
            throw error(key, "unknown key; \(guess)\(heading) allows: \(list)", line: value.line)
        }
    }

    func required(_ key: String, example: String) throws -> TOMLValue {
        guard let value = table[key] else {
            throw error(key, "missing; add it to \(heading), like \(tomlKey(key)) = \(example)", line: table.line)
        }
        return value
    }

    /// A nested table, like `[upload]` at the top.
    func section(_ key: String, heading: String) throws -> ConfigSection? {
        guard let value = table[key] else { return nil }
        guard case .table(let inner) = value.content else {
            throw invalid(key, value, "must be a table: write \(heading) on a line of its own, with its settings below it")
        }
        return ConfigSection(table: inner, name: keyName(key), heading: heading, file: file)
    }

    func string(_ key: String, allowed: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard case .string(let text) = value.content else { throw invalid(key, value, allowed) }
        return text
    }

    /// One of `choices`, like `deletes = "trash"`.
    func choice(_ key: String, from choices: [String]) throws -> String? {
        let allowed = "must be " + spokenList(choices.map { "\"\($0)\"" }, or: true)
        guard let value = table[key] else { return nil }
        guard case .string(let text) = value.content, choices.contains(text) else { throw invalid(key, value, allowed) }
        return text
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard case .integer(let number) = value.content, let whole = Int(exactly: number), range.contains(whole) else {
            throw invalid(key, value, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return whole
    }

    func boolean(_ key: String) throws -> Bool? {
        guard let value = table[key] else { return nil }
        guard case .boolean(let flag) = value.content else { throw invalid(key, value, "must be true or false") }
        return flag
    }

    /// Seconds: a number, or a string like "5m" (`parseDuration`).
    func duration(_ key: String) throws -> TimeInterval? {
        guard let value = table[key] else { return nil }
        do {
            switch value.content {
            case .integer(let number): return try durationSeconds(Double(number))
            case .float(let number): return try durationSeconds(number)
            case .string(let text): return try parseDuration(text)
            default: throw DurationError(reason: "must be a duration")
            }
        } catch let problem as DurationError {
            throw invalid(key, value, problem.description)
        }
    }

    /// rclone's `--bwlimit` syntax; a bare number is KiB/s as there (`BandwidthSchedule`).
    func bandwidth(_ key: String) throws -> BandwidthSchedule? {
        guard let value = table[key] else { return nil }
        do {
            switch value.content {
            case .string(let text): return try BandwidthSchedule(parsing: text)
            case .integer(let number): return try BandwidthSchedule(parsing: String(number))
            default: throw BandwidthError(reason: "must be a speed limit")
            }
        } catch let problem as BandwidthError {
            throw invalid(key, value, problem.description)
        }
    }

    func stringArray(_ key: String, allowed: String) throws -> [String]? {
        guard let value = table[key] else { return nil }
        guard case .array(let items) = value.content else { throw invalid(key, value, allowed) }
        return try items.map { item in
            guard case .string(let text) = item.content, !text.isEmpty else { throw invalid(key, item, allowed) }
            return text
        }
    }

    /// The tables of a `[[name]]` array.
    func arrayOfTables(_ key: String, heading: String) throws -> [ConfigSection] {
        guard let value = table[key] else { return [] }
        let allowed = "must be written as \(heading) tables, one per entry"
        guard case .array(let items) = value.content else {
            if case .table = value.content {
                throw error(key, "write \(heading) (two brackets), not [\(keyName(key))]: each entry is its own \(heading) table", line: value.line)
            }
            throw invalid(key, value, allowed)
        }
        return try items.map { item in
            guard case .table(let inner) = item.content else { throw invalid(key, item, allowed) }
            return ConfigSection(table: inner, name: keyName(key), heading: "\(heading) on line \(inner.line)", file: file)
        }
    }
}

/// "a, b or c".
func spokenList(_ items: [String], or: Bool) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + (or ? " or " : " and ") + items.last!
}

/// The allowed key a typo most likely meant: within two edits, or differing only in `_` vs `-` or case.
func closestKey(to key: String, in allowed: [String]) -> String? {
    let normalized = key.lowercased().replacingOccurrences(of: "-", with: "_")
    if let same = allowed.first(where: { $0 == normalized }) { return same }
    let scored = allowed.map { ($0, editDistance(normalized, $0)) }.filter { $0.1 <= 2 }
    return scored.min { $0.1 < $1.1 }?.0
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
