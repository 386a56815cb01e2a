import ArgumentParser
import CloudreveAPI
import Foundation

struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to a Cloudreve server and save the tokens (mode 0600) in the state directory.",
        discussion: """
        The password is read from --password-stdin, else the CRSYNC_PASSWORD environment variable, else a \
        prompt on the terminal. It is never stored: only the server's access and refresh tokens are.
        """)

    @Option(help: ArgumentHelp("Server address, e.g. https://cloud.example.com (default: the profile's url in the configuration).", valueName: "URL"))
    var server: String?

    @Option(help: "Account email (default: the profile's email in the configuration).")
    var email: String?

    @Option(help: ArgumentHelp("Configuration profile to sign in: \"default\" is [server], others are [servers.NAME].", valueName: "NAME"))
    var profile = "default"

    @OptionGroup var configOptions: ConfigOptions

    @Flag(help: "Read the password from the first line of standard input.")
    var passwordStdin = false

    @Option(help: ArgumentHelp("Two-factor code, for accounts that have it on (asked for on a terminal otherwise).", valueName: "CODE"))
    var otp: String?

    @OptionGroup var state: StateOptions

    func run() throws {
        do {
            let (server, email, caFile) = try account()
            // Before the password is asked for: a wrong scheme or a password in the address stops here (exit 2).
            let address = try ServerAddress.checked(server)
            let password = try readPassword(for: email)
            let client = CloudreveClient(server: address, credentialFile: try state.secured(state.credentialFile(profile: profile)), caFile: caFile)
            let version = try client.ping()
            switch try client.signIn(email: email, password: password) {
            case .signedIn: break
            case .needsTwoFactor(let sessionID):
                guard let code = otp ?? prompt("Two-factor code: ") else {
                    throw UsageError(message: "\(email) has two-factor sign-in: pass --otp CODE")
                }
                _ = try client.completeTwoFactor(sessionID: sessionID, otp: code, email: email)
            }
            print("Signed in to \(client.server) (Cloudreve \(version)) as \(email); tokens saved in \(state.credentialFile(profile: profile).path)")
        } catch CloudreveError.api(let code, _, _, _) where [40080, 40022, 40017, 40018].contains(code) {
            complain(code == 40022 ? "wrong two-factor code" : code == 40080 ? "wrong email or password"
                     : "the account cannot sign in (code \(code))")
            throw ExitCode(ExitStatus.notSignedIn)
        } catch CloudreveError.api(40026, _, _, _) {
            complain("the server asks for a captcha at sign-in, which crsync cannot solve; ask the admin to turn off login_captcha")
            throw ExitCode(ExitStatus.notSignedIn)
        } catch {
            throw fail(error)
        }
    }

    /// --server/--email, else the profile's from the configuration, with the profile's `ca_file`.
    private func account() throws -> (String, String, String?) {
        if let server, let email { return (server, email, nil) }
        guard FileManager.default.fileExists(atPath: configOptions.path) else {
            throw UsageError(message: "give --server URL and --email EMAIL (no configuration at \(configOptions.path) to take them from)")
        }
        let config = try configOptions.load()
        guard let configured = config.profiles[profile] else {
            throw UsageError(message: "\(config.path) has no profile '\(profile)' (profiles: \(config.profiles.keys.sorted().joined(separator: ", ")))")
        }
        // The profile's ca_file belongs to the profile's server, not to another one given with --server.
        return (server ?? configured.url, email ?? configured.email, server == nil ? configured.caFile : nil)
    }

    private func readPassword(for email: String) throws -> String {
        if passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw UsageError(message: "--password-stdin given but standard input had no password line")
            }
            return line
        }
        if let env = ProcessInfo.processInfo.environment["CRSYNC_PASSWORD"], !env.isEmpty { return env }
        guard isatty(STDIN_FILENO) == 1, let typed = getpass("Password for \(email): ") else {
            throw UsageError(message: "no password: use --password-stdin, set CRSYNC_PASSWORD, or run on a terminal")
        }
        return String(cString: typed)
    }

    private func prompt(_ text: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        FileHandle.standardError.write(Data(text.utf8))
        return readLine()
    }
}

struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke the saved sign-in on the server and delete it.")

    @OptionGroup var state: StateOptions

    func run() throws {
        do {
            let client = try state.signedInClient(server: nil)
            do {
                try client.signOut()
            } catch let error as CloudreveError {
                // The local tokens go regardless: a server we cannot reach keeps nothing we can revoke now.
                state.credentialFile.delete()
                complain("signed out locally; the server could not revoke the tokens: \(error)")
                return
            }
            print("Signed out.")
        } catch {
            throw fail(error)
        }
    }
}
