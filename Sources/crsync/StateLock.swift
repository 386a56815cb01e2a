import Foundation

/// One writer per state directory: two crsync processes uploading from one journal would race for the
/// same server locks (40073) and cancel each other's sessions. `crsync run`, `sync` and `sessions clean`
/// hold this lock (flock(2) on `lock` in the state directory) for as long as they live; the kernel drops
/// it when the process ends, however it ends, so a SIGKILL never leaves a stale lock behind.
/// `status`, `sessions` and `retry` only read or flag rows, and work beside a running daemon.
enum StateLock {
    struct Busy: Error, CustomStringConvertible {
        var directory: String
        var holder: String
        var description: String {
            "another crsync (\(holder)) is using \(directory); wait for it to finish, or stop it "
                + "(the daemon and the backup timer must not share a state directory: give one --state-dir)"
        }
    }

    /// Takes the lock of `directory` (created 0700 if missing) until the process exits: the descriptor
    /// is never closed. Throws `Busy` naming the holder.
    static func take(directory: String, command: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw UsageError(message: "cannot open \(path): \(String(cString: strerror(errno))); check the state directory's owner and mode")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = String(cString: strerror(errno))
            var buffer = [UInt8](repeating: 0, count: 256)
            let count = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            guard busy else { throw UsageError(message: "cannot lock \(path): \(reason)") }
            let holder = String(decoding: buffer.prefix(max(0, count)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Busy(directory: directory, holder: holder.isEmpty ? "pid unknown" : holder)
        }
        // Who holds it, for the message another process prints.
        let note = Array("pid \(getpid()), crsync \(command)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, note, note.count, 0)
    }
}
