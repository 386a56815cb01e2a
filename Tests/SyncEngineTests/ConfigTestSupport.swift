import SyncEngine
import XCTest

/// Config text read as `load` would read it, with `~` standing for /home/me.
func parseConfig(_ text: String) throws -> CrsyncConfig {
    try CrsyncConfig.parse(text, path: "crsync.toml", environment: ["HOME": "/home/me"])
}

/// The error the text is refused with; fails the test when it is accepted or fails otherwise.
func configError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
    do {
        _ = try parseConfig(text)
        XCTFail("expected the config to be refused", file: file, line: line)
    } catch let error as ConfigError {
        return error
    } catch {
        XCTFail("expected ConfigError, got \(type(of: error)): \(error)", file: file, line: line)
    }
    return nil
}

/// A valid file's server and one folder, for tests that vary the rest.
let minimalServer = """
    [server]
    url = "https://cloud.example.com"
    email = "me@example.com"
    """

let minimalSync = """
    [[sync]]
    local = "/home/me/Documents"
    remote = "cloudreve://my/Documents"
    """
