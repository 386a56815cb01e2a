import Foundation
import XCTest
@testable import SyncEngine

/// Just enough of the Prometheus text format 0.0.4 to check what we render, strictly: every sample belongs
/// to a family declared with HELP and TYPE first, values are Go floats, and a histogram's buckets are
/// cumulative, ascending and end in `+Inf` equal to `_count`.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    struct Family {
        var type: String
        var help: String
        var samples: [Sample] = []
    }
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var families: [String: Family] = [:]
    private(set) var order: [String] = []

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Invalid(description: "text does not end in a newline") }
        var helps: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) {
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " ") else { throw Invalid(description: "HELP without text: \(line)") }
                helps[String(rest[..<space])] = String(rest[rest.index(after: space)...])
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ").map(String.init)
                guard parts.count == 2, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else {
                    throw Invalid(description: "bad TYPE line: \(line)")
                }
                guard families[parts[0]] == nil else { throw Invalid(description: "TYPE declared twice: \(line)") }
                guard let help = helps[parts[0]] else { throw Invalid(description: "TYPE before HELP: \(line)") }
                families[parts[0]] = Family(type: parts[1], help: help)
                order.append(parts[0])
            } else if line.hasPrefix("#") || line.isEmpty {
                throw Invalid(description: "unexpected line: '\(line)'")
            } else {
                let sample = try Self.parseSample(line)
                guard let family = order.last, let type = families[family]?.type,
                      Self.belongs(sample.name, to: family, type: type) else {
                    throw Invalid(description: "sample outside its declared family: \(line)")
                }
                families[family]!.samples.append(sample)
            }
        }
        for name in order where families[name]!.type == "histogram" {
            try Self.checkHistogram(name, families[name]!.samples)
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        families.values.lazy.flatMap(\.samples).first { $0.name == name && $0.labels == labels }?.value
    }

    private static func belongs(_ sample: String, to family: String, type: String) -> Bool {
        switch type {
        case "histogram": return [family + "_bucket", family + "_sum", family + "_count"].contains(sample)
        default: return sample == family
        }
    }

    private static func parseSample(_ line: String) throws -> Sample {
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
        let name = String(line[..<nameEnd])
        guard name.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression) != nil else {
            throw Invalid(description: "bad metric name: \(line)")
        }
        var labels: [String: String] = [:]
        var rest = line[nameEnd...]
        if rest.hasPrefix("{") {
            rest = rest.dropFirst()
            while !rest.hasPrefix("}") {
                guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)...].hasPrefix("\"") else {
                    throw Invalid(description: "bad labels: \(line)")
                }
                let key = String(rest[..<eq])
                rest = rest[rest.index(eq, offsetBy: 2)...]
                var value = ""
                while let c = rest.first, c != "\"" {
                    rest = rest.dropFirst()
                    if c == "\\", let escaped = rest.first {
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(c)
                    }
                }
                guard rest.hasPrefix("\"") else { throw Invalid(description: "unterminated label value: \(line)") }
                rest = rest.dropFirst()
                labels[key] = value
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        let fields = rest.split(separator: " ")
        guard rest.hasPrefix(" "), (1...2).contains(fields.count), let value = goFloat(String(fields[0])) else {
            throw Invalid(description: "bad value: \(line)")
        }
        return Sample(name: name, labels: labels, value: value)
    }

    static func goFloat(_ text: String) -> Double? {
        switch text {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard text.range(of: "^[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?$", options: .regularExpression) != nil else { return nil }
            return Double(text)
        }
    }

    private static func checkHistogram(_ name: String, _ samples: [Sample]) throws {
        let buckets = samples.filter { $0.name == name + "_bucket" }
        guard let last = buckets.last, last.labels["le"] == "+Inf" else {
            throw Invalid(description: "\(name) has no +Inf bucket")
        }
        var previous: (bound: Double, count: Double) = (-.infinity, 0)
        for bucket in buckets {
            guard let le = bucket.labels["le"], let bound = goFloat(le), bucket.labels.count == 1 else {
                throw Invalid(description: "\(name) bucket without a valid le")
            }
            guard bound > previous.bound, bucket.value >= previous.count else {
                throw Invalid(description: "\(name) buckets not ascending and cumulative at le=\(le)")
            }
            previous = (bound, bucket.value)
        }
        guard let count = samples.first(where: { $0.name == name + "_count" })?.value, count == last.value else {
            throw Invalid(description: "\(name)_count missing or not equal to the +Inf bucket")
        }
        guard samples.contains(where: { $0.name == name + "_sum" }) else { throw Invalid(description: "\(name)_sum missing") }
    }
}

