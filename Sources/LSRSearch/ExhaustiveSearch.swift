import CLSRKernels
import LSRVectors

/// Exact top-k, term at a time, then the candidates near the k-th accumulated score rescored
/// from the forward index, so scores match skip-ahead search bit for bit.
///
/// Every blocked posting of every query term is accumulated. A list's tail (the postings static
/// pruning left out, lighter than its blocked ones) is accumulated too unless it can be left
/// out safely, max-score style: with the index's bound on each tail's weights
/// (`list.tailmax`), a tail adds at most `query weight × bound` to any document. Once the
/// blocked postings are in, the k best accumulated documents are rescored; the k-th of those
/// scores, `known`, is at most the final k-th score. Tails are left out in order of least bound
/// per posting, each one whose bound still fits in ``leftOutShare`` × `known` less the bounds
/// already left out (first fit), so a document
/// none of the read postings touched scores below `known` and cannot enter the top k; a touched
/// one is a candidate if its accumulated score plus the left-out bounds reaches the k-th score.
/// Candidates are rescored: the results are those of reading every posting.
struct ExhaustiveSearch<Work: SearchWork>: TypedIndexVisitor {
    unowned let searcher: Searcher
    let query: QueryVector
    let k: Int
    var work: Work
    /// Postings accumulated so far by this search.
    private var accumulated = 0

    init(searcher: Searcher, query: QueryVector, k: Int, work: Work) {
        self.searcher = searcher
        self.query = query
        self.k = k
        self.work = work
    }

    /// How much of the k-th score the left-out tails may add up to. Higher leaves out more
    /// postings but rescores more candidates. Set from exploratory runs on 2,000 gcide queries
    /// (0.25–0.4 even within noise, 0.1 and 0.5 slower; no committed command reruns them), then
    /// measured at 0.3 on gcide and on a 250,000-document collection:
    /// `Evaluation/reports/exact-tails-{gcide,syn250k}-2026-12-03.json` (0.45× and 0.49× the time
    /// of reading every tail).
    static var leftOutShare: Float { 0.3 }

