import CCurl
import Foundation

/// What a request carries as its body.
public enum RequestBody: Sendable {
    case none
    case bytes([UInt8])
    /// `length` bytes of an open file starting at `offset`, read with `pread` as curl asks for them, so a
    /// chunk is never held in memory whole. The descriptor stays owned by the caller.
    case fileRange(fd: Int32, offset: Int64, length: Int64)

    var length: Int64 {
        switch self {
        case .none: return 0
        case .bytes(let b): return Int64(b.count)
        case .fileRange(_, _, let length): return length
        }
    }
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: RequestBody
    /// Whole-request limit in seconds; 0 means none (chunk uploads use the low-speed limit instead).
    public var timeout: Int
    public init(method: String, url: String, headers: [(String, String)] = [], body: RequestBody = .none, timeout: Int = 60) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType: String
    /// Request body bytes curl handed to the connection (for re-send accounting and progress).
    public var bytesSent: Int64
    /// Response body bytes received (in `body`, or written to the response file).
    public var bytesReceived: Int64
    /// Response header fields by lowercased name (the last one wins), e.g. a storage's `etag`.
    public var headers: [String: String] = [:]
}

/// A failure below HTTP: no answer was read. Always worth a retry.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var url: String
    public var message: String
    /// The file read failed (not the network): retrying the same bytes will not help.
    public var isLocalReadError: Bool
    /// libcurl's error number, 0 when the failure was not curl's.
    public var curlCode: Int
    /// Nothing moved for `HTTPTransport.stallSeconds` (or the whole-request limit passed): the server
    /// stopped reading the body or never answered.
    public var isStall: Bool
    public init(url: String, message: String, isLocalReadError: Bool, curlCode: Int = 0, isStall: Bool = false) {
        self.url = url
        self.message = message
        self.isLocalReadError = isLocalReadError
        self.curlCode = curlCode
        self.isStall = isStall
    }
    /// What failed, at which address, and what to check (`connectionAdvice`).
    public var description: String {
        "\(message) (\(url))" + (connectionAdvice(curlCode: curlCode, url: url).map { "; \($0)" } ?? "")
    }
    /// The server's certificate was not trusted (a private CA, a self-signed certificate, a wrong name).
    public var isUntrustedCertificate: Bool { curlCode == 60 }
}

/// Decides, between buffers of a request body, whether to go on: return false to abort the request.
/// `sent` counts the bytes of this request's body handed to curl so far.
public typealias BodyProgress = (_ sent: Int64) -> Bool

/// One curl easy handle: keeps its connection alive between requests. Not thread-safe; give each worker
/// its own. Every call blocks its thread, so it must never run on Swift's cooperative pool.
public final class HTTPTransport {
    private let handle: UnsafeMutableRawPointer
    /// A PEM bundle of CAs to trust instead of the system's (CURLOPT_CAINFO), for a private CA.
    public let caFile: String?
    /// Largest response body kept; anything bigger is a misbehaving server, not Cloudreve.
    static let maxResponseBytes = 16 << 20

    /// Seconds under 1 KiB/s after which a request is abandoned as stalled: a chunk whose server stopped
    /// reading or answering is reported and retried within half a minute instead of holding a worker.
    /// `CRSYNC_TEST_STALL_SECONDS` shortens it for tests only (1…60); it is not a user setting.
    public static let stallSeconds: Int = stallSeconds(environment: ProcessInfo.processInfo.environment)

    static func stallSeconds(environment: [String: String]) -> Int {
        if let text = environment["CRSYNC_TEST_STALL_SECONDS"], let value = Int(text), (1...60).contains(value) { return value }
        return 30
    }

    public init(caFile: String? = nil) {
        self.caFile = caFile
        HTTPTransport.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        // A peer closing mid-upload must surface as an error, not kill the process.
        signal(SIGPIPE, SIG_IGN)
    }()

