import Foundation
import XCTest

/// Server addresses as people get them wrong: another scheme, a password in the URL, nothing listening,
/// a Cloudreve 3 server, an https server whose certificate comes from a private CA.
final class ServerAddressEndToEndTests: XCTestCase {
    private var scratch = ""
    private var children: [ChildProcess] = []

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("crsync-addr-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for child in children {
            child.signal(SIGKILL)
            child.wait()
        }
        try? FileManager.default.removeItem(atPath: scratch)
    }

    private func crsync(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String, stdout: String) {
        let child = try ChildProcess("crsync", arguments + ["--state-dir", scratch + "/state"],
                                     environment: ["CRSYNC_PASSWORD": "not the password"].merging(environment) { $1 }, scratch: scratch)
        let status = child.wait()
        return (status, child.stderr, child.stdout)
    }

    func testOtherSchemesAndPasswordsInTheAddressAreRefusedAtLoginAndNeverStored() throws {
        let ftp = try crsync(["login", "--server", "ftp://cloud.example.com", "--email", "me@example.com"])
        XCTAssertEqual(ftp.status, 2, ftp.stderr)
        XCTAssertTrue(ftp.stderr.contains("'ftp://cloud.example.com' is not an http:// or https:// address"), ftp.stderr)

        let secret = try crsync(["login", "--server", "https://me:hunter2@127.0.0.1:9/", "--email", "me@example.com"])
        XCTAssertEqual(secret.status, 2, secret.stderr)
        XCTAssertTrue(secret.stderr.contains("https://127.0.0.1:9/ was given with a user name or password"), secret.stderr)
        XCTAssertFalse(secret.stderr.contains("hunter2") || secret.stdout.contains("hunter2"), secret.stderr)
        let stored = (try? FileManager.default.contentsOfDirectory(atPath: scratch + "/state")) ?? []
        XCTAssertFalse(stored.contains { $0.hasPrefix("credentials") }, "\(stored)")
    }

    func testNothingListeningNamesTheURLAndWhatToCheck() throws {
        let port = try closedPort()
        let result = try crsync(["login", "--server", "http://127.0.0.1:\(port)", "--email", "me@example.com"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("http://127.0.0.1:\(port)/api/v4/site/ping"), result.stderr)
        XCTAssertTrue(result.stderr.contains("nothing accepts connections at 127.0.0.1 port \(port): check the port, that the server is running, and any firewall"),
                      result.stderr)
    }

    func testACloudreve3ServerIsNamedAsUnsupported() throws {
        let port = try startFakeServer(mode: "v3")
        let result = try crsync(["login", "--server", "http://127.0.0.1:\(port)", "--email", "me@example.com"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("http://127.0.0.1:\(port) runs Cloudreve 3.8.3, which crsync does not support"), result.stderr)
    }

    /// Without `ca_file` the TLS error names the URL and says the certificate is not trusted and how to fix
    /// it; with `ca_file` in [server], or SSL_CERT_FILE, login gets past TLS to the server's own answer.
    func testAPrivateCAIsTrustedThroughCAFileOrSSLCertFile() throws {
        let ca = try makeCertificates()
        let port = try startFakeServer(mode: "tls", certificate: ca.serverCert, key: ca.serverKey)
        let url = "https://127.0.0.1:\(port)"

        let untrusted = try crsync(["login", "--server", url, "--email", "me@example.com"],
                                   environment: ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""])
        XCTAssertEqual(untrusted.status, 1, untrusted.stderr)
        XCTAssertTrue(untrusted.stderr.contains("\(url)/api/v4/site/ping"), untrusted.stderr)
        XCTAssertTrue(untrusted.stderr.contains("certificate not trusted: if the server uses a private CA, set ca_file = "), untrusted.stderr)

        let plain = try crsync(["login", "--server", "http://127.0.0.1:\(port)", "--email", "me@example.com"])
        XCTAssertEqual(plain.status, 1, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("if the server speaks HTTPS on port \(port), write https:// instead of http://"), plain.stderr)

        let config = scratch + "/config.toml"
        try """
            [server]
            url = "\(url)"
            email = "me@example.com"
            ca_file = "\(ca.caCert)"

            [[sync]]
            local = "\(scratch)"
            remote = "cloudreve://my/Backup"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try crsync(["login", "--config", config], environment: ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""])
        XCTAssertEqual(configured.status, 4, configured.stderr)
        XCTAssertTrue(configured.stderr.contains("wrong email or password"), "past TLS, the fake server refuses the password: \(configured.stderr)")

        let environment = try crsync(["login", "--server", url, "--email", "me@example.com"], environment: ["SSL_CERT_FILE": ca.caCert])
        XCTAssertEqual(environment.status, 4, environment.stderr)
        XCTAssertTrue(environment.stderr.contains("wrong email or password"), environment.stderr)
        let bundle = try crsync(["login", "--server", url, "--email", "me@example.com"], environment: ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ca.caCert])
        XCTAssertEqual(bundle.status, 4, bundle.stderr)
    }

    // MARK: Helpers

    /// A port nothing listens on: bound, then closed.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private struct Certificates {
        var caCert: String
        var serverCert: String
        var serverKey: String
    }

    /// A throw-away CA and a certificate it signs for 127.0.0.1, made with the openssl command.
    private func makeCertificates() throws -> Certificates {
        let dir = scratch + "/pki"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n".write(toFile: dir + "/ext.cnf", atomically: true, encoding: .utf8)
        let steps = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/ca.key", "-out", dir + "/ca.pem", "-days", "2",
             "-subj", "/CN=crsync test CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/server.key", "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", dir + "/server.csr", "-CA", dir + "/ca.pem", "-CAkey", dir + "/ca.key", "-CAcreateserial",
             "-out", dir + "/server.pem", "-days", "2", "-extfile", dir + "/ext.cnf"],
        ]
        for step in steps {
            let child = try ChildProcess("/usr/bin/env", ["openssl"] + step, scratch: scratch)
            guard child.wait() == 0 else { throw HarnessError("openssl \(step[0]) failed: \(child.stderr)") }
        }
        return Certificates(caCert: dir + "/ca.pem", serverCert: dir + "/server.pem", serverKey: dir + "/server.key")
    }

    /// A loopback-only python3 server: "v3" answers only Cloudreve 3's ping; "tls" serves https, answers
    /// Cloudreve 4's ping and refuses every password (40080). Returns its port.
    private func startFakeServer(mode: String, certificate: String = "", key: String = "") throws -> Int {
        let script = scratch + "/fake_server.py"
        try #"""
            import http.server, ssl, sys
            mode = sys.argv[1]
            class Handler(http.server.BaseHTTPRequestHandler):
                def reply(self, status, body, kind="application/json"):
                    data = body.encode()
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                def do_GET(self):
                    if mode == "v3" and self.path == "/api/v3/site/ping":
                        return self.reply(200, '{"code":0,"data":"3.8.3","msg":""}')
                    if mode == "tls" and self.path == "/api/v4/site/ping":
                        return self.reply(200, '{"code":0,"data":"4.18.0","msg":""}')
                    self.reply(404, "404 page not found", "text/plain")
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    if mode == "tls" and self.path == "/api/v4/session/token":
                        return self.reply(200, '{"code":40080,"msg":"Incorrect password or email address"}')
                    self.reply(404, "404 page not found", "text/plain")
                def log_message(self, *args):
                    pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            if mode == "tls":
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[2], sys.argv[3])
                server.socket = context.wrap_socket(server.socket, server_side=True)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """#.write(toFile: script, atomically: true, encoding: .utf8)
        let child = try ChildProcess("/usr/bin/env", ["python3", script, mode] + (mode == "tls" ? [certificate, key] : []), scratch: scratch)
        children.append(child)
        var port: Int?
        _ = eventually(timeout: 20, every: 0.05) {
            port = Int(child.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            return port != nil || child.hasExited
        }
        guard let port else { throw HarnessError("the fake server did not start: \(child.stderr)") }
        return port
    }
}
