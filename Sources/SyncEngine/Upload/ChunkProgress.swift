import CloudreveAPI
import Foundation

/// The chunks of one upload shared by the threads sending them: which are acknowledged, which are in
/// flight, and the first error, which stops everyone from taking more. The order rules are `ChunkPlan`'s.
final class ChunkProgress: @unchecked Sendable {
    let plan: ChunkPlan
    let version: ServerVersion
    let concurrency: Int
    private let condition = NSCondition()
    private var acknowledged: Set<Int>
    private var inFlight: Set<Int> = []
    private var firstError: Error?
    private var sentBytes: Int64 = 0

    init(plan: ChunkPlan, acknowledged: Set<Int>, version: ServerVersion, concurrency: Int) {
        self.plan = plan
        self.acknowledged = acknowledged
        self.version = version
        self.concurrency = concurrency
    }

    /// The next chunk this thread may send, waiting while the rules hold everything back (the last index
    /// on 4.7–4.17 waits for the others); nil when all are done or something failed.
    func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while firstError == nil {
            if let next = plan.sendable(acknowledged: acknowledged, inFlight: inFlight, version: version, concurrency: concurrency).first {
                inFlight.insert(next)
                return next
            }
            if inFlight.isEmpty { return nil }
            condition.wait()
        }
        return nil
    }

    func finish(_ index: Int, sent: Int64) {
        condition.lock()
        inFlight.remove(index)
        acknowledged.insert(index)
        sentBytes += sent
        condition.broadcast()
        condition.unlock()
    }

    func fail(_ index: Int, _ error: Error) {
        condition.lock()
        inFlight.remove(index)
        if firstError == nil { firstError = error }
        condition.broadcast()
        condition.unlock()
    }

    var error: Error? { condition.lock(); defer { condition.unlock() }; return firstError }
    var sent: Int64 { condition.lock(); defer { condition.unlock() }; return sentBytes }
}
