/// Counters the tests read through `GET /__dev/stats` (not part of Cloudreve).
struct Stats {
    var chunkRequests = 0
    /// Body bytes received by chunk POSTs, including those of cut or failed requests.
    var chunkBytes: Int64 = 0
    var sessionsCreated = 0
    var sessionsCancelled = 0
    var contentPuts = 0
    /// Completed uploads or versions per file URI (canonical, percent-encoded form).
    var completions: [String: Int] = [:]
    var renames = 0
    var moves = 0
    var deletes = 0
    /// API requests per route, e.g. "GET file/info", "POST file/upload/{id}/{index}": what a client's
    /// pass cost, so tests can assert the exact requests a pass sends. `/__dev/` controls are not counted.
    var requests: [String: Int] = [:]

    var json: JSON {
        .object([
            ("chunk_requests", .int(chunkRequests)),
            ("chunk_bytes", .int(chunkBytes)),
            ("sessions_created", .int(sessionsCreated)),
            ("sessions_cancelled", .int(sessionsCancelled)),
            ("content_puts", .int(contentPuts)),
            ("completions", .object(completions.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            ("renames", .int(renames)),
            ("moves", .int(moves)),
            ("deletes", .int(deletes)),
            ("requests", .object(requests.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
        ])
    }
}
