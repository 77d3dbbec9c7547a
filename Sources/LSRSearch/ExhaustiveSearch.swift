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
        // rescored with the forward index. One pass over the touched documents collects those
        // within rounding distance of the running k-th score (a superset: it only rises) and
        // clears the accumulators and the visited bits behind it.
        var candidates = searcher.candidates
        searcher.candidates = []  // unshared, so appending does not copy
        candidates.removeAll(keepingCapacity: true)
        var cutoff = -Float.infinity
        forEachSetBit(seen, clearing: true) { d in
            work.touchDocument()
            let score = scores[d]
            scores[d] = 0
            guard score >= cutoff else { return }
            candidates.append(Candidate(document: UInt32(d), score: score))
            heap.offer(score, UInt32(d))
            if heap.isFull { cutoff = Self.rescoringCutoff(heap.threshold) }
        }
        heap.reset(capacity: heap.capacity)
        let q = searcher.dense.baseAddress!
        for candidate in candidates where candidate.score >= cutoff {
            let d = Int(candidate.document)
            work.scoreDocument(nonzeros: storage.forward(ofDocument: d).count)
            heap.offer(typed.score(d, q), candidate.document)
        }
        searcher.candidates = candidates
        work.scanBitset(words: seen.count)
        let hits = heap.sortedHits()
        searcher.heap = heap
        return hits
    }

    /// The lowest accumulated score that may still reach the top k once rescored: the
    /// accumulated and the rescored scores of a document differ by rounding only.
    @inline(__always)
    static func rescoringCutoff(_ kthAccumulated: Float) -> Float { kthAccumulated * (1 - 1e-4) - 1e-6 }
}

/// A document exhaustive search may rescore, with its accumulated score.
struct Candidate {
    var document: UInt32
    var score: Float
}
