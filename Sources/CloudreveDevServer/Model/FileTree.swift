/// One row of the `files` table: a file or folder. Names are bytes, never `String`: Swift's `==`
/// and String-keyed dictionaries equate canonically-equivalent spellings (NFC/NFD), which the real
/// server's SQL `name = ?` keeps apart.
final class FileNode {
    let id: Int64
    fileprivate(set) var parentID: Int64?
    fileprivate(set) var name: [UInt8]
    let isFolder: Bool
    fileprivate(set) var createdAt: Timestamp
    fileprivate(set) var updatedAt: Timestamp
    /// `File.size`: the primary entity's size once an upload completes, 0 for a new placeholder.
    fileprivate(set) var size: Int64
    fileprivate(set) var metadata: [[UInt8]: String]
    /// 0 when the file has no usable version yet (an upload placeholder).
    fileprivate(set) var primaryEntity: Int64
    /// Entity ids, oldest first.
    fileprivate(set) var entityIDs: [Int64]

    init(id: Int64, parentID: Int64?, name: [UInt8], isFolder: Bool, createdAt: Timestamp, updatedAt: Timestamp,
         size: Int64 = 0, metadata: [[UInt8]: String] = [:], primaryEntity: Int64 = 0, entityIDs: [Int64] = []) {
        self.id = id
        self.parentID = parentID
        self.name = name
        self.isFolder = isFolder
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.size = size
        self.metadata = metadata
        self.primaryEntity = primaryEntity
        self.entityIDs = entityIDs
    }

    func metadataValue(_ key: String) -> String? { metadata[Array(key.utf8)] }
}

/// One row of the `entities` table: a stored blob (a version), or an upload's placeholder for one.
struct Entity {
    let id: Int64
    let fileID: Int64
    /// The declared size; quota is charged with it from the moment the session is created (§3 capacity).
    var size: Int64
    var createdAt: Timestamp
    /// Set while the entity is an upload placeholder (`entities.upload_session_id`).
    var uploadSessionID: String?
}

/// The file table and entity table of the single user, with the indexes a path lookup needs.
/// Every mutation goes through here so the journal learns which rows changed.
final class FileTree {
    static let rootID: Int64 = 1

    private(set) var files: [Int64: FileNode] = [:]
    private(set) var entities: [Int64: Entity] = [:]
    private var children: [Int64: [[UInt8]: Int64]] = [:]
    private(set) var nextFileID: Int64 = 2
    private(set) var nextEntityID: Int64 = 1
    /// Bytes of every entity: versions, old versions, and open or orphaned placeholders.
    private(set) var usedBytes: Int64 = 0
    /// Bumped on every change; listings cache their sort order against it.
    private(set) var generation = 0

    private(set) var dirtyFiles = Set<Int64>()
    private(set) var dirtyEntities = Set<Int64>()
    private(set) var countersDirty = false

    init(now: Timestamp) {
        insert(FileNode(id: FileTree.rootID, parentID: nil, name: [], isFolder: true, createdAt: now, updatedAt: now))
    }

    var root: FileNode { files[FileTree.rootID]! }

    // MARK: Reading

    func child(of parent: Int64, named name: [UInt8]) -> FileNode? {
        children[parent]?[name].flatMap { files[$0] }
    }

    func childIDs(of parent: Int64) -> [Int64] { children[parent].map { Array($0.values) } ?? [] }

    /// The node at `components` under the root, or the deepest existing ancestor and how many
    /// components it covers (Cloudreve's `getFileByPath` "most recent ancestor").
    func lookup(_ components: [[UInt8]]) -> (node: FileNode?, ancestor: FileNode, depth: Int) {
        var current = root
        for (i, name) in components.enumerated() {
            guard current.isFolder, let next = child(of: current.id, named: name) else {
                return (nil, current, i)
            }
            current = next
        }
        return (current, current, components.count)
    }

    /// Path components from the user's root, or nil for something inside the trash.
    func components(of node: FileNode) -> [[UInt8]]? {
        var parts: [[UInt8]] = []
        var current = node
        while current.id != FileTree.rootID {
            guard let parentID = current.parentID, let parent = files[parentID] else { return nil }
            parts.append(current.name)
            current = parent
        }
        return parts.reversed()
    }

    /// The top-level trash item holding `node` (itself when it was trashed directly).
    func trashItem(containing node: FileNode) -> FileNode? {
        var current = node
        while let parentID = current.parentID {
            guard let parent = files[parentID] else { return nil }
            current = parent
        }
        return current.id == FileTree.rootID ? nil : current
    }

    var trashItems: [FileNode] { files.values.filter { $0.parentID == nil && $0.id != FileTree.rootID } }

    func descendants(of node: FileNode) -> [FileNode] {
        var result: [FileNode] = []
        var stack = [node.id]
        while let id = stack.popLast() {
            for childID in childIDs(of: id) {
                guard let c = files[childID] else { continue }
                result.append(c)
                if c.isFolder { stack.append(childID) }
            }
        }
        return result
    }

    // MARK: Files

