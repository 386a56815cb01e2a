/// Where a URI points, after the navigator's checks (`dbfs/my_navigator.go`, `trash_navigator.go`).
struct Located {
    enum Space { case my, trash }
    let space: Space
    let uri: CloudreveURI
    /// The object itself, if it exists (nil for the trash root, which has no row).
    let node: FileNode?
    /// The deepest existing folder on the way (for `my`), used to create missing parents.
    let ancestor: FileNode
    let depth: Int
}

extension Store {
    func locate(_ text: String, signedIn: Bool) throws -> Located {
        try locate(CloudreveURI.parse(text), signedIn: signedIn)
    }

    /// Anonymous callers get 401 for `my` and `trash` (`ErrLoginRequired`): this is how an expired
    /// access token shows on file routes (§2).
    func locate(_ uri: CloudreveURI, signedIn: Bool) throws -> Located {
        switch uri.fileSystem {
        case "my":
            guard signedIn else { throw APIError.loginRequired }
            if let owner = uri.userID, !owner.isEmpty, owner != userHashID { throw APIError.pathNotExist }
            let found = tree.lookup(uri.components)
            return Located(space: .my, uri: uri, node: found.node, ancestor: found.ancestor, depth: found.depth)
        case "trash":
            guard signedIn else { throw APIError.loginRequired }
            // The trash is a flat list: one level only.
            guard uri.components.count <= 1 else { throw APIError.pathNotExist }
            let item = uri.components.first.flatMap { name in tree.trashItems.first { $0.name == name } }
            return Located(space: .trash, uri: uri, node: item, ancestor: tree.root, depth: item == nil ? 0 : 1)
        default:
            throw APIError.param("unknown uri")
        }
    }

    /// `getFileByPath` that must find the object: 40016 otherwise.
    func existing(_ text: String, signedIn: Bool) throws -> (Located, FileNode) {
        let located = try locate(text, signedIn: signedIn)
        guard let node = located.node else { throw APIError.pathNotExist }
        return (located, node)
    }

    /// The answer to a bad object name: 40052 from 4.4 on; before, a plain Go error (code -1, §1).
    var illegalName: APIError { version.hasNameErrorCode ? .illegalName : .unclassified }

    /// Lock check for an operation on `node`'s path: 40073 with the conflicting locks (§6).
    func ensureUnlocked(_ components: [[UInt8]], zeroDepth: Bool = false) throws {
        let conflicts = locks.conflicts(with: components, zeroDepth: zeroDepth, now: now)
        if !conflicts.isEmpty { throw APIError.lockConflict(LockTable.conflictJSON(conflicts)) }
    }

    /// Runs `body` per URI of a batch, collecting failures into 40081 like `AggregateError`.
    func forEachURI(_ uris: [String], _ body: (String) throws -> Void) throws {
        var failures: [(String, APIError)] = []
        for uri in uris {
            do { try body(uri) } catch let e as APIError { failures.append((uri, e)) }
        }
        if !failures.isEmpty { throw APIError.batch(failures) }
    }

    /// The `uris` array of a batch body: required, non-empty, at most 3000 (40074, §7).
    func batchURIs(_ body: JSON) throws -> [String] {
        guard let items = body["uris"]?.arrayValue, !items.isEmpty else { throw APIError.param() }
        let uris = items.compactMap(\.stringValue)
        guard uris.count == items.count else { throw APIError.param("JSON marshall error") }
        guard uris.count <= Store.maxBatch else { throw APIError(40074, "Too many URIs in batch") }
        return uris
    }
}
