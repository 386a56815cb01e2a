import Foundation

/// Runs `body` over `items` on `count` threads of its own and returns when all are done. Uploads block
/// on curl, file reads and SQLite, so they run here and never on Swift's cooperative pool, which has only
/// as many threads as cores (SWIFT-NOTES).
func runOnWorkers<T>(_ items: [T], count: Int, _ body: @escaping (T) -> Void) {
    guard !items.isEmpty else { return }
    let queue = WorkQueue(count: items.count)
    let group = DispatchGroup()
    for n in 0..<max(1, min(count, items.count)) {
        group.enter()
        let thread = Thread {
            while true {
                guard let index = queue.next() else { break }
                body(items[index])
            }
            group.leave()
        }
        thread.name = "crsync-worker-\(n)"
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
}

/// Runs `body` on `extra` new threads and on the calling thread at once, and returns when all are done.
func runAlongside(_ extra: Int, _ body: @escaping () -> Void) {
    guard extra > 0 else { return body() }
    let group = DispatchGroup()
    for n in 0..<extra {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = "crsync-chunk-\(n)"
        thread.stackSize = 1 << 20
        thread.start()
    }
    body()
    group.wait()
}

/// Hands out indexes 0..<count, each once, to whichever thread asks.
private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var issued = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.withLock {
            guard issued < count else { return nil }
            defer { issued += 1 }
            return issued
        }
    }
}
