import ArgumentParser

struct Crsync: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crsync",
        abstract: "Keeps local folders uploaded to a Cloudreve v4 server, resuming after crashes.",
        discussion: """
        Exit codes: 0 everything arrived; 1 some files failed (each is named); 2 usage or configuration \
        error; 3 another crsync is using the state directory; 4 not signed in (run `crsync login`).
        """,
        version: crsyncVersion,
        subcommands: [Login.self, Logout.self, Run.self, Sync.self, Status.self, Sessions.self, Retry.self, Config.self, Init.self, Version.self]
    )
}

let crsyncVersion = "0.1.0"

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print crsync's version.")
    func run() { print("crsync \(crsyncVersion)") }
}
