/// Everything a dev server instance is started with. Defaults match a fresh Cloudreve 4.18 with the
/// default local storage policy (reference §4) and default token lifetimes (§2).
public struct DevServerConfig {
    public var host = "127.0.0.1"
    /// 0 picks a free port; read `DevServer.port` after `start()`.
    public var port = 0
    /// Blobs and metadata live here and survive a restart; sessions and locks do not.
    public var dataDir: String
    public var email = "admin@example.com"
    public var password = "password"
    /// When set, password sign-in answers 203 and `/session/token/2fa` wants this code as `otp`.
    public var twoFactorCode: String? = nil
    /// "4.0", "4.11", "4.18" or any "4.N" / "4.N.M"; behaviour switches at the documented releases.
    public var emulate = "4.18"
    /// The storage policy's chunk size in bytes (0 = whole file in one request).
    public var chunkSize: Int64 = 25 << 20
    /// `storage_policy.chunk_concurrency`, reported from 4.7 on when set. A default Cloudreve policy sends
    /// none (§8c: a fresh 4.18.0's local policy), and clients then send one chunk at a time.
    public var chunkConcurrency: Int? = nil
    /// Upload session lifetime in seconds (`upload_session_timeout`).
    public var sessionTTL: Int = 86400
    public var accessTTL: Int = 3600
    public var refreshTTL: Int = 1_209_600
    /// The user's group quota in bytes.
    public var quota: Int64 = 1 << 40
    /// The policy's `max_size`; 0 = unlimited.
    public var maxSize: Int64 = 0
    /// Extensions (without dot, any case) the policy denies.
    public var denyExtensions: [String] = []
    /// The storage policy (reference §5): "local"; "relay" (an s3-type policy with relay on: the whole file
    /// in one request to this server); "s3", "ks3", "cos", "oss", "obs" (parts straight to the S3-compatible
    /// server at `s3Endpoint`; oss and obs complete through S3/ProviderCompletion.swift); "remote", "onedrive"
    /// (see `direct`); any other type name ("qiniu", "upyun") is only reported as is, to test the refusal.
    public var policy = "local"
    /// The S3-compatible server behind an "s3" policy, e.g. `http://127.0.0.1:5000` (moto in the tests).
    public var s3Endpoint: String? = nil
    public var s3Bucket = "crsync"

    /// Direct-upload policies of this file (`--policy remote|onedrive`, see DirectPolicy.swift).
    public var direct = DirectPolicyConfig()
    /// Writes one line per request to stderr (method, path without query, HTTP status, code).
    public var logRequests = false

    public init(dataDir: String) {
        self.dataDir = dataDir
    }
}
