import CloudreveAPI
import XCTest
@testable import SyncEngine

/// The S3 flow's decisions, without I/O, and the journal's part ETags.
final class S3PartsTests: XCTestCase {
    func testOnlyPartsWithoutAJournaledETagAreSent() {
        XCTAssertEqual(partsToSend(count: 5, etags: [0: "\"a\"", 2: "\"c\""]), [1, 3, 4])
        XCTAssertEqual(partsToSend(count: 3, etags: [0: "a", 1: "b", 2: "c"]), [])
        XCTAssertEqual(partsToSend(count: 1, etags: [:]), [0])
    }

    func testCallbackAnswers() {
        XCTAssertEqual(callbackVerdict(code: 0), .done)
        XCTAssertEqual(callbackVerdict(code: -1), .retry)
        XCTAssertEqual(callbackVerdict(code: 40055), .restart)
        XCTAssertEqual(callbackVerdict(code: 40011), .askFile)
        XCTAssertEqual(callbackVerdict(code: 40020), .fail)
        XCTAssertEqual(callbackVerdict(code: nil), .fail)
    }

    func testUnsupportedPolicyMessageNamesTheTypeAndTheWayOut() {
        let message = unsupportedPolicyMessage(type: "qiniu")
        XCTAssertTrue(message.contains("'qiniu'"))
        XCTAssertTrue(message.contains("does not support yet"))
        XCTAssertTrue(message.contains("relay mode"))
        XCTAssertTrue(message.contains("cos, ks3, obs, onedrive, oss, remote, s3"))
    }

    func testS3SessionParsingKeepsTheMixedKeyStyles() throws {
        let json = Array("""
            {"session_id":"sid","upload_id":"up","chunk_size":5242880,"expires":1,"uri":"cloudreve://my/a",
             "upload_urls":["http://s3/b/k?partNumber=1"],"completeURL":"http://s3/b/k?uploadId=up",
             "callback_secret":"sec","storage_policy":{"id":"p","name":"S3","type":"s3","max_size":0}}
            """.utf8)
        let session = try XCTUnwrap(S3Session.parse(json))
        XCTAssertEqual(session.uploadID, "up")
        XCTAssertEqual(session.completeURL, "http://s3/b/k?uploadId=up")
        XCTAssertEqual(session.callbackSecret, "sec")
        XCTAssertNil(S3Session.parse(Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\"s3\"", with: "\"qiniu\"").utf8)))
        XCTAssertEqual(S3Session.parse(Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: "\"s3\"", with: "\"oss\"").utf8))?
            .policyType, "oss")
        XCTAssertNil(S3Session.parse(Array(#"{"session_id":"x","chunk_size":0,"expires":1,"uri":"u","storage_policy":{"type":"local"}}"#.utf8)))
    }

    func testCompletionBodyListsPartsInOrderWithETagsAsGiven() {
        XCTAssertEqual(completeMultipartXML([1: "\"b\"", 0: "\"a\""]),
                       "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part>"
                       + "<Part><PartNumber>2</PartNumber><ETag>&quot;b&quot;</ETag></Part></CompleteMultipartUpload>")
    }

    /// OSS or OBS assembled the object but Cloudreve's callback failed: the message says what happened, where,
    /// and what the user can do about it.
    func testCallbackFailureMessageSaysWhatToDo() {
        let message = callbackFailedMessage(storage: "the 'oss' storage", uri: "cloudreve://my/a.bin", detail: "CallbackFailed: Error status : -1.")
        XCTAssertTrue(message.contains("'oss'") && message.contains("cloudreve://my/a.bin") && message.contains("Error status : -1."), message)
        XCTAssertTrue(message.contains("next pass") && message.contains("site URL") && message.contains("relay mode"), message)
    }

    func testPartETagsSurviveReopeningTheJournal() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/journal.sqlite"
        let journal = try Journal(path: path)
        let record = try journal.noteScanned(root: "r", path: "a.bin", identity: FileIdentity(device: 1, inode: 2, size: 30, mtimeNs: 4))
        try journal.saveSession(SessionRecord(fileRowID: record.id, sessionID: "s1", uri: "cloudreve://my/a.bin", sessionJSON: [],
                                              serverVersion: "4.18.0", chunkSize: 10, chunkCount: 3, expires: Date().addingTimeInterval(60),
                                              identity: record.local, createdAt: Date()))
        try journal.acknowledgePart(sessionID: "s1", index: 0, etag: "\"e0\"")
        try journal.acknowledgePart(sessionID: "s1", index: 2, etag: "\"e2\"")
        let reopened = try Journal(path: path)
        XCTAssertEqual(try reopened.partETags(sessionID: "s1"), [0: "\"e0\"", 2: "\"e2\""])
        XCTAssertEqual(try reopened.session(fileRowID: record.id)?.acknowledged, [0, 2])
        XCTAssertThrowsError(try reopened.acknowledgePart(sessionID: "gone", index: 0, etag: "x"))
    }
}
