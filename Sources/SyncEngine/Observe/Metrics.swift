import Foundation

/// The numbers crsync exposes to Prometheus: a fixed set of counters, gauges and one histogram, all
/// registered up front so every scrape shows every metric (a counter that has not moved reads 0, which
/// `rate()` and alerts need). Thread-safe: workers update it while the metrics server renders it.
public final class Metrics: @unchecked Sendable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// One exported metric: its name, type and the help line Prometheus shows. Equal by name.
    public struct Name: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let kind: Kind
        public let help: String
        /// Upper bounds of a histogram's buckets, ascending; `+Inf` is implied.
        public let buckets: [Double]

        init(_ name: String, _ kind: Kind, _ help: String, buckets: [Double] = []) {
            self.name = name
            self.kind = kind
            self.help = help
            self.buckets = buckets
        }

        public var description: String { name }
        public static func == (a: Name, b: Name) -> Bool { a.name == b.name }
        public func hash(into hasher: inout Hasher) { hasher.combine(name) }
    }

    private struct Histogram {
        /// Observations per bucket, not cumulative; the last slot counts those above every bound.
        var counts: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }

    private let lock = NSLock()
    private var values: [String: Double] = [:]
    private var histograms: [String: Histogram] = [:]

    public init() {
        for metric in Name.all {
            switch metric.kind {
            case .counter, .gauge: values[metric.name] = 0
            case .histogram: histograms[metric.name] = Histogram(counts: Array(repeating: 0, count: metric.buckets.count + 1))
            }
        }
        values[Name.up.name] = 1
    }

    /// Adds `value` to a counter (never negative) or a gauge.
    public func add(_ metric: Name, _ value: Double = 1) {
        guard metric.kind != .histogram, metric.kind == .gauge || value >= 0 else {
            assertionFailure("cannot add \(value) to \(metric.kind) \(metric.name)")
            return
        }
        lock.withLock { values[metric.name, default: 0] += value }
    }

    /// Sets a gauge.
    public func set(_ metric: Name, _ value: Double) {
        guard metric.kind == .gauge else {
            assertionFailure("cannot set \(metric.kind) \(metric.name)")
            return
        }
        lock.withLock { values[metric.name] = value }
    }

    /// Records one observation in a histogram.
    public func observe(_ metric: Name, _ value: Double) {
        guard metric.kind == .histogram else {
            assertionFailure("cannot observe into \(metric.kind) \(metric.name)")
            return
        }
        let slot = metric.buckets.firstIndex { value <= $0 } ?? metric.buckets.count
        lock.withLock {
            histograms[metric.name]?.counts[slot] += 1
            histograms[metric.name]?.sum += value
            histograms[metric.name]?.count += 1
        }
    }

    /// Every metric in the Prometheus text exposition format 0.0.4, in registration order.
    public func render() -> String {
        let (values, histograms) = lock.withLock { (self.values, self.histograms) }
        var out = ""
        for metric in Name.all {
            out += "# HELP \(metric.name) \(Self.escapeHelp(metric.help))\n"
            out += "# TYPE \(metric.name) \(metric.kind.rawValue)\n"
            if metric.kind == .histogram, let h = histograms[metric.name] {
                var cumulative: UInt64 = 0
                for (bound, count) in zip(metric.buckets, h.counts) {
                    cumulative += count
                    out += "\(metric.name)_bucket{le=\"\(Self.format(bound))\"} \(cumulative)\n"
                }
                out += "\(metric.name)_bucket{le=\"+Inf\"} \(h.count)\n"
                out += "\(metric.name)_sum \(Self.format(h.sum))\n"
                out += "\(metric.name)_count \(h.count)\n"
            } else {
                out += "\(metric.name) \(Self.format(values[metric.name] ?? 0))\n"
            }
        }
        return out
    }

    /// Prometheus reads Go float syntax: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

extension Metrics.Name {
    public static let filesPending = Self("crsync_files_pending", .gauge,
                                          "Files waiting to be uploaded (new or changed since their last upload).")
    public static let filesUploaded = Self("crsync_files_uploaded_total", .counter,
                                           "Files uploaded completely since crsync started.")
    public static let filesFailed = Self("crsync_files_failed", .gauge,
                                         "Files whose last upload failed and that wait for a retry or a change.")
    public static let bytesSent = Self("crsync_bytes_sent_total", .counter,
                                       "Request body bytes sent to the server, re-sent chunks included.")
    public static let chunkRetries = Self("crsync_chunk_retries_total", .counter,
                                          "Chunk requests sent again after a failure.")
    public static let sessionsCancelled = Self("crsync_sessions_cancelled_total", .counter,
                                               "Upload sessions cancelled on the server (file changed, stale or lost session).")
    public static let uploadDuration = Self("crsync_upload_duration_seconds", .histogram,
                                            "Time taken to upload one file, from its upload session to its last chunk, in seconds.",
                                            buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800])
    public static let up = Self("crsync_up", .gauge, "1 while crsync is running.")

    /// Every metric crsync exports, in the order a scrape lists them.
    public static let all: [Self] = [filesPending, filesUploaded, filesFailed, bytesSent, chunkRetries,
                                     sessionsCancelled, uploadDuration, up]
}
