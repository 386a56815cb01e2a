import SyncEngine
import XCTest

final class TOMLDocumentTests: XCTestCase {
    private func parse(_ text: String) throws -> TOMLTable {
        try TOMLDocument(parsing: text, path: "test.toml").root
    }

    private func syntaxError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> TOMLError? {
        do {
            _ = try TOMLDocument(parsing: text, path: "test.toml")
            XCTFail("expected a TOML error", file: file, line: line)
            return nil
        } catch let error as TOMLError {
            return error
        } catch {
            XCTFail("expected TOMLError, got \(error)", file: file, line: line)
            return nil
        }
    }

    private func table(_ value: TOMLValue?) -> TOMLTable? {
        if case .table(let table)? = value?.content { return table }
        return nil
    }

    func testScalarsAndTheirLines() throws {
        let root = try parse("""
            # a comment
            name = "crsync" # trailing comment
            path = 'C:\\Users\\me'
            escaped = "tab\\there \\"quoted\\" \\u00E9 \\U0001F600"
            count = 1_000
            negative = -17
            hex = 0xFF
            ratio = 2.5
            big = 1e3
            on = true
            off = false
            "quoted key" = 1
            """)
        XCTAssertEqual(root["name"]?.content, .string("crsync"))
        XCTAssertEqual(root["name"]?.line, 2)
        XCTAssertEqual(root["name"]?.column, 8)
        XCTAssertEqual(root["path"]?.content, .string("C:\\Users\\me"))
        XCTAssertEqual(root["escaped"]?.content, .string("tab\there \"quoted\" é 😀"))
        XCTAssertEqual(root["count"]?.content, .integer(1000))
        XCTAssertEqual(root["negative"]?.content, .integer(-17))
        XCTAssertEqual(root["hex"]?.content, .integer(255))
        XCTAssertEqual(root["ratio"]?.content, .float(2.5))
        XCTAssertEqual(root["big"]?.content, .float(1000))
        XCTAssertEqual(root["on"]?.content, .boolean(true))
        XCTAssertEqual(root["off"]?.content, .boolean(false))
        XCTAssertEqual(root["quoted key"]?.line, 12)
        XCTAssertEqual(root.keys, ["name", "path", "escaped", "count", "negative", "hex", "ratio", "big", "on", "off", "quoted key"])
    }

    func testTablesDottedTablesAndArraysOfTables() throws {
        let root = try parse("""
            [server]
            url = "https://a"

            [servers.work]
            url = "https://b"

            [[sync]]
            local = "/a"

            [[sync]]
            local = "/b"
            [sync.options]
            fast = true
            """)
        XCTAssertEqual(table(root["server"])?["url"]?.content, .string("https://a"))
        XCTAssertEqual(table(table(root["servers"])?["work"])?["url"]?.line, 5)
        guard case .array(let roots)? = root["sync"]?.content else { return XCTFail("sync is not an array") }
        XCTAssertEqual(roots.count, 2)
        XCTAssertEqual(roots.map(\.line), [7, 10])
        XCTAssertEqual(table(roots[1])?["local"]?.content, .string("/b"))
        XCTAssertEqual(table(table(roots[1])?["options"])?["fast"]?.content, .boolean(true), "[sync.options] belongs to the last [[sync]]")
        XCTAssertNil(table(roots[0])?["options"])
    }

