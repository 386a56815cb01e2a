/// An open upload session (the KV entry `callback_<id>`, §4). Memory only: a restart loses it, as a
/// crash does on a real server, while its placeholder row survives.
struct UploadSession {
    let id: String
    let fileID: Int64
    let entityID: Int64
    let path: [[UInt8]]
    let size: Int64
    let chunkSize: Int64
    let expires: Timestamp
    let lastModified: Timestamp?
    let metadata: [[UInt8]: String]
    let lockToken: String
    let callbackSecret: String
    /// The placeholder is a new file (cancel deletes it) rather than a new version of an existing one.
    let createdNewFile: Bool
    /// 4.18 `ChunksReceived`.
    var chunksReceived = Set<Int>()
    /// The multipart upload behind an S3-policy session (S3Policy.swift).
    var s3: S3Target? = nil

    var uri: String { CloudreveURI.string(fileSystem: "my", components: path) }
    var chunkPlan: ChunkPlan { ChunkPlan(size: size, chunkSize: chunkSize) }
}

/// Chunk arithmetic of `processChunkUpload` / `ConfirmUploadSession` / `expectedChunkCount`.
struct ChunkPlan {
    let size: Int64
    let chunkSize: Int64

    /// An empty file still takes one zero-byte chunk; chunk size 0 means one request.
    var chunkCount: Int {
        if chunkSize <= 0 || size == 0 { return 1 }
        return Int((size + chunkSize - 1) / chunkSize)
    }

    func isLast(_ index: Int) -> Bool { chunkSize == 0 || Int64(index + 1) * chunkSize >= size }

    func offset(_ index: Int) -> Int64 { Int64(index) * chunkSize }

    func expectedLength(_ index: Int) -> Int64 { isLast(index) ? size - offset(index) : chunkSize }

    /// 40012 rule: index 0 is always valid; a later index must start inside the file.
    func isIndexValid(_ index: Int) -> Bool {
        if chunkSize == 0 { return index == 0 }
        let start = offset(index)
        return !(start > 0 && start >= size)
    }
}
