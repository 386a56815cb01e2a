import Foundation
import Transport
import XCTest

/// A kept-alive connection that the server closes without answering (a server restart, a proxy timing
/// out idle connections) must not fail the request: curl sends it again on a new connection, which
/// needs the body from its first byte again.
final class RewindTests: XCTestCase {
    func testRequestBodyIsSentAgainWhenAKeptAliveConnectionClosesWithoutAnswer() throws {
        let server = try OneShotServer()
        defer { server.close() }
        let transport = HTTPTransport()
        let url = "http://127.0.0.1:\(server.port)/x"

        let first = try transport.perform(HTTPRequest(method: "POST", url: url, body: .bytes(Array("warm-up".utf8))))
        XCTAssertEqual(first.status, 200)

        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let second = try transport.perform(HTTPRequest(method: "POST", url: url, body: .bytes(body)))
        XCTAssertEqual(second.status, 200)
        server.join()
        XCTAssertEqual(server.connections, 2, "the second request went again on a new connection")
        XCTAssertEqual(server.lastBody, body, "the server got the whole body from its first byte")
    }
}

/// A loopback HTTP server for exactly this story: on the first connection it answers one request, then
/// reads the next one whole and closes without answering (reading it all makes the close a clean FIN:
/// unread bytes would make it a reset, which curl reports as a send error without trying again); on the
/// second connection it reads one request whole and answers it.
private final class OneShotServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)
    private(set) var connections = 0
    private(set) var lastBody: [UInt8] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound, listen(fd, 4) == 0 else { throw NSError(domain: "OneShotServer", code: Int(errno)) }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread { self.serve() }.start()
    }

    private func serve() {
        let fd = listener
        defer { self.done.signal() }
        // Connection 1: one request answered, the next one read and left unanswered.
        let c1 = accept(fd, nil, nil)
        guard c1 >= 0 else { return }
        self.connections += 1
        var buffered: [UInt8] = []
        guard let (_, length) = readHead(c1, &buffered) else { return }
        _ = readBody(c1, &buffered, length)
        reply(c1)
        guard let (_, unanswered) = readHead(c1, &buffered) else { Glibc.close(c1); return }
        _ = readBody(c1, &buffered, unanswered)
        Glibc.close(c1)
        // Connection 2: the request again, whole.
        let c2 = accept(fd, nil, nil)
        guard c2 >= 0 else { return }
        self.connections += 1
        var fresh: [UInt8] = []
        guard let (_, length2) = readHead(c2, &fresh) else { Glibc.close(c2); return }
        self.lastBody = readBody(c2, &fresh, length2)
        reply(c2)
        Glibc.close(c2)
    }

    private var joined = false

    func join() {
        if !joined { _ = done.wait(timeout: .now() + 30) }
        joined = true
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        join()
    }
}

/// Reads up to the end of a request head; returns it and its Content-Length, leaving extra bytes in `buffered`.
private func readHead(_ fd: Int32, _ buffered: inout [UInt8]) -> (String, Int)? {
    let end: [UInt8] = Array("\r\n\r\n".utf8)
    while true {
        if let range = buffered.firstRange(of: end) {
            let head = String(decoding: buffered[..<range.lowerBound], as: UTF8.self)
            buffered.removeSubrange(..<range.upperBound)
            let length = head.split(separator: "\r\n").compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
            return (head, length)
        }
        guard readMore(fd, &buffered) else { return nil }
    }
}

private func readBody(_ fd: Int32, _ buffered: inout [UInt8], _ length: Int) -> [UInt8] {
    while buffered.count < length, readMore(fd, &buffered) {}
    let body = Array(buffered.prefix(length))
    buffered.removeFirst(body.count)
    return body
}

private func readMore(_ fd: Int32, _ buffered: inout [UInt8]) -> Bool {
    var chunk = [UInt8](repeating: 0, count: 65536)
    let n = recv(fd, &chunk, chunk.count, 0)
    guard n > 0 else { return false }
    buffered += chunk[..<n]
    return true
}

private func reply(_ fd: Int32) {
    let text = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok".utf8)
    _ = text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
}