    func testMultiLineArraysWithTrailingCommaAndInlineTables() throws {
        let root = try parse("""
            exclude = [
                "*.tmp",   # editors
                "node_modules/",
            ]
            empty = []
            nested = [[1, 2], ["a"]]
            point = { x = 1, y.z = "deep" }
            """)
        XCTAssertEqual(root["exclude"]?.content, .array([
            TOMLValue(.string("*.tmp"), line: 2, column: 5), TOMLValue(.string("node_modules/"), line: 3, column: 5),
        ]))
        XCTAssertEqual(root["empty"]?.content, .array([]))
        XCTAssertEqual(root["nested"]?.tomlText, #"[[1, 2], ["a"]]"#)
        XCTAssertEqual(table(table(root["point"])?["y"])?["z"]?.content, .string("deep"))
    }

    func testDottedKeysBuildTables() throws {
        let root = try parse("""
            [upload]
            limits.day = "1M"
            limits.night = "off"
            """)
        let limits = table(table(root["upload"])?["limits"])
        XCTAssertEqual(limits?.keys, ["day", "night"])
    }

    func testCRLFLineEndings() throws {
        let root = try parse("a = 1\r\n[t]\r\nb = \"x\" # c\r\n")
        XCTAssertEqual(table(root["t"])?["b"]?.line, 3)
    }

    func testSyntaxErrorSaysFileLineColumnAndWhatWasExpected() {
        let error = syntaxError("""
            [upload]
            workers 4
            """)
        XCTAssertEqual(error?.line, 2)
        XCTAssertEqual(error?.column, 9)
        XCTAssertEqual(error?.description, "test.toml:2:9: expected '=' after key 'workers', found '4'")
    }

    func testBareWordIsToldToQuote() {
        let error = syntaxError("workers = four")
        XCTAssertEqual(error?.description, #"test.toml:1:11: expected a value, found the bare word 'four': quote text, like "four""#)
    }

    func testUnclosedStringAndHeader() {
        XCTAssertEqual(syntaxError("a = \"open\nb = 1")?.line, 1)
        XCTAssertTrue(syntaxError("a = \"open\nb = 1")?.message.contains("no closing") ?? false)
        let header = syntaxError("[server\nurl = 1")
        XCTAssertEqual(header?.line, 1)
        XCTAssertEqual(header?.column, 8)
        XCTAssertTrue(header?.message.contains("expected ']'") ?? false)
    }

    func testArrayMissingCommaNamesItsStartLine() {
        let error = syntaxError("""
            exclude = [
                "a"
                "b"
            ]
            """)
        XCTAssertEqual(error?.line, 3)
        XCTAssertEqual(error?.message, "expected ',' or ']' in the array that starts on line 1, found '\"'")
    }

    func testGarbageAfterValue() {
        let error = syntaxError("a = 1 2")
        XCTAssertEqual(error?.description, "test.toml:1:7: expected the end of the line after the value of 'a', found '2'")
    }

    func testBadEscapeSuggestsLiteralString() {
        let error = syntaxError(#"path = "C:\data""#)
        XCTAssertEqual(error?.column, 11)
        XCTAssertTrue(error?.message.contains("'literal string'") ?? false, error?.message ?? "")
    }

    func testBadNumbers() {
        for text in ["a = 01", "a = 1__0", "a = 1_", "a = 1.", "a = 1e", "a = 99999999999999999999", "a = 12abc"] {
            let error = syntaxError(text)
            XCTAssertEqual(error?.line, 1, text)
            XCTAssertEqual(error?.column, 5, text)
            XCTAssertTrue(error?.message.contains("not a number") ?? false, "\(text): \(error?.message ?? "")")
        }
        XCTAssertTrue(syntaxError("a = 1979-05-27")?.message.contains("dates") ?? false)
    }

    func testDuplicateKeyIsAnError() {
        let error = syntaxError("""
            [upload]
            workers = 4
            workers = 8
            """)
        XCTAssertEqual(error?.description, "test.toml:3:1: key 'workers' is already set on line 2; each key may appear once per table")
    }

    func testDuplicateTableIsAnError() {
        let error = syntaxError("""
            [upload]
            workers = 4
            [upload]
            """)
        XCTAssertEqual(error?.line, 3)
        XCTAssertTrue(error?.message.contains("already defined on line 1") ?? false, error?.message ?? "")
    }

    func testTableHeaderOverArrayOfTablesSuggestsDoubleBrackets() {
        let error = syntaxError("""
            [[sync]]
            local = "/a"
            [sync]
            """)
        XCTAssertEqual(error?.line, 3)
        XCTAssertTrue(error?.message.contains("write [[sync]]") ?? false, error?.message ?? "")
    }

    func testImpliedTableMayBeDefinedLaterOnce() throws {
        let root = try parse("""
            [servers.work]
            url = "a"
            [servers]
            note = "x"
            """)
        XCTAssertEqual(table(root["servers"])?.line, 3)
        XCTAssertNotNil(syntaxError("[a.b]\n[a]\n[a]"))
    }

    func testInlineTableCannotBeExtended() {
        let error = syntaxError("""
            point = { x = 1 }
            [point.more]
            """)
        XCTAssertEqual(error?.line, 2)
        XCTAssertTrue(error?.message.contains("inline table") ?? false, error?.message ?? "")
    }

    func testKeyThatIsNotATable() {
        let error = syntaxError("""
            server = "x"
            [server.more]
            """)
        XCTAssertEqual(error?.message, "key 'server' is already a string on line 1, not a table")
    }

    func testMultiLineStringsAreRefusedWithAReason() {
        XCTAssertTrue(syntaxError("a = \"\"\"\ntext\"\"\"")?.message.contains("multi-line") ?? false)
    }

    func testWriterQuotesWhatNeedsQuoting() throws {
        let root = try parse(#"s = "a\"b\\c\nd""#)
        XCTAssertEqual(root["s"]?.tomlText, #""a\"b\\c\nd""#)
        let again = try parse("s = " + root["s"]!.tomlText)
        XCTAssertEqual(again["s"]?.content, root["s"]?.content)
    }
}
