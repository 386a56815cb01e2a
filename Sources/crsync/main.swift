import ArgumentParser
import Foundation

// Decides nothing: parses, runs, and maps argument errors to exit code 2 (ArgumentParser's own is 64).

do {
    var command = try Crsync.parseAsRoot()
    try command.run()
} catch {
    let code = Crsync.exitCode(for: error)
    if code == .validationFailure {
        FileHandle.standardError.write(Data((Crsync.fullMessage(for: error) + "\n").utf8))
        exit(ExitStatus.usage)
    }
    Crsync.exit(withError: error)
}
