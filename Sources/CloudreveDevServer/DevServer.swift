import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A Cloudreve v4–compatible server for tests and demos: one user, the default local storage
/// policy, and the behaviour of the release named by `DevServerConfig.emulate`.
///
/// `start()` binds and returns; requests are served on a small event-loop group of the server's
/// own. `stop()` must not be called from one of those event loops.
public final class DevServer {
    private let config: DevServerConfig
    private let store: Store
    private let stateLock = NSLock()
    private var group: MultiThreadedEventLoopGroup?
    private var listener: Channel?
    private var connections: [ObjectIdentifier: Channel] = [:]
    private var boundPort: Int

    public init(config: DevServerConfig) throws {
        self.config = config
        store = try Store(config: config)
        boundPort = config.port
    }

    /// The port requests go to; the real one once `start()` has returned.
    public var port: Int { stateLock.withLock { boundPort } }

    /// `http://127.0.0.1:PORT`; the API lives under `/api/v4`.
    public var baseURL: String {
        let host = config.host == "0.0.0.0" || config.host.isEmpty ? "127.0.0.1" : config.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    public func start() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let router = Router(store: store)
        let log: ((String) -> Void)? = config.logRequests ? { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } : nil
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(HTTPChannelHandler(router: router, log: log))
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
        do {
            let channel = try bootstrap.bind(host: config.host, port: config.port).wait()
            stateLock.withLock {
                self.group = group
                self.listener = channel
                self.boundPort = channel.localAddress?.port ?? config.port
            }
            store.sync { store.baseURL = baseURL }
        } catch {
            try? group.syncShutdownGracefully()
            throw DevServerError.bindFailed("\(config.host):\(config.port): \(error)")
        }
    }

    /// Closes the listener and every connection and writes the state out. Safe to call twice.
    public func stop() {
        let (group, listener, open) = stateLock.withLock { () -> (MultiThreadedEventLoopGroup?, Channel?, [Channel]) in
            defer { self.group = nil; self.listener = nil; self.connections = [:] }
            return (self.group, self.listener, Array(self.connections.values))
        }
        guard let group else { return }
        try? listener?.close().wait()
        for channel in open { try? channel.close().wait() }
        try? group.syncShutdownGracefully()
        store.flush()
    }

    deinit { stop() }

    private func track(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        stateLock.withLock { connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.stateLock.withLock { self?.connections.removeValue(forKey: id) }
        }
    }
}
