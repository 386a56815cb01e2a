import XCTest
@testable import SyncEngine

final class PathFilterTests: XCTestCase {
    private struct Case {
        var patterns: [String]
        var path: String
        var isDirectory = false
        var excluded: Bool
        var line: UInt
    }

    private func check(_ cases: [Case], includeDefaults: Bool = false) throws {
        for item in cases {
            let filter = try PathFilter(patterns: item.patterns, includeDefaults: includeDefaults)
            XCTAssertEqual(filter.excludes(item.path, isDirectory: item.isDirectory), item.excluded,
                           "\(item.patterns) on \(item.isDirectory ? "directory" : "file") “\(item.path)”",
                           line: item.line)
        }
    }

    private func c(_ patterns: [String], _ path: String, dir: Bool = false, _ excluded: Bool, line: UInt = #line) -> Case {
        Case(patterns: patterns, path: path, isDirectory: dir, excluded: excluded, line: line)
    }

    func testWildcardsMatchWithinOneComponent() throws {
        try check([
            c(["*.log"], "a.log", true),
            c(["*.log"], "deep/in/side/a.log", true),
            c(["*.log"], "a.log.txt", false),
            c(["*.log"], ".log", true),
            c(["a*"], "abc/def", true),              // the directory abc is excluded, so all in it
            c(["a*c"], "abxc", true),
            c(["a*c"], "ab/c", false),               // * never crosses "/"
            c(["file?.txt"], "file1.txt", true),
            c(["file?.txt"], "file10.txt", false),
            c(["file?.txt"], "file.txt", false),
            c(["*"], "anything/at/all", true),
            c(["*a*b*c*"], "xxaxxbxxcxx", true),
            c(["*a*b*c*"], "xxaxxcxxbxx", false),
        ])
    }

    func testBracketsMatchSetsRangesNegationsAndClasses() throws {
        try check([
            c(["[abc].txt"], "b.txt", true),
            c(["[abc].txt"], "d.txt", false),
            c(["[a-c]x"], "bx", true),
            c(["[a-c]x"], "dx", false),
            c(["[!a-c]x"], "dx", true),
            c(["[^a-c]x"], "ax", false),
            c(["[]]"], "]", true),
            c(["[!]]"], "]", false),
            c(["[a-]"], "-", true),
            c(["[[:digit:]]*"], "7up", true),
            c(["[[:digit:]]*"], "seven", false),
            c(["[[:upper:][:digit:]]"], "Q", true),
            c(["\\[x\\]"], "[x]", true),
            c(["[é]"], "\u{e9}", true),
        ])
    }

    func testSlashesAnchorAndDoubleStarsSpanDirectories() throws {
        try check([
            c(["/top.txt"], "top.txt", true),
            c(["/top.txt"], "sub/top.txt", false),
            c(["doc/*.md"], "doc/a.md", true),
            c(["doc/*.md"], "x/doc/a.md", false),    // a middle "/" anchors too
            c(["doc/*.md"], "doc/sub/a.md", false),
            c(["**/cache"], "cache", true),
            c(["**/cache"], "a/b/cache", true),
            c(["a/**/b"], "a/b", true),
            c(["a/**/b"], "a/x/y/b", true),
            c(["a/**/b"], "a/x/y/c", false),
            c(["abc/**"], "abc/x", true),
            c(["abc/**"], "abc/x/y", true),
            c(["abc/**"], "abc", dir: true, false),  // everything inside, not abc itself
            c(["name"], "deep/er/name", true),
            c(["name"], "deep/name/inside", true),
            c(["a**b"], "axxb", true),               // not a whole part: an ordinary "*"
            c(["a**b"], "ax/xb", false),
        ])
    }

    func testTrailingSlashNamesDirectoriesOnly() throws {
        try check([
            c(["build/"], "build", dir: true, true),
            c(["build/"], "build", dir: false, false),
            c(["build/"], "build/out.o", true),
            c(["build/"], "src/build/out.o", true),
            c(["/build/"], "src/build/out.o", false),
        ])
    }

