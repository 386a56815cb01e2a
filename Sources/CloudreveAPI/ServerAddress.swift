import Foundation

/// A server address as a person types it, checked before anything is sent or saved.
public enum ServerAddress {
    /// `text` when it is an `http://` or `https://` address with a host and no `user:password@`; a usage
    /// error otherwise. A password in the address is never repeated in the message, nor stored: crsync
    /// signs in with the password from `login`, and a credential in a URL would end up in the saved
    /// sign-in, the config and every error message.
    public static func checked(_ text: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let parts = URLComponents(string: trimmed), let scheme = parts.scheme?.lowercased() else {
            throw CloudreveError.usage("'\(withoutUserInfo(trimmed))' is not a server address: write it like https://cloud.example.com")
        }
        if parts.user != nil || parts.password != nil {
            throw CloudreveError.usage("the server address \(withoutUserInfo(trimmed)) was given with a user name or password before '@'; "
                                       + "crsync never keeps those: give the address alone and sign in with --email and the password")
        }
        guard scheme == "http" || scheme == "https" else {
            throw CloudreveError.usage("'\(trimmed)' is not an http:// or https:// address (it is \(scheme):); a Cloudreve server is "
                                       + "reached over http:// or https://, like https://cloud.example.com")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw CloudreveError.usage("'\(trimmed)' names no host: write it like https://cloud.example.com")
        }
        return trimmed
    }

    /// `text` with any `user:password@` before the host taken out, for messages.
    public static func withoutUserInfo(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else {
            // No scheme: "user:pw@host" still must not be echoed.
            guard let at = text.firstIndex(of: "@") else { return text }
            return String(text[text.index(after: at)...])
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { "/?#".contains($0) }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
    }
}

/// The CA bundle to trust for https, or nil for the system's: the profile's `ca_file`, else the
/// `SSL_CERT_FILE` and `CURL_CA_BUNDLE` conventions that OpenSSL tools and the curl command honour
/// (libcurl itself does not read them).
public func trustedCAFile(configured: String?, environment: [String: String]) -> String? {
    for candidate in [configured, environment["SSL_CERT_FILE"], environment["CURL_CA_BUNDLE"]] {
        if let candidate, !candidate.isEmpty { return candidate }
    }
    return nil
}
