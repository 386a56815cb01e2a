import CloudreveAPI

/// How a file of `size` bytes splits into the chunks of an upload session, and which of them may be sent
/// now. Pure: decided from plain values only.
public struct ChunkPlan: Equatable, Sendable {
    public var size: Int64
    /// 0 means the whole file goes in one request (relay, §4).
    public var chunkSize: Int64

    public init(size: Int64, chunkSize: Int64) {
        self.size = size
        self.chunkSize = chunkSize
    }

    /// An empty file is still one zero-byte chunk at index 0 (§4 `expectedChunkCount`).
    public var count: Int {
        guard chunkSize > 0, size > 0 else { return 1 }
        return Int((size + chunkSize - 1) / chunkSize)
    }

    public var lastIndex: Int { count - 1 }

    /// Byte range of chunk `index`: every chunk is `chunkSize` long except the last.
    public func range(of index: Int) -> (offset: Int64, length: Int64) {
        guard chunkSize > 0 else { return (0, size) }
        let offset = Int64(index) * chunkSize
        return (offset, min(chunkSize, size - offset))
    }

    /// Chunks not yet acknowledged, in index order. Cloudreve cannot say which chunks it holds (§4), so
    /// anything not durably acknowledged is sent again.
    public func remaining(acknowledged: Set<Int>) -> [Int] {
        (0..<count).filter { !acknowledged.contains($0) }
    }

    /// The chunks that may start now, given what is acknowledged and what is in flight, on `version` with
    /// at most `concurrency` requests at once (reference §8.3):
    /// - before 4.7, strictly in order, one at a time (chunk 0 truncates the blob, and nothing is parallel);
    /// - 4.7 to 4.17, in parallel, but the last index alone once every other chunk is acknowledged, because
    ///   its arrival completes the file whatever else arrived;
    /// - 4.18 and later, any order.
    public func sendable(acknowledged: Set<Int>, inFlight: Set<Int>, version: ServerVersion, concurrency: Int) -> [Int] {
        let pending = remaining(acknowledged: acknowledged).filter { !inFlight.contains($0) }
        if version.chunkZeroTruncates {
            return inFlight.isEmpty ? Array(pending.prefix(1)) : []
        }
        let free = max(0, max(1, concurrency) - inFlight.count)
        if version.completesOnLastIndex && count > 1 {
            let othersDone = acknowledged.count == count - 1 && !acknowledged.contains(lastIndex)
            if pending.contains(lastIndex) && othersDone && inFlight.isEmpty { return [lastIndex] }
            return Array(pending.filter { $0 != lastIndex }.prefix(free))
        }
        return Array(pending.prefix(free))
    }
}