    /// Sends `request` and reads the whole answer. With `responseFile`, the body is written to that
    /// descriptor instead of memory (downloads of any size).
    public func perform(_ request: HTTPRequest, progress: BodyProgress? = nil, responseFile: Int32? = nil) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let ctx = TransferContext(body: request.body, progress: progress, responseFile: responseFile)
        var headers: UnsafeMutablePointer<curl_slist>? = nil
        // curl's Expect: 100-continue stalls every upload about 1 s on servers that never answer it
        // (SWIFT-NOTES); Cloudreve answers errors only after draining the body anyway.
        for line in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] {
            headers = curl_slist_append(headers, line)
        }
        defer { curl_slist_free_all(headers) }

        crsync_setopt_string(handle, CURLOPT_URL, request.url)
        crsync_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        crsync_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
        crsync_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 15)
        crsync_setopt_long(handle, CURLOPT_TIMEOUT, request.timeout)
        // A stalled link (under 1 KiB/s for `stallSeconds`) fails instead of hanging a worker forever.
        crsync_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1024)
        crsync_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, HTTPTransport.stallSeconds)
        crsync_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
        crsync_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        crsync_setopt_string(handle, CURLOPT_USERAGENT, "crsync")
        if let caFile { crsync_setopt_string(handle, CURLOPT_CAINFO, caFile) }

        let opaque = Unmanaged.passUnretained(ctx).toOpaque()
        crsync_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque)
        crsync_setopt_io(handle, CURLOPT_WRITEFUNCTION, { buffer, size, count, userdata in
            let ctx = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
            return ctx.write(buffer!, count: size * count)
        })

        crsync_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque)
        crsync_setopt_io(handle, CURLOPT_HEADERFUNCTION, { buffer, size, count, userdata in
            let ctx = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
            ctx.header(buffer!, count: size * count)
            return size * count
        })

        switch request.method {
        case "GET": crsync_setopt_long(handle, CURLOPT_HTTPGET, 1)
        default:
            if case .none = request.body, request.method != "POST", request.method != "PUT" {
                crsync_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            } else {
                // UPLOAD with a read callback streams any body with an exact Content-Length; the
                // method is then set explicitly since UPLOAD implies PUT.
                crsync_setopt_long(handle, CURLOPT_UPLOAD, 1)
                crsync_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, Int(request.body.length))
                crsync_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
                crsync_setopt_pointer(handle, CURLOPT_READDATA, opaque)
                crsync_setopt_io(handle, CURLOPT_READFUNCTION, { buffer, size, count, userdata in
                    let ctx = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
                    return ctx.read(into: buffer!, max: size * count)
                })
                // When a kept-alive connection turns out dead after part of the body went out, curl sends
                // the request again on a new one, which needs the body rewound; without this it fails the
                // request with "Send failed since rewinding of the data stream failed".
                crsync_setopt_pointer(handle, CURLOPT_SEEKDATA, opaque)
                crsync_setopt_seek(handle, CURLOPT_SEEKFUNCTION, { userdata, offset, origin in
                    let ctx = Unmanaged<TransferContext>.fromOpaque(userdata!).takeUnretainedValue()
                    return ctx.seek(to: Int64(offset), origin: origin)
                })
            }
        }

        let code = withExtendedLifetime(ctx) { curl_easy_perform(handle) }
        if let writeError = ctx.writeError {
            throw TransportError(url: request.url, message: writeError, isLocalReadError: true)
        }
        if let readError = ctx.readError {
            throw TransportError(url: request.url, message: readError, isLocalReadError: true)
        }
        if ctx.aborted {
            throw TransportError(url: request.url, message: "request aborted by caller", isLocalReadError: false)
        }
        guard code == CURLE_OK else {
            // Without a whole-request limit (chunk uploads, downloads) only the low-speed limit times out.
            if code == CURLE_OPERATION_TIMEDOUT && request.timeout == 0 {
                throw TransportError(url: request.url, message: "stalled: no progress for \(HTTPTransport.stallSeconds) s "
                                     + "(the server stopped reading the request or did not answer)", isLocalReadError: false, isStall: true)
            }
            let message = String(cString: curl_easy_strerror(code))
            throw TransportError(url: request.url, message: "network error: \(message)", isLocalReadError: false,
                                 curlCode: Int(code.rawValue))
        }
        var status = 0
        crsync_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var typePointer: UnsafeMutablePointer<CChar>? = nil
        crsync_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &typePointer)
        let contentType = typePointer.map { String(cString: $0) } ?? ""
        return HTTPResponse(status: status, body: ctx.response, contentType: contentType, bytesSent: ctx.sent,
                            bytesReceived: ctx.received, headers: ctx.headers)
    }
}

