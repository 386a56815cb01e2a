import CloudreveAPI
import Foundation

/// Remote folder listings fetched at most once per pass, for files the journal has no record of.
final class FolderListings: @unchecked Sendable {
    private let client: CloudreveClient
    private let lock = NSLock()
    /// Keyed by the folder's encoded URI; names by their bytes, since NFC and NFD spellings differ.
    private var folders: [String: [[UInt8]: FileInfo]] = [:]

    init(client: CloudreveClient) { self.client = client }

    /// One per folder, held while it is listed, so that workers asking for the same folder at once list it
    /// once, while other folders are listed alongside.
    private var fetching: [String: NSLock] = [:]

    func entry(_ path: CloudrevePath) throws -> FileInfo? {
        let folder = path.parent.uri
        if let cached = lock.withLock({ folders[folder] }) { return cached[Array(path.name.utf8)] }
        let folderLock = lock.withLock {
            if let existing = fetching[folder] { return existing }
            let made = NSLock()
            fetching[folder] = made
            return made
        }
        return try folderLock.withLock {
            if let cached = lock.withLock({ folders[folder] }) { return cached[Array(path.name.utf8)] }
            var files: [FileInfo] = []
            do {
                files = try client.list(path.parent).files
            } catch CloudreveError.api(40016, _, _, _) {
                // A folder not yet on the server: nothing in it to skip.
            }
            return remember(path.parent, files)[Array(path.name.utf8)]
        }
    }

    /// Keeps a listing already fetched for another reason (the root's, for its storage policy).
    @discardableResult
    func remember(_ folder: CloudrevePath, _ files: [FileInfo]) -> [[UInt8]: FileInfo] {
        var entries: [[UInt8]: FileInfo] = [:]
        for info in files { entries[Array(info.name.utf8)] = info }
        lock.withLock { folders[folder.uri] = entries }
        return entries
    }
}
