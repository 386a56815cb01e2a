import Foundation
@testable import Transport
import XCTest
@testable import CloudreveAPI

/// Replies are decoded once on the common path; what is wrong is still named exactly.
final class EnvelopeTests: XCTestCase {
    private let client = CloudreveClient(server: "http://127.0.0.1:1")

    private func reply(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(text.utf8), contentType: "application/json", bytesSent: 0, bytesReceived: 0)
    }

    private func span(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        return scanEnvelope(bytes)?.data.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    func testDataSpanSkipsStringsAndBracketsAroundIt() {
        XCTAssertEqual(span(#"{"code":0,"data":{"a":[1,{"b":"}"}],"c":"x\"y{"},"msg":""}"#), #"{"a":[1,{"b":"}"}],"c":"x\"y{"}"#)
        XCTAssertEqual(span(#" { "msg" : "da\"ta" , "data" : [ 1 , 2 ] , "code" : 0 } "#), "[ 1 , 2 ]")
        XCTAssertEqual(span(#"{"data":"just \\ a string","code":0}"#), #""just \\ a string""#)
        XCTAssertEqual(span(#"{"code":0,"data":-12.5e3}"#), "-12.5e3")
        XCTAssertEqual(span(#"{"code":0,"data":null}"#), "null")
        XCTAssertNil(span(#"{"code":0,"msg":"no data here"}"#))
        XCTAssertNil(span(#"{"code":0,"database":1}"#))
        XCTAssertNil(span("[]"))
        XCTAssertNil(span(#"{"code":0,"data":{"open":"#))
    }

    /// What the scanner accepts skips the decoder, so it must refuse what is not one whole object.
    func testScannerRefusesWhatIsNotOneWholeObject() {
        XCTAssertEqual(scanEnvelope(Array(#" {"code" : -1 ,"msg":"x"} "#.utf8))?.code, -1)
        XCTAssertEqual(scanEnvelope(Array("{}".utf8))?.code, nil)
        XCTAssertNotNil(scanEnvelope(Array("{}".utf8)))
        for text in [#"{"code":0"#, #"{"code":0}}"#, #"{"code":0} x"#, #"{"code":0,}"#, #"{"code":0 "data":1}"#,
                     #"{"code":0,"data":[1}"#, #"{"code":0,"data":{"a":1]}"#, #"{code:0}"#, #"{"code":0,"data":"x}"#,
                     "<html>502</html>", "", #"{"code":0,"msg":"a"}{"code":1}"#] {
            XCTAssertNil(scanEnvelope(Array(text.utf8)), text)
        }
        // A code that is not a number is read as no code: the reply then takes the decoding way.
        let quoted = scanEnvelope(Array(#"{"code":"0"}"#.utf8))
        XCTAssertNotNil(quoted)
        XCTAssertNil(quoted?.code)
    }

    func testAnAcceptedAcknowledgementNeedsNoDecoderButNonsenseIsStillNamed() throws {
        let none: Empty? = try client.decodeEnvelope(reply(#"{"code":0,"msg":"","data":null}"#), path: "/file/upload/s/0", acceptCodes: [0])
        XCTAssertNil(none)
        XCTAssertThrowsError(try client.decodeEnvelope(reply(#"{"code":0,"data":"#), path: "/file/upload/s/0", acceptCodes: [0]) as Empty?) {
            guard case CloudreveError.http(200, "/file/upload/s/0", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try client.decodeEnvelope(reply(#"{"code":40016,"msg":"gone"}"#), path: "/x", acceptCodes: [0]) as Empty?) {
            guard case CloudreveError.api(40016, "gone", "/x", _) = $0 else { return XCTFail("\($0)") }
        }
    }

    func testRawDataIsTheServersBytesUnchanged() throws {
        let data = #"{"session_id":"a\/b","chunk_size":5,"expires":1,"uri":"cloudreve://my/é","extra":{"k":[true,null]}}"#
        let raw: RawJSON? = try client.decodeEnvelope(reply(#"{"code":0,"data":\#(data),"msg":""}"#), path: "/file/upload", acceptCodes: [0])
        XCTAssertEqual(raw.map { String(decoding: $0.bytes, as: UTF8.self) }, data)
        let none: RawJSON? = try client.decodeEnvelope(reply(#"{"code":0,"data":null}"#), path: "/file/upload", acceptCodes: [0])
        XCTAssertNil(none)
    }

    func testOneDecodeGivesDataAndEveryFailureIsStillNamed() throws {
        struct Item: Decodable { var id: Int }
        let item: Item? = try client.decodeEnvelope(reply(#"{"code":0,"data":{"id":7}}"#), path: "/x", acceptCodes: [0])
        XCTAssertEqual(item?.id, 7)
        // An accepted code with a data of the wrong shape: malformed, not silently nil.
        XCTAssertThrowsError(try client.decodeEnvelope(reply(#"{"code":0,"data":{"id":"seven"}}"#), path: "/x", acceptCodes: [0]) as Item?) {
            guard case CloudreveError.malformed(let path, _) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "/x")
        }
        // A refused code whose data happens to fit is still an error.
        XCTAssertThrowsError(try client.decodeEnvelope(reply(#"{"code":40016,"msg":"gone","data":{"id":1}}"#), path: "/x", acceptCodes: [0]) as Item?) {
            guard case CloudreveError.api(40016, "gone", "/x", _) = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try client.decodeEnvelope(reply(#"{"code":40073,"msg":"locked","data":[{"path":"p","token":"t1"}]}"#), path: "/x",
                                                       acceptCodes: [0]) as Item?) {
            guard case CloudreveError.api(40073, _, _, let tokens) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(tokens, ["t1"])
        }
        XCTAssertThrowsError(try client.decodeEnvelope(reply("<html>502</html>", status: 502), path: "/x", acceptCodes: [0]) as Item?) {
            guard case CloudreveError.http(502, "/x", _) = $0 else { return XCTFail("\($0)") }
        }
    }

    func testSessionReplyReadsRouteAndBucketOnce() throws {
        let local = try SessionReply(json: Array(#"{"session_id":"s","chunk_size":5,"expires":1,"uri":"u","storage_policy":{"id":"p","type":"local"}}"#.utf8))
        XCTAssertEqual(local.route, .server)
        XCTAssertNil(local.s3)
        let s3 = try SessionReply(json: Array(#"{"session_id":"s","chunk_size":5,"expires":1,"uri":"u","upload_id":"up","upload_urls":["http://b/1"],"completeURL":"http://b/c","storage_policy":{"id":"p","type":"s3"}}"#.utf8))
        XCTAssertEqual(s3.s3?.uploadURLs, ["http://b/1"])
        XCTAssertEqual(s3.route, .unsupported(type: "s3"))
        XCTAssertThrowsError(try SessionReply(json: Array(#"{"chunk_size":5}"#.utf8)))
    }
}
