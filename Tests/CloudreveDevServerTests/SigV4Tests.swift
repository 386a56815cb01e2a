import Foundation
import XCTest
@testable import CloudreveDevServer

/// The dev server's SigV4 presigning against AWS's published example ("Authenticating Requests: Using
/// Query Parameters", GET examplebucket/test.txt on 2013-05-24).
final class SigV4Tests: XCTestCase {
    func testPresignedURLMatchesAWSExample() {
        let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        let url = signer.presign(method: "GET", scheme: "https", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [],
                                 expires: 86400, date: Date(timeIntervalSince1970: 1_369_353_600))
        XCTAssertEqual(url, "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                       + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                       + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                       + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    func testPartURLsSignTheirExactLength() {
        let storage = S3Storage(endpoint: "http://127.0.0.1:9000", bucket: "b")
        let urls = storage.partURLs(key: "k/a b", uploadID: "u+1", lengths: [10, 3], expires: 86399, now: Date(timeIntervalSince1970: 0))
        XCTAssertEqual(urls.count, 2)
        XCTAssertTrue(urls[0].hasPrefix("http://127.0.0.1:9000/b/k/a%20b?"), urls[0])
        XCTAssertTrue(urls[1].contains("partNumber=2") && urls[1].contains("uploadId=u%2B1") && urls[1].contains("X-Amz-SignedHeaders=content-length%3Bhost"))
        // Another length is another signature: a part of the wrong size would be refused by a real S3.
        XCTAssertNotEqual(urls[0].components(separatedBy: "X-Amz-Signature=").last,
                          storage.partURLs(key: "k/a b", uploadID: "u+1", lengths: [11, 3], expires: 86399,
                                           now: Date(timeIntervalSince1970: 0))[0].components(separatedBy: "X-Amz-Signature=").last)
    }
}
