import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the metrics endpoint could not listen, with the address and what to do about it.
public struct MetricsServerError: Error, CustomStringConvertible, Sendable {
    /// `host:port` as configured (`[host]:port` for IPv6).
    public var address: String
    public var reason: String
    public var description: String { "cannot serve metrics on \(address): \(reason)" }
}

/// Serves `GET /metrics` in the Prometheus text format on a thread of its own, with plain POSIX sockets
/// (crsync links no event-loop library). One connection at a time, each answered and closed
/// (`Connection: close`): a scrape every few seconds needs no more. A client that stalls is cut off after two
/// seconds, so it cannot hold the endpoint.
public final class MetricsServer: @unchecked Sendable {
    /// Where the endpoint listens unless configured otherwise: this machine only.
    public static let defaultHost = "127.0.0.1"
    /// How long one client may take to send its request or read the answer; a local scrape of a few
    /// kilobytes takes milliseconds.
    static let clientTimeout: Int = 2

    /// The port listened on; the one the system picked when asked for port 0.
    public let port: Int
    private let metrics: Metrics
    private let listener: Int32
    /// Written to by `stop()` to wake the serving thread out of `poll`.
    private let wake: (read: Int32, write: Int32)
    private let lock = NSLock()
    private var state = State.bound
    private let finished = DispatchSemaphore(value: 0)

    private enum State { case bound, serving, stopped }

