import Foundation

/// Runs `body` over `items` on `count` threads of its own and returns when all are done. Uploads block
/// on curl, file reads and SQLite, so they run here and never on Swift's cooperative pool, which has only
/// as many threads as cores (SWIFT-NOTES).
func runOnWorkers<T>(_ items: [T], count: Int, _ body: @escaping (T) -> Void) {
    guard !items.isEmpty else { return }
    let lock = NSLock()
    var next = 0
    let group = DispatchGroup()
    for n in 0..<max(1, min(count, items.count)) {
        group.enter()
        let thread = Thread {
            while true {
                let index: Int? = lock.withLock {
                    defer { next += 1 }
                    return next < items.count ? next : nil
                }
                guard let index else { break }
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
