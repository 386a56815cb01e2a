import Foundation

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
