/// The JSON shapes of `service/explorer/response.go`: FileResponse, StoragePolicy, Entity.
extension Store {
    func fileJSON(_ node: FileNode, extended: Bool = false) -> JSON {
        var pairs: [(String, JSON)] = [
            ("type", .int(node.isFolder ? 1 : 0)),
            ("id", .string(hashids.encode(node.id, .file))),
            ("name", .string(String(decoding: displayName(node), as: UTF8.self))),
            ("created_at", .string(node.createdAt.rfc3339)),
            ("updated_at", .string(node.updatedAt.rfc3339)),
            ("size", .int(node.size)),
            ("metadata", .object(node.metadata.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                (String(decoding: $0.key, as: UTF8.self), .string($0.value))
            })),
            ("path", .string(uriString(node))),
            ("owned", .bool(true)),
            // Always present: a placeholder's (and a folder's) primary entity is the hashid of 0 (§3).
            ("primary_entity", .string(hashids.encode(node.primaryEntity, .entity))),
        ]
        if extended {
            let entities = node.entityIDs.compactMap { tree.entities[$0] }.sorted { $0.id > $1.id }
            pairs.append(("extended_info", .object([
                ("storage_policy", storagePolicyJSON),
                ("storage_used", .int(entities.reduce(0) { $0 + $1.size })),
                ("entities", .array(entities.map { e in
                    .object([
                        ("id", .string(hashids.encode(e.id, .entity))),
                        ("size", .int(e.size)),
                        ("type", .int(0)),
                        ("created_at", .string(e.createdAt.rfc3339)),
                        ("storage_policy", storagePolicyJSON),
                    ])
                })),
            ])))
        }
        return .object(pairs)
    }

    /// The default local policy as listings and upload sessions show it.
    var storagePolicyJSON: JSON {
        var pairs: [(String, JSON)] = [("id", .string(policyHashID)), ("name", .string("Default storage policy"))]
        if !nameRules.deniedExtensions.isEmpty {
            pairs.append(("denied_suffix", .array(nameRules.deniedExtensions.map { .string($0) })))
        }
        pairs += [("type", .string(policyType)), ("max_size", .int(config.maxSize))]
        if version.reportsChunkConcurrency, let concurrency = config.chunkConcurrency { pairs.append(("chunk_concurrency", .int(concurrency))) }
        return .object(pairs)
    }

    /// `File.DisplayName`: a trashed item shows the name of its restore URI, not its UUID row name.
    func displayName(_ node: FileNode) -> [UInt8] {
        if let restore = node.metadataValue("sys:restore_uri"), let uri = try? CloudreveURI.parse(restore), !uri.isRoot {
            return uri.name
        }
        return node.name
    }

    /// `cloudreve://my/...` for live files, `cloudreve://trash/<row name>/...` inside the trash.
    func uriString(_ node: FileNode) -> String {
        if let components = tree.components(of: node) { return CloudreveURI.string(fileSystem: "my", components: components) }
        var parts: [[UInt8]] = []
        var current: FileNode? = node
        while let c = current {
            parts.append(c.name)
            current = c.parentID.flatMap { tree.files[$0] }
        }
        return CloudreveURI.string(fileSystem: "trash", components: parts.reversed())
    }
}
