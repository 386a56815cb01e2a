import Foundation
import Transport

/// The Cloudreve v4 HTTP API, one method per call the agent needs (reference §2–§4). Thread-safe: each
/// call borrows a curl handle of its own, and token refreshes are serialized so that many workers never
/// refresh at once. Every method blocks its thread; call it from threads of your own, never from Swift's
/// cooperative pool.
public final class CloudreveClient: @unchecked Sendable {
    /// Base URL without the `/api/v4` suffix, e.g. `https://cloud.example.com`.
    public let server: String
    let api: String
    let transports: TransportPool
    private let credentialLock = NSLock()
    private var credentials: Credentials?
    private let credentialFile: CredentialFile?
    /// Sent as `X-Cr-Client-Id` so the server's event stream does not echo our own changes back (§7).
    let clientID = UUID().uuidString.lowercased()

    /// `caFile`: a PEM bundle to trust for https (a profile's `ca_file`); without it, `SSL_CERT_FILE` or
    /// `CURL_CA_BUNDLE` from the environment, else the system's CAs.
    public init(server: String, credentials: Credentials? = nil, credentialFile: CredentialFile? = nil, caFile: String? = nil) {
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/api/v4") { base.removeLast("/api/v4".count) }
        self.server = base
        self.api = base + "/api/v4"
        self.credentials = credentials
        self.credentialFile = credentialFile
        self.transports = TransportPool(caFile: trustedCAFile(configured: caFile, environment: ProcessInfo.processInfo.environment))
    }

    /// The signed-in account's email, if any.
    public var email: String? { credentialLock.withLock { credentials?.email } }

    // MARK: Site and session (§2)

    public func ping() throws -> ServerVersion {
        let text: String
        do {
            text = try call("GET", "/site/ping", token: nil) ?? ""
        } catch CloudreveError.transport(let error) where schemeAdvice(curlCode: error.curlCode, url: error.url) != nil {
            var hinted = error
            hinted.message += "; " + schemeAdvice(curlCode: error.curlCode, url: error.url)!
            throw CloudreveError.transport(hinted)
        } catch CloudreveError.http(404, _, _) {
            // A Cloudreve 3 server has no /api/v4 (gin's plain 404) but answers /api/v3/site/ping (§2).
            if let old = legacyVersion() {
                throw CloudreveError.usage("\(server) runs Cloudreve \(old), which crsync does not support: crsync speaks the "
                                           + "Cloudreve 4 API only; upgrade the server to Cloudreve 4, or use a Cloudreve 3 client")
            }
            throw CloudreveError.usage("\(api)/site/ping answered HTTP 404: \(server) is not a Cloudreve 4 server's address; "
                                       + "check it is the site's root, like https://cloud.example.com")
        }
        guard let version = ServerVersion(text) else {
            throw CloudreveError.malformed(path: "/site/ping", detail: "version '\(text)' is not a Cloudreve 4.x version")
        }
        guard version.major == 4 else {
            throw CloudreveError.usage("\(server) runs Cloudreve \(version); crsync speaks Cloudreve 4.x only")
        }
        return version
    }

    /// The version a Cloudreve 3 server reports at `/api/v3/site/ping`, or nil when it is not one.
    private func legacyVersion() -> String? {
        let transport = transports.take()
        defer { transports.give(transport) }
        guard let response = try? transport.perform(HTTPRequest(method: "GET", url: server + "/api/v3/site/ping", timeout: 15)),
              let text: String = try? decodeEnvelope(response, path: "/api/v3/site/ping", acceptCodes: [0]),
              let version = ServerVersion(text), version.major == 3
        else { return nil }
        return version.description
    }

    public enum SignIn: Sendable {
        case signedIn(Credentials)
        /// The account has two-factor sign-in: finish with `completeTwoFactor` within 10 minutes.
        case needsTwoFactor(sessionID: String)
    }

    /// Password sign-in. On success the credentials are adopted (and saved, if this client has a file).
    public func signIn(email: String, password: String) throws -> SignIn {
        // Code 203 carries the two-factor session id as `data` (§2).
        let reply: SignInReply? = try call("POST", "/session/token", json: ["email": email, "password": password], token: nil,
                                           acceptCodes: [0, 203])
        switch reply {
        case .twoFactor(let id): return .needsTwoFactor(sessionID: id)
        case .token(let pair): return .signedIn(try adopt(pair, email: email))
        case nil: throw CloudreveError.malformed(path: "/session/token", detail: "no token")
        }
    }

