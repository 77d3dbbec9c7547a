import Foundation
import LSRVectors

/// A relevance metric with trec_eval's definition (linear gains, relevance level 1).
public enum Metric: Hashable, Sendable, CustomStringConvertible {
    /// nDCG over the top k: Σ rel / log2(rank + 1), divided by the same over the ideal ranking of
    /// the judged documents (trec_eval `ndcg_cut_k`).
    case ndcg(Int)
    /// Relevant documents in the top k / relevant documents judged (`recall_k`).
    case recall(Int)
    /// Relevant documents in the top k / k (`P_k`).
    case precision(Int)
    /// Σ over relevant documents at rank r ≤ k of precision@r, / relevant judged (`map_cut_k`).
    case averagePrecision(Int)
    /// 1 / rank of the first relevant document, 0 if none (`recip_rank`).
    case reciprocalRank
    /// Reciprocal rank counting only the top k (BEIR's MRR@k).
    case reciprocalRankAt(Int)

    /// `ndcg@K`, `recall@K`, `p@K`, `map@K`, `mrr`, `mrr@K`.
    public var description: String {
        switch self {
        case let .ndcg(k): "ndcg@\(k)"
        case let .recall(k): "recall@\(k)"
        case let .precision(k): "p@\(k)"
        case let .averagePrecision(k): "map@\(k)"
        case .reciprocalRank: "mrr"
        case let .reciprocalRankAt(k): "mrr@\(k)"
        }
    }

    /// Parses lsr's names (`ndcg@10`, `recall@100`, `p@10`, `map@100`, `mrr`, `mrr@10`) and
    /// trec_eval's (`ndcg_cut_10`, `recall_100`, `P_10`, `map_cut_100`, `recip_rank`).
    /// - Throws: `LSRError.invalidArgument` for an unknown name or a cutoff below 1.
    public init(parsing name: String) throws {
        let lower = name.lowercased()
        if lower == "mrr" || lower == "recip_rank" {
            self = .reciprocalRank
            return
        }
        let forms: [(String, (Int) -> Metric)] = [
            ("ndcg@", Metric.ndcg), ("ndcg_cut_", Metric.ndcg), ("recall@", Metric.recall), ("recall_", Metric.recall),
            ("p@", Metric.precision), ("p_", Metric.precision), ("map@", Metric.averagePrecision),
            ("map_cut_", Metric.averagePrecision), ("mrr@", Metric.reciprocalRankAt),
        ]
        for (prefix, make) in forms where lower.hasPrefix(prefix) {
            guard let k = Int(lower.dropFirst(prefix.count)), k >= 1 else { break }
            self = make(k)
            return
        }
        throw LSRError(
            .invalidArgument, "unknown metric '\(name)'; use ndcg@K, recall@K, p@K, map@K, mrr or mrr@K (K ≥ 1)", field: "metrics")
    }

    /// The metric's value for one query.
    /// - Parameters:
    ///   - ranking: retrieved document ids, best first.
    ///   - judgments: relevance grade by document id.
    func value(ranking: [String], judgments: [String: Int]) -> Double {
        let relevantCount = judgments.values.filter { $0 >= 1 }.count
        func grade(_ i: Int) -> Int { judgments[ranking[i]] ?? 0 }
        switch self {
        case let .ndcg(k):
            var dcg = 0.0
            for i in 0 ..< min(k, ranking.count) where grade(i) > 0 { dcg += Double(grade(i)) / log2(Double(i + 2)) }
            let ideal = judgments.values.filter { $0 > 0 }.sorted(by: >).prefix(k)
            var idcg = 0.0
            for (i, g) in ideal.enumerated() { idcg += Double(g) / log2(Double(i + 2)) }
            return idcg > 0 ? dcg / idcg : 0
        case let .recall(k):
            guard relevantCount > 0 else { return 0 }
            return Double((0 ..< min(k, ranking.count)).filter { grade($0) >= 1 }.count) / Double(relevantCount)
        case let .precision(k):
            return Double((0 ..< min(k, ranking.count)).filter { grade($0) >= 1 }.count) / Double(k)
        case let .averagePrecision(k):
            guard relevantCount > 0 else { return 0 }
            var found = 0, sum = 0.0
            for i in 0 ..< min(k, ranking.count) where grade(i) >= 1 {
                found += 1
                sum += Double(found) / Double(i + 1)
            }
            return sum / Double(relevantCount)
        case .reciprocalRank:
            return (0 ..< ranking.count).first { grade($0) >= 1 }.map { 1 / Double($0 + 1) } ?? 0
        case let .reciprocalRankAt(k):
            return (0 ..< min(k, ranking.count)).first { grade($0) >= 1 }.map { 1 / Double($0 + 1) } ?? 0
        }
    }
}
