import ArgumentParser
import CloudreveAPI
import Foundation
import SyncEngine

/// crsync's exit codes, the ones scripts and systemd units rely on.
enum ExitStatus {
    static let ok: Int32 = 0
    static let someFilesFailed: Int32 = 1
    static let usage: Int32 = 2
    /// Another crsync holds the state directory (`StateLock`).
    static let busy: Int32 = 3
    static let notSignedIn: Int32 = 4
}

/// Prints `message` on stderr as `crsync: message`, one line: control characters in a name it carries are
/// escaped (`printable`).
func complain(_ message: String) {
    FileHandle.standardError.write(Data("crsync: \(printable(message))\n".utf8))
}

/// Turns an error that stops a command into its message and exit code.
func fail(_ error: Error) -> ExitCode {
    switch error {
    case let error as CloudreveError:
        complain(error.description)
        if case .notSignedIn = error { return ExitCode(ExitStatus.notSignedIn) }
        if case .usage = error { return ExitCode(ExitStatus.usage) }
        return ExitCode(ExitStatus.someFilesFailed)
    case let error as UsageError:
        complain(error.message)
        return ExitCode(ExitStatus.usage)
    case let error as SQLiteError where stateTrouble(error) != nil:
        complain(stateTrouble(error)!)
        return ExitCode(ExitStatus.someFilesFailed)
    case let error as StateLock.Busy:
        complain(error.description)
        return ExitCode(ExitStatus.busy)
    default:
        complain("\(error)")
        return ExitCode(ExitStatus.someFilesFailed)
    }
}

struct UsageError: Error {
    var message: String
}
