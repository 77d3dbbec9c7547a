import LSRVectors

/// Scores a run against qrels with trec_eval's definitions.
public struct Evaluator: Sendable {
    /// The metrics to compute; the result keys them by `description`, in this order.
    public var metrics: [Metric]
    /// Drop results whose document id equals the query id (BEIR's evaluator does; default on).
    public var ignoreIdenticalIDs: Bool
    /// Average over every qrels query, counting those missing from the run as 0 (`trec_eval -c`);
    /// otherwise over the queries present in both run and qrels.
    public var complete: Bool

    /// An evaluator of `metrics`; see `ignoreIdenticalIDs` and `complete` for the defaults.
    public init(metrics: [Metric], ignoreIdenticalIDs: Bool = true, complete: Bool = false) {
        self.metrics = metrics
        self.ignoreIdenticalIDs = ignoreIdenticalIDs
        self.complete = complete
    }

    /// The metrics of `run`, per query and averaged.
    public func evaluate(_ run: Run, qrels: Qrels) -> EvaluationResult {
        var perQuery: [String: [String: Double]] = [:]
        let queries = complete ? Array(qrels.judgments.keys) : qrels.judgments.keys.filter { run.results[$0] != nil }
        for query in queries {
            let judgments = qrels.judgments[query]!
            var ranking = run.ranking(of: query)
            if ignoreIdenticalIDs { ranking.removeAll { $0 == query } }
            var values: [String: Double] = [:]
            for metric in metrics { values[metric.description] = metric.value(ranking: ranking, judgments: judgments) }
            perQuery[query] = values
        }
        var means: [String: Double] = [:]
        for metric in metrics {
            let name = metric.description
            // Sum in sorted query order so the mean does not depend on hashing.
            let total = perQuery.keys.sorted().reduce(0.0) { $0 + perQuery[$1]![name]! }
            means[name] = perQuery.isEmpty ? 0 : total / Double(perQuery.count)
        }
        return EvaluationResult(queries: perQuery.count, metrics: means, perQuery: perQuery, order: metrics.map(\.description))
    }
}

/// Averaged and per-query metric values.
public struct EvaluationResult: Sendable, Equatable {
    /// Number of queries averaged over.
    public var queries: Int
    /// Mean value by metric name.
    public var metrics: [String: Double]
    /// Values by metric name, by query id.
    public var perQuery: [String: [String: Double]]
    /// Metric names in the order they were asked for.
    public var order: [String]

    /// A result from its parts, as `Evaluator.evaluate(_:qrels:)` produces it.
    public init(queries: Int, metrics: [String: Double], perQuery: [String: [String: Double]], order: [String]) {
        self.queries = queries
        self.metrics = metrics
        self.perQuery = perQuery
        self.order = order
    }
}
