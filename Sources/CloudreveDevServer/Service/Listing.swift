import Foundation

/// The order a listing is sorted in: folders first, then by the chosen key, id breaking ties
/// (`inventory/file_utils.go` cursor pagination).
struct ListOrder: Equatable {
    enum Key: String { case name, size, updatedAt = "updated_at", createdAt = "created_at" }
    var key: Key = .name
    var ascending = true
}

/// A row's position in a listing; also what a cursor (`next_token`) remembers.
struct ListPosition {
    var isFile: Bool
    var name: [UInt8]
    var number: Int64
    var id: Int64

    init(_ node: FileNode, _ order: ListOrder) {
        isFile = !node.isFolder
        name = node.name
        id = node.id
        switch order.key {
        case .name: number = 0
        case .size: number = node.size
        case .updatedAt: number = node.updatedAt.nanoseconds
        case .createdAt: number = node.createdAt.nanoseconds
        }
    }

    init(isFile: Bool, name: [UInt8], number: Int64, id: Int64) {
        self.isFile = isFile
        self.name = name
        self.number = number
        self.id = id
    }

    /// Whether `self` comes before `other`.
    func precedes(_ other: ListPosition, _ order: ListOrder) -> Bool {
        if isFile != other.isFile { return !isFile }
        let keyOrder: Bool?
        switch order.key {
        case .name: keyOrder = name == other.name ? nil : name.lexicographicallyPrecedes(other.name)
        default: keyOrder = number == other.number ? nil : number < other.number
        }
        if let keyOrder { return order.ascending ? keyOrder : !keyOrder }
        return order.ascending ? id < other.id : id > other.id
    }
}

/// Sorted children per folder, valid until the tree changes; keeps paging through a 20,000-entry
/// folder linear instead of re-sorting for every page.
struct ListingCache {
    var generation = -1
    var entries: [Int64: (order: ListOrder, rows: [(ListPosition, Int64)])] = [:]
}

extension Store {
    func list(_ request: Request) throws -> Reply {
        guard let uriText = request.queryValue("uri"), !uriText.isEmpty else { throw APIError.param() }
        let order = try listOrder(request)
        var pageSize = 100
        if let text = request.queryValue("page_size"), !text.isEmpty {
            guard let n = Int(text) else { throw APIError.param() }
            pageSize = n <= 0 ? 100 : min(n, Store.maxPageSize)
        }
        let located = try locate(uriText, signedIn: isSignedIn(request))

        var parentJSON: JSON
        var rows: [(ListPosition, Int64)]
        var singleFileView = false
        switch located.space {
        case .trash:
            guard located.uri.isRoot else { throw APIError.pathNotExist }
            parentJSON = emptyFileJSON
            rows = sortedRows(tree.trashItems, order)
        case .my:
            guard let node = located.node else { throw APIError.pathNotExist }
            if let search = located.uri.search {
                parentJSON = fileJSON(node)
                rows = sortedRows(tree.descendants(of: node).filter { matches($0, search) }, order)
            } else if node.isFolder {
                parentJSON = fileJSON(node)
                rows = cachedRows(folder: node, order)
            } else {
                // A file URI lists that one file with its folder as parent (`single_file_view`).
                singleFileView = true
                parentJSON = node.parentID.flatMap { tree.files[$0] }.map { fileJSON($0) } ?? emptyFileJSON
                rows = [(ListPosition(node, order), node.id)]
            }
        }

        var start = 0
        if let token = request.queryValue("next_page_token"), !token.isEmpty {
            // An unreadable token is a plain Go error in the real server: code -1.
            guard let cursor = decodeCursor(token) else { throw APIError.unclassified }
            start = firstIndex(after: cursor, in: rows, order)
        }
        let end = min(rows.count, start + pageSize)
        let page = rows[start..<end].compactMap { tree.files[$0.1] }
        var pagination: [(String, JSON)] = [("page", .int(0)), ("page_size", .int(pageSize))]
        if end < rows.count { pagination.append(("next_token", .string(encodeCursor(rows[end - 1].0)))) }
        pagination.append(("is_cursor", .bool(true)))

        var data: [(String, JSON)] = [
            ("files", .array(page.map { fileJSON($0) })),
            ("parent", parentJSON),
            ("pagination", .object(pagination)),
            ("props", .object([
                ("capability", .string("39/9")),
                ("max_page_size", .int(Store.maxPageSize)),
                ("order_by_options", .array(["name", "size", "updated_at", "created_at"].map { .string($0) })),
                ("order_direction_options", .array([.string("asc"), .string("desc")])),
            ])),
            ("context_hint", .string(Random.uuid())),
            ("mixed_type", .bool(false)),
        ]
        if singleFileView { data.append(("single_file_view", .bool(true))) }
        data.append(("storage_policy", storagePolicyJSON))
        return .ok(.object(data))
    }

