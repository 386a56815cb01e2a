import Foundation

/// The name ours is uploaded under when the server copy changed since our last upload:
/// `NAME (conflict YYYY-MM-DD HHMMSS HOST).EXT`, like the Nextcloud and Dropbox clients, so both versions
/// survive and sort beside each other. Kept within Cloudreve's 255-byte name limit by shortening NAME.
public func conflictName(for name: String, at date: Date, host: String) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone.current
    formatter.dateFormat = "yyyy-MM-dd HHmmss"
    let cleanHost = String(host.map { "\\/:*?\"<>|".contains($0) ? "-" : $0 })
    let tag = " (conflict \(formatter.string(from: date)) \(cleanHost))"
    var base = name
    var ext = ""
    if let dot = name.lastIndex(of: "."), dot != name.startIndex {
        base = String(name[..<dot])
        ext = String(name[dot...])
    }
    while base.utf8.count + tag.utf8.count + ext.utf8.count > 255, !base.isEmpty {
        base.removeLast()
    }
    return base + tag + ext
}

/// This machine's name, for conflict copies.
func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count) == 0 else { return "crsync" }
    return String(cString: buffer)
}
