import Foundation
import Glibc

/// A damaged journal is set aside and replaced by an empty one, so that a pass can go on.
///
/// Nothing is lost by that: the journal only remembers what the disk and the server already hold. A
/// whole pass over an empty journal scans the disk and, for every file it has no record of, looks in the
/// server's listing first (`FolderListings`, `serverAlreadyHas`): what is already there with our size
/// is adopted, not sent again. Interrupted uploads lose their resume point; their placeholders are
/// cancelled by the stale-session sweep once they are older than the session lifetime.
extension Journal {
    /// What `openRecovering` did: the open journal and, when it had to, where the damaged one went.
    public struct Opened {
        public var journal: Journal
        /// The damaged journal's new name, nil when the journal was sound.
        public var movedAside: String?
        /// What SQLite said about it.
        public var damage: String?
    }

    /// Opens the journal at `path`, checking it (`PRAGMA quick_check`); a journal that is not a database
    /// or fails the check is renamed to `asideName` (with its -wal and -shm) and a new one is created.
    /// Only for a process that holds the state lock: another process may still have the old file open.
    public static func openRecovering(path: String, now: Date = Date()) throws -> Opened {
        do {
            return Opened(journal: try Journal(path: path, check: true))
        } catch let error as SQLiteError where error.isCorruption {
            var aside = asideName(for: path, at: now)
            var suffix = 1
            while access(aside, F_OK) == 0 {
                suffix += 1
                aside = asideName(for: path, at: now) + "-\(suffix)"
            }
            // The main file last: should a rename fail half way, the next start still finds the damage.
            for extra in ["-wal", "-shm"] where access(path + extra, F_OK) == 0 {
                if rename(path + extra, aside + extra) != 0 {
                    throw SQLiteError(path: path, statement: "move aside", code: error.code,
                                      message: "the journal is damaged (\(error.message)) and \(path + extra) could not be renamed: "
                                          + "\(PathBytes.systemError(errno)); move it aside yourself")
                }
            }
            if rename(path, aside) != 0 {
                throw SQLiteError(path: path, statement: "move aside", code: error.code,
                                  message: "the journal is damaged (\(error.message)) and could not be renamed to \(aside): "
                                      + "\(PathBytes.systemError(errno)); move it aside yourself")
            }
            return Opened(journal: try Journal(path: path), movedAside: aside, damage: error.message)
        }
    }

    /// `journal.sqlite.corrupt-20261130-120102`: beside the journal, sorting by when it was found, in UTC.
    static func asideName(for path: String, at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return path + ".corrupt-" + stamp
    }

    /// The line a command prints when `openRecovering` set a journal aside.
    public static func movedAsideNote(_ opened: Opened) -> String? {
        guard let aside = opened.movedAside else { return nil }
        return "the journal was damaged (\(opened.damage ?? "unreadable")): moved it to \(aside) and started a new one; "
            + "this pass rebuilds it from a scan and the server's listing, without sending again what the server holds "
            + "(delete \(aside) once you no longer need it)"
    }
}