    func fileInfo(_ request: Request) throws -> Reply {
        let signedIn = try isSignedIn(request)
        let extended = try request.queryBool("extended")
        var uriText = request.queryValue("uri") ?? ""
        if uriText.isEmpty, let id = request.queryValue("id"), !id.isEmpty {
            guard let fileID = hashids.decode(id, .file) else { throw APIError.param("unknown file id") }
            guard signedIn else { throw APIError.loginRequired }
            guard let node = tree.files[fileID] else { throw APIError.pathNotExist }
            uriText = uriString(node)
        }
        guard !uriText.isEmpty else { throw APIError.param("uri is required") }
        let located = try locate(uriText, signedIn: signedIn)
        // `WithNotRoot`: the root folder is not an object you can ask about (403).
        if located.space == .my && located.uri.isRoot { throw APIError.notSupported }
        guard let node = located.node else { throw APIError.pathNotExist }
        return .ok(fileJSON(node, extended: extended))
    }

    // MARK: Private

    private func listOrder(_ request: Request) throws -> ListOrder {
        var order = ListOrder()
        if let by = request.queryValue("order_by"), !by.isEmpty {
            guard let key = ListOrder.Key(rawValue: by) else { throw APIError.param() }
            order.key = key
        }
        if let dir = request.queryValue("order_direction"), !dir.isEmpty {
            guard dir == "asc" || dir == "desc" else { throw APIError.param() }
            order.ascending = dir == "asc"
        }
        return order
    }

    private func sortedRows(_ nodes: [FileNode], _ order: ListOrder) -> [(ListPosition, Int64)] {
        nodes.map { (ListPosition($0, order), $0.id) }.sorted { $0.0.precedes($1.0, order) }
    }

    private func cachedRows(folder: FileNode, _ order: ListOrder) -> [(ListPosition, Int64)] {
        if listingCache.generation != tree.generation { listingCache = ListingCache(generation: tree.generation) }
        if let cached = listingCache.entries[folder.id], cached.order == order { return cached.rows }
        let rows = sortedRows(tree.childIDs(of: folder.id).compactMap { tree.files[$0] }, order)
        listingCache.entries[folder.id] = (order, rows)
        return rows
    }

    private func firstIndex(after cursor: ListPosition, in rows: [(ListPosition, Int64)], _ order: ListOrder) -> Int {
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if cursor.precedes(rows[mid].0, order) { high = mid } else { low = mid + 1 }
        }
        return low
    }

    private func matches(_ node: FileNode, _ search: SearchQuery) -> Bool {
        if let type = search.type, type != (node.isFolder ? 1 : 0) { return false }
        for filter in search.metadata {
            guard let value = node.metadata[filter.key] else { return false }
            if filter.exact { if Array(value.utf8) != filter.value { return false } }
            else if !filter.value.isEmpty && !contains(Array(value.utf8), filter.value, fold: true) { return false }
        }
        if !search.names.isEmpty && !search.names.contains(where: { contains(node.name, $0, fold: search.caseFolding) }) {
            return false
        }
        return true
    }

    private func contains(_ haystack: [UInt8], _ needle: [UInt8], fold: Bool) -> Bool {
        if needle.isEmpty { return true }
        let h = fold ? haystack.map(asciiLower) : haystack
        let n = fold ? needle.map(asciiLower) : needle
        guard h.count >= n.count else { return false }
        for i in 0...(h.count - n.count) where Array(h[i..<i + n.count]) == n { return true }
        return false
    }

    private func asciiLower(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b + 32 : b }

    /// Go's zero FileResponse: `parent` has `omitempty` on a struct, which never omits.
    private var emptyFileJSON: JSON {
        .object([("type", .int(0)), ("id", .string("")), ("name", .string("")),
                 ("created_at", .string("0001-01-01T00:00:00Z")), ("updated_at", .string("0001-01-01T00:00:00Z")),
                 ("size", .int(0)), ("metadata", .null)])
    }

    private func encodeCursor(_ p: ListPosition) -> String {
        let json = JSON.object([("f", .bool(p.isFile)), ("n", .string(Base64URL.standard(p.name))),
                                ("v", .int(p.number)), ("id", .string(hashids.encode(p.id, .file)))])
        return Base64URL.standard(json.encoded())
    }

    private func decodeCursor(_ token: String) -> ListPosition? {
        guard let bytes = Base64URL.decodeStandard(token), let json = try? JSON.parse(bytes),
              let isFile = json["f"]?.boolValue, let name = json["n"]?.stringValue.flatMap(Base64URL.decodeStandard),
              let number = json["v"]?.int64Value, let id = json["id"]?.stringValue.flatMap({ hashids.decode($0, .file) })
        else { return nil }
        return ListPosition(isFile: isFile, name: name, number: number, id: id)
    }
}
