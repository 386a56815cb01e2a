import Foundation

/// Keeping the saved sign-in private. The file is written 0600 inside a 0700 folder, but a backup
/// restore, a `cp -r`, an umask-less editor or a hand-made `--state-dir` can leave either readable by
/// others; and a `login` killed between writing its temporary copy and renaming it leaves that copy
/// (holding the tokens) behind.
extension CredentialFile {
    /// Bits that let anyone but the owner in.
    static let othersMask: mode_t = 0o077

    /// Makes the file 0600 and its folder 0700 when others can read them, and removes temporary copies
    /// that a killed `login` left. Returns one message per change, naming the file, for the caller to
    /// show. Throws when something is readable by others and cannot be made private: the tokens must not
    /// be used from there.
    public func tighten() throws -> [String] {
        var notes: [String] = []
        let folder = (path as NSString).deletingLastPathComponent
        var folderInfo = stat()
        if stat(folder, &folderInfo) == 0, folderInfo.st_mode & Self.othersMask != 0 {
            try makePrivate(folder, mode: folderInfo.st_mode, to: 0o700, what: "the state folder")
            notes.append("the state folder \(folder) was open to others (mode \(octal(folderInfo.st_mode))): made it 0700, "
                         + "as it holds your sign-in")
        }
        var fileInfo = stat()
        if lstat(path, &fileInfo) == 0, fileInfo.st_mode & S_IFMT == S_IFREG, fileInfo.st_mode & Self.othersMask != 0 {
            try makePrivate(path, mode: fileInfo.st_mode, to: 0o600, what: "the saved sign-in")
            notes.append("\(path) was readable by others (mode \(octal(fileInfo.st_mode))): made it 0600; if someone else may have "
                         + "read it, revoke those tokens with `crsync logout` and sign in again")
        }
        let base = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in Self.leftoverTemporaryCopies(of: base, among: names, isRunning: { $0 == getpid() || kill($0, 0) == 0 || errno == EPERM }) {
            if unlink(folder + "/" + name) == 0 {
                notes.append("removed \(folder)/\(name), a copy of the sign-in left by an interrupted `crsync login`")
            }
        }
        return notes
    }

    /// The names among `names` that are `base.tmp.PID` copies whose process is gone; a running login's
    /// copy is left alone, it is about to be renamed.
    public static func leftoverTemporaryCopies(of base: String, among names: [String], isRunning: (pid_t) -> Bool) -> [String] {
        let prefix = base + ".tmp."
        return names.filter { name in
            guard name.hasPrefix(prefix), let pid = pid_t(name.dropFirst(prefix.count)), pid > 0 else { return false }
            return !isRunning(pid)
        }.sorted()
    }

    private func makePrivate(_ target: String, mode: mode_t, to wanted: mode_t, what: String) throws {
        guard chmod(target, wanted) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CloudreveError.usage("\(what) \(target) is readable by others (mode \(octal(mode))) and crsync cannot make it "
                                       + "private (\(reason)); run `chmod \(String(wanted, radix: 8)) \(target)` as its owner, "
                                       + "then `crsync logout` and `crsync login` if others may have read it")
        }
    }
}

/// A permission as `ls` and `chmod` spell it: 0644.
func octal(_ mode: mode_t) -> String {
    "0" + String(mode & 0o777, radix: 8)
}