/// State shared with curl's C callbacks for one request.
private final class TransferContext {
    let body: RequestBody
    let progress: BodyProgress?
    let responseFile: Int32?
    var response: [UInt8] = []
    var sent: Int64 = 0
    var received: Int64 = 0
    var readError: String?
    var writeError: String?
    var aborted = false
    var headers: [String: String] = [:]

    init(body: RequestBody, progress: BodyProgress?, responseFile: Int32?) {
        self.body = body
        self.progress = progress
        self.responseFile = responseFile
    }

    func write(_ buffer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        received += Int64(count)
        if let fd = responseFile {
            var done = 0
            while done < count {
                let n = Foundation.write(fd, buffer + done, count - done)
                if n <= 0 {
                    writeError = "cannot write download: \(String(cString: strerror(errno)))"
                    return 0
                }
                done += n
            }
            return count
        }
        if response.count + count > HTTPTransport.maxResponseBytes {
            writeError = "response larger than \(HTTPTransport.maxResponseBytes) bytes"
            return 0
        }
        response.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: count))
        return count
    }

    /// Every body is random-access (bytes in memory, or a file range read with pread): rewinding is
    /// just where the next read starts.
    func seek(to offset: Int64, origin: Int32) -> Int32 {
        guard origin == SEEK_SET, offset >= 0, offset <= body.length else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
        sent = offset
        return Int32(CURL_SEEKFUNC_OK)
    }

    /// One header line; a new status line (a redirect or 100 Continue before the real answer) starts over.
    /// Read as bytes: Foundation's `trimmingCharacters` and `lowercased` here were 3 % of a small-file
    /// sync's CPU (perf), for a dozen header lines per file.
    func header(_ buffer: UnsafeMutablePointer<CChar>, count: Int) {
        let line = UnsafeRawBufferPointer(start: buffer, count: count)
        if line.starts(with: "HTTP/".utf8) { headers = [:]; return }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let isSpace = { (c: UInt8) in c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
        var start = colon + 1, end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        let name = String(decoding: line[..<colon].map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
        headers[name] = String(decoding: line[start..<end], as: UTF8.self)
    }

    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        if let progress, !progress(sent) {
            aborted = true
            return Int(CURL_READFUNC_ABORT)
        }
        let want = Int(min(Int64(max), body.length - sent))
        if want <= 0 { return 0 }
        switch body {
        case .none:
            return 0
        case .bytes(let bytes):
            bytes.withUnsafeBytes { src in
                UnsafeMutableRawPointer(buffer).copyMemory(from: src.baseAddress! + Int(sent), byteCount: want)
            }
            sent += Int64(want)
            return want
        case .fileRange(let fd, let offset, _):
            let n = pread(fd, buffer, want, off_t(offset + sent))
            if n < 0 {
                readError = "cannot read file: \(String(cString: strerror(errno)))"
                return Int(CURL_READFUNC_ABORT)
            }
            if n == 0 {
                // The file shrank under us: what we promised in Content-Length cannot be sent.
                readError = "file shrank while being read (expected \(body.length - sent) more bytes)"
                return Int(CURL_READFUNC_ABORT)
            }
            sent += Int64(n)
            return n
        }
    }
}
