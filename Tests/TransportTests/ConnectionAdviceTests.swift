import Transport
import XCTest

/// What a connection error tells a person to check, by libcurl's error number.
final class ConnectionAdviceTests: XCTestCase {
    func testEachFailureNamesTheHostAndWhatToCheck() {
        let table: [(code: Int, url: String, phrases: [String])] = [
            (6, "GET https://cloud.example.com/api/v4/site/ping", ["cloud.example.com does not resolve", "DNS"]),
            (7, "GET http://10.0.0.5:5212/api/v4/site/ping", ["10.0.0.5 port 5212", "firewall"]),
            (7, "https://cloud.example.com/x", ["port 443"]),
            (28, "http://h:8080/x", ["port 8080", "firewall"]),
            (35, "https://h:5212/x", ["TLS handshake", "write http:// instead of https://"]),
            (60, "https://h/x", ["certificate not trusted", "ca_file = ", "[server]", "SSL_CERT_FILE"]),
            (77, "https://h/x", ["CA file cannot be read"]),
        ]
        for row in table {
            let advice = connectionAdvice(curlCode: row.code, url: row.url) ?? ""
            for phrase in row.phrases { XCTAssertTrue(advice.contains(phrase), "\(row.code) \(row.url): \(advice)") }
        }
    }

    func testNoAdviceWhereThereIsNothingBetterToSay() {
        XCTAssertNil(connectionAdvice(curlCode: 56, url: "http://h/x"), "a cut connection is not a wrong address")
        XCTAssertTrue(schemeAdvice(curlCode: 52, url: "GET http://h:5212/x")?.contains("port 5212, write https:// instead of http://") ?? false)
        XCTAssertNil(schemeAdvice(curlCode: 56, url: "https://h/x"), "a reset over https says nothing about the scheme")
        XCTAssertNil(schemeAdvice(curlCode: 7, url: "http://h/x"))
        XCTAssertNil(connectionAdvice(curlCode: 42, url: "http://h/x"))
    }

    func testTheErrorTextCarriesTheAddressAndTheAdvice() {
        let error = TransportError(url: "GET http://127.0.0.1:1/api/v4/site/ping", message: "network error: Couldn't connect to server",
                                   isLocalReadError: false, curlCode: 7)
        XCTAssertEqual(error.description, "network error: Couldn't connect to server (GET http://127.0.0.1:1/api/v4/site/ping); "
                       + "nothing accepts connections at 127.0.0.1 port 1: check the port, that the server is running, and any firewall in between")
        XCTAssertTrue(TransportError(url: "u", message: "m", isLocalReadError: false, curlCode: 60).isUntrustedCertificate)
    }
}
