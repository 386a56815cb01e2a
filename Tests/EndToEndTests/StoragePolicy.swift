import CloudreveAPI
import Foundation
import XCTest

/// The storage behind the dev server's policy (issue 10), so one test body runs on each: where the
/// upload's bytes land, how to count them there, what "nothing left open" means there, and how to slow
/// or break uploads there.
///
/// - local: chunks to the dev server itself.
/// - relay: an s3-type policy in relay mode: the whole file in one request to the dev server, which
///   cannot resume (an interrupted file starts over).
/// - remote: chunks to a second dev server in node role (a slave node), counted in the node's stats.
/// - s3: parts PUT to moto (a real S3-compatible server), counted from moto's request log.
/// - onedrive: Graph-style byte ranges to the dev server's upload URL.
enum StoragePolicy: String, CaseIterable {
    case local, relay, remote, s3, onedrive

    /// What one interrupted upload can cost again at most, for files of at most `largestFile` bytes with
    /// the policy's `chunk`: one chunk, except in relay mode, where the whole file goes again.
    func resendUnit(chunk: Int, largestFile: Int) -> Int64 {
        Int64(self == .relay ? largestFile : chunk)
    }

    /// Upload requests a clean upload of a `size`-byte file takes on this storage: one per chunk (an empty
    /// file is one empty chunk or part), one per file in relay mode, and no range for an empty file on
    /// OneDrive (Graph takes no empty range; crsync sends it with PUT /file/content).
    func requests(forFileOf size: Int, chunk: Int) -> Int {
        switch self {
        case .relay: return 1
        case .onedrive where size == 0: return 0
        default: return max(1, (size + chunk - 1) / chunk)
        }
    }

    /// A crash moment (CRSYNC_CRASH_AT) that kills a run in the middle of a file of several chunks: after
    /// the reply to chunk `n`, or in relay mode, where the file is one request, halfway through its body.
    func midFileMoment(afterChunk n: Int) -> String {
        self == .relay ? "last-chunk:1" : "after-reply:\(n)"
    }

    /// Whether the storage keeps what a session opened there when the server forgets the session (a
    /// restart loses the server's in-memory sessions, as Cloudreve's KV cache does): a node's session and
    /// its partial file (until the node's own expiry), an S3 multipart upload (until the bucket's lifecycle
    /// rule). Cloudreve aborts on the storage only sessions it still knows (reference §4, DELETE
    /// /file/upload), and the client holds no credential to abort them itself.
    var storageOutlivesServerSessions: Bool { self == .remote || self == .s3 }

    /// Whether `/__dev/faults` reaches the storage: true where it is a dev server (master or node);
    /// moto (s3) takes no injected faults.
    var storageTakesFaults: Bool { self != .s3 }
}

extension Scenario {
    /// The dev server that receives the upload bytes: the node for remote, none for s3 (moto).
    var storageServer: DevServerProcess? {
        switch policy {
        case .local, .relay, .onedrive: return server
        case .remote: return node
        case .s3: return nil
        }
    }

    /// Upload requests that reached the storage (chunks, whole-file relay requests, ranges, part PUTs)
    /// and their body bytes. moto logs every part PUT (one cut off by a kill as answered 400) but not its
    /// size, so s3 has no byte count (nil).
    func storageTraffic() throws -> (requests: Int, bytes: Int64?) {
        if let moto { return (moto.partPuts().count, nil) }
        let stats = try storageServer!.stats()
        return (stats.chunkRequests, Int64(stats.chunkBytes))
    }

    /// Bytes that reached the storage beyond the `total` a clean upload of `requests` requests sends.
    /// On s3 an upper bound: each part PUT beyond `requests` is counted as a whole `chunk`.
    func bytesSentAgain(total: Int64, requests: Int, chunk: Int) throws -> Int64 {
        let traffic = try storageTraffic()
        if let bytes = traffic.bytes { return bytes - total }
        return Int64(traffic.requests - requests) * Int64(chunk)
    }

    /// Everything an upload can leave open, described: placeholders on the server, open multipart
    /// uploads in the bucket (s3), partial files of sessions on the node (remote). Empty = nothing left.
    func leftOpen(under folder: String = "cloudreve://my") throws -> [String] {
        var open = try placeholders(under: folder).map { "placeholder \($0.path)" }
        if let moto {
            open += (0..<(try moto.openMultipartUploads())).map { "multipart upload \($0 + 1) open in the bucket" }
        }
        open += nodeFiles().map { "partial file on the node: \($0)" }
        return open
    }

