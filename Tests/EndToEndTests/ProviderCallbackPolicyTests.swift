import CloudreveAPI
import Foundation
import Transport
import XCTest

/// OSS and OBS policies (issue 10): parts straight to the storage (moto on loopback), then a completion that
/// the storage answers with Cloudreve's own callback result; the client calls no callback. The dev server's
/// `/__provider/{oss,obs}/complete` stands in for the provider's completion and callback (see
/// ProviderCompletion.swift there). Built on S3PolicyTests' scenario: moto, then the dev server in front.
/// Their tree, crash and sessions suites are S3PolicyTests' (`crashPolicies`); here is only what is theirs.
final class ProviderCallbackPolicyTests: XCTestCase {
    static let policies = ["oss", "obs"]

    /// The storage assembled the object but could not reach Cloudreve (203 CallbackFailed): the file fails for
    /// this pass with a message saying what to check, the session is cancelled, and the next pass uploads it.
    func testCallbackFailureFailsTheFileClearlyAndTheNextPassUploadsIt() throws {
        for policy in Self.policies {
            let s3 = try S3PolicyTests.s3Scenario(["--policy", policy])
            defer { s3.tearDown() }
            let local = s3.scratch + "/cb"
            try writeFile(local + "/f.bin", pseudoRandomBytes(3 * S3PolicyTests.chunk + 5, seed: 90))
            try s3.server.devPost("/__dev/faults", ["callback_unreachable": true])
            let failed = try s3.sync(local, "cloudreve://my/CB")
            XCTAssertEqual(failed.status, 1, "\(policy): \(failed.stderr)")
            XCTAssertTrue(failed.stderr.contains("'\(policy)' storage assembled") && failed.stderr.contains("CallbackFailed")
                          && failed.stderr.contains("site URL"), "\(policy): \(failed.stderr)")
            XCTAssertEqual(try s3.placeholders(under: "cloudreve://my").count, 0, "\(policy): the session was cancelled")
            XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0, policy)
            XCTAssertEqual(try s3.server.stats().int("sessions_cancelled"), 1, policy)
            try s3.server.devPost("/__dev/faults", [:])
            let result = try s3.sync(local, "cloudreve://my/CB")
            XCTAssertEqual(result.status, 0, "\(policy): \(result.stderr)")
            try s3.assertArrivedWithNothingLeft(local: local, remote: "cloudreve://my/CB", "\(policy) after the callback came back")
        }
    }

    /// The stand-in for the provider's completion refuses what the real one would: unsigned headers (OSS's
    /// two, and the signed Content-Type), a body with OSS's complete-all, and parts of another length than the
    /// session's (moto takes any). Parts themselves go straight to moto: their Content-Type cannot be
    /// observed there, so S3Flavor's unit test covers it.
    func testProviderCompletionRefusesWhatTheSignatureWould() throws {
        let s3 = try S3PolicyTests.s3Scenario(["--policy", "oss"])
        defer { s3.tearDown() }
        let client = try s3.server.client()
        let chunk = Int64(S3PolicyTests.chunk)
        let blob = s3.scratch + "/blob.bin"
        try writeFile(blob, pseudoRandomBytes(Int(2 * chunk), seed: 6))
        let fd = open(blob, O_RDONLY)
        defer { close(fd) }
        let target = try CloudrevePath(parsing: "cloudreve://my/p.bin")
        let (reply, _) = try client.createUploadSession(UploadSessionRequest(uri: target.uri, size: 2 * chunk, lastModified: 0,
                                                                              policyID: nil, previous: nil))
        let session = try XCTUnwrap(reply.s3)
        XCTAssertEqual(session.policyType, "oss")
        XCTAssertTrue(session.uploadURLs[0].contains("content-type%3Bhost"), "the part URL signs the Content-Type: \(session.uploadURLs[0])")
        _ = try client.putPart(url: session.uploadURLs[0], fd: fd, offset: 0, length: chunk, contentType: "application/octet-stream")
        _ = try client.putPart(url: session.uploadURLs[1], fd: fd, offset: chunk, length: chunk - 10, contentType: "application/octet-stream")
        func post(_ headers: [(String, String)], _ body: String = "") throws -> HTTPResponse {
            try HTTPTransport().perform(HTTPRequest(method: "POST", url: session.completeURL, headers: headers, body: .bytes(Array(body.utf8))))
        }
        let octet = ("Content-Type", "application/octet-stream")
        XCTAssertEqual(try post([octet, ("x-oss-complete-all", "yes")]).status, 403, "x-oss-forbid-overwrite is signed")
        XCTAssertEqual(try post([("Content-Type", "application/xml"), ("x-oss-forbid-overwrite", "true"), ("x-oss-complete-all", "yes")]).status, 403)
        XCTAssertEqual(try post([octet, ("x-oss-forbid-overwrite", "true"), ("x-oss-complete-all", "yes")], "<x/>").status, 400)
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"),
                       .refused("HTTP 400 InvalidPart (Part 2 has \(chunk - 10) bytes, its URL was signed for \(chunk).)"))
        _ = try client.putPart(url: session.uploadURLs[1], fd: fd, offset: chunk, length: chunk, contentType: "application/octet-stream")
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"), .done)
        XCTAssertEqual(try client.fileInfo(target).size, 2 * chunk)
        XCTAssertEqual(try client.completeWithProviderCallback(url: session.completeURL, etags: [:], policyType: "oss"), .uploadGone)
        XCTAssertEqual(try s3.moto!.openMultipartUploads(), 0)
    }
}
