import ArgumentParser
import Foundation

// Decides nothing: parses, runs, and maps argument errors to exit code 2 (ArgumentParser's own is 64).

// glibc gives threads that contend for malloc arenas of their own, up to 8 per core, each keeping what it
// freed: under load that grew a 1 GiB upload's peak RSS from ~48 to ~68 MiB. Uploads are I/O-bound, so
// two arenas are plenty.
_ = crsyncMallopt(-8 /* M_ARENA_MAX, malloc.h */, 2)

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

/// glibc's mallopt, which no imported module exposes.
@_silgen_name("mallopt")
func crsyncMallopt(_ parameter: Int32, _ value: Int32) -> Int32
