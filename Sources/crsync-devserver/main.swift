import ArgumentParser
import CloudreveDevServer
import Foundation

/// `crsync-devserver`: runs the Cloudreve v4–compatible development server until SIGTERM or SIGINT.
struct DevServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crsync-devserver",
        abstract: "A Cloudreve v4-compatible server for crsync's tests and demos.",
        discussion: """
            Prints one line, `crsync-devserver listening on http://HOST:PORT`, once it listens, then logs \
            one line per request to stderr (method, path, status, code; never tokens or passwords). \
            Files and metadata persist under --data; upload sessions and locks live in memory, as on a \
            real server. Test controls are under /__dev/ (stats, faults, clock).
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 0

    @Option(name: .customLong("data"), help: ArgumentHelp("Directory for stored files and metadata (created if missing).", valueName: "dir"))
    var dataDir: String

    @Option(name: .customLong("user"), help: ArgumentHelp("The account's email address.", valueName: "email"))
    var email = "admin@example.com"

    @Option(help: ArgumentHelp("The account's password (default: $CRSYNC_DEVSERVER_PASSWORD, else \"password\").", valueName: "pw"))
    var password: String?

    @Option(help: ArgumentHelp("Require this 2FA code after the password (sign-in then answers 203).", valueName: "code"))
    var twoFactorCode: String?

    @Option(help: "Cloudreve release to behave like: 4.0, 4.11, 4.18 (any 4.N or 4.N.M).")
    var emulate = "4.18"

    @Option(help: "Storage policy chunk size in bytes (0 = whole file in one request).")
    var chunkSize: Int64 = 25 << 20

    @Option(help: "storage_policy.chunk_concurrency reported to clients (4.7+); default: none, as a default Cloudreve policy.")
    var chunkConcurrency: Int?

    @Option(help: "Upload session lifetime in seconds.")
    var sessionTTL = 86400

    @Option(help: "Access token lifetime in seconds.")
    var accessTTL = 3600

    @Option(help: "Refresh token lifetime in seconds.")
    var refreshTTL = 1_209_600

    @Option(help: "Storage quota in bytes.")
    var quota: Int64 = 1 << 40

    @Option(help: "Largest file in bytes the policy accepts (0 = unlimited).")
    var maxSize: Int64 = 0

    @Option(name: .customLong("deny-ext"), help: ArgumentHelp("Comma-separated extensions the policy refuses, e.g. exe,bat.", valueName: "list"))
    var denyExtensions = ""

    @Option(help: "Storage policy: local, relay (an s3 policy in relay mode), s3, ks3, cos, oss, obs (parts to --s3-endpoint; oss and obs complete through a route here that stands in for the provider calling Cloudreve back), remote (chunks to the slave node --node), onedrive (a Graph-style upload URL here); qiniu, upyun are only reported, to test refusals.")
    var policy = "local"

    @Option(name: .customLong("s3-endpoint"), help: ArgumentHelp("The S3-compatible server of --policy s3 (path-style), e.g. http://127.0.0.1:5000.", valueName: "url"))
    var s3Endpoint: String?

    @Option(name: .customLong("s3-bucket"), help: "The bucket of --policy s3 (created if missing).")
    var s3Bucket = "crsync"

    @Option(help: ArgumentHelp("The slave node a --policy remote master hands chunks to.", valueName: "url"))
    var node: String?

    @Option(help: ArgumentHelp("node: serve /api/v4/slave/upload as a slave node (secret: $CRSYNC_DEVSERVER_NODE_SECRET).", valueName: "role"))
    var role: String?

    func validate() throws {
        let policies = ["local", "relay", "s3", "ks3", "cos", "remote", "onedrive", "qiniu", "upyun", "oss", "obs"]
        guard policies.contains(policy) else { throw ValidationError("--policy must be one of \(policies.joined(separator: ", "))") }
        if ["s3", "ks3", "cos", "oss", "obs"].contains(policy) && s3Endpoint == nil { throw ValidationError("--policy \(policy) needs --s3-endpoint URL") }
    }

    func run() throws {
        var config = DevServerConfig(dataDir: dataDir)
        config.host = host
        config.port = port
        config.email = email
        config.password = password ?? ProcessInfo.processInfo.environment["CRSYNC_DEVSERVER_PASSWORD"] ?? config.password
        config.twoFactorCode = twoFactorCode
        config.emulate = emulate
        config.chunkSize = chunkSize
        config.chunkConcurrency = chunkConcurrency
        config.sessionTTL = sessionTTL
        config.accessTTL = accessTTL
        config.refreshTTL = refreshTTL
        config.quota = quota
        config.maxSize = maxSize
        config.denyExtensions = denyExtensions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        config.policy = policy
        config.s3Endpoint = s3Endpoint
        config.s3Bucket = s3Bucket
        config.logRequests = true
        try applyDirectOptions(&config)

        let server = try DevServer(config: config)
        try server.start()
        print("crsync-devserver listening on \(server.baseURL)")
        fflush(stdout)

        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler {
                server.stop()
                Foundation.exit(0)
            }
            source.resume()
            signalSources.append(source)
        }
        dispatchMain()
    }
}

extension DevServerCommand {
    /// `--policy remote|onedrive`, `--node`, `--role node` (kept apart from the other policies' options).
    func applyDirectOptions(_ config: inout DevServerConfig) throws {
        if let secret = ProcessInfo.processInfo.environment["CRSYNC_DEVSERVER_NODE_SECRET"], !secret.isEmpty {
            config.direct.nodeSecret = secret
        }
        if let role {
            guard role == "node" else { throw ValidationError("--role takes only 'node'") }
            config.direct.isNode = true
        }
        if ["remote", "onedrive"].contains(policy) {
            if policy == "remote" && node == nil { throw ValidationError("--policy remote needs --node URL (a crsync-devserver --role node)") }
            config.direct.policy = policy
            config.direct.nodeURL = node.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        }
    }
}

/// Keeps the signal sources alive for the life of the process.
nonisolated(unsafe) var signalSources: [DispatchSourceSignal] = []

DevServerCommand.main()
