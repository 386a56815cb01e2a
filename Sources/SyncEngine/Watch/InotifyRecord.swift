import Glibc

/// One event as the kernel wrote it into the inotify descriptor.
struct InotifyRecord: Equatable, Sendable {
    /// The watch it came from; -1 for IN_Q_OVERFLOW.
    var watch: Int32
    var mask: UInt32
    /// Ties an IN_MOVED_FROM to its IN_MOVED_TO; 0 otherwise.
    var cookie: UInt32
    /// The entry's name inside the watched directory, as raw bytes without the NUL padding; empty for an
    /// event about the watched directory itself.
    var name: [UInt8]

    /// Size of `struct inotify_event` without its flexible `name` member, which Swift does not import.
    static let headerSize = 16

    func has(_ flag: Int32) -> Bool {
        mask & UInt32(bitPattern: flag) != 0
    }

    var isDirectory: Bool { has(IN_ISDIR) }

    /// The records in `bytes`, as filled by one read(2). Each is a 16-byte header (wd, mask, cookie, len)
    /// followed by `len` bytes of NUL-padded name; fields are read unaligned because `len` need not keep
    /// the next header aligned in a buffer we hand out as raw bytes. A truncated tail (never produced by
    /// the kernel, which returns whole records) is ignored.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> [InotifyRecord] {
        var records: [InotifyRecord] = []
        var offset = 0
        while offset + headerSize <= bytes.count {
            let watch = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
            let cookie = bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt32.self)
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameStart = offset + headerSize
            guard nameStart + length <= bytes.count else { break }
            var name = Array(bytes[nameStart..<(nameStart + length)])
            if let end = name.firstIndex(of: 0) { name.removeSubrange(end...) }
            records.append(InotifyRecord(watch: watch, mask: mask, cookie: cookie, name: name))
            offset = nameStart + length
        }
        return records
    }
}