    public func completeTwoFactor(sessionID: String, otp: String, email: String) throws -> Credentials {
        let reply: SignInReply? = try call("POST", "/session/token/2fa", json: ["otp": otp, "session_id": sessionID], token: nil)
        guard case .token(let token) = reply else { throw CloudreveError.malformed(path: "/session/token/2fa", detail: "no token") }
        return try adopt(token, email: email)
    }

    /// Revokes the refresh-token family on the server and forgets the credentials.
    public func signOut() throws {
        guard let current = credentialLock.withLock({ credentials }) else { return }
        let _: String? = try call("DELETE", "/session/token", json: ["refresh_token": current.refreshToken], token: nil)
        credentialLock.withLock { credentials = nil }
        credentialFile?.delete()
    }

    // MARK: Files (§3)

    public func fileInfo(_ path: CloudrevePath, extended: Bool = false) throws -> FileInfo {
        var query = [("uri", path.uri)]
        if extended { query.append(("extended", "true")) }
        guard let info: FileInfo = try authed("GET", "/file/info", query: query) else {
            throw CloudreveError.malformed(path: "/file/info", detail: "no file data")
        }
        return info
    }

    /// The file at `path`, or nil when the server says it does not exist (40016).
    public func fileInfoIfExists(_ path: CloudrevePath) throws -> FileInfo? {
        do { return try fileInfo(path) } catch CloudreveError.api(40016, _, _, _) { return nil }
    }

    /// Every entry of a folder, following cursor pagination (`next_token` → `next_page_token`, §3).
    /// `search` is a raw query such as `meta_sys:upload_session_id=`, which makes the listing recursive.
    public func list(_ path: CloudrevePath, search: String? = nil) throws -> FolderListing {
        var uri = path.uri
        if let search { uri += "?" + search }
        var listing = FolderListing(files: [], storagePolicy: nil)
        var next: String? = nil
        repeat {
            var query = [("uri", uri), ("page_size", "1000")]
            if let next { query.append(("next_page_token", next)) }
            guard let page: ListReply = try authed("GET", "/file", query: query) else {
                throw CloudreveError.malformed(path: "/file", detail: "no listing")
            }
            listing.files += page.files
            listing.storagePolicy = listing.storagePolicy ?? page.storagePolicy
            next = page.pagination?.nextToken
            if next == "" { next = nil }
        } while next != nil
        return listing
    }

    /// What is in the trash (`cloudreve://trash`): items carry their original URI in `sys:restore_uri`.
    public func listTrash() throws -> [FileInfo] {
        guard let page: ListReply = try authed("GET", "/file", query: [("uri", "cloudreve://trash"), ("page_size", "1000")]) else {
            throw CloudreveError.malformed(path: "/file", detail: "no listing")
        }
        return page.files
    }

    /// Creates a folder and its missing parents; an existing folder is returned as is.
    @discardableResult
    public func createFolder(_ path: CloudrevePath) throws -> FileInfo? {
        try authed("POST", "/file/create", json: CreateRequest(uri: path.uri, type: "folder"))
    }

    /// Moves to the server's trash (recoverable), or deletes for good.
    public func delete(_ paths: [CloudrevePath], permanently: Bool = false) throws {
        let _: Empty? = try authed("DELETE", "/file", json: DeleteRequest(uris: paths.map(\.uri), skipSoftDelete: permanently))
    }

    public func rename(_ path: CloudrevePath, to newName: String) throws {
        let _: Empty? = try authed("POST", "/file/rename", json: ["uri": path.uri, "new_name": newName])
    }

    /// Moves items into an existing folder, keeping their names.
    public func move(_ paths: [CloudrevePath], into folder: CloudrevePath) throws {
        let _: Empty? = try authed("POST", "/file/move", json: MoveRequest(uris: paths.map(\.uri), dst: folder.uri, copy: false))
    }

    /// Download links for files (`POST /file/url`), used to verify what arrived.
    public func downloadURLs(_ paths: [CloudrevePath]) throws -> [String] {
        guard let reply: URLReply = try authed("POST", "/file/url", json: URLRequestBody(uris: paths.map(\.uri), download: true)) else {
            throw CloudreveError.malformed(path: "/file/url", detail: "no urls")
        }
        return reply.urls.map(\.url)
    }