    mutating func visit<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit] {
        let storage = typed.storage
        searcher.heap.reset(capacity: min(k, storage.documentCount))
        guard !query.components.isEmpty, searcher.heap.capacity > 0 else { return [] }
        searcher.loadQuery(query)
        defer { searcher.clearQuery(query) }
        var heap = searcher.heap
        searcher.heap = TopKHeap()
        var tails = searcher.boundedTails
        searcher.boundedTails = []  // unshared, so appending does not copy
        tails.removeAll(keepingCapacity: true)

        // Blocked postings, and the tails without a bound; the bounded tails wait. Without
        // blocked postings (an index without summaries) no k-th score is known early: every
        // tail is read.
        let boundsUsable = storage.blockedPostingCount > 0
        for (c, v) in zip(query.components, query.values) where Int(c) < storage.dimension {
            let t = Int(c)
            accumulate(storage.blockedPostings(ofList: t), weight: v, typed)
            let tail = storage.tail(ofList: t)
            if tail.isEmpty { continue }
            if boundsUsable, let bound = storage.tailBound(ofList: t), (v * bound).isFinite {
                tails.append(BoundedTail(postings: tail, weight: v, bound: v * bound))
            } else {
                accumulate(tail, weight: v, typed)
            }
        }
        var leftOut: Float = 0
        var known = -Float.infinity
        if !tails.isEmpty {
            known = kthScoreLowerBound(typed, &heap)
            // Left out only when k documents score above 0, so no document whose score would be
            // 0 can matter.
            var allowance = known > 0 ? Self.leftOutShare * known : -1
            tails.sort { $0.bound * Float($1.postings.count) < $1.bound * Float($0.postings.count) }
            for tail in tails {
                if tail.bound <= allowance {
                    allowance -= tail.bound
                    leftOut += tail.bound
                } else {
                    accumulate(tail.postings, weight: tail.weight, typed)
                }
            }
        }
        searcher.boundedTails = tails
        let hits = rescoreCandidates(typed, &heap, known: known, leftOut: leftOut)
        searcher.heap = heap
        return hits
    }

    @inline(__always)
    private mutating func accumulate<C, W>(_ postings: Range<Int>, weight: Float, _ typed: TypedIndex<C, W>) {
        work.accumulate(postings: postings.count)
        accumulated += postings.count
        typed.accumulate(
            postings, weight: weight, into: searcher.accumulators.baseAddress!, seen: searcher.visited.baseAddress!,
            limit: UInt32(typed.storage.documentCount))
    }

    /// The k-th best score among the k best accumulated documents, rescored: at most the final
    /// k-th score (scores only grow). −∞ when fewer than k documents have a positive
    /// accumulated score (or, with the visited bits, were touched).
    private mutating func kthScoreLowerBound<C, W>(_ typed: TypedIndex<C, W>, _ heap: inout TopKHeap) -> Float {
        let scores = searcher.accumulators
        if scansScores {
            // Only positive scores: a lower bound needs k documents, not every touched one.
            forEachScore(above: { heap.isFull ? heap.threshold : 0 }) { d in heap.offer(scores[d], UInt32(d)) }
        } else {
            forEachSetBit(searcher.visited) { d in
                work.touchDocument()
                heap.offer(scores[d], UInt32(d))
            }
            work.scanBitset(words: searcher.visited.count)
        }
        defer { heap.reset(capacity: heap.capacity) }
        guard heap.isFull else { return -.infinity }
        var kth = Float.infinity
        for d in heap.documents {
            work.scoreDocument(nonzeros: typed.storage.forward(ofDocument: Int(d)).count)
            let score = typed.score(Int(d), searcher.dense.baseAddress!)
            guard score.isFinite else { return -.infinity }  // only in a damaged file
            kth = min(kth, score)
        }
        return kth
    }

    /// Collects the touched documents that may reach the top k (accumulated score plus
    /// `leftOut` within rounding distance of the k-th score, which is at least `known` and at
    /// least the running k-th accumulated score: a superset, as both only rise), clearing the
    /// accumulators and the visited bits; rescores them from the forward index.
    private mutating func rescoreCandidates<C, W>(
        _ typed: TypedIndex<C, W>, _ heap: inout TopKHeap, known: Float, leftOut: Float
    ) -> [SearchHit] {
        let scores = searcher.accumulators
        var candidates = searcher.candidates
        searcher.candidates = []  // unshared, so appending does not copy
        candidates.removeAll(keepingCapacity: true)
        let slack = leftOut * (1 + 1e-4)
        var cutoff = Self.rescoringCutoff(known) - slack
        @inline(__always) func consider(_ d: Int, _ score: Float) {
            candidates.append(Candidate(document: UInt32(d), score: score))
            heap.offer(score, UInt32(d))
            if heap.isFull { cutoff = Self.rescoringCutoff(max(known, heap.threshold)) - slack }
        }
        if scansScores && cutoff > 0 {
            // Untouched documents score 0, below the cutoff: the scan finds touched ones only.
            forEachScore(above: { cutoff.nextDown }) { d in consider(d, scores[d]) }
            scores.update(repeating: 0)
            searcher.visited.update(repeating: 0)
        } else {
            forEachSetBit(searcher.visited, clearing: true) { d in
                work.touchDocument()
                let score = scores[d]
                scores[d] = 0
                if score >= cutoff { consider(d, score) }
            }
            work.scanBitset(words: searcher.visited.count)
        }
        heap.reset(capacity: heap.capacity)
        let q = searcher.dense.baseAddress!
        for candidate in candidates where candidate.score >= cutoff {
            let d = Int(candidate.document)
            work.scoreDocument(nonzeros: typed.storage.forward(ofDocument: d).count)
            heap.offer(typed.score(d, q), candidate.document)
        }
        searcher.candidates = candidates
        return heap.sortedHits()
    }

    /// Whether candidates are found by scanning the whole score array rather than following the
    /// visited bits: cheaper once the postings read number more than an eighth of the documents
    /// (a vector compare per 8 scores against a branch per touched document). Only with a
    /// positive lower bound on the k-th score (`known`), so that untouched documents, which
    /// score 0, cannot qualify: for an index without `list.tailmax`, or a query without bounded
    /// tails, the visited bits are followed.
    private var scansScores: Bool { accumulated >= searcher.accumulators.count / 8 }

    /// Calls `body` with each document whose accumulated score is above `threshold()`, in
    /// ascending order; the threshold is read again after every chunk of them.
    @inline(__always)
    private mutating func forEachScore(above threshold: () -> Float, _ body: (Int) -> Void) {
        let scores = searcher.accumulators, found = searcher.scanPositions
        let n = scores.count
        var position = 0
        while position < n {
            var next = 0
            let count = lsr_positions_above(scores.baseAddress!, position, n, threshold(), found.baseAddress!, found.count, &next)
            for j in 0 ..< count {
                work.touchDocument()
                body(Int(found[j]))
            }
            position = next
        }
        work.scanBitset(words: (n + 63) / 64)
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

/// A list's tail waiting to be accumulated or left out, with the most it adds to a score.
struct BoundedTail {
    var postings: Range<Int>
    var weight: Float
    /// Query weight × the tail's largest weight.
    var bound: Float
}
