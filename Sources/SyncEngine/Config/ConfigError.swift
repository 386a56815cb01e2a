/// Why a config file cannot be used, written for the person who will edit it:
/// `config.toml:7: key 'upload.workers': must be a whole number from 1 to 64 (got "four")`.
/// Every error names the file; all but "the file cannot be read" and "a section is missing" also name a
/// line (and a column, for TOML syntax errors); errors about a setting name its key and what is allowed.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var line: Int?
    public var column: Int?
    /// The dotted key, as a person would look for it: `upload.workers`, `servers.work.url`, `sync.local`.
    public var key: String?
    /// What is wrong and what would be right.
    public var message: String

    public init(path: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    init(_ error: TOMLError) {
        self.init(path: error.path, line: error.line, column: error.column, message: error.message)
    }

    public var description: String {
        var place = path
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        return place + ": " + (key.map { "key '\($0)': " } ?? "") + message
    }
}
