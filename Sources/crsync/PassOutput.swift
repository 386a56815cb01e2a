import Foundation
import SyncEngine

/// How a pass reports: text (a line per finished file, failures on stderr, a summary) or `--json` (one
/// event object per line on stdout). Called from worker threads.
final class PassOutput: @unchecked Sendable {
    let json: Bool
    let isTerminal = isatty(STDOUT_FILENO) == 1
    private let lock = NSLock()

    init(json: Bool) { self.json = json }

    func uploaded(_ path: String, _ bytes: Int64, _ seconds: TimeInterval) {
        if json { return emit(["event": "uploaded", "path": path, "bytes": bytes, "seconds": seconds]) }
        // On a terminal the progress line shows this; off one, each finished file is a line.
        if !isTerminal { line("uploaded \(path) (\(formatBytes(bytes)))") }
    }

    func failed(_ path: String, _ reason: String) {
        if json { return emit(["event": "failed", "path": path, "reason": reason]) }
        lock.withLock { complain("failed: \(path): \(reason)") }
    }

    func note(_ message: String) {
        if json { return emit(["event": "note", "message": message]) }
        line(message)
    }

    func plan(_ action: String, _ path: String, _ bytes: Int64?) {
        if json { return emit(["event": "plan", "action": action, "path": path, "bytes": bytes as Any]) }
        line("\(action): \(path)" + (bytes.map { " (\(formatBytes($0)))" } ?? ""))
    }

    func summary(_ report: SyncReport, seconds: TimeInterval) {
        let bytes = report.uploaded.reduce(0) { $0 + $1.bytes }
        if json {
            return emit(["event": "summary", "uploaded": report.uploaded.count, "uploaded_bytes": bytes, "bytes_sent": report.bytesSent,
                         "unchanged": report.unchanged + report.adopted, "failed": report.failed.map { ["path": $0.path, "reason": $0.reason] },
                         "conflicts": report.conflicts.map { ["path": $0.path, "copy": $0.copy] }, "trashed": report.trashed, "warnings": report.warnings,
                         "interrupted": report.interrupted, "seconds": seconds, "server_version": report.serverVersion?.description as Any,
                         "halted": report.halted as Any])
        }
        for note in report.notes { line("skipped \(note)") }
        for warning in report.warnings { line("warning: \(warning)") }
        for conflict in report.conflicts {
            line("conflict: \(conflict.path) changed on the server since our last upload; theirs kept, ours uploaded as \(conflict.copy)")
        }
        for path in report.trashed { line("moved to the server's trash: \(path)") }
        var text = "\(report.uploaded.count) uploaded (\(formatBytes(bytes)) in \(String(format: "%.1f", seconds)) s), "
            + "\(report.unchanged + report.adopted) unchanged, \(report.failed.count) failed"
        if let version = report.serverVersion { text += " [Cloudreve \(version)]" }
        if report.interrupted { text += "; interrupted, the rest resumes next time" }
        if report.halted != nil { text += "; stopped early, the rest goes next time" }
        line(text)
        if let halted = report.halted { complain(halted) }
        // Failures again at the end, where a person looks; each names the path and the reason.
        for failure in report.failed { complain("not uploaded: \(failure.path): \(failure.reason)") }
    }

    /// Every human line goes through `printable`: a file name with ESC or a newline in it cannot clear the
    /// screen or forge a line. JSON lines arrive here already escaped by the encoder.
    private func line(_ text: String) {
        lock.withLock {
            print(printable(text))
            fflush(stdout)
        }
    }

    private func emit(_ object: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        line(String(decoding: data, as: UTF8.self))
    }
}

/// A live line on a terminal: files and bytes in flight, rate. Redrawn twice a second on its own thread.
final class ProgressLine: @unchecked Sendable {
    private let board: ProgressBoard
    private let lock = NSLock()
    private var running = true
    private var totalFiles = 0
    private var totalBytes: Int64 = 0
    private var doneFiles = 0
    private var doneBytes: Int64 = 0
    private let done = DispatchSemaphore(value: 0)

    init(board: ProgressBoard) { self.board = board }

    func planned(_ files: Int, _ bytes: Int64) { lock.withLock { totalFiles += files; totalBytes += bytes } }
    func finished(_ bytes: Int64) { lock.withLock { doneFiles += 1; doneBytes += bytes } }

    func start() {
        let thread = Thread { [self] in
            var last: (sent: Int64, time: Date) = (0, Date())
            var rate = 0.0
            while lock.withLock({ running }) {
                let entries = board.snapshot()
                let (files, total, doneCount, done) = lock.withLock { (totalFiles, totalBytes, doneFiles, doneBytes) }
                let sent = done + entries.reduce(0) { $0 + $1.sent }
                let now = Date()
                if sent >= last.sent { rate = rate * 0.5 + Double(sent - last.sent) / max(0.001, now.timeIntervalSince(last.time)) * 0.5 }
                last = (sent, now)
                let eta = rate > 1 ? " ETA \(Int(Double(max(0, total - sent)) / rate)) s" : ""
                let text = files == 0 ? "" : "\(doneCount)/\(files) files, \(formatBytes(sent)) of \(formatBytes(total)) at \(formatBytes(Int64(rate)))/s\(eta)"
                FileHandle.standardOutput.write(Data("\r\u{1B}[K\(text)".utf8))
                Thread.sleep(forTimeInterval: 0.5)
            }
            FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8))
            done.signal()
        }
        thread.start()
    }

    func stop() {
        lock.withLock { running = false }
        done.wait()
    }
}

/// Bytes as a person reads them: 512 B, 1.5 MiB.
func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    // By hand, not `String(format:)`, which builds a locale each call: one line per uploaded file.
    let tenths = Int((value * 10).rounded(.toNearestOrEven))
    return unit == 0 ? "\(bytes) B" : "\(tenths / 10).\(tenths % 10) \(units[unit])"
}
