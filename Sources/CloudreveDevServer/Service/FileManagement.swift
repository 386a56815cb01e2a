/// Create, rename, move, delete, restore, force-unlock and metadata patches (reference §3, §6;
/// `dbfs/manage.go`). Every change of a path first checks the lock table: an open upload on the
/// object or below it answers 40073.
extension Store {
    func create(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let uri = body["uri"]?.stringValue, !uri.isEmpty,
              let type = body["type"]?.stringValue, type == "file" || type == "folder" else { throw APIError.param() }
        let metadata = try MetadataRules.parse(body["metadata"])
        let located = try locate(uri, signedIn: isSignedIn(request))
        guard located.space == .my else { throw APIError.notSupported }
        let isFolder = type == "folder"
        if let existing = located.node {
            guard existing.isFolder == isFolder, body["err_on_conflict"]?.boolValue != true else { throw APIError.objectExists }
            return .ok(fileJSON(existing))
        }
        try ensureUnlocked(located.uri.components)
        let name = located.uri.name
        // As in dbfs Create, missing folders are made first; a bad last name leaves them behind.
        let parent = try makeParentFolders(located)
        guard NameRules.isValidName(name), isFolder || nameRules.isExtensionAllowed(name) else { throw illegalName }
        let node = tree.createNode(parent: parent, name: name, isFolder: isFolder, now: rowNow, metadata: metadata)
        if !isFolder {
            // An empty file still has a (zero-byte) version, so it can be downloaded.
            let entity = tree.addEntity(to: node, size: 0, uploadSessionID: nil, now: rowNow)
            try blobs.create(entity.id, preallocate: 0)
            tree.setPrimary(node, entity: entity)
        }
        return .ok(fileJSON(node))
    }

    func rename(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let uri = body["uri"]?.stringValue, !uri.isEmpty, let newName = body["new_name"]?.stringValue,
              (1...255).contains(newName.unicodeScalars.count) else { throw APIError.param() }
        let (located, node) = try existing(uri, signedIn: isSignedIn(request))
        guard located.space == .my, node.id != FileTree.rootID else { throw APIError.notSupported }
        let name = Array(newName.utf8)
        guard NameRules.isValidName(name), node.isFolder || nameRules.isExtensionAllowed(name) else { throw illegalName }
        try ensureUnlocked(located.uri.components)
        if let clash = tree.child(of: node.parentID!, named: name), clash !== node { throw APIError.objectExists }
        tree.rename(node, to: name)
        bumpUpdatedAtBeforeFourFour(node)
        stats.renames += 1
        return .ok(fileJSON(node))
    }

    func move(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        let uris = try batchURIs(body)
        guard let dstText = body["dst"]?.stringValue, !dstText.isEmpty else { throw APIError.param() }
        guard body["copy"]?.boolValue != true else { throw APIError.notSupported }
        let signedIn = try isSignedIn(request)
        let parsed = try uris.map { try CloudreveURI.parse($0) }
        let (dstLocated, destination) = try existing(dstText, signedIn: signedIn)
        guard dstLocated.space == .my, destination.isFolder else { throw APIError.notSupported }

        var failures: [(String, APIError)] = []
        var targets: [FileNode] = []
        for (text, uri) in zip(uris, parsed) {
            do {
                let located = try locate(uri, signedIn: signedIn)
                guard let node = located.node else { throw APIError.pathNotExist }
                guard node.id != FileTree.rootID else { throw APIError.notSupported }
                if node.isFolder, let from = tree.components(of: node), dstLocated.uri.components.starts(with: from) {
                    throw APIError.notSupported   // into itself or a descendant
                }
                targets.append(node)
            } catch let e as APIError { failures.append((text, e)) }
        }
        try moveNodes(targets, into: destination)
        stats.moves += targets.count
        if !failures.isEmpty { throw APIError.batch(failures) }
        return .ok()
    }

    func delete(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        let uris = try batchURIs(body)
        let permanent = body["skip_soft_delete"]?.boolValue == true
        let signedIn = try isSignedIn(request)
        let parsed = try uris.map { try CloudreveURI.parse($0) }
        var failures: [(String, APIError)] = []
        var targets: [FileNode] = []
        for (text, uri) in zip(uris, parsed) {
            do {
                let located = try locate(uri, signedIn: signedIn)
                guard let node = located.node else { throw APIError.pathNotExist }
                guard node.id != FileTree.rootID else { throw APIError.notSupported }
                // Only the trash can be emptied item by item; soft-deleting from it is not offered.
                if located.space == .trash && !permanent { throw APIError.notSupported }
                if !targets.contains(where: { $0 === node }) { targets.append(node) }
            } catch let e as APIError { failures.append((text, e)) }
        }
        for node in targets {
            if let path = tree.components(of: node) { try ensureUnlocked(path) }
        }
        for node in targets {
            if permanent { removePermanently(node) } else { moveToTrash(node) }
        }
        stats.deletes += targets.count
        if !failures.isEmpty { throw APIError.batch(failures) }
        return .ok()
    }