    func testNegationTakesBackUnlessADirectoryAboveIsExcluded() throws {
        try check([
            c(["*.log", "!keep.log"], "keep.log", false),
            c(["*.log", "!keep.log"], "drop.log", true),
            c(["!keep.log", "*.log"], "keep.log", true),   // the last matching line wins
            c(["logs/*", "!logs/keep.log"], "logs/keep.log", false),
            c(["logs/*", "!logs/keep.log"], "logs/other", true),
            c(["logs/", "!logs/keep.log"], "logs/keep.log", true),  // git cannot re-include below an excluded directory
        ])
    }

    func testCommentsBlanksEscapesAndTrailingSpaces() throws {
        try check([
            c(["# comment", "", "x"], "# comment", false),
            c(["\\#hash"], "#hash", true),
            c(["\\!bang"], "!bang", true),
            c(["trail   "], "trail", true),
            c(["space\\ "], "space ", true),
            c(["space\\ "], "space", false),
        ])
    }

    func testTemporaryFileDefaultsAreExcludedAndCanBeTakenBack() throws {
        let defaults = try PathFilter(patterns: [])
        for name in [".notes.txt.swp", "draft.txt~", ".~lock.report.odt#", "film.mkv.part", "setup.exe.crdownload",
                     ".#main.c", "4913", "sub/dir/4913"] {
            XCTAssertTrue(defaults.excludes(name, isDirectory: false), name)
        }
        for name in ["notes.txt", "data.tmp", "49130", "part", "a.partial"] {
            XCTAssertFalse(defaults.excludes(name, isDirectory: false), name)
        }
        XCTAssertFalse(try PathFilter(patterns: [], includeDefaults: false).excludes("a.swp", isDirectory: false))
        XCTAssertFalse(try PathFilter(patterns: ["!*.part"]).excludes("film.part", isDirectory: false))
        XCTAssertTrue(try PathFilter(patterns: ["*.tmp"]).excludes("data.tmp", isDirectory: false))
    }

    func testNFCAndNFDSpellingsAreDifferentNames() throws {
        let nfc = "caf\u{e9}.txt", nfd = "cafe\u{301}.txt"
        let filter = try PathFilter(patterns: [nfc], includeDefaults: false)
        XCTAssertTrue(filter.excludes(nfc, isDirectory: false))
        XCTAssertFalse(filter.excludes(nfd, isDirectory: false))
        // "?" is one scalar: the NFD name has one more.
        let question = try PathFilter(patterns: ["caf?.txt"], includeDefaults: false)
        XCTAssertTrue(question.excludes(nfc, isDirectory: false))
        XCTAssertFalse(question.excludes(nfd, isDirectory: false))
        // A combining mark right after "/" stays part of the next name.
        let mark = try PathFilter(patterns: ["/\u{301}x"], includeDefaults: false)
        XCTAssertTrue(mark.excludes("\u{301}x", isDirectory: false))
    }

    func testRootIsNeverExcluded() throws {
        let filter = try PathFilter(patterns: ["*"])
        XCTAssertFalse(filter.excludes("", isDirectory: true))
        XCTAssertFalse(filter.excludes(".", isDirectory: true))
    }

    func testMalformedPatternsThrowNamingThePattern() {
        for bad in ["[abc", "x[!", "a/[b/c", "tail\\", "[z-a]", "[[:nope:]]", "[[:alpha:", "/", "!"] {
            XCTAssertThrowsError(try PathFilter(patterns: ["ok", bad]), bad) { error in
                let message = String(describing: error)
                XCTAssertTrue(message.contains("“\(bad)”"), message)
            }
        }
    }

    func testOnlyPatternsBeyondANameDependOnLocation() throws {
        XCTAssertFalse(try PathFilter(patterns: ["*.log", "build/", "**/cache"]).dependsOnLocation)
        XCTAssertTrue(try PathFilter(patterns: ["/build"]).dependsOnLocation)
        XCTAssertTrue(try PathFilter(patterns: ["doc/*.md"]).dependsOnLocation)
    }
}
