@testable import CloudreveDevServer
import Foundation
import Transport
import XCTest

/// An in-process dev server on a free port with its own temporary data directory, plus a signed-in
/// HTTP client (`Transport.HTTPTransport`, the project's real transport). `stop()` runs in
/// tearDown through `XCTestCase.startServer`, so no server outlives its test.
final class TestServer {
    private(set) var config: DevServerConfig
    private(set) var server: DevServer
    let http = HTTPTransport()
    var accessToken: String?
    var refreshToken: String?

    init(_ configure: (inout DevServerConfig) -> Void = { _ in }, dataDir: String? = nil) throws {
        let dir = dataDir ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("crsync-devserver-test-\(UUID().uuidString)").path
        var config = DevServerConfig(dataDir: dir)
        configure(&config)
        self.config = config
        server = try DevServer(config: config)
        try server.start()
    }

    var base: String { server.baseURL }
    var dataDir: String { config.dataDir }

    func stop() { server.stop() }

    /// Stops and starts again on the same data directory (and port 0: a new port).
    func restart(_ change: (inout DevServerConfig) -> Void = { _ in }) throws {
        server.stop()
        change(&config)
        server = try DevServer(config: config)
        try server.start()
    }

    func removeData() { try? FileManager.default.removeItem(atPath: config.dataDir) }

    // MARK: Requests

    struct Answer {
        var status: Int
        var body: [UInt8]
        var json: JSON?
        var code: Int? { json?["code"]?.int64Value.map(Int.init) }
        var data: JSON? { json?["data"] }
        var msg: String? { json?["msg"]?.stringValue }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    @discardableResult
    /// `freshConnection`: not on the kept-alive one. curl sends a request again by itself when a reused
    /// connection dies under it, which would hide a fault a test injects on purpose.
    func call(_ method: String, _ path: String, json: JSON? = nil, body: [UInt8]? = nil,
              headers: [(String, String)] = [], token: String?? = nil, freshConnection: Bool = false) throws -> Answer {
        var allHeaders = headers
        let bearer: String? = token ?? accessToken
        if let bearer { allHeaders.append(("Authorization", "Bearer \(bearer)")) }
        var requestBody = RequestBody.none
        if let json {
            requestBody = .bytes(json.encoded())
            allHeaders.append(("Content-Type", "application/json"))
        } else if let body {
            requestBody = .bytes(body)
        }
        let url = path.hasPrefix("http") ? path : base + path
        let response = try (freshConnection ? HTTPTransport() : http)
            .perform(HTTPRequest(method: method, url: url, headers: allHeaders, body: requestBody, timeout: 30))
        return Answer(status: response.status, body: response.body, json: try? JSON.parse(response.body))
    }