    /// Partial files the node still keeps (open sessions on the node); none without a node. Asking the
    /// node's stats first makes it drop its expired sessions, which it otherwise does lazily.
    func nodeFiles() -> [String] {
        guard let node else { return [] }
        _ = try? node.stats()
        return (try? FileManager.default.contentsOfDirectory(atPath: node.dataDir + "/slave")) ?? []
    }

    /// Makes uploads slow enough that a kill lands mid-upload. Where the storage is a dev server and takes
    /// chunks, each chunk request is answered `delayMilliseconds` late; relay (one request per file, so a
    /// per-request delay hardly slows it) and s3 (moto takes no faults) get the client's `--bwlimit`
    /// instead. Returns the arguments to add to crsync's command line.
    func slowUploads(delayMilliseconds: Int, orBandwidth bwlimit: String) throws -> [String] {
        switch policy {
        case .local, .remote, .onedrive:
            try storageServer!.devPost("/__dev/faults", ["delay_ms": delayMilliseconds])
            return []
        case .relay, .s3:
            return ["--bwlimit", bwlimit]
        }
    }

    /// Injects faults (`/__dev/faults`, see FaultPlan) on the storage; only where `storageTakesFaults`.
    func injectStorageFaults(_ plan: [String: Any]) throws {
        guard let storage = storageServer else { throw HarnessError("the \(policy) storage takes no injected faults") }
        try storage.devPost("/__dev/faults", plan)
    }

    /// Clears every fault and delay on the storage (nothing to clear on moto).
    func clearStorageFaults() throws {
        try storageServer?.devPost("/__dev/faults", [:])
    }

    /// Sends chunk 0 of a session another client opened, by the session's own route (server, node,
    /// OneDrive range, or S3 part), as that client would before crashing.
    func uploadFirstChunkAsAnotherClient(_ client: CloudreveClient, sessionID: String, json: [UInt8], fd: Int32, length: Int64,
                                         total: Int64) throws {
        if policy == .relay {
            // The whole file is one request, which a client that crashed never finished: nothing to send.
            return
        }
        if policy == .s3 {
            guard let session = S3Session.parse(json) else { throw HarnessError("not an S3 session: \(String(decoding: json, as: UTF8.self))") }
            _ = try client.putPart(url: session.uploadURLs[0], fd: fd, offset: 0, length: length)
        } else {
            try client.uploadChunk(route: ChunkRoute(sessionJSON: json), sessionID: sessionID, index: 0, fd: fd, offset: 0, length: length,
                                   total: total, expectedDuration: 1)
        }
    }
}

extension Scenario {
    /// Every local file byte-identical on the server, and nothing left open: no placeholder, no open
    /// multipart upload in the bucket, no partial file on a node (`leftOpen`). With `oneVersionEach`, each
    /// file also got exactly one new version; not after a server restart, when the dev server's completion
    /// counter starts again.
    func assertArrivedWithNothingLeft(local: String, remote: String, _ context: String, oneVersionEach: Bool = false,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try mismatches(local: local, remote: remote), [], context, file: file, line: line)
        XCTAssertEqual(try leftOpen(), [], "left open: \(context)", file: file, line: line)
        guard oneVersionEach else { return }
        let completions = try server.stats().completions
        XCTAssertEqual(completions.values.filter { $0 != 1 }.count, 0, "a file got more than one version: \(completions) \(context)",
                       file: file, line: line)
    }
}

extension Scenario {
    /// One release from each span whose upload rules differ (reference §4): the crash and request-count
    /// suites run on each.
    static let releases = ["4.0", "4.11", "4.18"]

    /// Part PUTs beyond the first of each (upload, part): what a crash cost on s3.
    var resentParts: Int {
        let puts = moto!.partPuts()
        return puts.count - Set(puts.map { "\($0.uploadID)#\($0.part)" }).count
    }
}

/// The parts the crsync journal in `stateDir` holds an ETag for, as "uploadID#partNumber" (moto's log's
/// terms). Read with python3's sqlite3, there whenever moto_server is (moto is Python).
func journaledParts(stateDir: String) throws -> Set<String> {
    let script = """
        import sqlite3, sys, json
        db = sqlite3.connect(sys.argv[1])
        for sid, js, idx in db.execute("SELECT s.session_id, CAST(s.session_json AS TEXT), c.idx FROM chunks c "
                                       "JOIN sessions s ON s.session_id = c.session_id WHERE c.etag IS NOT NULL"):
            print("%s#%d" % (json.loads(js)["upload_id"], idx + 1))
        """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, stateDir + "/journal.sqlite"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw HarnessError("could not read the journal in \(stateDir)") }
    return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
}
