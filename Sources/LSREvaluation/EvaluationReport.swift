import Foundation
import LSRVectors

extension EvaluationResult {
    /// `{"queries": n, "metrics": {...}, "per_query": {"<qid>": {...}}}` (per_query only when asked),
    /// keys sorted.
    public func json(perQuery includePerQuery: Bool) throws -> String {
        var object: [String: Any] = ["queries": queries, "metrics": metrics]
        if includePerQuery { object["per_query"] = perQuery }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// A plain-text table: one row per query when `perQuery` (followed by its text from
    /// `queryTexts`, when given), then the means.
    public func table(perQuery includePerQuery: Bool, queryTexts: [String: String] = [:]) -> String {
        let longestQuery = includePerQuery ? (perQuery.keys.map(\.count).max() ?? 0) : 0
        let width = max(12, "all (\(queries))".count + 2, longestQuery + 2)
        let columns = order.map { max(12, $0.count + 2) }
        func padLeft(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        func row(_ label: String, _ values: [String: Double]) -> String {
            label.padding(toLength: width, withPad: " ", startingAt: 0)
                + zip(order, columns).map { padLeft(String(format: "%.6f", values[$0] ?? 0), $1) }.joined() + "\n"
        }
        var text = "query".padding(toLength: width, withPad: " ", startingAt: 0) + zip(order, columns).map { padLeft($0, $1) }.joined() + "\n"
        if includePerQuery {
            for query in perQuery.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                text += row(query, perQuery[query]!)
                if let queryText = queryTexts[query] { text.insert(contentsOf: "  " + queryText.prefix(80), at: text.index(before: text.endIndex)) }
            }
        }
        text += row("all (\(queries))", metrics)
        return text
    }
}
