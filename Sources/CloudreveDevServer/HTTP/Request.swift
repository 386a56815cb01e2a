import NIOHTTP1

/// A request as the services see it: the decoded path, Go-parsed query pairs, headers and (for
/// buffered routes) the body.
struct Request {
    let method: HTTPMethod
    /// The path before `?`, percent-decoded the way gin routes it (Go decodes `URL.Path`).
    let path: [UInt8]
    let query: [(key: [UInt8], value: [UInt8])]
    let headers: HTTPHeaders
    var body: [UInt8] = []

    init(head: HTTPRequestHead) {
        method = head.method
        let target = Array(head.uri.utf8)
        let q = target.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = q.map { target[..<$0] } ?? target[...]
        path = (try? GoURL.unescape(rawPath, plusIsSpace: false)) ?? Array(rawPath)
        query = q.map { GoURL.parseQuery(target[($0 + 1)...]) } ?? []
        headers = head.headers
    }

    var pathString: String { String(decoding: path, as: UTF8.self) }

    /// First value of a query parameter, like gin's `c.Query`.
    func queryValue(_ name: String) -> String? {
        let key = Array(name.utf8)
        return query.first(where: { $0.key == key }).map { String(decoding: $0.value, as: UTF8.self) }
    }

    /// A boolean query parameter as Go's `strconv.ParseBool` reads it (gin form binding); absent is
    /// false, anything unreadable is a binding error (40001).
    func queryBool(_ name: String) throws -> Bool {
        guard let text = queryValue(name), !text.isEmpty else { return false }
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: throw APIError.param()
        }
    }

    /// The bearer token, or nil when the header is absent or empty (anonymous).
    var bearerToken: String? {
        guard let value = headers.first(name: "Authorization") else { return nil }
        let token = value.hasPrefix("Bearer ") ? String(value.dropFirst(7)) : value
        return token.isEmpty ? nil : token
    }

    /// `request.SniffContentLength`: Content-Length, else `X-Expected-Entity-Length`, else 0.
    var declaredBodyLength: Int64 {
        if let cl = headers.first(name: "Content-Length"), let n = Int64(cl) { return n }
        if let x = headers.first(name: "X-Expected-Entity-Length"), let n = Int64(x) { return n }
        return 0
    }

    /// A JSON body, or the 40001 gin's binding answers for a body that does not parse.
    func jsonBody() throws -> JSON {
        guard let value = try? JSON.parse(body), value.objectValue != nil else {
            throw APIError.param("JSON marshall error")
        }
        return value
    }
}
