import Foundation
import XCTest
@testable import SyncEngine

/// The rule behind every deletion sent to the server, and crsync's own files, as pure decisions over
/// what is on disk.
final class DeletionRuleTests: XCTestCase {
    func testOnlyWhatIsGoneOrChangedKindIsGone() {
        XCTAssertTrue(LocalKind.none.isGone(wasDirectory: false))
        XCTAssertTrue(LocalKind.none.isGone(wasDirectory: true))
        XCTAssertFalse(LocalKind.file.isGone(wasDirectory: false), "a file created again is an edit")
        XCTAssertTrue(LocalKind.file.isGone(wasDirectory: true), "a folder replaced by a file is gone as a folder")
        XCTAssertTrue(LocalKind.directory.isGone(wasDirectory: false))
        XCTAssertFalse(LocalKind.directory.isGone(wasDirectory: true))
        XCTAssertFalse(LocalKind.unreadable.isGone(wasDirectory: false), "what cannot be inspected is never deleted")
        XCTAssertFalse(LocalKind.unreadable.isGone(wasDirectory: true))
    }

    func testARootThatIsMissingOrEmptyRefusesDeletions() throws {
        let folder = try TemporaryFolder()
        XCTAssertEqual(RootPresence.of(folder.path + "/nope"), .missing)
        XCTAssertEqual(RootPresence.of(folder.path), .empty)
        XCTAssertNotNil(RootPresence.empty.refusal(folder.path, count: 3))
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path + "/a"))
        XCTAssertEqual(RootPresence.of(folder.path), .present)
        XCTAssertNil(RootPresence.present.refusal(folder.path, count: 3))
        XCTAssertEqual(RootPresence.of(folder.path + "/a"), .missing, "a file where the root should be is no root")
    }

    func testTheTopmostGoneFolderStandsForEverythingUnderIt() throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/kept/inner", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder.path + "/nowafile"))
        XCTAssertEqual(topmostGoneFolder(above: "gone/deeper/f.txt", root: folder.path), "gone")
        XCTAssertEqual(topmostGoneFolder(above: "kept/gone/f.txt", root: folder.path), "kept/gone")
        XCTAssertEqual(topmostGoneFolder(above: "nowafile/f.txt", root: folder.path), "nowafile")
        XCTAssertNil(topmostGoneFolder(above: "kept/inner/f.txt", root: folder.path))
        XCTAssertNil(topmostGoneFolder(above: "top.txt", root: folder.path))
    }

    func testOwnFilesInsideARootAreFoundThroughSymlinks() throws {
        let folder = try TemporaryFolder()
        let home = folder.path + "/home"
        try FileManager.default.createDirectory(atPath: home + "/.local/state/crsync", withIntermediateDirectories: true)
        XCTAssertEqual(symlink(home, folder.path + "/link"), 0)
        XCTAssertEqual(OwnFiles.inside(root: folder.path + "/link", [home + "/.local/state/crsync", home + "/.config/crsync/config.toml"]),
                       [".local/state/crsync", ".config/crsync/config.toml"], "a config not yet written is still found")
        XCTAssertEqual(OwnFiles.inside(root: home + "/.local", [folder.path + "/elsewhere"]), [])
        XCTAssertNil(OwnFiles.relative("/home/me", inside: "/home/me"), "the root itself is not inside")
        XCTAssertNil(OwnFiles.relative("/home/meta/x", inside: "/home/me"))
        XCTAssertEqual(OwnFiles.relative("/home/me/x", inside: "/"), "home/me/x")
    }

    func testProtectedPathsCannotBeTakenBackByANegation() throws {
        let filter = try PathFilter(patterns: ["!*", "!credentials.json"]).protecting([".local/state/crsync"])
        XCTAssertTrue(filter.excludes(".local/state/crsync", isDirectory: true))
        XCTAssertTrue(filter.excludes(".local/state/crsync/credentials.json", isDirectory: false))
        XCTAssertFalse(filter.excludes(".local/state/crsync-other/a", isDirectory: false))
        XCTAssertFalse(filter.excludes(".local/state", isDirectory: true))
        XCTAssertTrue(PathFilter.none.protecting(["a"]).excludes("a/b", isDirectory: false))
    }
}
