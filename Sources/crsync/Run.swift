import ArgumentParser
import CloudreveAPI
import Foundation
import Logging
import SyncEngine

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: watch every configured folder and upload what changes.",
        discussion: """
        Files go once they have been unchanged for quiet_seconds; a file that never goes quiet (a growing log) \
        goes at most once per max_delay. Renames and moves inside a folder are done on the server without \
        sending bytes again; deletions follow each folder's `deletes` setting. A full rescan runs at start-up \
        and every rescan_interval. SIGTERM or SIGINT stop it within seconds (an interrupted chunk resumes on \
        the next start); SIGHUP reloads the configuration.
        Exit codes: 0 stopped, 2 configuration error, 4 sign-in needed (run `crsync login`), 130/143 stopped by \
        SIGINT/SIGTERM.
        """)

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("Log format: human or json (default: the config's [log] format, else human).", valueName: "FORMAT"))
    var logFormat: String?

    func validate() throws {
        if let logFormat, LogOutput.Format(rawValue: logFormat) == nil {
            throw ValidationError("--log-format must be human or json")
        }
    }

    func run() throws {
        var config: CrsyncConfig
        do { config = try configOptions.load() } catch { throw fail(error) }
        do { try StateLock.take(directory: state.directory, command: "run") } catch { throw fail(error) }
        let log = LogOutput.bootstrap(level: config.log.level, format: logFormat.flatMap(LogOutput.Format.init) ?? config.log.format.flatMap { LogOutput.Format(rawValue: $0.rawValue) })
        let metrics = Metrics()
        metrics.set(.up, 1)
        var metricsServer: MetricsServer?
        defer { metricsServer?.stop() }
        var control = UploadControl(metrics: metrics)
        let slot = DaemonSlot()
        let signals = SignalWatch([SIGTERM, SIGINT, SIGHUP]) { number in slot.stop(reloading: number == SIGHUP) }
        defer { signals.cancel() }
        log.info("crsync \(crsyncVersion) starting with \(config.path): \(config.roots.count) folder(s)")
        while true {
            metricsServer?.stop()
            metricsServer = nil
            if let address = config.metrics {
                do {
                    metricsServer = try MetricsServer(host: address.host, port: address.port, metrics: metrics)
                    metricsServer?.start()
                    log.info("metrics at http://\(address.host):\(address.port)/metrics")
                } catch {
                    throw fail(UsageError(message: "\(config.path): [metrics] \(error)"))
                }
            }
            control.setThrottle(limiter(for: config.upload.bandwidth))
            let current: Daemon
            let publisher = StatusPublisher(stateDirectory: state.directory, board: control.board, command: "run")
            do {
                var events = SyncEvents()
                events.uploaded = { path, bytes, _ in log.info("uploaded \(path) (\(formatBytes(bytes)))") }
                events.failed = { path, reason in log.error("not uploaded: \(path): \(reason)") }
                events.note = { message in log.notice("\(message)") }
                events.warning = { message in log.warning("\(message)") }
                var options = config.upload.syncOptions
                options.honorBackoff = true  // a daemon retries failed files on their schedule, not every pass
                let roots = try state.roots(of: config, options: options, events: events, control: control)
                current = Daemon(roots: roots, settings: Daemon.Settings(config.upload), control: control, log: log)
            } catch {
                throw fail(error)
            }
            slot.set(current)
            publisher.setQueue { current.queueStatus() }
            publisher.start()
            current.run()
            publisher.stop()
            if let error = current.fatalError { throw fail(error) }
            if let code = signals.interruptionExitCode {
                log.info("stopped by signal; interrupted uploads resume on the next start")
                throw ExitCode(code)
            }
            guard slot.takeReload() else { return }
            do {
                config = try configOptions.load()
                log.info("configuration reloaded from \(config.path)")
            } catch {
                log.error("configuration not reloaded, keeping the previous one: \(error)")
            }
            control = UploadControl(metrics: metrics)
        }
    }
}

extension Daemon.Settings {
    init(_ upload: UploadSettings) {
        self.init()
        quietPeriod = upload.quietSeconds
        maxDelay = upload.maxDelay
        rescanInterval = upload.rescanInterval
        unwatchedRescan = min(60, upload.rescanInterval)
    }
}

/// The daemon running now, and whether its stop was a SIGHUP asking for a reload; set from the signal queue.
private final class DaemonSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var daemon: Daemon?
    private var reload = false

    func set(_ daemon: Daemon) { lock.withLock { self.daemon = daemon } }

    func stop(reloading: Bool) {
        lock.withLock {
            if reloading { reload = true }
            daemon?.stop()
        }
    }

    func takeReload() -> Bool {
        lock.withLock {
            defer { reload = false }
            return reload
        }
    }
}
