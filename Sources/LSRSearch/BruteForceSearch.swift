import LSRVectors

/// Exact top-k by scoring every document's forward vector: the baseline exhaustive search is
/// measured against.
struct BruteForceSearch: TypedIndexVisitor {
    unowned let searcher: Searcher
    let query: QueryVector
    let k: Int

    mutating func visit<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit] {
        searcher.heap.reset(capacity: min(k, typed.storage.documentCount))
        guard !query.components.isEmpty, searcher.heap.capacity > 0 else { return [] }
        searcher.loadQuery(query)
        defer { searcher.clearQuery(query) }
        var heap = searcher.heap
        searcher.heap = TopKHeap()
        let q = searcher.dense.baseAddress!
        for d in 0 ..< typed.storage.documentCount {
            let score = typed.score(d, q)
            if score != 0 { heap.offer(score, UInt32(d)) }
        }
        let hits = heap.sortedHits()
        searcher.heap = heap
        return hits
    }
}
