@testable import CloudreveDevServer
import XCTest

/// The decisions behind the routes, tested without I/O.
final class PureLogicTests: XCTestCase {
    func testSHA256AndHMACKnownVectors() {
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hex.encode(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // RFC 4231 test case 2.
        XCTAssertEqual(Hex.encode(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testHashIDsRoundTripAndKeepKindsApart() {
        let ids = HashIDs(secret: Array("s".utf8))
        for n: Int64 in [0, 1, 2, 99, 123_456_789] {
            XCTAssertEqual(ids.decode(ids.encode(n, .file), .file), n)
            XCTAssertNil(ids.decode(ids.encode(n, .file), .entity))
        }
        XCTAssertNotEqual(HashIDs(secret: [1]).encode(1, .policy), HashIDs(secret: [2]).encode(1, .policy), "per installation")
        XCTAssertNil(ids.decode("!!", .file))
    }

    func testChunkPlanArithmetic() {
        let plan = ChunkPlan(size: 25, chunkSize: 10)
        XCTAssertEqual(plan.chunkCount, 3)
        XCTAssertEqual((0..<3).map(plan.expectedLength), [10, 10, 5])
        XCTAssertEqual((0..<3).map(plan.isLast), [false, false, true])
        XCTAssertFalse(plan.isIndexValid(3))
        XCTAssertEqual(ChunkPlan(size: 0, chunkSize: 10).chunkCount, 1, "an empty file is one chunk")
        XCTAssertTrue(ChunkPlan(size: 0, chunkSize: 10).isIndexValid(0))
        XCTAssertFalse(ChunkPlan(size: 20, chunkSize: 10).isIndexValid(2))
        XCTAssertEqual(ChunkPlan(size: 20, chunkSize: 0).expectedLength(0), 20, "chunk size 0: one request")
        XCTAssertFalse(ChunkPlan(size: 20, chunkSize: 0).isIndexValid(1))
    }

    func testURIParsingFollowsGo() throws {
        let u = try CloudreveURI.parse("cloudreve://my/a/./b/../c%20d/")
        XCTAssertEqual(u.fileSystem, "my")
        XCTAssertEqual(u.components, [Array("a".utf8), Array("c d".utf8)])
        XCTAssertEqual(try CloudreveURI.parse("cloudreve://my/x+y").components, [Array("x+y".utf8)])
        XCTAssertEqual(try CloudreveURI.parse("cloudreve://my/x%2Fy").components.count, 2)
        XCTAssertTrue(try CloudreveURI.parse("cloudreve://my").isRoot)
        XCTAssertEqual(try CloudreveURI.parse("CloudReve://MY/a").fileSystem, "my")
        XCTAssertThrowsError(try CloudreveURI.parse("cloudreve://my/%zz"))
        XCTAssertThrowsError(try CloudreveURI.parse("http://my/a"))
        XCTAssertThrowsError(try CloudreveURI.parse("cloudreve://my/a\u{1}"))
        let search = try CloudreveURI.parse("cloudreve://my/d?meta_sys:upload_session_id=")
        XCTAssertEqual(search.components, [Array("d".utf8)])
        XCTAssertEqual(search.search?.metadata.first?.key, Array("sys:upload_session_id".utf8))
        XCTAssertNil(try CloudreveURI.parse("cloudreve://my/d?unrelated=1").search)
    }

    func testQueryDecodingTurnsPlusIntoSpace() {
        let pairs = GoURL.parseQuery(Array("uri=a+b%2Bc&x;y=1&bad=%G0&k".utf8)[...])
        XCTAssertEqual(pairs.map { String(decoding: $0.key, as: UTF8.self) }, ["uri", "k"])
        XCTAssertEqual(pairs.first?.value, Array("a b+c".utf8))
    }

    func testPathEscapeIsEncodeURIComponent() {
        XCTAssertEqual(GoURL.pathEscape(Array("a b+c/é!~*'()".utf8)), "a%20b%2Bc%2F%C3%A9!~*'()")
    }

    func testNameRules() {
        XCTAssertTrue(NameRules.isValidName(Array("ok name.txt".utf8)))
        for bad in ["", ".", "..", "a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b", String(repeating: "x", count: 256)] {
            XCTAssertFalse(NameRules.isValidName(Array(bad.utf8)), bad)
        }
        let rules = NameRules(deniedExtensions: ["exe"])
        XCTAssertFalse(rules.isExtensionAllowed(Array("A.EXE".utf8)))
        XCTAssertTrue(rules.isExtensionAllowed(Array("exe".utf8)), "no dot, no extension")
    }

    func testVersionThresholds() throws {
        let v40 = try XCTUnwrap(EmulatedVersion("4.0"))
        let v411 = try XCTUnwrap(EmulatedVersion("4.11"))
        let v418 = try XCTUnwrap(EmulatedVersion("4.18.0"))
        XCTAssertTrue(v40.chunkZeroTruncates && v40.requiresPolicyID && !v40.hasNameErrorCode)
        XCTAssertTrue(!v411.chunkZeroTruncates && !v411.requiresPolicyID && v411.chunksConfirmLock && !v411.completesWhenAllChunksArrive)
        XCTAssertTrue(v418.completesWhenAllChunksArrive)
        XCTAssertNil(EmulatedVersion("5.0"))
        XCTAssertNil(EmulatedVersion("4"))
        XCTAssertEqual(EmulatedVersion("4.7")?.description, "4.7.0")
    }

    func testLockConflictsCoverAncestorsAndDescendants() {
        let locks = LockTable()
        let now = Timestamp(seconds: 100)
        let path = [Array("a".utf8), Array("b".utf8), Array("f".utf8)]
        _ = locks.create(path: path, application: "upload", type: 0, expires: Timestamp(seconds: 200))
        XCTAssertEqual(locks.conflicts(with: path, now: now).count, 1)
        XCTAssertEqual(locks.conflicts(with: [Array("a".utf8)], now: now).count, 1, "an ancestor taking an infinite lock")
        XCTAssertEqual(locks.conflicts(with: [Array("a".utf8)], zeroDepth: true, now: now).count, 0)
        XCTAssertEqual(locks.conflicts(with: path + [Array("x".utf8)], now: now).count, 1, "below an infinite lock")
        XCTAssertEqual(locks.conflicts(with: [Array("a".utf8), Array("b".utf8), Array("g".utf8)], now: now).count, 0, "a sibling")
        XCTAssertEqual(locks.conflicts(with: path, now: Timestamp(seconds: 200)).count, 0, "expired")
    }

    func testListOrderPutsFoldersFirst() {
        let order = ListOrder()
        let folder = ListPosition(isFile: false, name: Array("z".utf8), number: 0, id: 9)
        let file = ListPosition(isFile: true, name: Array("a".utf8), number: 0, id: 1)
        XCTAssertTrue(folder.precedes(file, order))
        XCTAssertTrue(folder.precedes(file, ListOrder(key: .name, ascending: false)))
    }

    func testTimestampsFormatLikeGo() {
        XCTAssertEqual(Timestamp(milliseconds: 1_700_000_000_123).rfc3339, "2023-11-14T22:13:20.123Z")
        XCTAssertEqual(Timestamp(seconds: 0).rfc3339, "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp(nanoseconds: 1_500_000_000).rfc3339, "1970-01-01T00:00:01.5Z")
    }

    func testJSONRoundTripKeepsBytesAndEscapesLikeGo() throws {
        let nfd = "e\u{301}"
        let value = JSON.object([("k", .string(nfd)), ("html", .string("<&>")), ("n", .int(-5))])
        let text = String(decoding: value.encoded(), as: UTF8.self)
        XCTAssertTrue(text.contains("\\u003c\\u0026\\u003e"), text)
        let back = try JSON.parse(value.encoded())
        XCTAssertEqual(back["k"]?.stringValue.map { Array($0.utf8) }, Array(nfd.utf8))
        XCTAssertNotEqual(JSON.string("\u{E9}"), JSON.string(nfd), "JSON equality is byte equality")
        XCTAssertEqual(try JSON.parse(Array("\"\\ud83d\\ude00\"".utf8)).stringValue, "😀")
        XCTAssertThrowsError(try JSON.parse(Array("{\"a\":}".utf8)))
    }
}
