import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection: hands each request's body to its receiver as it streams in and writes
/// the answer when the receiver has one. Blob downloads go out as file regions (sendfile), so a
/// 1 GiB file never passes through memory.
final class HTTPChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    private let log: ((String) -> Void)?
    private var receiver: BodyReceiver?
    private var head: HTTPRequestHead?

    init(router: Router, log: ((String) -> Void)?) {
        self.router = router
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            receiver = router.receiver(for: Request(head: head))
            if let early = receiver?.answerAtHead {
                receiver = nil
                if early.dropConnection {
                    logLine(status: "cut", code: early.code)
                    context.close(promise: nil)
                    return
                }
                var closing = head
                closing.headers.replaceOrAdd(name: "Connection", value: "close")
                self.head = closing
                respond(early, to: closing, context: context)
                return
            }
            // Go answers `Expect: 100-continue` when the handler starts reading; so do we.
            if head.headers[canonicalForm: "Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                                      promise: nil)
            }
        case .body(let buffer):
            guard let receiver else { return }
            let keepGoing = buffer.withUnsafeReadableBytes { receiver.receive($0) }
            if !keepGoing {
                // The `cut` fault: close mid-body without an answer, as a dropped connection would.
                self.receiver = nil
                logLine(status: "cut", code: nil)
                context.close(promise: nil)
            }
        case .end:
            guard let receiver, let head else { return }
            self.receiver = nil
            receiver.finish { reply in
                if context.eventLoop.inEventLoop {
                    self.deliver(reply, to: head, context: context)
                } else {
                    context.eventLoop.execute { self.deliver(reply, to: head, context: context) }
                }
            }
        }
    }

    private func deliver(_ reply: Reply, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if reply.dropConnection {
            logLine(status: "cut", code: reply.code)
            context.close(promise: nil)
            return
        }
        respond(reply, to: head, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        receiver?.abandon()
        receiver = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        receiver?.abandon()
        receiver = nil
        context.close(promise: nil)
    }

    private func respond(_ reply: Reply, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if reply.delayMilliseconds > 0 {
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(reply.delayMilliseconds))) {
                self.write(reply, to: head, context: context)
            }
        } else {
            write(reply, to: head, context: context)
        }
    }

    private func write(_ reply: Reply, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var status = reply.status
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }

        var body: IOData? = nil
        var fileHandle: NIOFileHandle? = nil
        switch reply.body {
        case .bytes(let bytes):
            headers.add(name: "Content-Length", value: String(bytes.count))
            body = .byteBuffer(context.channel.allocator.buffer(bytes: bytes))
        case .file(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            var st = stat()
            if fd >= 0, fstat(fd, &st) == 0 {
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: fd)
                fileHandle = handle
                headers.add(name: "Content-Length", value: String(st.st_size))
                if st.st_size > 0 { body = .fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: Int(st.st_size))) }
            } else {
                if fd >= 0 { close(fd) }
                status = 404
                headers.replaceOrAdd(name: "Content-Type", value: "text/plain")
                headers.add(name: "Content-Length", value: "18")
                body = .byteBuffer(context.channel.allocator.buffer(string: "404 page not found"))
            }
        }

        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status),
                                                             headers: headers))), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(body)), promise: nil) }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            try? fileHandle?.close()
            if !keepAlive { context.close(promise: nil) }
        }
        logLine(status: String(status), code: reply.code)
    }

    /// One line per request: method, path without query, HTTP status, envelope code. Never the
    /// query (download signatures) or headers (tokens).
    private func logLine(status: String, code: Int?) {
        guard let log, let head else { return }
        var path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        // A callback's last segment is the session's callback secret.
        if path.contains("/callback/"), let slash = path.lastIndex(of: "/") { path = path[...slash] + "…" }
        log("\(head.method.rawValue) \(path) \(status)" + (code.map { " code=\($0)" } ?? ""))
    }
}
