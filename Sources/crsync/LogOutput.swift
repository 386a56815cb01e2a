import Foundation
import Logging
import SyncEngine

/// Log lines on stderr: `2026-11-25T07:30:00Z info: message key=value` for people, or one JSON object per
/// line (`--log-format json`) for collectors such as journald exporters and Loki. crsync never passes a
/// token, password or upload credential to a logger.
struct LogOutput: LogHandler {
    enum Format: String { case human, json }

    let label: String
    let format: Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let lock = NSLock()
    private static let timestamp: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()

    func log(event: LogEvent) {
        let (level, message) = (event.level, event.message)
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = LogOutput.lock.withLock { LogOutput.timestamp.string(from: Date()) }
        let text: String
        switch format {
        case .human:
            // One event, one line: a file name with a newline or ESC in it is escaped, never obeyed.
            let pairs = all.sorted { $0.key < $1.key }.map { " \($0.key)=\(printable("\($0.value)"))" }.joined()
            text = "\(time) \(level): \(printable("\(message)"))\(pairs)\n"
        case .json:
            var object: [String: String] = ["time": time, "level": level.rawValue, "message": "\(message)"]
            for (key, value) in all { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            text = String(decoding: data, as: UTF8.self) + "\n"
        }
        LogOutput.lock.withLock { FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// Sets up logging once per process. Human lines unless JSON is asked for: journald stores plain lines
    /// well and adds its own timestamps and fields.
    static func bootstrap(level: String, format: Format?) -> Logger {
        let parsed = Logger.Level(rawValue: level) ?? .info
        let chosen = format ?? .human
        LoggingSystem.bootstrap { label in LogOutput(label: label, format: chosen, logLevel: parsed) }
        return Logger(label: "crsync")
    }
}