    /// Binds and listens on `host` (an address or a name; IPv6 may be bracketed) and `port` (0 = let the
    /// system pick). Serving starts with `start()`.
    public init(host: String, port: Int, metrics: Metrics) throws {
        self.metrics = metrics
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let address = bare.contains(":") ? "[\(bare)]:\(port)" : "\(bare):\(port)"
        guard (0...65535).contains(port) else {
            throw MetricsServerError(address: address, reason: "no such port: change [metrics] addr")
        }
        listener = try Self.listen(host: bare, port: port, address: address)
        var pair: [Int32] = [0, 0]
        guard pipe(&pair) == 0 else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw MetricsServerError(address: address, reason: "cannot create a pipe: \(reason)")
        }
        wake = (pair[0], pair[1])
        _ = fcntl(wake.read, F_SETFD, FD_CLOEXEC)
        _ = fcntl(wake.write, F_SETFD, FD_CLOEXEC)
        self.port = Self.boundPort(of: listener) ?? port
    }

    deinit {
        // A serving thread holds the server, so only a server never started (or stopped) gets here.
        if state == .bound { closeDescriptors() }
    }

    /// Starts answering on a thread of its own. Calling it again does nothing.
    public func start() {
        let go = lock.withLock {
            guard state == .bound else { return false }
            state = .serving
            return true
        }
        guard go else { return }
        let thread = Thread { [self] in serve() }
        thread.name = "crsync-metrics"
        thread.start()
    }

    /// Stops answering and closes the listening socket: when this returns the port is free. Calling it
    /// again does nothing.
    public func stop() {
        let previous = lock.withLock {
            let previous = state
            state = .stopped
            return previous
        }
        switch previous {
        case .bound:
            closeDescriptors()
        case .serving:
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
            finished.wait()
        case .stopped:
            break
        }
    }

    private func serve() {
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                // Only stop() ends this loop, so the descriptors it writes to stay ours until then.
                if errno != EINTR { Thread.sleep(forTimeInterval: 0.1) }
                continue
            }
            if fds[1].revents != 0 { break }
            if fds[0].revents & Int16(POLLIN) != 0 {
                // The listener is non-blocking: a client gone between poll and accept costs nothing.
                let client = accept(listener, nil, nil)
                if client >= 0 {
                    _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                    answer(client)
                }
            }
        }
        closeDescriptors()
        finished.signal()
    }

    /// Reads one request and answers it: the metrics for `GET /metrics`, 404 for anything else. The whole
    /// exchange gets `clientTimeout` seconds; a request not complete by then is dropped unanswered.
    private func answer(_ client: Int32) {
        defer { close(client) }
        let deadline = Date().addingTimeInterval(TimeInterval(Self.clientTimeout))
        var timeout = timeval(tv_sec: Self.clientTimeout, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !Self.containsBlankLine(head) {
            let n = Self.receive(client, into: &buffer, before: deadline)
            guard n > 0, head.count + n <= 16 << 10 else { return }
            head.append(contentsOf: buffer[0..<n])
        }
        let requestLine = String(decoding: head, as: UTF8.self).split(separator: "\r\n", maxSplits: 1).first ?? ""
        let parts = requestLine.split(separator: " ")
        let target = parts.count >= 2 ? parts[1].split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] : ""
        let response: String
        if parts.first == "GET", target == "/metrics" {
            response = Self.response(status: "200 OK", type: "text/plain; version=0.0.4", body: metrics.render())
        } else {
            response = Self.response(status: "404 Not Found", type: "text/plain", body: "not found: metrics are at GET /metrics\n")
        }
        Self.sendAll(client, Array(response.utf8))
        // Closing with unread bytes (a body we ignored) would send a reset that can destroy the answer
        // before the client reads it: say we are done, then wait for the client to close its side.
        shutdown(client, Int32(SHUT_WR))
        var drained = 0
        while drained < 1 << 20 {
            let n = Self.receive(client, into: &buffer, before: deadline)
            if n <= 0 { break }
            drained += n
        }
    }

    /// Waits for bytes until `deadline`; 0 or less on timeout, end of stream or error.
    private static func receive(_ client: Int32, into buffer: inout [UInt8], before deadline: Date) -> Int {
        while true {
            let left = Int32(max(0, deadline.timeIntervalSinceNow * 1000).rounded(.up))
            var fd = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, left)
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { return 0 }
            return recv(client, &buffer, buffer.count, 0)
        }
    }

    private static func containsBlankLine(_ bytes: [UInt8]) -> Bool {
        let crlf2: [UInt8] = Array("\r\n\r\n".utf8)
        guard bytes.count >= crlf2.count else { return false }
        for start in 0...(bytes.count - crlf2.count) where bytes[start..<start + crlf2.count].elementsEqual(crlf2) {
            return true
        }
        return false
    }

    private static func response(status: String, type: String, body: String) -> String {
        "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }

    private static func sendAll(_ client: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            done += n
        }
    }

    private func closeDescriptors() {
        close(listener)
        close(wake.read)
        close(wake.write)
    }

    /// A listening, non-blocking socket on the first address `host` resolves to that accepts the bind.
    private static func listen(host: String, port: Int, address: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw MetricsServerError(address: address,
                                     reason: "cannot resolve '\(host)' (\(String(cString: gai_strerror(resolved)))): change [metrics] addr")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry?.pointee {
            entry = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                            info.ai_protocol)
            if fd < 0 {
                lastError = errno
                continue
            }
            // Lets a restart bind at once while the last run's closed connections linger in TIME_WAIT; a
            // live listener still refuses the bind with EADDRINUSE.
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            if bind(fd, info.ai_addr, info.ai_addrlen) == 0, Glibc.listen(fd, 16) == 0 {
                return fd
            }
            lastError = errno
            close(fd)
        }
        throw MetricsServerError(address: address, reason: explain(lastError))
    }

    private static func explain(_ error: Int32) -> String {
        switch error {
        case EADDRINUSE:
            return "address already in use: change [metrics] addr, or stop the program listening there"
        case EACCES:
            return "permission denied (ports below 1024 need root): change [metrics] addr"
        case EADDRNOTAVAIL:
            return "no network interface of this machine has that address: change [metrics] addr"
        default:
            return "\(String(cString: strerror(error))): change [metrics] addr"
        }
    }

    private static func boundPort(of fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let got = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard got == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in.self).sin_port)) }
        case AF_INET6:
            return withUnsafeBytes(of: storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in6.self).sin6_port)) }
        default:
            return nil
        }
    }
}
