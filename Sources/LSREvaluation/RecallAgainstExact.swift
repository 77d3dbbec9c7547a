import LSRVectors

/// Recall of approximate results against the exact top-k (Seismic's "accuracy@k").
///
/// Per query: |approximate top-k ∩ exact top-k| / min(k, |exact top-k|), and 1 when the exact
/// top-k is empty (nothing could be found). The mean is over all queries.
public enum RecallAgainstExact {
    /// Recall of one query.
    /// - Throws: `LSRError.invalidArgument` when `k` < 1.
    public static func recall<T: Hashable>(approximate: [T], exact: [T], k: Int) throws -> Double {
        guard k >= 1 else { throw LSRError(.invalidArgument, "k must be ≥ 1, got \(k)", field: "k") }
        let truth = Set(exact.prefix(k))
        guard !truth.isEmpty else { return 1 }
        let found = approximate.prefix(k).reduce(0) { $0 + (truth.contains($1) ? 1 : 0) }
        return Double(found) / Double(min(k, truth.count))
    }

    /// Mean recall over parallel lists of results.
    /// - Throws: `LSRError.invalidArgument` when `k` < 1 or the lists differ in length.
    public static func meanRecall<T: Hashable>(approximate: [[T]], exact: [[T]], k: Int) throws -> Double {
        guard approximate.count == exact.count else {
            throw LSRError(.invalidArgument, "\(approximate.count) result lists against \(exact.count) exact ones", field: "results")
        }
        guard k >= 1 else { throw LSRError(.invalidArgument, "k must be ≥ 1, got \(k)", field: "k") }
        guard !exact.isEmpty else { return 1 }
        let total = try zip(approximate, exact).reduce(0.0) { $0 + (try recall(approximate: $1.0, exact: $1.1, k: k)) }
        return total / Double(exact.count)
    }
}
