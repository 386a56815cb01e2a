/// What goes back on the wire for one request.
struct Reply {
    enum Body {
        case bytes([UInt8])
        /// A blob streamed from disk (downloads can be 1 GiB and must not pass through memory).
        case file(path: String)
    }

    var status = 200
    var contentType = "application/json; charset=utf-8"
    var headers: [(String, String)] = []
    var body: Body = .bytes([])
    /// The envelope code, for the request log.
    var code: Int? = nil
    /// Delay before answering (fault injection).
    var delayMilliseconds = 0
    /// Close the connection instead of answering: the request was processed, the client never hears
    /// how it went (the `cut` fault placed at or past the end of the body).
    var dropConnection = false

    /// `{"code":0,"data":...,"msg":""}`; `data` is omitted when nil (Go's `omitempty`).
    static func ok(_ data: JSON? = nil) -> Reply {
        var pairs: [(String, JSON)] = [("code", .int(0))]
        if let data { pairs.append(("data", data)) }
        pairs.append(("msg", .string("")))
        return Reply(body: .bytes(JSON.object(pairs).encoded()), code: 0)
    }

    /// The error envelope of `serializer.ErrWithDetails`, always HTTP 200 (§1).
    static func error(_ e: APIError) -> Reply {
        var pairs: [(String, JSON)] = [("code", .int(e.code))]
        if let data = e.data { pairs.append(("data", data)) }
        pairs.append(("msg", .string(e.msg)))
        pairs.append(("correlation_id", .string(Random.uuid())))
        if !e.aggregated.isEmpty {
            pairs.append(("aggregated_error", .object(e.aggregated.map { uri, inner in
                (uri, .object([("code", .int(inner.code)), ("msg", .string(inner.msg)), ("correlation_id", .string(Random.uuid()))]))
            })))
        }
        return Reply(body: .bytes(JSON.object(pairs).encoded()), code: e.code)
    }

    /// A plain JSON document outside the envelope (the /__dev controls).
    static func plainJSON(_ value: JSON) -> Reply { Reply(body: .bytes(value.encoded())) }

    /// gin's answer for an unknown route.
    static let notFound = Reply(status: 404, contentType: "text/plain", body: .bytes(Array("404 page not found".utf8)))
}
