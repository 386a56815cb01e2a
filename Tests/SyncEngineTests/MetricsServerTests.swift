import Foundation
import Transport
import XCTest
@testable import SyncEngine

final class MetricsServerTests: XCTestCase {
    private func get(_ path: String, port: Int) throws -> HTTPResponse {
        try HTTPTransport().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)\(path)", timeout: 10))
    }

    func testGetMetricsAnswersThePrometheusText() throws {
        let metrics = Metrics()
        metrics.add(.filesUploaded, 3)
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: metrics)
        server.start()
        defer { server.stop() }
        XCTAssertGreaterThan(server.port, 0)

        let response = try get("/metrics", port: server.port)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.contentType, "text/plain; version=0.0.4")
        let text = try PrometheusText(String(decoding: response.body, as: UTF8.self))
        XCTAssertEqual(text.value("crsync_files_uploaded_total"), 3)
        XCTAssertEqual(text.value("crsync_up"), 1)

        // Each scrape sees the numbers of its moment.
        metrics.add(.filesUploaded)
        let again = try PrometheusText(String(decoding: try get("/metrics", port: server.port).body, as: UTF8.self))
        XCTAssertEqual(again.value("crsync_files_uploaded_total"), 4)
    }

    func testAnythingElseIsNotFound() throws {
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: Metrics())
        server.start()
        defer { server.stop() }
        XCTAssertEqual(try get("/", port: server.port).status, 404)
        XCTAssertEqual(try get("/metricsx", port: server.port).status, 404)
        let post = try HTTPTransport().perform(HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/metrics",
                                                           body: .bytes(Array("x".utf8)), timeout: 10))
        XCTAssertEqual(post.status, 404)
        // A body the server never reads must not turn the answer into a connection reset.
        let big = try HTTPTransport().perform(HTTPRequest(method: "PUT", url: "http://127.0.0.1:\(server.port)/metrics",
                                                          body: .bytes([UInt8](repeating: 7, count: 256 << 10)), timeout: 10))
        XCTAssertEqual(big.status, 404)
        XCTAssertEqual(try get("/metrics?x=1", port: server.port).status, 200)
    }

    func testStopFreesThePort() throws {
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: Metrics())
        server.start()
        let port = server.port
        XCTAssertEqual(try get("/metrics", port: port).status, 200)
        server.stop()
        XCTAssertThrowsError(try get("/metrics", port: port), "nothing listens after stop()")
        let next = try MetricsServer(host: "127.0.0.1", port: port, metrics: Metrics())
        next.start()
        defer { next.stop() }
        XCTAssertEqual(try get("/metrics", port: port).status, 200)
    }

    func testStopWithoutStartFreesThePortToo() throws {
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: Metrics())
        let port = server.port
        server.stop()
        server.stop()
        let next = try MetricsServer(host: "127.0.0.1", port: port, metrics: Metrics())
        next.stop()
    }

    func testAPortInUseSaysWhichAndWhatToDo() throws {
        let first = try MetricsServer(host: "127.0.0.1", port: 0, metrics: Metrics())
        defer { first.stop() }
        XCTAssertThrowsError(try MetricsServer(host: "127.0.0.1", port: first.port, metrics: Metrics())) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("127.0.0.1:\(first.port)"), message)
            XCTAssertTrue(message.contains("address already in use: change [metrics] addr"), message)
        }
    }

    func testAnAddressNotOnThisMachineSaysWhatToDo() {
        // 192.0.2.1 is TEST-NET-1: documentation only, never a local address.
        XCTAssertThrowsError(try MetricsServer(host: "192.0.2.1", port: 0, metrics: Metrics())) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("192.0.2.1:0"), message)
            XCTAssertTrue(message.contains("change [metrics] addr"), message)
        }
    }

    func testAStalledClientDoesNotBlockTheNextScrape() throws {
        let server = try MetricsServer(host: "127.0.0.1", port: 0, metrics: Metrics())
        server.start()
        defer { server.stop() }
        // A client that connects and sends half a request line, then nothing.
        let stalled = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(stalled) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(server.port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(stalled, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0)
        _ = "GET /met".withCString { send(stalled, $0, 8, 0) }
        let started = Date()
        XCTAssertEqual(try get("/metrics", port: server.port).status, 200)
        XCTAssertLessThan(Date().timeIntervalSince(started), Double(MetricsServer.clientTimeout) + 3)
    }
}