    func restore(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        let uris = try batchURIs(body)
        let signedIn = try isSignedIn(request)
        _ = try uris.map { try CloudreveURI.parse($0) }
        try forEachURI(uris) { text in
            let (_, node) = try existing(text, signedIn: signedIn)
            guard let restoreText = node.metadataValue("sys:restore_uri"), let restoreURI = try? CloudreveURI.parse(restoreText),
                  !restoreURI.isRoot else { throw APIError.notSupported }
            let found = tree.lookup(Array(restoreURI.components.dropLast()))
            guard let folder = found.node, folder.isFolder else { throw APIError.pathNotExist }
            try moveNodes([node], into: folder)
        }
        return .ok()
    }

    /// Force unlock (`DELETE /file/lock`): all tokens or none; any failure is 40001 (§6).
    func unlock(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        guard let items = body["tokens"]?.arrayValue, items.count <= 16384 else { throw APIError.param() }
        let tokens = items.compactMap(\.stringValue)
        guard locks.unlock(tokens, now: now) else { throw APIError.param("failed to unlock file") }
        return .ok()
    }

    func patchMetadata(_ request: Request) throws -> Reply {
        let body = try request.jsonBody()
        let uris = try batchURIs(body)
        guard let patches = body["patches"]?.arrayValue else { throw APIError.param() }
        var parsed: [(key: String, value: String, remove: Bool)] = []
        for p in patches {
            guard let key = p["key"]?.stringValue else { throw APIError.param() }
            let value = p["value"]?.stringValue ?? ""
            let remove = p["remove"]?.boolValue ?? false
            try MetadataRules.validate(key: key, value: value, remove: remove)
            parsed.append((key, value, remove))
        }
        let signedIn = try isSignedIn(request)
        try forEachURI(uris) { text in
            let (_, node) = try existing(text, signedIn: signedIn)
            for p in parsed { tree.setMetadata(node, Array(p.key.utf8), p.remove ? nil : p.value) }
        }
        return .ok()
    }

    // MARK: Shared with uploads

    /// Creates the missing folders between the deepest existing ancestor and the target's parent
    /// (uploads and `file/create` both do, §3/§4); returns the parent folder.
    func makeParentFolders(_ located: Located) throws -> FileNode {
        let components = located.uri.components
        guard !components.isEmpty else { throw APIError.notSupported }
        var parent = located.ancestor
        for i in located.depth..<(components.count - 1) {
            guard parent.isFolder else { throw APIError.notSupported }
            guard NameRules.isValidName(components[i]) else { throw illegalName }
            parent = tree.createNode(parent: parent, name: components[i], isFolder: true, now: rowNow)
        }
        guard parent.isFolder else { throw APIError.notSupported }
        return parent
    }

    /// Deletes rows and blobs for good.
    func removePermanently(_ node: FileNode) {
        for entity in tree.removeRecursively(node) { blobs.remove(entity.id) }
    }

    /// Before 4.4 every row update moved `updated_at` to now (§3 FileResponse).
    func bumpUpdatedAtBeforeFourFour(_ node: FileNode) {
        if !version.updatedAtFollowsLastModified { tree.setUpdatedAt(node, rowNow) }
    }

    // MARK: Private

    /// Soft delete (`SoftDelete`): the row gets a UUID name, leaves the tree, and remembers where it
    /// came from in `sys:restore_uri`.
    private func moveToTrash(_ node: FileNode) {
        let origin = uriString(node)
        tree.move(node, to: nil)
        tree.rename(node, to: Array(Random.uuid().utf8))
        tree.setMetadata(node, Array("sys:restore_uri".utf8), origin)
        tree.setMetadata(node, Array("sys:expected_collect_time".utf8), String(now.adding(seconds: 7 * 86400).seconds))
        bumpUpdatedAtBeforeFourFour(node)
    }

    /// `MoveOrCopy` (move only): locks on sources and destination names, all-or-nothing name check,
    /// and trash items get their original name back (`moveFiles`).
    private func moveNodes(_ nodes: [FileNode], into destination: FileNode) throws {
        guard let dstPath = tree.components(of: destination) else { throw APIError.pathNotExist }
        var newNames: [[UInt8]] = []
        for node in nodes {
            let newName = displayName(node)
            if let path = tree.components(of: node) { try ensureUnlocked(path) }
            try ensureUnlocked(dstPath + [newName])
            if let clash = tree.child(of: destination.id, named: newName), clash !== node { throw APIError.objectExists }
            if newNames.contains(newName) { throw APIError.objectExists }
            newNames.append(newName)
        }
        for (node, newName) in zip(nodes, newNames) {
            let fromTrash = node.metadataValue("sys:restore_uri") != nil
            tree.move(node, to: destination)
            if fromTrash {
                tree.rename(node, to: newName)
                tree.setMetadata(node, Array("sys:restore_uri".utf8), nil)
                tree.setMetadata(node, Array("sys:expected_collect_time".utf8), nil)
            }
            bumpUpdatedAtBeforeFourFour(node)
        }
    }
}
