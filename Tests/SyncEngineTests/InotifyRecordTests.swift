import Glibc
import XCTest
@testable import SyncEngine

final class InotifyRecordTests: XCTestCase {
    /// One record as the kernel lays it out: wd, mask, cookie, len (little-endian here), then the name
    /// NUL-padded to `len`.
    private func bytes(watch: Int32, mask: Int32, cookie: UInt32 = 0, name: [UInt8] = [], padTo length: Int = 0) -> [UInt8] {
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let padded = name.isEmpty && length == 0 ? [] : name + [UInt8](repeating: 0, count: max(length, name.count + 1) - name.count)
        return le(watch) + le(UInt32(bitPattern: mask)) + le(cookie) + le(UInt32(padded.count)) + padded
    }

    func testRecordsWithAndWithoutNamesAreSplitAtTheirLengths() {
        let buffer = bytes(watch: 3, mask: IN_CREATE | IN_ISDIR, name: Array("new dir".utf8), padTo: 16)
            + bytes(watch: 1, mask: IN_DELETE_SELF)
            + bytes(watch: 4, mask: IN_MOVED_FROM, cookie: 99, name: [0x66, 0xff, 0x2e], padTo: 4)
            + bytes(watch: -1, mask: IN_Q_OVERFLOW)
        let records = buffer.withUnsafeBytes { InotifyRecord.parse($0) }

        XCTAssertEqual(records, [
            InotifyRecord(watch: 3, mask: UInt32(bitPattern: IN_CREATE | IN_ISDIR), cookie: 0, name: Array("new dir".utf8)),
            InotifyRecord(watch: 1, mask: UInt32(bitPattern: IN_DELETE_SELF), cookie: 0, name: []),
            InotifyRecord(watch: 4, mask: UInt32(bitPattern: IN_MOVED_FROM), cookie: 99, name: [0x66, 0xff, 0x2e]),
            InotifyRecord(watch: -1, mask: UInt32(bitPattern: IN_Q_OVERFLOW), cookie: 0, name: []),
        ])
        XCTAssertTrue(records[0].isDirectory)
        XCTAssertTrue(records[2].has(IN_MOVED_FROM))
        XCTAssertFalse(records[2].has(IN_MOVED_TO))
    }

    func testRecordsAtUnalignedOffsetsAndATruncatedTailAreHandled() {
        // One stray byte in front puts every header at an odd offset.
        let buffer = [0xaa] + bytes(watch: 2, mask: IN_MODIFY, name: Array("a".utf8), padTo: 3) + [1, 2, 3]
        let records = buffer.withUnsafeBytes { InotifyRecord.parse(UnsafeRawBufferPointer(rebasing: $0.dropFirst())) }
        XCTAssertEqual(records, [InotifyRecord(watch: 2, mask: UInt32(bitPattern: IN_MODIFY), cookie: 0, name: [0x61])])
    }
}
