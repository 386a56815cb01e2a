import Foundation
import Transport

/// The baseline: the least a client must do to upload to Cloudreve, with no journal, no retries and no
/// checks beyond the reply's code. Per file `PUT /file/upload` (session) then one `POST` per chunk, each
/// thread with its own libcurl handle kept alive (Transport), bodies streamed from the file as crsync does.
/// It is meant to be dumb and fast: crsync's figures are compared with it in the same run.
struct PlainClient {
    let api: String
    let token: String

    /// Signs in with the same account as crsync (`POST /session/token`); the token stays in memory.
    init(server: String) throws {
        api = server + "/api/v4"
        let body = try JSONSerialization.data(withJSONObject: ["email": BenchServer.email, "password": BenchServer.password])
        let response = try HTTPTransport().perform(HTTPRequest(method: "POST", url: api + "/session/token",
                                                               headers: [("Content-Type", "application/json")], body: .bytes(Array(body))))
        guard let json = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let data = json["data"] as? [String: Any], let tokens = data["token"] as? [String: Any],
              let access = tokens["access_token"] as? String else {
            throw BenchError("plain client: sign-in at \(api)/session/token failed (HTTP \(response.status))")
        }
        token = access
    }

    /// Uploads `files` (local path, remote URI) on `workers` threads; returns the seconds it took.
    func uploadSmallFiles(_ files: [(local: String, uri: String)], workers: Int) throws -> TimeInterval {
        let next = Counter()
        let failures = Failures()
        let start = Date()
        runThreads(workers) {
            let transport = HTTPTransport()
            while let index = next.take(below: files.count) {
                do {
                    try upload(files[index].local, to: files[index].uri, transport: transport)
                } catch {
                    failures.add("\(files[index].local): \(error)")
                }
            }
        }
        let elapsed = Date().timeIntervalSince(start)
        if let first = failures.first { throw BenchError("plain client: \(failures.count) upload(s) failed, e.g. \(first)") }
        return elapsed
    }

    /// One file in one session: every chunk but the last on `workers` connections at once, then the last
    /// (servers before 4.18 complete on the last index whatever else arrived, protocol §4).
    func uploadLargeFile(_ local: String, to uri: String, workers: Int) throws -> TimeInterval {
        let fd = open(local, O_RDONLY)
        guard fd >= 0 else { throw BenchError("plain client: cannot open \(local)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let size = Int64(st.st_size)
        let start = Date()
        let control = HTTPTransport()
        let (sessionID, chunkSize) = try createSession(uri: uri, size: size, mtime: st.st_mtim, transport: control)
        let count = chunkSize == 0 ? 1 : max(1, Int((size + chunkSize - 1) / chunkSize))
        let next = Counter()
        let failures = Failures()
        runThreads(min(workers, max(1, count - 1))) {
            let transport = HTTPTransport()
            while let index = next.take(below: count - 1) {
                do {
                    try sendChunk(sessionID: sessionID, index: index, fd: fd, offset: Int64(index) * chunkSize,
                                  length: chunkSize, transport: transport)
                } catch {
                    failures.add("chunk \(index): \(error)")
                }
            }
        }
        if let first = failures.first { throw BenchError("plain client: \(local): \(first)") }
        let lastOffset = Int64(count - 1) * chunkSize
        try sendChunk(sessionID: sessionID, index: count - 1, fd: fd, offset: lastOffset, length: size - lastOffset, transport: control)
        return Date().timeIntervalSince(start)
    }

    /// Deletes `uri` for good (`DELETE /file`, `skip_soft_delete`): the server frees its blob.
    func deletePermanently(_ uri: String) throws {
        let body = #"{"uris":["\#(uri)"],"skip_soft_delete":true}"#
        let response = try HTTPTransport().perform(HTTPRequest(method: "DELETE", url: api + "/file",
                                                               headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")],
                                                               body: .bytes(Array(body.utf8))))
        let reply = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200, reply.contains(#""code":0"#) else {
            throw BenchError("DELETE /file \(uri): HTTP \(response.status) \(reply.prefix(200))")
        }
    }

    private func upload(_ local: String, to uri: String, transport: HTTPTransport) throws {
        let fd = open(local, O_RDONLY)
        guard fd >= 0 else { throw BenchError("cannot open \(local)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let (sessionID, _) = try createSession(uri: uri, size: Int64(st.st_size), mtime: st.st_mtim, transport: transport)
        try sendChunk(sessionID: sessionID, index: 0, fd: fd, offset: 0, length: Int64(st.st_size), transport: transport)
    }

    private func createSession(uri: String, size: Int64, mtime: timespec, transport: HTTPTransport) throws -> (String, Int64) {
        let millis = Int64(mtime.tv_sec) * 1000 + Int64(mtime.tv_nsec) / 1_000_000
        let body = #"{"uri":"\#(uri)","size":\#(size),"last_modified":\#(millis),"entity_type":"version"}"#
        let response = try transport.perform(HTTPRequest(method: "PUT", url: api + "/file/upload",
                                                         headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")],
                                                         body: .bytes(Array(body.utf8))))
        let reply = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200, reply.contains(#""code":0"#), let id = field(#""session_id":""#, in: reply, until: "\"") else {
            throw BenchError("PUT /file/upload \(uri): HTTP \(response.status) \(reply.prefix(200))")
        }
        let chunkSize = field(#""chunk_size":"#, in: reply, until: ",").flatMap { Int64($0) } ?? 0
        return (id, chunkSize)
    }

    private func sendChunk(sessionID: String, index: Int, fd: Int32, offset: Int64, length: Int64, transport: HTTPTransport) throws {
        let response = try transport.perform(HTTPRequest(method: "POST", url: api + "/file/upload/\(sessionID)/\(index)",
                                                         headers: [("Authorization", "Bearer " + token),
                                                                   ("Content-Type", "application/octet-stream")],
                                                         body: .fileRange(fd: fd, offset: offset, length: length), timeout: 0))
        let reply = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200, reply.contains(#""code":0"#) else {
            throw BenchError("POST chunk \(index): HTTP \(response.status) \(reply.prefix(200))")
        }
    }

    /// The text after `key` up to `end`: enough JSON for a baseline that must not spend its time parsing.
    private func field(_ key: String, in text: String, until end: Character) -> String? {
        guard let range = text.range(of: key) else { return nil }
        let rest = text[range.upperBound...]
        return String(rest.prefix { $0 != end && $0 != "}" })
    }
}

/// Hands out 0, 1, 2, … to threads.
final class Counter {
    private let lock = NSLock()
    private var value = 0
    func take(below limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

final class Failures {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ text: String) { lock.withLock { list.append(text) } }
    var first: String? { lock.withLock { list.first } }
    var count: Int { lock.withLock { list.count } }
}

/// Runs `body` on `count` threads of their own (blocking I/O stays off Swift's cooperative pool) and waits.
func runThreads(_ count: Int, _ body: @escaping () -> Void) {
    let group = DispatchGroup()
    for _ in 0..<count {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
}
