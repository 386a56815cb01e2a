/// What the local file system says about a file, enough to notice that it changed.
/// Two scans that see the same identity saw the same content, short of someone resetting mtime by hand.
public struct FileIdentity: Hashable, Codable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// Modification time in nanoseconds since the Unix epoch (`st_mtim`).
    public var mtimeNs: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, mtimeNs: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.mtimeNs = mtimeNs
    }
}