    /// Streams a download link's content into `fd`; returns the byte count.
    public func download(url: String, into fd: Int32) throws -> Int64 {
        let full = url.hasPrefix("http") ? url : server + url
        let transport = transports.take()
        defer { transports.give(transport) }
        do {
            let response = try transport.perform(HTTPRequest(method: "GET", url: full, timeout: 0), responseFile: fd)
            guard response.status == 200 else {
                throw CloudreveError.http(status: response.status, path: "download", snippet: "")
            }
            return response.bytesReceived
        } catch let error as TransportError {
            throw CloudreveError.transport(error)
        }
    }

    public func capacity() throws -> Capacity {
        guard let capacity: Capacity = try authed("GET", "/user/capacity") else {
            throw CloudreveError.malformed(path: "/user/capacity", detail: "no capacity")
        }
        return capacity
    }

    /// One-shot create-or-replace for small files (`PUT /file/content`, ≤ 50 MiB by default).
    public func putContent(_ path: CloudrevePath, bytes: [UInt8], previous: String? = nil) throws -> FileInfo? {
        var query = [("uri", path.uri)]
        if let previous { query.append(("previous", previous)) }
        return try authed("PUT", "/file/content", query: query, body: .bytes(bytes))
    }

    // MARK: Internals shared with UploadCalls.swift

    /// A call that needs a signed-in user: refreshes first when the token is near its end, and once more
    /// (then retries once) when the server says the login is missing (401: an expired token reads as
    /// anonymous, §2).
    func authed<T: Decodable>(_ method: String, _ path: String, query: [(String, String)] = [], json: (any Encodable)? = nil,
                              body: RequestBody = .none, expectedDuration: TimeInterval = 0, timeout: Int = 60,
                              retryOn: Set<Int> = [401], progress: BodyProgress? = nil) throws -> T? {
        let token = try accessToken(expectedDuration: expectedDuration)
        do {
            return try call(method, path, query: query, json: json, body: body, token: token, timeout: timeout, progress: progress)
        } catch CloudreveError.api(let code, _, _, _) where retryOn.contains(code) && (code != 40011 || tokenExpired(token)) {
            // 40011 also means a dead session; only a token that expired mid-request makes a retry worthwhile.
            let fresh = try refresh(replacing: token)
            return try call(method, path, query: query, json: json, body: body, token: fresh, timeout: timeout, progress: progress)
        }
    }

    func accessToken(expectedDuration: TimeInterval) throws -> String {
        try credentialLock.withLock {
            guard let current = credentials else { throw CloudreveError.notSignedIn("not signed in to \(server)") }
            if current.needsRefresh(now: Date(), expectedDuration: expectedDuration) {
                return try refreshLocked(current).accessToken
            }
            return current.accessToken
        }
    }

    /// Whether `token` is the current one and has expired (or is about to), e.g. during a long chunk.
    func tokenExpired(_ token: String) -> Bool {
        credentialLock.withLock {
            guard let current = credentials, current.accessToken == token else { return true }
            return current.accessExpires.timeIntervalSinceNow < 2
        }
    }

    /// Refreshes unless another thread already replaced `token` while we waited for the lock.
    func refresh(replacing token: String) throws -> String {
        try credentialLock.withLock {
            guard let current = credentials else { throw CloudreveError.notSignedIn("not signed in to \(server)") }
            if current.accessToken != token { return current.accessToken }
            return try refreshLocked(current).accessToken
        }
    }

    private func refreshLocked(_ current: Credentials) throws -> Credentials {
        if current.refreshExpires < Date() {
            throw CloudreveError.notSignedIn("the saved sign-in for \(current.email) at \(server) expired on \(current.refreshExpires)")
        }
        let pair: TokenPair?
        do {
            pair = try call("POST", "/session/token/refresh", json: ["refresh_token": current.refreshToken], token: nil)
        } catch CloudreveError.api(let code, _, _, _) where [40020, 401, 40089].contains(code) {
            throw CloudreveError.notSignedIn("the server no longer accepts the saved sign-in for \(current.email) (code \(code))")
        }
        guard let pair else { throw CloudreveError.malformed(path: "/session/token/refresh", detail: "no token") }
        let next = try pair.credentials(server: server, email: current.email)
        credentials = next
        try credentialFile?.save(next)
        return next
    }

    private func adopt(_ pair: TokenPair, email: String) throws -> Credentials {
        let adopted = try pair.credentials(server: server, email: email)
        try credentialLock.withLock {
            credentials = adopted
            try credentialFile?.save(adopted)
        }
        return adopted
    }
}
