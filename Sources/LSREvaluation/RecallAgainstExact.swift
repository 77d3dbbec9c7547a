/// Recall of approximate results against the exact top-k (Seismic's "accuracy@k").
///
/// Per query: |approximate top-k ∩ exact top-k| / min(k, |exact top-k|), and 1 when the exact
/// top-k is empty (nothing could be found). The mean is over all queries.
public enum RecallAgainstExact {
    /// Recall of one query.
    public static func recall<T: Hashable>(approximate: [T], exact: [T], k: Int) -> Double {
        let truth = Set(exact.prefix(k))
        guard !truth.isEmpty else { return 1 }
        let found = approximate.prefix(k).reduce(0) { $0 + (truth.contains($1) ? 1 : 0) }
        return Double(found) / Double(min(k, truth.count))
    }

    /// Mean recall over parallel lists of results.
    /// - Precondition: `approximate.count == exact.count`.
    public static func meanRecall<T: Hashable>(approximate: [[T]], exact: [[T]], k: Int) -> Double {
        precondition(approximate.count == exact.count, "result lists differ in length")
        guard !exact.isEmpty else { return 1 }
        let total = zip(approximate, exact).reduce(0.0) { $0 + recall(approximate: $1.0, exact: $1.1, k: k) }
        return total / Double(exact.count)
    }
}
