import XCTest
@testable import SyncEngine

final class NameRulesTests: XCTestCase {
    func testNameRulesTable() {
        // (name bytes, nil if accepted else a phrase the reason must contain)
        let table: [(String, [UInt8], String?)] = [
            ("plain", Array("report.pdf".utf8), nil),
            ("space, %, #, +, '", Array("a b%c#d+e'f.txt".utf8), nil),
            ("unicode", Array("日本語 é".utf8), nil),
            ("NFD", Array("cafe\u{301}".utf8), nil),
            ("leading dot", Array(".bashrc".utf8), nil),
            ("three dots", Array("...".utf8), nil),
            ("255 bytes", Array(repeating: UInt8(ascii: "x"), count: 255), nil),
            ("256 bytes", Array(repeating: UInt8(ascii: "x"), count: 256), "256 bytes"),
            ("128 two-byte letters", Array(String(repeating: "é", count: 128).utf8), "at most 255"),
            ("dot", Array(".".utf8), "not allowed"),
            ("dot dot", Array("..".utf8), "not allowed"),
            ("empty", [], "empty"),
            ("backslash", Array(#"a\b"#.utf8), #"“\”"#),
            ("slash", Array("a/b".utf8), "“/”"),
            ("colon", Array("12:30".utf8), "“:”"),
            ("star", Array("*.txt".utf8), "“*”"),
            ("question", Array("why?".utf8), "“?”"),
            ("double quote", Array(#"say "hi""#.utf8), #"“"”"#),
            ("less", Array("a<b".utf8), "“<”"),
            ("greater", Array("a>b".utf8), "“>”"),
            ("pipe", Array("a|b".utf8), "“|”"),
            ("latin-1", [0x63, 0x61, 0x66, 0xe9], "not valid UTF-8"),
            ("lone continuation", [0x80], "not valid UTF-8"),
            ("overlong slash", [0xc0, 0xaf], "not valid UTF-8"),
            ("surrogate", [0xed, 0xa0, 0x80], "not valid UTF-8"),
            ("truncated", [0xe6, 0x97], "not valid UTF-8"),
        ]
        for (label, name, expected) in table {
            let problem = NameRules.problem(with: name)
            if let expected {
                XCTAssertTrue(problem?.contains(expected) ?? false, "\(label): \(problem ?? "accepted")")
            } else {
                XCTAssertNil(problem, label)
            }
        }
    }

    func testEveryBrokenRuleIsNamedSoOneRenameFixesThemAll() {
        let problem = NameRules.problem(with: [0xff] + Array("a:b?".utf8)) ?? ""
        XCTAssertTrue(problem.contains("UTF-8"), problem)
        XCTAssertTrue(problem.contains("“:” “?”"), problem)
    }

    func testDisplayEscapesInvalidBytesAndControlCharactersOnly() {
        XCTAssertEqual(PathBytes.display(Array("日本/ok é".utf8)), "日本/ok é")
        XCTAssertEqual(PathBytes.display([0x61, 0xff, 0x62]), #"a\xffb"#)
        XCTAssertEqual(PathBytes.display([0xe6, 0x97]), #"\xe6\x97"#, "a truncated sequence, byte by byte")
        XCTAssertEqual(PathBytes.display([0xc0, 0xaf]), #"\xc0\xaf"#, "an overlong '/' is not shown as '/'")
        XCTAssertEqual(PathBytes.display(Array("a\nb\t".utf8)), #"a\x0ab\x09"#)
    }

    func testParentWorksOnBytes() {
        XCTAssertEqual(Array(PathBytes.parent(of: "/var/lib/crsync/journal.sqlite").utf8), Array("/var/lib/crsync".utf8))
        XCTAssertEqual(PathBytes.parent(of: "/journal"), "/")
        XCTAssertEqual(PathBytes.parent(of: "journal"), "")
        // A combining mark right after "/" makes one Swift Character with it; the split must still happen there.
        XCTAssertEqual(Array(PathBytes.parent(of: "dir/\u{301}x").utf8), Array("dir".utf8))
    }
}
