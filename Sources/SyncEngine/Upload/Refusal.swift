import CloudreveAPI
import Foundation

/// A server's refusal to take one file, in the user's words: what the limit is, how far the file is
/// over it, and what to do. The server's own text ("Insufficient capacity", "Invalid object name") says
/// neither; the checks it stands for are in §4 (create session: name 40052, size 40049, quota 40051).
/// nil for any other code: the generic message is as good as it gets.
///
/// `free` is what `GET /user/capacity` reports as left (total − used), `maxSize` the storage policy's
/// `max_size` from the root's listing (0 or nil: not known, or no limit).
func refusalReason(code: Int, path: String, size: Int64, free: Int64?, maxSize: Int64?) -> String? {
    switch code {
    case 40051:
        let room = free.map { "\(formatSize(max(0, $0))) is free" } ?? "the free space is unknown"
        return "not enough storage on the server: \(path) needs \(formatSize(size)) and \(room) (server code 40051); "
            + "free space on the server (empty its trash, delete old versions) or ask its admin for a larger quota"
    case 40049:
        let limit = maxSize.flatMap { $0 > 0 ? " of \(formatSize($0))" : nil } ?? ""
        return "\(path) is \(formatSize(size)), larger than the storage policy's size limit\(limit) (server code 40049); "
            + "ask the server's admin to raise the policy's maximum file size, or exclude the file"
    case 40052:
        let name = (path as NSString).lastPathComponent
        let ext = (name as NSString).pathExtension.lowercased()
        // The name itself passed crsync's checks of the rules every server applies (NameRules), so what
        // refused it is the policy's extension list or name pattern (4.4+).
        let what = ext.isEmpty ? "names like “\(name)” (no extension)" : "the extension .\(ext)"
        return "the server's storage policy does not allow \(what) (server code 40052: its allowed/denied extensions or name "
            + "pattern); ask the server's admin to allow it, rename the file, or exclude it"
            + (ext.isEmpty ? "" : " (exclude = [\"*.\(ext)\"])")
    default:
        return nil
    }
}

/// Bytes with the exact count when it is not a round number: "1.5 MiB (1572864 bytes)".
func formatSize(_ bytes: Int64) -> String {
    let units = ["KiB", "MiB", "GiB", "TiB"]
    guard bytes >= 1024 else { return "\(bytes) bytes" }
    var value = Double(bytes)
    var unit = -1
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return String(format: "%.1f %@ (%lld bytes)", value, units[unit], bytes)
}

extension FileUploader {
    /// `error` as the reason this file failed: in the user's words for a refusal, asking the server for
    /// its free space when the refusal is about quota.
    func reason(for error: CloudreveError, path: String, size: Int64) -> String {
        guard let code = error.code else { return error.description }
        let free = code == 40051 ? (try? client.capacity()).map { $0.total - $0.used } : nil
        return refusalReason(code: code, path: path, size: size, free: free, maxSize: server.maxSize) ?? error.description
    }
}
