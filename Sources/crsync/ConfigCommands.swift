import ArgumentParser
import Foundation
import SyncEngine

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the configuration file.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration and print it as crsync reads it, every default spelled out.",
            discussion: "Exit 0 when valid; 2 with the file, line and key of the first problem otherwise.")

        @OptionGroup var configOptions: ConfigOptions
        @OptionGroup var state: StateOptions

        func run() throws {
            do {
                let config = try configOptions.load()
                print("# \(config.path) is valid; effective configuration:")
                print(config.rendered())
                for warning in config.rootWarnings(realPath: realPath) { complain("warning: \(warning)") }
                for root in config.roots {
                    for own in OwnFiles.inside(root: root.local, [state.directory, config.path]) {
                        complain("warning: \(root.local)/\(own) is crsync's own state or configuration; it lies inside this root and is never uploaded")
                    }
                }
                // Sign-in is not configuration, but the next thing that would stop `crsync run`.
                for profile in config.profiles.values.sorted(by: { $0.name < $1.name }) {
                    let hint = profile.name == "default" ? "" : " --profile \(profile.name)"
                    let signedIn = (try? state.credentialFile(profile: profile.name).load()) != nil
                    print("# profile \(profile.name): " + (signedIn ? "signed in" : "not signed in: run `crsync login\(hint)`"))
                }
            } catch {
                throw fail(error)
            }
        }
    }
}

/// `path` with every symbolic link resolved, or nil when it does not exist.
func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a commented starter configuration (it will not overwrite one).")

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var state: StateOptions

    func run() throws {
        let path = configOptions.path
        if FileManager.default.fileExists(atPath: path) {
            complain("\(path) already exists; not overwriting it (check it with `crsync config check`)")
            throw ExitCode(ExitStatus.usage)
        }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try CrsyncConfig.starter.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            complain("cannot write \(path): \(error.localizedDescription)")
            throw ExitCode(ExitStatus.usage)
        }
        print("Wrote \(path). Edit the server and folders, then: crsync login, crsync config check, crsync run")
    }
}
