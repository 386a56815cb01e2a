import Foundation
import Transport
import XCTest

/// moto's standalone S3 server (PyPI `moto[server]`) on a random free loopback port, behind the dev
/// server's `--policy s3`. Its request log (werkzeug, on stderr) is where the tests count part PUTs: moto
/// keeps no counter of its own, and the parts never pass through the dev server.
final class MotoServer {
    let process: ChildProcess
    let url: String
    static let bucket = "crsync"

    /// Skips the test when moto_server is not installed (`.ci/run` installs it).
    init(scratch: String) throws {
        guard let executable = MotoServer.find() else {
            throw XCTSkip("moto_server not found on PATH: install it with `python3 -m pip install 'moto[server]'` to run the S3 tests")
        }
        let port = try freePort()
        // Real S3 wants parts of at least 5 MiB; the tests use small ones to stay quick.
        process = try ChildProcess(executable, ["-H", "127.0.0.1", "-p", "\(port)"], environment: ["S3_UPLOAD_PART_MIN_SIZE": "1"],
                                   scratch: scratch)
        url = "http://127.0.0.1:\(port)"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !process.hasExited {
            if let response = try? HTTPTransport().perform(HTTPRequest(method: "GET", url: url + "/", timeout: 2)), response.status > 0 { return }
            usleep(100_000)
        }
        stop()
        throw HarnessError("moto_server did not start on port \(port): \(process.stderr)")
    }

    static func find() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(dir)/moto_server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    func stop() {
        process.stop()
    }

    /// Every part PUT moto has logged so far: (upload id, part number, HTTP status). A PUT whose body was
    /// cut off (a killed client) is logged too, answered 400.
    func partPuts() -> [(uploadID: String, part: Int, status: Int)] {
        process.stderr.split(separator: "\n").compactMap { line in
            guard line.contains("\"PUT /\(MotoServer.bucket)/"), let query = line.split(separator: "?", maxSplits: 1).last else { return nil }
            var part: Int?
            var upload: String?
            for pair in query.split(separator: " ").first!.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "partNumber" { part = Int(kv[1]) }
                if kv.count == 2, kv[0] == "uploadId" { upload = String(kv[1]) }
            }
            guard let part, let upload else { return nil }
            let status = line.split(separator: "\"").last?.split(separator: " ").first.flatMap { Int($0) } ?? 0
            return (upload, part, status)
        }
    }

    /// Multipart uploads still open in the bucket (ListMultipartUploads).
    func openMultipartUploads() throws -> Int {
        let response = try HTTPTransport().perform(HTTPRequest(method: "GET", url: url + "/\(MotoServer.bucket)?uploads"))
        guard response.status == 200 else { throw HarnessError("ListMultipartUploads answered \(response.status)") }
        return String(decoding: response.body, as: UTF8.self).components(separatedBy: "<Upload>").count - 1
    }
}

