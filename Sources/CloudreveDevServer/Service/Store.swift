import Foundation

/// All server state behind one mutex: the persisted file tree, and the memory-only parts a real
/// server also loses on restart (upload sessions, locks, 2FA sessions). Services are extensions
/// of this type, one file per concept; each request's work runs inside `sync`, which also
/// journals whatever rows it changed before the answer goes out.
final class Store {
    static let userID: Int64 = 1
    static let policyID: Int64 = 1
    /// `maxEditSize` default (§4 PUT /file/content).
    static let maxEditSize: Int64 = 52_428_800
    /// `max_batched_file` default (§7).
    static let maxBatch = 3000
    /// `max_page_size` default (§3 GET /file).
    static let maxPageSize = 2000

    let config: DevServerConfig
    let version: EmulatedVersion
    let hashids: HashIDs
    let jwt: JWT
    let secret: [UInt8]
    let blobs: BlobStore
    let nameRules: NameRules
    private let journal: Journal

    // Guarded by `mutex`.
    let tree: FileTree
    let locks = LockTable()
    var sessions: [String: UploadSession] = [:]
    var revokedFamilies: [String: Int64]
    var twoFactorSessions: [String: Timestamp] = [:]
    var stats = Stats()
    var faults = FaultPlan()
    /// Slave-node and OneDrive-style sessions (DirectPolicy.swift).
    var direct = DirectState()
    /// Test clock shift (`POST /__dev/clock`), so expiry can be tested without waiting.
    var clockOffsetNanoseconds: Int64 = 0
    var listingCache = ListingCache()
    /// `http://host:port`, for links when a request carries no Host header.
    var baseURL = ""
    private var pendingRevocation: (root: String, expires: Int64)?
    private let mutex = NSLock()

    init(config: DevServerConfig) throws {
        guard let version = EmulatedVersion(config.emulate) else {
            throw DevServerError.invalidConfig("--emulate must look like 4.N or 4.N.M, got \(config.emulate)")
        }
        guard config.chunkSize >= 0, config.quota >= 0, config.maxSize >= 0 else {
            throw DevServerError.invalidConfig("sizes must not be negative")
        }
        self.config = config
        self.version = version
        try FileManager.default.createDirectory(atPath: config.dataDir, withIntermediateDirectories: true)
        secret = try Store.loadOrCreateSecret(dataDir: config.dataDir)
        hashids = HashIDs(secret: secret)
        jwt = JWT(key: SHA256.hash(Array("jwt".utf8) + secret))
        blobs = try BlobStore(dataDir: config.dataDir)
        nameRules = NameRules(deniedExtensions: config.denyExtensions.map {
            $0.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ". "))
        })
        journal = Journal(dataDir: config.dataDir)
        let loaded = journal.load()
        tree = FileTree(now: Timestamp.wallClock().truncatedToMicroseconds)
        if !loaded.files.isEmpty {
            tree.restore(files: loaded.files, entities: loaded.entities,
                         nextFileID: loaded.nextFileID, nextEntityID: loaded.nextEntityID)
        }
        revokedFamilies = loaded.revokedFamilies
        journal.compact(tree, revokedFamilies: revokedFamilies)
    }

    /// Runs `body` under the state lock, then journals the rows it changed.
    func sync<T>(_ body: () throws -> T) rethrows -> T {
        mutex.lock()
        defer {
            journal.commit(tree, revoked: pendingRevocation)
            pendingRevocation = nil
            if journal.needsCompaction() { journal.compact(tree, revokedFamilies: revokedFamilies) }
            mutex.unlock()
        }
        return try body()
    }

    func flush() {
        sync { journal.compact(tree, revokedFamilies: revokedFamilies) }
    }

    /// The server's clock, shifted by the test control.
    var now: Timestamp { Timestamp(nanoseconds: Timestamp.wallClock().nanoseconds &+ clockOffsetNanoseconds) }

    /// Time as a database row stores it.
    var rowNow: Timestamp { now.truncatedToMicroseconds }

    var userHashID: String { hashids.encode(Store.userID, .user) }
    var policyHashID: String { hashids.encode(Store.policyID, .policy) }

    func revokeFamily(_ root: String, expires: Int64) {
        revokedFamilies[root] = expires
        pendingRevocation = (root, expires)
    }

    private static func loadOrCreateSecret(dataDir: String) throws -> [UInt8] {
        let path = dataDir + "/secret"
        if let data = FileManager.default.contents(atPath: path),
           let bytes = Hex.decode(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
           bytes.count == 32 {
            return bytes
        }
        let bytes = Random.bytes(32)
        let temp = path + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data(Hex.encode(bytes).utf8),
                                             attributes: [.posixPermissions: 0o600]),
              Glibc.rename(temp, path) == 0 else {
            throw DevServerError.invalidConfig("cannot write \(path)")
        }
        return bytes
    }
}

/// Why a dev server could not start.
public enum DevServerError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case bindFailed(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid configuration: \(m)"
        case .bindFailed(let m): return "cannot listen: \(m)"
        }
    }
}
