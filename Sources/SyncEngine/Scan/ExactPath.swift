import Glibc

/// A relative path as a dictionary key that hashes and compares its exact UTF-8 bytes.
///
/// `String`'s own `==` and hashing follow Unicode canonical equivalence, so a file's NFC and NFD spellings
/// would collapse into one key; they are two files on disk and on the server. `[UInt8]` keys are exact but
/// hash byte by byte, which a pass over 200,000 files feels: this hashes the whole buffer at once.
public struct ExactPath: Hashable, Sendable {
    public let path: String

    public init(_ path: String) {
        var path = path
        path.makeContiguousUTF8()
        self.path = path
    }

    public static func == (a: ExactPath, b: ExactPath) -> Bool {
        // Reading the storage in place: copying the strings to call the mutating `withUTF8` cost a retain
        // and a release per comparison, a tenth of a million-file pass.
        let equal = a.path.utf8.withContiguousStorageIfAvailable { x in
            b.path.utf8.withContiguousStorageIfAvailable { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
        return (equal ?? nil) ?? a.path.utf8.elementsEqual(b.path.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        if path.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            ContiguousArray(path.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }
}
