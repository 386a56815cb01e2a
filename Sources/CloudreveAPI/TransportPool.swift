import Foundation
import Transport

/// Idle curl handles, so each thread borrows one with its kept-alive connection and gives it back.
final class TransportPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [HTTPTransport] = []
    /// Every handle trusts this CA bundle instead of the system's, when set.
    let caFile: String?

    init(caFile: String?) { self.caFile = caFile }

    func take() -> HTTPTransport {
        lock.withLock { idle.popLast() } ?? HTTPTransport(caFile: caFile)
    }

    func give(_ transport: HTTPTransport) {
        lock.withLock { idle.append(transport) }
    }
}
