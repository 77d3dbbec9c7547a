import LSRVectors

/// Exact top-k, term at a time over every posting of every query term (blocked and tail
/// regions), then the candidates near the k-th accumulated score rescored from the forward
/// index, so scores match skip-ahead search bit for bit.
struct ExhaustiveSearch<Work: SearchWork>: TypedIndexVisitor {
    unowned let searcher: Searcher
    let query: QueryVector
    let k: Int
    var work: Work

    mutating func visit<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit] {
        let storage = typed.storage
        searcher.heap.reset(capacity: min(k, storage.documentCount))
        guard !query.components.isEmpty, searcher.heap.capacity > 0 else { return [] }
        let scores = searcher.accumulators
        searcher.loadQuery(query)
        defer { searcher.clearQuery(query) }
        let documentCount = UInt32(storage.documentCount)
        var heap = searcher.heap
        searcher.heap = TopKHeap()
        // The visited bits record which documents were touched: no per-posting bookkeeping
        // beyond one OR.
        let seen = searcher.visited
        for (c, v) in zip(query.components, query.values) where Int(c) < storage.dimension {
            let t = Int(c)
            let blocked = storage.blockedPostings(ofList: t), tail = storage.tail(ofList: t)
            work.accumulate(postings: blocked.count + tail.count)
            typed.accumulate(blocked, weight: v, into: scores.baseAddress!, seen: seen.baseAddress!, limit: documentCount)
            typed.accumulate(tail, weight: v, into: scores.baseAddress!, seen: seen.baseAddress!, limit: documentCount)
        }
        // Candidates: every document within rounding distance of the k-th accumulated score,
        // rescored with the forward index.
        var threshold = -Float.infinity  // the k-th accumulated score once the heap is full
        forEachSetBit(seen) { d in
            work.touchDocument()
            guard scores[d] >= threshold else { return }
            heap.offer(scores[d], UInt32(d))
            if heap.isFull { threshold = heap.threshold }
        }
        let cutoff = heap.isFull ? heap.threshold * (1 - 1e-4) - 1e-6 : -Float.infinity
        heap.reset(capacity: heap.capacity)
        let q = searcher.dense.baseAddress!
        forEachSetBit(seen, clearing: true) { d in
            if scores[d] >= cutoff {
                work.scoreDocument(nonzeros: storage.forward(ofDocument: d).count)
                heap.offer(typed.score(d, q), UInt32(d))
            }
            scores[d] = 0
        }
        work.scanBitset(words: 2 * seen.count)
        let hits = heap.sortedHits()
        searcher.heap = heap
        return hits
    }
}
