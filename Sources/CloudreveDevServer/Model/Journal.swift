import Foundation

/// What survives a restart besides blobs: the file and entity rows, id counters and revoked token
/// families. Kept as `state.json` (a snapshot, replaced atomically by temp file + rename) plus
/// `journal.jsonl`, one line per changed row appended as each request commits, so even `kill -9`
/// loses nothing a client was told about. The journal is folded into the snapshot at start and
/// whenever it outgrows it.
final class Journal {
    struct Loaded {
        var files: [FileNode] = []
        var entities: [Entity] = []
        var nextFileID: Int64 = 2
        var nextEntityID: Int64 = 1
        var revokedFamilies: [String: Int64] = [:]
    }

    private let snapshotPath: String
    private let journalPath: String
    private var fd: Int32 = -1
    private var journalBytes = 0
    private var snapshotBytes = 0

    init(dataDir: String) {
        snapshotPath = dataDir + "/state.json"
        journalPath = dataDir + "/journal.jsonl"
    }

    deinit { if fd >= 0 { close(fd) } }

    func load() -> Loaded {
        var files: [Int64: FileNode] = [:]
        var entities: [Int64: Entity] = [:]
        var result = Loaded()
        if let data = FileManager.default.contents(atPath: snapshotPath), let snapshot = try? JSON.parse([UInt8](data)) {
            for f in snapshot["files"]?.arrayValue ?? [] { if let node = Journal.decodeFile(f) { files[node.id] = node } }
            for e in snapshot["entities"]?.arrayValue ?? [] { if let entity = Journal.decodeEntity(e) { entities[entity.id] = entity } }
            result.nextFileID = snapshot["nf"]?.int64Value ?? 2
            result.nextEntityID = snapshot["ne"]?.int64Value ?? 1
            for r in snapshot["revoked"]?.arrayValue ?? [] {
                if let root = r["root"]?.stringValue, let exp = r["exp"]?.int64Value { result.revokedFamilies[root] = exp }
            }
        }
        if let data = FileManager.default.contents(atPath: journalPath) {
            // A line cut short by a crash fails to parse and is skipped.
            for line in [UInt8](data).split(separator: 0x0A) {
                guard let record = try? JSON.parse(Array(line)), let kind = record["t"]?.stringValue else { continue }
                switch kind {
                case "f": if let node = Journal.decodeFile(record) { files[node.id] = node }
                case "df": if let id = record["id"]?.int64Value { files[id] = nil }
                case "e": if let entity = Journal.decodeEntity(record) { entities[entity.id] = entity }
                case "de": if let id = record["id"]?.int64Value { entities[id] = nil }
                case "n":
                    result.nextFileID = max(result.nextFileID, record["nf"]?.int64Value ?? 0)
                    result.nextEntityID = max(result.nextEntityID, record["ne"]?.int64Value ?? 0)
                case "r":
                    if let root = record["root"]?.stringValue, let exp = record["exp"]?.int64Value { result.revokedFamilies[root] = exp }
                default: break
                }
            }
        }
        result.files = Array(files.values)
        result.entities = Array(entities.values)
        return result
    }

    /// Appends the rows `tree` marked as changed, in one write.
    func commit(_ tree: FileTree, revoked: (root: String, expires: Int64)? = nil) {
        let dirty = tree.takeDirty()
        var out: [UInt8] = []
        for id in dirty.files.sorted() {
            let record: JSON = tree.files[id].map { Journal.encodeFile($0, tag: "f") } ?? .object([("t", .string("df")), ("id", .int(id))])
            record.write(into: &out)
            out.append(0x0A)
        }
        for id in dirty.entities.sorted() {
            let record: JSON = tree.entities[id].map { Journal.encodeEntity($0, tag: "e") } ?? .object([("t", .string("de")), ("id", .int(id))])
            record.write(into: &out)
            out.append(0x0A)
        }
        if dirty.counters {
            JSON.object([("t", .string("n")), ("nf", .int(tree.nextFileID)), ("ne", .int(tree.nextEntityID))]).write(into: &out)
            out.append(0x0A)
        }
        if let revoked {
            JSON.object([("t", .string("r")), ("root", .string(revoked.root)), ("exp", .int(revoked.expires))]).write(into: &out)
            out.append(0x0A)
        }
        guard !out.isEmpty else { return }
        if fd < 0 { fd = open(journalPath, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644) }
        out.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if n <= 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
        journalBytes += out.count
    }

