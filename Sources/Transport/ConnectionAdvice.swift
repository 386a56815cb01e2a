import Foundation

/// What a person should check when a request got no answer, by libcurl's error number (`curl/curl.h`
/// CURLcode): the numbers are stable across libcurl releases. `url` is the address tried; nil advice means
/// nothing better to say than curl's own text.
public func connectionAdvice(curlCode: Int, url: String) -> String? {
    // `url` may carry the method first ("GET https://…").
    let parts = URLComponents(string: url.split(separator: " ").last.map(String.init) ?? url)
    let isHTTPS = parts?.scheme?.lowercased() == "https"
    let host = parts?.host ?? url
    let port = parts?.port ?? (isHTTPS ? 443 : 80)
    switch curlCode {
    case 6:  // CURLE_COULDNT_RESOLVE_HOST
        return "the name \(host) does not resolve: check the address's spelling and your DNS"
    case 7:  // CURLE_COULDNT_CONNECT
        return "nothing accepts connections at \(host) port \(port): check the port, that the server is running, and any firewall in between"
    case 28:  // CURLE_OPERATION_TIMEDOUT
        return "no answer in time from \(host) port \(port): check the port and any firewall dropping packets, or the link is stalled"
    case 35:  // CURLE_SSL_CONNECT_ERROR
        return "the TLS handshake with \(host) port \(port) failed: if the server speaks plain HTTP there, write http:// instead of https://"
    case 60:  // CURLE_PEER_FAILED_VERIFICATION
        return "certificate not trusted: if the server uses a private CA, set ca_file = \"/path/to/ca.pem\" in [server] "
            + "(or its [servers.NAME]), or SSL_CERT_FILE=/path/to/ca.pem; if the name does not match the certificate, use the name it was issued for"
    case 77:  // CURLE_SSL_CACERT_BADFILE
        return "the CA file cannot be read: check the ca_file setting (or SSL_CERT_FILE / CURL_CA_BUNDLE) names a readable PEM file"
    default:
        return nil
    }
}

/// For the first request to a server only (a dropped connection later is a network fault, not a wrong
/// address): plain HTTP sent to a TLS port gets the connection closed without an answer.
public func schemeAdvice(curlCode: Int, url: String) -> String? {
    guard [52, 56].contains(curlCode),  // CURLE_GOT_NOTHING, CURLE_RECV_ERROR
          let parts = URLComponents(string: url.split(separator: " ").last.map(String.init) ?? url),
          parts.scheme?.lowercased() == "http"
    else { return nil }
    return "the connection closed without an answer: if the server speaks HTTPS on port \(parts.port ?? 80), write https:// instead of http://"
}