final class MetricsTests: XCTestCase {
    func testEveryCrsyncMetricIsDeclaredFromTheStart() throws {
        let text = try PrometheusText(Metrics().render())
        XCTAssertEqual(text.order, ["crsync_files_pending", "crsync_files_uploaded_total", "crsync_files_failed",
                                    "crsync_bytes_sent_total", "crsync_chunk_retries_total", "crsync_sessions_cancelled_total",
                                    "crsync_upload_duration_seconds", "crsync_up"])
        XCTAssertEqual(text.families["crsync_files_pending"]?.type, "gauge")
        XCTAssertEqual(text.families["crsync_files_uploaded_total"]?.type, "counter")
        XCTAssertEqual(text.families["crsync_files_failed"]?.type, "gauge")
        XCTAssertEqual(text.families["crsync_bytes_sent_total"]?.type, "counter")
        XCTAssertEqual(text.families["crsync_chunk_retries_total"]?.type, "counter")
        XCTAssertEqual(text.families["crsync_sessions_cancelled_total"]?.type, "counter")
        XCTAssertEqual(text.families["crsync_upload_duration_seconds"]?.type, "histogram")
        XCTAssertEqual(text.families["crsync_up"]?.type, "gauge")
        XCTAssertEqual(text.value("crsync_up"), 1)
        XCTAssertEqual(text.value("crsync_files_uploaded_total"), 0)
        XCTAssertEqual(text.value("crsync_upload_duration_seconds_count"), 0)
    }

    func testHistogramBucketsAreCumulativeAndEndInInfEqualToCount() throws {
        let metrics = Metrics()
        for seconds in [0.05, 0.1, 0.3, 2, 2, 100, 5000] { metrics.observe(.uploadDuration, seconds) }
        let text = try PrometheusText(metrics.render())
        let expected: [(String, Double)] = [("0.1", 2), ("0.5", 3), ("1", 3), ("5", 5), ("15", 5), ("60", 5),
                                            ("300", 6), ("1800", 6), ("+Inf", 7)]
        for (le, count) in expected {
            XCTAssertEqual(text.value("crsync_upload_duration_seconds_bucket", ["le": le]), count, "le=\(le)")
        }
        XCTAssertEqual(text.value("crsync_upload_duration_seconds_count"), 7)
        XCTAssertEqual(text.value("crsync_upload_duration_seconds_sum") ?? 0, 5104.45, accuracy: 1e-9)
    }

    func testCountersAddUpUnderConcurrentThreads() throws {
        let metrics = Metrics()
        let threads = 8, rounds = 10_000
        let done = DispatchGroup()
        for _ in 0..<threads {
            done.enter()
            Thread {
                for round in 0..<rounds {
                    metrics.add(.bytesSent, 65536)
                    metrics.add(.filesUploaded)
                    metrics.observe(.uploadDuration, 0.2)
                    if round % 100 == 0 { _ = metrics.render() }  // scrapes while workers count
                }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success)
        let text = try PrometheusText(metrics.render())
        XCTAssertEqual(text.value("crsync_bytes_sent_total"), Double(threads * rounds * 65536))
        XCTAssertEqual(text.value("crsync_files_uploaded_total"), Double(threads * rounds))
        XCTAssertEqual(text.value("crsync_upload_duration_seconds_bucket", ["le": "0.5"]), Double(threads * rounds))
    }

    func testGaugesAreSetAndMoved() throws {
        let metrics = Metrics()
        metrics.set(.filesPending, 12)
        metrics.add(.filesPending, -5)
        metrics.set(.filesFailed, 2)
        let text = try PrometheusText(metrics.render())
        XCTAssertEqual(text.value("crsync_files_pending"), 7)
        XCTAssertEqual(text.value("crsync_files_failed"), 2)
    }

    func testValuesAreWrittenAsGoFloats() {
        XCTAssertEqual(Metrics.format(3), "3")
        XCTAssertEqual(Metrics.format(-2), "-2")
        XCTAssertEqual(Metrics.format(0.25), "0.25")
        XCTAssertEqual(Metrics.format(.infinity), "+Inf")
        XCTAssertEqual(Metrics.format(-.infinity), "-Inf")
        XCTAssertEqual(Metrics.format(.nan), "NaN")
        for value in [1e20, 1.5e-7, 12345.678] {
            XCTAssertEqual(PrometheusText.goFloat(Metrics.format(value)), value)
        }
    }

    func testTheParserRejectsWhatPrometheusWould() {
        XCTAssertThrowsError(try PrometheusText("foo 1\n"), "a sample without TYPE")
        XCTAssertThrowsError(try PrometheusText("# HELP a x\n# TYPE a counter\nb 1\n"), "a sample of another family")
        XCTAssertThrowsError(try PrometheusText("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
                             "buckets going down")
        XCTAssertThrowsError(try PrometheusText("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
                             "no +Inf bucket")
        XCTAssertThrowsError(try PrometheusText("# HELP a x\n# TYPE a gauge\na one\n"), "a value that is not a number")
    }
}