    func needsCompaction() -> Bool { journalBytes > 4 << 20 && journalBytes > snapshotBytes }

    /// Writes the whole state as the new snapshot and empties the journal.
    func compact(_ tree: FileTree, revokedFamilies: [String: Int64]) {
        _ = tree.takeDirty()
        let snapshot = JSON.object([
            ("v", .int(1)),
            ("nf", .int(tree.nextFileID)),
            ("ne", .int(tree.nextEntityID)),
            ("files", .array(tree.files.values.sorted { $0.id < $1.id }.map { Journal.encodeFile($0, tag: nil) })),
            ("entities", .array(tree.entities.values.sorted { $0.id < $1.id }.map { Journal.encodeEntity($0, tag: nil) })),
            ("revoked", .array(revokedFamilies.sorted { $0.key < $1.key }.map {
                .object([("root", .string($0.key)), ("exp", .int($0.value))])
            })),
        ]).encoded()
        let temp = snapshotPath + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(snapshot)), rename(temp, snapshotPath) == 0 else { return }
        snapshotBytes = snapshot.count
        // A crash between the rename and this truncation only replays rows the snapshot already has.
        if fd >= 0 { close(fd) }
        fd = open(journalPath, O_CREAT | O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        journalBytes = 0
    }

    // MARK: Row encoding

    static func encodeFile(_ f: FileNode, tag: String?) -> JSON {
        var pairs: [(String, JSON)] = tag.map { [("t", .string($0))] } ?? []
        pairs += [
            ("id", .int(f.id)),
            ("p", f.parentID.map { .int($0) } ?? .null),
            ("n", .string(Base64URL.standard(f.name))),
            ("d", .bool(f.isFolder)),
            ("c", .int(f.createdAt.nanoseconds)),
            ("u", .int(f.updatedAt.nanoseconds)),
            ("s", .int(f.size)),
            ("pe", .int(f.primaryEntity)),
            ("m", .array(f.metadata.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map {
                .array([.string(Base64URL.standard($0.key)), .string($0.value)])
            })),
        ]
        return .object(pairs)
    }

    static func decodeFile(_ j: JSON) -> FileNode? {
        guard let id = j["id"]?.int64Value, let name = j["n"]?.stringValue.flatMap(Base64URL.decodeStandard),
              let isFolder = j["d"]?.boolValue, let c = j["c"]?.int64Value, let u = j["u"]?.int64Value else { return nil }
        var metadata: [[UInt8]: String] = [:]
        for pair in j["m"]?.arrayValue ?? [] {
            guard let items = pair.arrayValue, items.count == 2, let key = items[0].stringValue.flatMap(Base64URL.decodeStandard),
                  let value = items[1].stringValue else { continue }
            metadata[key] = value
        }
        return FileNode(id: id, parentID: j["p"]?.int64Value, name: name, isFolder: isFolder,
                        createdAt: Timestamp(nanoseconds: c), updatedAt: Timestamp(nanoseconds: u),
                        size: j["s"]?.int64Value ?? 0, metadata: metadata, primaryEntity: j["pe"]?.int64Value ?? 0)
    }

    static func encodeEntity(_ e: Entity, tag: String?) -> JSON {
        var pairs: [(String, JSON)] = tag.map { [("t", .string($0))] } ?? []
        pairs += [("id", .int(e.id)), ("f", .int(e.fileID)), ("s", .int(e.size)), ("c", .int(e.createdAt.nanoseconds)),
                  ("us", e.uploadSessionID.map { .string($0) } ?? .null)]
        return .object(pairs)
    }

    static func decodeEntity(_ j: JSON) -> Entity? {
        guard let id = j["id"]?.int64Value, let f = j["f"]?.int64Value, let s = j["s"]?.int64Value,
              let c = j["c"]?.int64Value else { return nil }
        return Entity(id: id, fileID: f, size: s, createdAt: Timestamp(nanoseconds: c), uploadSessionID: j["us"]?.stringValue)
    }
}
