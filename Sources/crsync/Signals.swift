import Dispatch
import Foundation

/// SIGTERM, SIGINT and SIGHUP delivered as calls on a queue of their own (never inside a signal handler),
/// so a stop can abort uploads cleanly: an interrupted chunk is simply not acknowledged.
final class SignalWatch: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var received: Int32?

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "crsync-signals")
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in
                self?.lock.withLock { self?.received = number }
                handler(number)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The exit code a stop by signal should give: 130 for SIGINT, 143 for SIGTERM (128 + signal).
    var interruptionExitCode: Int32? {
        lock.withLock { received.flatMap { $0 == SIGHUP ? nil : 128 + $0 } }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
