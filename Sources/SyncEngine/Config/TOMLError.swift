/// A file that is not valid TOML (or uses TOML crsync's reader does not support), located to the column
/// so that an editor can jump to it.
public struct TOMLError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var line: Int
    public var column: Int
    /// What was expected and what was found instead.
    public var message: String

    public init(path: String, line: Int, column: Int, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(path):\(line):\(column): \(message)" }
}
