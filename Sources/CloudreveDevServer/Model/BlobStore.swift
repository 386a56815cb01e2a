import Foundation

/// Entity blobs on disk, one file per entity under `<data>/blobs/`, like the local storage driver.
struct BlobStore {
    let directory: String
    let tempDirectory: String

    init(dataDir: String) throws {
        directory = dataDir + "/blobs"
        tempDirectory = dataDir + "/tmp"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: tempDirectory, withIntermediateDirectories: true)
        // Half-written PUT /file/content bodies from before a restart are of no use.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tempDirectory)) ?? [] {
            unlink(tempDirectory + "/" + name)
        }
    }

    func path(_ entityID: Int64) -> String { directory + "/\(entityID)" }

    /// Creates the blob empty, then sets its length to `size` like the default local policy's
    /// `pre_allocate` (driver/local Token), so chunks may land in any order (4.7+).
    func create(_ entityID: Int64, preallocate size: Int64) throws {
        let fd = open(path(entityID), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw APIError.io("Failed to create placeholder file") }
        defer { close(fd) }
        if size > 0, ftruncate(fd, off_t(size)) != 0 { throw APIError.io("Failed to allocate file") }
    }

    /// Opens for writing a chunk; `truncate` is the < 4.7 `O_TRUNC` on chunk 0.
    func openForWriting(_ entityID: Int64, truncate: Bool) -> Int32 {
        open(path(entityID), O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0))
    }

    func length(_ entityID: Int64) -> Int64? {
        var st = stat()
        guard stat(path(entityID), &st) == 0 else { return nil }
        return Int64(st.st_size)
    }

    func remove(_ entityID: Int64) { unlink(path(entityID)) }

    func newTempPath() -> String { tempDirectory + "/" + Random.uuid() }

    /// Turns a fully received temp file into the entity's blob.
    func adopt(tempPath: String, as entityID: Int64) throws {
        guard rename(tempPath, path(entityID)) == 0 else { throw APIError.io("Failed to upload file") }
    }
}

/// Writes all of `bytes` at `offset`; false on any I/O error.
func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, offset: Int64) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}
