import Foundation
import Transport

/// Idle curl handles, so each thread borrows one with its kept-alive connection and gives it back.
final class TransportPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [HTTPTransport] = []

    func take() -> HTTPTransport {
        lock.withLock { idle.popLast() } ?? HTTPTransport()
    }

    func give(_ transport: HTTPTransport) {
        lock.withLock { idle.append(transport) }
    }
}
