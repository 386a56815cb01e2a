import CloudreveAPI
import Foundation

/// Remote folder listings fetched at most once per pass, for files the journal has no record of.
final class FolderListings: @unchecked Sendable {
    private let client: CloudreveClient
    private let lock = NSLock()
    /// Keyed by the folder's encoded URI; names by their bytes, since NFC and NFD spellings differ.
    private var folders: [String: [[UInt8]: FileInfo]] = [:]

    init(client: CloudreveClient) { self.client = client }

    func entry(_ path: CloudrevePath) throws -> FileInfo? {
        let folder = path.parent.uri
        if let cached = lock.withLock({ folders[folder] }) { return cached[Array(path.name.utf8)] }
        var entries: [[UInt8]: FileInfo] = [:]
        do {
            for info in try client.list(path.parent).files { entries[Array(info.name.utf8)] = info }
        } catch CloudreveError.api(40016, _, _, _) {
            // A folder not yet on the server: nothing in it to skip.
        }
        lock.withLock { folders[folder] = entries }
        return entries[Array(path.name.utf8)]
    }
}
