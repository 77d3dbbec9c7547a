import LSREvaluation
import LSRSearch

extension Run {
    /// The run of search results: hits per query (parallel to `queryIDs`), documents named by
    /// their external ids from the index's document store.
    /// - Throws: `LSRError.documentStore` when a document has no stored id.
    public init(hits: [[SearchHit]], queryIDs: [String], index: Index) throws {
        var results: [String: [(document: String, score: Double)]] = [:]
        for (q, queryHits) in hits.enumerated() {
            results[queryIDs[q]] = try queryHits.map { (try index.documents.document(at: $0.document).id, Double($0.score)) }
        }
        self.init(results: results)
    }
}
