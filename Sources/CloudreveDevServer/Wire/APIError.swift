/// A failure answered inside the HTTP 200 envelope (reference §1): `code`, `msg`, and for a few
/// codes a `data` payload (40073 lock details) or `aggregated_error` (40081).
struct APIError: Error {
    var code: Int
    var msg: String
    var data: JSON? = nil
    var aggregated: [(String, APIError)] = []

    init(_ code: Int, _ msg: String, data: JSON? = nil) {
        self.code = code
        self.msg = msg
        self.data = data
    }

    // The codes and messages below are the ones the 4.18 source raises (pkg/serializer/error.go,
    // pkg/filemanager/fs/fs.go); naming them keeps call sites readable.
    static let unclassified = APIError(-1, "")
    static let loginRequired = APIError(401, "Login required")
    static let notSupported = APIError(403, "Not supported action")
    static func notFound(_ msg: String) -> APIError { APIError(404, msg) }
    static func param(_ msg: String = "Parameter error") -> APIError { APIError(40001, msg) }
    static let objectExists = APIError(40004, "Object existed")
    static let sessionExpired = APIError(40011, "")
    static let pathNotExist = APIError(40016, "Path not exist")
    static func credentialInvalid(_ msg: String) -> APIError { APIError(40020, msg) }
    static let fileTooLarge = APIError(40049, "File is too large")
    static let insufficientCapacity = APIError(40051, "Insufficient capacity")
    static let illegalName = APIError(40052, "Invalid object name")
    static let lockExpired = APIError(40073, "Lock expired")
    static func lockConflict(_ details: JSON) -> APIError { APIError(40073, "Lock conflict", data: details) }
    static let tooManyURIs = APIError(40074, "")
    static let staleVersion = APIError(40076, "File is updated during your edit")
    static let entityNotExist = APIError(40077, "Entity not exist")
    static let ownerOnly = APIError(40082, "Only owner or administrator can perform this action")
    static func io(_ msg: String) -> APIError { APIError(50004, msg) }

    /// 40081 "batch partially failed" wrapping per-URI failures (serializer.AggregateError).
    static func batch(_ failures: [(String, APIError)]) -> APIError {
        // With one failure Go uses that error's text as msg; its wrapped chain is not reproducible
        // here, so the inner msg stands in for it.
        var e = APIError(40081, failures.count == 1 ? failures[0].1.msg : "One or more operation failed")
        e.aggregated = failures
        return e
    }
}