    @discardableResult
    func createNode(parent: FileNode, name: [UInt8], isFolder: Bool, now: Timestamp,
                    metadata: [[UInt8]: String] = [:]) -> FileNode {
        let node = FileNode(id: nextFileID, parentID: parent.id, name: name, isFolder: isFolder,
                            createdAt: now, updatedAt: now, metadata: metadata)
        nextFileID += 1
        countersDirty = true
        insert(node)
        return node
    }

    func rename(_ node: FileNode, to name: [UInt8]) {
        unlinkFromParent(node)
        node.name = name
        linkToParent(node)
        touched(node)
    }

    /// Moves under `parent`, or to the trash when `parent` is nil.
    func move(_ node: FileNode, to parent: FileNode?) {
        unlinkFromParent(node)
        node.parentID = parent?.id
        linkToParent(node)
        touched(node)
    }

    func setUpdatedAt(_ node: FileNode, _ time: Timestamp) {
        node.updatedAt = time
        touched(node)
    }

    func setMetadata(_ node: FileNode, _ key: [UInt8], _ value: String?) {
        node.metadata[key] = value
        touched(node)
    }

    func setPrimary(_ node: FileNode, entity: Entity) {
        node.primaryEntity = entity.id
        node.size = entity.size
        touched(node)
    }

    /// Removes the node and everything under it, with their entities; returns the removed entities
    /// so their blobs can be deleted.
    func removeRecursively(_ node: FileNode) -> [Entity] {
        var removed: [Entity] = []
        for n in descendants(of: node) + [node] {
            for e in n.entityIDs { if let entity = removeEntity(e) { removed.append(entity) } }
            unlinkFromParent(n)
            files[n.id] = nil
            children[n.id] = nil
            touched(n)
        }
        return removed
    }

    // MARK: Entities

    func addEntity(to node: FileNode, size: Int64, uploadSessionID: String?, now: Timestamp) -> Entity {
        let entity = Entity(id: nextEntityID, fileID: node.id, size: size, createdAt: now, uploadSessionID: uploadSessionID)
        nextEntityID += 1
        countersDirty = true
        entities[entity.id] = entity
        usedBytes += size
        node.entityIDs.append(entity.id)
        dirtyEntities.insert(entity.id)
        touched(node)
        return entity
    }

    func clearUploadSession(entityID: Int64) {
        entities[entityID]?.uploadSessionID = nil
        dirtyEntities.insert(entityID)
        generation += 1
    }

    @discardableResult
    func removeEntity(_ id: Int64) -> Entity? {
        guard let entity = entities.removeValue(forKey: id) else { return nil }
        usedBytes -= entity.size
        if let node = files[entity.fileID] {
            node.entityIDs.removeAll { $0 == id }
            if node.primaryEntity == id { node.primaryEntity = 0 }
            touched(node)
        }
        dirtyEntities.insert(id)
        return entity
    }

    // MARK: Journal support

    /// Hands the changed row ids to the journal and forgets them.
    func takeDirty() -> (files: Set<Int64>, entities: Set<Int64>, counters: Bool) {
        defer { dirtyFiles = []; dirtyEntities = []; countersDirty = false }
        return (dirtyFiles, dirtyEntities, countersDirty)
    }

    /// Loading: puts rows back exactly as persisted (no dirty marks).
    func restore(files loaded: [FileNode], entities loadedEntities: [Entity], nextFileID: Int64, nextEntityID: Int64) {
        files = [:]
        children = [:]
        entities = [:]
        usedBytes = 0
        for node in loaded { files[node.id] = node }
        for node in loaded { linkToParent(node) }
        for entity in loadedEntities where files[entity.fileID] != nil {
            entities[entity.id] = entity
            usedBytes += entity.size
        }
        // Entity lists are derived from the entity rows so the two can never disagree.
        for node in loaded { node.entityIDs = [] }
        for entity in entities.values.sorted(by: { $0.id < $1.id }) { files[entity.fileID]?.entityIDs.append(entity.id) }
        for node in loaded where node.primaryEntity != 0 && entities[node.primaryEntity] == nil { node.primaryEntity = 0 }
        self.nextFileID = max(nextFileID, (files.keys.max() ?? 1) + 1)
        self.nextEntityID = max(nextEntityID, (entities.keys.max() ?? 0) + 1)
        if files[FileTree.rootID] == nil {
            insert(FileNode(id: FileTree.rootID, parentID: nil, name: [], isFolder: true, createdAt: .wallClock(), updatedAt: .wallClock()))
        }
        generation += 1
    }

    // MARK: Private

    private func insert(_ node: FileNode) {
        files[node.id] = node
        linkToParent(node)
        touched(node)
    }

    private func linkToParent(_ node: FileNode) {
        guard let parentID = node.parentID else { return }
        children[parentID, default: [:]][node.name] = node.id
    }

    private func unlinkFromParent(_ node: FileNode) {
        guard let parentID = node.parentID else { return }
        if children[parentID]?[node.name] == node.id { children[parentID]?[node.name] = nil }
    }

    private func touched(_ node: FileNode) {
        dirtyFiles.insert(node.id)
        generation += 1
    }
}
