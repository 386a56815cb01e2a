@testable import CloudreveDevServer
import Foundation
import XCTest

/// Sign-in, 2FA, refresh rotation, sign-out and expired tokens (reference §2).
final class AuthTests: XCTestCase {
    func testPingAnswersTheEmulatedVersion() throws {
        for (emulate, expected) in [("4.0", "4.0.0"), ("4.11", "4.11.0"), ("4.18", "4.18.0"), ("4.7.2", "4.7.2")] {
            let s = try startServer({ $0.emulate = emulate }, signIn: false)
            XCTAssertEqual(try s.call("GET", "/api/v4/site/ping").text, "{\"code\":0,\"data\":\"\(expected)\",\"msg\":\"\"}")
        }
    }

    func testUnknownEmulationIsRefused() {
        XCTAssertThrowsError(try DevServer(config: {
            var c = DevServerConfig(dataDir: NSTemporaryDirectory() + "/crsync-bad-\(UUID().uuidString)")
            c.emulate = "3.9"
            return c
        }()))
    }

    func testWrongPasswordGets40080() throws {
        let s = try startServer(signIn: false)
        let answer = try s.call("POST", "/api/v4/session/token",
                                json: .object([("email", .string("admin@example.com")), ("password", .string("wrong-pw"))]))
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(answer.code, 40080)
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token", json: .object([("email", .string("admin@example.com"))])).code,
                       40001, "binding: password required")
    }

    func testSignInAnswersUserAndTokensWithFractionalRFC3339Expiries() throws {
        let s = try startServer(signIn: false)
        let answer = try s.call("POST", "/api/v4/session/token",
                                json: .object([("email", .string("admin@example.com")), ("password", .string("password"))]))
        XCTAssertEqual(answer.data?["user"]?["email"]?.stringValue, "admin@example.com")
        let token = try XCTUnwrap(answer.data?["token"])
        for key in ["access_expires", "refresh_expires"] {
            let text = try XCTUnwrap(token[key]?.stringValue)
            XCTAssertNotNil(text.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$"#, options: .regularExpression), text)
        }
        XCTAssertEqual(token["access_token"]?.stringValue?.split(separator: ".").count, 3, "a JWT")
    }

    func testRefreshRotatesAndTheOldRefreshTokenStaysValid() throws {
        let s = try startServer()
        let first = try XCTUnwrap(s.refreshToken)
        let rotated = try s.call("POST", "/api/v4/session/token/refresh", json: .object([("refresh_token", .string(first))]),
                                 token: .some(nil))
        XCTAssertEqual(rotated.code, 0, rotated.text)
        XCTAssertNil(rotated.data?["user"], "refresh answers tokens only")
        let second = try XCTUnwrap(rotated.data?["refresh_token"]?.stringValue)
        XCTAssertNotEqual(second, first)
        let again = try s.call("POST", "/api/v4/session/token/refresh", json: .object([("refresh_token", .string(first))]))
        XCTAssertEqual(again.code, 0, "the old one is not marked used")
        let access = try XCTUnwrap(rotated.data?["access_token"]?.stringValue)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity", token: .some(access)).code, 0)
    }

    func testInvalidOrExpiredRefreshTokenGets40020() throws {
        let s = try startServer { $0.refreshTTL = 100 }
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh", json: .object([("refresh_token", .string("garbage"))])).code,
                       40020)
        try s.advanceClock(seconds: 101)
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh",
                                  json: .object([("refresh_token", .string(s.refreshToken!))])).code, 40020)
    }

    func testSignOutRevokesTheFamilyButAccessTokensLiveOn() throws {
        let s = try startServer()
        let first = try XCTUnwrap(s.refreshToken)
        let rotated = try s.call("POST", "/api/v4/session/token/refresh", json: .object([("refresh_token", .string(first))]))
        let second = try XCTUnwrap(rotated.data?["refresh_token"]?.stringValue)
        let out = try s.call("DELETE", "/api/v4/session/token", json: .object([("refresh_token", .string(second))]))
        XCTAssertEqual(out.text, "{\"code\":0,\"data\":\"\",\"msg\":\"\"}")
        for token in [first, second] {
            XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh",
                                      json: .object([("refresh_token", .string(token))])).code, 40020)
        }
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").code, 0, "access tokens are not checked for revocation")
        try s.restart()
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh",
                                  json: .object([("refresh_token", .string(first))])).code, 40020, "revocation persists")
    }

    func testRefreshTokenUsedAsAccessTokenGets40020() throws {
        let s = try startServer()
        let answer = try s.call("GET", "/api/v4/user/capacity", token: .some(s.refreshToken))
        XCTAssertEqual(answer.code, 40020)
        XCTAssertEqual(answer.msg, "Invalid token type")
        XCTAssertEqual(try s.chunk("whatever", 0, [], token: .some(s.refreshToken)).code, 40020)
    }

    func testExpiredAccessTokenIsAnonymous() throws {
        let s = try startServer()
        try s.advanceClock(seconds: 3601)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").code, 401)
        XCTAssertEqual(try s.list("cloudreve://my").code, 401)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity", token: .some("not-a-jwt")).code, 401, "garbage is anonymous too")
    }

    func testTwoFactorSignInAnswers203ThenWantsTheCode() throws {
        let s = try startServer({ $0.twoFactorCode = "123456" }, signIn: false)
        let first = try s.call("POST", "/api/v4/session/token",
                               json: .object([("email", .string("admin@example.com")), ("password", .string("password"))]))
        XCTAssertEqual(first.code, 203)
        let session = try XCTUnwrap(first.data?.stringValue)
        func verify(_ otp: String, _ id: String) throws -> TestServer.Answer {
            try s.call("POST", "/api/v4/session/token/2fa", json: .object([("otp", .string(otp)), ("session_id", .string(id))]))
        }
        XCTAssertEqual(try verify("000000", session).code, 40022)
        XCTAssertEqual(try verify("123456", "no-such-session").code, 404)
        let ok = try verify("123456", session)
        XCTAssertEqual(ok.code, 0, ok.text)
        XCTAssertNotNil(ok.data?["token"]?["access_token"]?.stringValue)
        XCTAssertEqual(try verify("123456", session).code, 404, "the 2FA session is used up")
    }

    func testTwoFactorSessionExpiresAfterTenMinutes() throws {
        let s = try startServer({ $0.twoFactorCode = "1" }, signIn: false)
        let first = try s.call("POST", "/api/v4/session/token",
                               json: .object([("email", .string("admin@example.com")), ("password", .string("password"))]))
        try s.advanceClock(seconds: 601)
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/2fa",
                                  json: .object([("otp", .string("1")), ("session_id", first.data!)])).code, 404)
    }

    func testTokensSurviveARestart() throws {
        let s = try startServer()
        try s.restart()
        XCTAssertEqual(try s.call("GET", "/api/v4/user/capacity").code, 0)
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh",
                                  json: .object([("refresh_token", .string(s.refreshToken!))])).code, 0)
    }

    func testChangedPasswordInvalidatesRefreshTokens() throws {
        let s = try startServer()
        try s.restart { $0.password = "another-password" }
        XCTAssertEqual(try s.call("POST", "/api/v4/session/token/refresh",
                                  json: .object([("refresh_token", .string(s.refreshToken!))])).code, 40020)
    }

    func testSiteConfigShowsTheCurrentOrAnonymousUser() throws {
        let s = try startServer()
        XCTAssertEqual(try s.call("GET", "/api/v4/site/config/basic").data?["user"]?["email"]?.stringValue, "admin@example.com")
        XCTAssertEqual(try s.call("GET", "/api/v4/site/config/basic", token: .some(nil)).data?["user"]?["anonymous"], .bool(true))
        XCTAssertEqual(try s.call("GET", "/api/v4/site/config/explorer").data?["max_batch_size"]?.int64Value, 3000)
        XCTAssertEqual(try s.call("GET", "/api/v4/user/me").data?["id"], try s.call("GET", "/api/v4/site/config/basic").data?["user"]?["id"])
        XCTAssertEqual(try s.call("GET", "/api/v4/user/me", token: .some(nil)).code, 401)
    }

    func testUnknownRouteIsPlainText404() throws {
        let s = try startServer(signIn: false)
        for path in ["/api/v4/nothing/here", "/", "/api/v3/site/ping"] {
            let answer = try s.call("GET", path)
            XCTAssertEqual(answer.status, 404, path)
            XCTAssertEqual(answer.text, "404 page not found")
        }
        XCTAssertEqual(try s.call("POST", "/api/v4/site/ping").status, 404, "wrong method")
    }
}

