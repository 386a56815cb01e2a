import Foundation

/// One line of the bench's table: what was measured, the goal from issue 11, the figure, and the plain
/// client's figure where there is one. The bench never judges: `goal` is printed beside `measured`.
struct Row {
    var name: String
    var goal: String
    var measured: String
    var baseline: String = ""
    /// How it was measured, or why it could not be.
    var note: String = ""
    /// The figures behind `measured`, by name, for the JSON output.
    var values: [String: Double] = [:]
}

final class Report {
    private(set) var rows: [Row] = []
    let started = Date()

    /// Prints the row at once (a long run shows progress) and keeps it for the table and the JSON.
    func add(_ row: Row) {
        rows.append(row)
        print("· \(row.name): \(row.measured)" + (row.baseline.isEmpty ? "" : " | baseline \(row.baseline)") + "  [goal \(row.goal)]")
        fflush(stdout)
    }

    func printTable() {
        let headers = ["scenario", "goal", "measured", "baseline"]
        let cells = rows.map { [$0.name, $0.goal, $0.measured, $0.baseline] }
        var widths = headers.map(\.count)
        for row in cells { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: " | ") + " |"
        }
        print("")
        print(line(headers))
        print("|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|")
        for row in cells { print(line(row)) }
        let notes = rows.filter { !$0.note.isEmpty }
        if !notes.isEmpty {
            print("")
            for row in notes { print("- \(row.name): \(row.note)") }
        }
        print(String(format: "\n(bench ran %.0f s)", Date().timeIntervalSince(started)))
    }

    func writeJSON(to path: String, mode: String) throws {
        var uname = utsname()
        Foundation.uname(&uname)
        let machine = withUnsafeBytes(of: uname.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let object: [String: Any] = [
            "mode": mode,
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "machine": machine,
            "started": ISO8601DateFormatter().string(from: started),
            "seconds": Date().timeIntervalSince(started),
            "rows": rows.map { row in
                ["name": row.name, "goal": row.goal, "measured": row.measured, "baseline": row.baseline, "note": row.note,
                 "values": row.values] as [String: Any]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: path))
    }
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func fmt(_ value: Double, _ decimals: Int = 0) -> String {
    let text = String(format: "%.\(decimals)f", value)
    guard decimals == 0, abs(value) >= 10_000 else { return text }
    // 200000 → 200,000: figures the README quotes.
    var digits = Array(text)
    var i = digits.count - 3
    while i > (digits.first == "-" ? 1 : 0) {
        digits.insert(",", at: i)
        i -= 3
    }
    return String(digits)
}

func mib(_ kib: Int) -> String { fmt(Double(kib) / 1024, 1) + " MiB" }