    func signIn() throws {
        let answer = try call("POST", "/api/v4/session/token",
                              json: .object([("email", .string(config.email)), ("password", .string(config.password))]),
                              token: .some(nil))
        guard answer.code == 0, let token = answer.data?["token"] else {
            throw NSError(domain: "TestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "sign-in failed: \(answer.text)"])
        }
        accessToken = token["access_token"]?.stringValue
        refreshToken = token["refresh_token"]?.stringValue
    }

    // MARK: Files

    func list(_ uri: String, extra: String = "") throws -> Answer {
        try call("GET", "/api/v4/file?uri=\(queryEscape(uri))\(extra)")
    }

    func info(_ uri: String, extended: Bool = false) throws -> Answer {
        try call("GET", "/api/v4/file/info?uri=\(queryEscape(uri))\(extended ? "&extended=true" : "")")
    }

    func createSession(_ uri: String, size: Int64, fields: [(String, JSON)] = []) throws -> Answer {
        var pairs: [(String, JSON)] = [("uri", .string(uri)), ("size", .int(size))]
        if config.emulate.hasPrefix("4.") && (EmulatedVersion(config.emulate).map { $0.requiresPolicyID } ?? false)
            && !fields.contains(where: { $0.0 == "policy_id" }) {
            pairs.append(("policy_id", .string(try policyID())))
        }
        return try call("PUT", "/api/v4/file/upload", json: .object(pairs + fields))
    }

    /// A session that must succeed; returns its id.
    func openSession(_ uri: String, size: Int64, fields: [(String, JSON)] = [],
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let answer = try createSession(uri, size: size, fields: fields)
        XCTAssertEqual(answer.code, 0, answer.text, file: file, line: line)
        return try XCTUnwrap(answer.data?["session_id"]?.stringValue, file: file, line: line)
    }

    func chunk(_ sessionID: String, _ index: Int, _ bytes: [UInt8], token: String?? = nil, freshConnection: Bool = false) throws -> Answer {
        try call("POST", "/api/v4/file/upload/\(sessionID)/\(index)", body: bytes, token: token, freshConnection: freshConnection)
    }

    /// Uploads `bytes` through a session in index order; asserts every chunk answers 0.
    func upload(_ uri: String, _ bytes: [UInt8], fields: [(String, JSON)] = [],
                file: StaticString = #filePath, line: UInt = #line) throws {
        let sid = try openSession(uri, size: Int64(bytes.count), fields: fields, file: file, line: line)
        let size = Int(config.chunkSize)
        let count = size == 0 || bytes.isEmpty ? 1 : (bytes.count + size - 1) / size
        for i in 0..<count {
            let part = size == 0 ? bytes : Array(bytes[min(bytes.count, i * size)..<min(bytes.count, (i + 1) * size)])
            let answer = try chunk(sid, i, part)
            XCTAssertEqual(answer.code, 0, "chunk \(i): \(answer.text)", file: file, line: line)
        }
    }

    func cancel(_ sessionID: String, _ uri: String) throws -> Answer {
        try call("DELETE", "/api/v4/file/upload", json: .object([("id", .string(sessionID)), ("uri", .string(uri))]))
    }

    func mkdir(_ uri: String) throws -> Answer {
        try call("POST", "/api/v4/file/create", json: .object([("uri", .string(uri)), ("type", .string("folder"))]))
    }

    func delete(_ uris: [String], permanent: Bool = false) throws -> Answer {
        try call("DELETE", "/api/v4/file", json: .object([("uris", .array(uris.map { .string($0) })),
                                                          ("skip_soft_delete", .bool(permanent))]))
    }

    /// The bytes a download link serves, fetched without Authorization.
    func download(_ uri: String) throws -> [UInt8] {
        let answer = try call("POST", "/api/v4/file/url",
                              json: .object([("uris", .array([.string(uri)])), ("download", .bool(true))]))
        let url = try XCTUnwrap(answer.data?["urls"]?.arrayValue?.first?["url"]?.stringValue, answer.text)
        let response = try http.perform(HTTPRequest(method: "GET", url: url))
        XCTAssertEqual(response.status, 200)
        return response.body
    }

    func policyID() throws -> String {
        let answer = try list("cloudreve://my")
        return try XCTUnwrap(answer.data?["storage_policy"]?["id"]?.stringValue, answer.text)
    }

    func stats() throws -> JSON { try XCTUnwrap(try call("GET", "/__dev/stats").json) }

    func advanceClock(seconds: Int) throws {
        try call("POST", "/__dev/clock", json: .object([("advance_seconds", .int(seconds))]))
    }

    func setFaults(_ json: JSON) throws {
        try call("POST", "/__dev/faults", json: json)
    }
}

/// Percent-encodes every byte but the unreserved ones: the whole URI as a query value (§3).
func queryEscape(_ text: String) -> String {
    let unreserved = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8))
    return text.utf8.map { unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
}

/// encodeURIComponent of one path segment, then the `cloudreve://my/` prefix.
func myURI(_ segments: String...) -> String {
    "cloudreve://my/" + segments.map { GoURL.pathEscape(Array($0.utf8)) }.joined(separator: "/")
}

/// Deterministic test content.
func pattern(_ count: Int, seed: UInt8 = 1) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 7 &+ ($0 >> 8)) }
}

extension XCTestCase {
    /// Starts a signed-in server that is stopped (and its data removed) when the test ends.
    func startServer(_ configure: (inout DevServerConfig) -> Void = { _ in }, signIn: Bool = true) throws -> TestServer {
        let server = try TestServer(configure)
        addTeardownBlock {
            server.stop()
            server.removeData()
        }
        if signIn { try server.signIn() }
        return server
    }
}
