import Foundation

/// Writes a sweep's results: `sweep.json`, `sweep.md` (a table) and `sweep.svg` (recall against
/// latency on a log scale, frontier highlighted).
package struct SweepReport: Sendable {
    public var points: [SweepPoint]
    public var k: Int
    /// Where the numbers come from: machine, lsr version and commit, index parameters, data
    /// files and sizes (free-form name → value).
    public var provenance: [String: String]

    public init(points: [SweepPoint], k: Int, provenance: [String: String]) {
        self.points = points
        self.k = k
        self.provenance = provenance
    }

    /// Writes the three files into `directory` (created if needed).
    public func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        struct Document: Encodable { var k: Int; var provenance: [String: String]; var points: [SweepPoint] }
        try encoder.encode(Document(k: k, provenance: provenance, points: points))
            .write(to: URL(fileURLWithPath: directory + "/sweep.json"), options: .atomic)
        try Data(markdown().utf8).write(to: URL(fileURLWithPath: directory + "/sweep.md"), options: .atomic)
        try Data(svg().utf8).write(to: URL(fileURLWithPath: directory + "/sweep.svg"), options: .atomic)
    }

    /// The points as a Markdown table, fastest first, frontier points starred.
    public func markdown() -> String {
        var text = "# Sweep: recall@\(k) against exact search vs. latency\n\n"
        for (name, value) in provenance.sorted(by: { $0.key < $1.key }) { text += "- \(name): \(value)\n" }
        let hasNDCG = points.contains { $0.ndcg10 != nil }
        let hybrid = points.contains { $0.candidates != nil }
        if hybrid { text += "\nHybrid points: recall@\(k) is against the same fusion over exact sparse candidates.\n" }
        text += "\n|" + (hybrid ? " alpha | candidates |" : "") + " query_cut | heap_factor | mean µs | p50 µs | p99 µs | recall@\(k) |"
            + (hasNDCG ? " nDCG@10 |" : "") + " frontier |\n"
        text += (hybrid ? "|---|---" : "") + "|---|---|---|---|---|---|" + (hasNDCG ? "---|" : "") + "---|\n"
        for p in points.sorted(by: { $0.meanMicroseconds < $1.meanMicroseconds }) {
            if hybrid { text += "| " + (p.alpha.map { "\($0)" } ?? "—") + " | " + (p.candidates.map { "\($0)" } ?? "—") + " " }
            text += "| \(p.queryCut) | \(p.heapFactor) | " + String(format: "%.1f | %.1f | %.1f | %.4f |", p.meanMicroseconds, p.p50Microseconds, p.p99Microseconds, p.recall)
            if hasNDCG { text += p.ndcg10.map { String(format: " %.4f |", $0) } ?? " |" }
            text += p.onFrontier ? " ★ |\n" : " |\n"
        }
        return text
    }

    /// Recall (y, linear) against mean latency (x, log scale); grey points, frontier in red.
    public func svg(width: Double = 720, height: Double = 480) -> String {
        let left = 70.0, right = 20.0, top = 40.0, bottom = 55.0
        let latencies = points.map(\.meanMicroseconds).filter { $0 > 0 }
        let lowX = log10(max(1e-3, (latencies.min() ?? 1) / 1.25)), highX = log10(max(1e-2, (latencies.max() ?? 10) * 1.25))
        let lowY = max(0, ((points.map(\.recall).min() ?? 0) - 0.02)), highY = 1.0
        func x(_ us: Double) -> Double { left + (log10(max(us, 1e-3)) - lowX) / max(1e-9, highX - lowX) * (width - left - right) }
        func y(_ r: Double) -> Double { top + (highY - r) / max(1e-9, highY - lowY) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">recall@\(k) vs. mean latency (log scale); Pareto frontier in red</text>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - right))\" y2=\"\(f(height - bottom))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(height - bottom))\" stroke=\"black\"/>\n"
        var decade = floor(lowX)
        while decade <= highX {
            for m in [1.0, 2.0, 5.0] {
                let v = m * pow(10, decade)
                let lv = log10(v)
                guard lv >= lowX && lv <= highX else { continue }
                s += "<line x1=\"\(f(x(v)))\" y1=\"\(f(top))\" x2=\"\(f(x(v)))\" y2=\"\(f(height - bottom))\" stroke=\"#eee\"/>\n"
                s += "<text x=\"\(f(x(v)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(v >= 1 ? String(Int(v)) : String(format: "%g", v))</text>\n"
            }
            decade += 1
        }
        s += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 12))\" text-anchor=\"middle\">mean latency per query (µs)</text>\n"
        let steps = 5
        for i in 0 ... steps {
            let r = lowY + (highY - lowY) * Double(i) / Double(steps)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(r)))\" x2=\"\(f(width - right))\" y2=\"\(f(y(r)))\" stroke=\"#eee\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(r) + 4))\" text-anchor=\"end\">\(String(format: "%.3f", r))</text>\n"
        }
        s += "<text transform=\"translate(16,\(f((top + height - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">recall@\(k) vs exact</text>\n"
        let frontier = points.filter(\.onFrontier).sorted { $0.meanMicroseconds < $1.meanMicroseconds }
        if frontier.count > 1 {
            s += "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"" + frontier.map { "\(f(x($0.meanMicroseconds))),\(f(y($0.recall)))" }.joined(separator: " ") + "\"/>\n"
        }
        for p in points {
            let color = p.onFrontier ? "#d62728" : "#888"
            s += "<circle cx=\"\(f(x(p.meanMicroseconds)))\" cy=\"\(f(y(p.recall)))\" r=\"4\" fill=\"\(color)\"><title>query_cut \(p.queryCut), heap_factor \(p.heapFactor): \(String(format: "%.1f", p.meanMicroseconds)) µs, recall \(String(format: "%.4f", p.recall))</title></circle>\n"
            if p.onFrontier {
                s += "<text x=\"\(f(x(p.meanMicroseconds) + 6))\" y=\"\(f(y(p.recall) - 6))\" font-size=\"10\" fill=\"#d62728\">\(p.queryCut)/\(p.heapFactor)</text>\n"
            }
        }
        return s + "</svg>\n"
    }
}
