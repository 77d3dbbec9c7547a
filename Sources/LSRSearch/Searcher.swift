import CLSRKernels
import LSRFormats
import LSRSuccinct
import LSRVectors

/// Searches one index; owns the per-query scratch (dense query, visited set, heap, block
/// accumulators), so it allocates nothing per query after the first. Not thread-safe: use one
/// searcher per thread (they may share the ``Index``).
public final class Searcher {
    public let index: Index
    private var dense: [Float]
    private var visited: [UInt64]
    private var heap = TopKHeap()
    private var blockSums = [BlockSums](repeating: BlockSums(), count: IndexLayout.maximumBlocksPerList + 1)
    private var exactScores: [Float]
    private var cutOrder: [Int] = []
    /// Room for every document: each is queued at most once per query (the visited ones).
    private let queueStorage: UnsafeMutablePointer<UInt32>

    /// How many documents ahead of the one being scored the next vector is prefetched.
    private static let prefetchDistance = 2

    public init(index: Index) {
        self.index = index
        let storage = index.storage
        dense = [Float](repeating: 0, count: storage.denseQuerySize)
        visited = [UInt64](repeating: 0, count: (storage.documentCount + 63) / 64)
        exactScores = []
        queueStorage = .allocate(capacity: max(1, storage.documentCount))
    }

    deinit { queueStorage.deallocate() }

    /// Approximate top-k (Seismic's skip-ahead search): the `queryCut` heaviest query terms pick
    /// lists; blocks whose summary score is below `heapFactor ×` the current k-th score are
    /// skipped; in the other blocks, a document is skipped too when the summary score with the
    /// list's coordinate replaced by the document's own weight is below that bound; the remaining
    /// documents are scored exactly.
    /// - Returns: up to `k` hits, best first (ties by lower document id).
    public func search(_ query: QueryVector, parameters: SearchParameters) -> [SearchHit] {
        switch (index.storage.narrowComponents, index.storage.halfValues) {
        case (true, true): return approximate(query, parameters, TypedIndex<UInt16, HalfWeight>(index.storage))
        case (true, false): return approximate(query, parameters, TypedIndex<UInt16, SingleWeight>(index.storage))
        case (false, true): return approximate(query, parameters, TypedIndex<UInt32, HalfWeight>(index.storage))
        case (false, false): return approximate(query, parameters, TypedIndex<UInt32, SingleWeight>(index.storage))
        }
    }

    /// Exact top-k over every posting (no pruning, no skipping): the oracle.
    /// - Returns: up to `k` hits, best first (ties by lower document id); documents sharing no
    ///   component with the query are never returned.
    public func searchExact(_ query: QueryVector, k: Int) -> [SearchHit] {
        switch (index.storage.narrowComponents, index.storage.halfValues) {
        case (true, true): return exact(query, k, TypedIndex<UInt16, HalfWeight>(index.storage))
        case (true, false): return exact(query, k, TypedIndex<UInt16, SingleWeight>(index.storage))
        case (false, true): return exact(query, k, TypedIndex<UInt32, HalfWeight>(index.storage))
        case (false, false): return exact(query, k, TypedIndex<UInt32, SingleWeight>(index.storage))
        }
    }

    /// Exact top-k by scoring every document's forward vector, with no inverted lists: the
    /// baseline that ``searchExact(_:k:)`` is measured against. Same results as `searchExact`
    /// (documents scoring 0, which share no component with the query, are never returned).
    public func searchBruteForce(_ query: QueryVector, k: Int) -> [SearchHit] {
        switch (index.storage.narrowComponents, index.storage.halfValues) {
        case (true, true): return bruteForce(query, k, TypedIndex<UInt16, HalfWeight>(index.storage))
        case (true, false): return bruteForce(query, k, TypedIndex<UInt16, SingleWeight>(index.storage))
        case (false, true): return bruteForce(query, k, TypedIndex<UInt32, HalfWeight>(index.storage))
        case (false, false): return bruteForce(query, k, TypedIndex<UInt32, SingleWeight>(index.storage))
        }
    }

    /// Scatters the query into the dense buffer (undone by `clearQuery`).
    private func loadQuery(_ query: QueryVector) {
        for (c, v) in zip(query.components, query.values) where Int(c) < index.storage.dimension {
            dense[Int(c)] = v
        }
    }

    private func clearQuery(_ query: QueryVector) {
        for c in query.components where Int(c) < index.storage.dimension { dense[Int(c)] = 0 }
    }

    private func approximate<C, W>(_ query: QueryVector, _ parameters: SearchParameters, _ typed: TypedIndex<C, W>) -> [SearchHit] {
        let storage = typed.storage
        heap.reset(capacity: min(parameters.k, storage.documentCount))
        guard !query.components.isEmpty, heap.capacity > 0 else { return [] }
        loadQuery(query)
        defer { clearQuery(query) }

        // The heaviest `queryCut` terms, heaviest first (ties: lower component).
        cutOrder.removeAll(keepingCapacity: true)
        cutOrder.append(contentsOf: query.components.indices)
        cutOrder.sort { query.values[$0] != query.values[$1] ? query.values[$0] > query.values[$1] : $0 < $1 }
        if cutOrder.count > parameters.queryCut { cutOrder.removeSubrange(parameters.queryCut...) }

        let documentCount = UInt32(storage.documentCount)
        // Work on locals: class properties in the inner loop cost dynamic exclusivity checks.
        var heap = self.heap
        self.heap = TopKHeap()
        var queue = ScoringQueue(storage: queueStorage)
        dense.withUnsafeMutableBufferPointer { q in
            visited.withUnsafeMutableBufferPointer { seen in
                blockSums.withUnsafeMutableBufferPointer { sums in
                    for position in cutOrder {
                        let t = Int(query.components[position])
                        guard t < storage.dimension else { continue }
                        let blocks = storage.blocks(ofList: t)
                        let firstBlock = blocks.lowerBound, blockCount = blocks.count
                        if blockCount == 0 { continue }
                        scoreSummaries(list: t, blockCount: blockCount, query: query, typed, sums)
                        for b in 0 ..< blockCount {
                            let g = firstBlock + b
                            let scale = storage.blockScale[g], minimum = storage.blockMinimum[g]
                            let summary = scale * sums[b].codes + minimum * sums[b].weights
                            let cutoff = heap.isFull ? parameters.heapFactor * heap.threshold : -Float.infinity
                            if summary < cutoff { continue }
                            let postings = storage.postings(ofBlock: g)
                            // A document is skipped too when the summary score with the
                            // list's own coordinate replaced by the document's weight is below
                            // the cutoff: `floor` is the least weight that passes.
                            let qt = q[t], own = sums[b].ownCode
                            let floor = cutoff > 0 && qt > 0 && own >= 0 ? scale * own + minimum - (summary - cutoff) / qt : -Float.infinity
                            // The block's unvisited documents join the scoring queue (their
                            // offsets prefetched); documents are scored once `lookahead` newer
                            // ones are queued, so prefetches run ahead across block boundaries.
                            for p in postings where W.decode(typed.postingValues[p]) >= floor {
                                let d = storage.postingDocuments[p]
                                guard d < documentCount else { continue }
                                let word = Int(d >> 6), bit = UInt64(1) << UInt64(d & 63)
                                if seen[word] & bit != 0 { continue }
                                seen[word] |= bit
                                queue.append(d)
                                storage.forwardOffsets.prefetch(Int(d))
                            }
                            queue.score(keeping: Self.prefetchDistance, typed, q.baseAddress!, into: &heap)
                        }
                    }
                }
            }
            queue.score(keeping: 0, typed, q.baseAddress!, into: &heap)
        }
        for d in queue.queued { visited[Int(d >> 6)] = 0 }
        let hits = heap.sortedHits()
        self.heap = heap
        return hits
    }

    /// Accumulates, for every block of list `t`, the parts of its summary's dot product with the
    /// query (``BlockSums``).
    @inline(__always)
    private func scoreSummaries<C, W>(
        list t: Int, blockCount: Int, query: QueryVector, _ typed: TypedIndex<C, W>,
        _ sums: UnsafeMutableBufferPointer<BlockSums>
    ) {
        let storage = typed.storage
        for b in 0 ..< blockCount { sums[b] = BlockSums() }
        guard let summaries = storage.summaries(ofList: t, blockCount: blockCount),
              let codes = storage.summaryCodes.baseAddress.map({ $0 + summaries.entryStart }),
              let blockBits = storage.summaryBlocks.baseAddress.map(UnsafeRawPointer.init) else { return }
        let width = summaries.blockWidth, entryCount = UInt64(summaries.entryCount)
        // First every shared component's run of entries is located and its first lines
        // prefetched, then the runs are added up: the runs' cache misses overlap.
        withUnsafeTemporaryAllocation(of: SummaryRun.self, capacity: query.components.count) { runs in
            var runCount = 0
            @inline(__always) func locate(_ i: Int, _ c: UInt32, _ v: Float) {
                guard let (start, end) = summaries.offsets.pair(i), start < end, end <= entryCount else { return }
                let bit = summaries.blockBitStart + Int(start) * width
                lsr_prefetch_range(blockBits + bit / 8, min(Int(end - start) * width / 8 + 1, 128))
                lsr_prefetch_range(codes + Int(start), min(Int(end - start), 128))
                (runs.baseAddress! + runCount).initialize(to: SummaryRun(entries: Int(start) ..< Int(end), firstBit: bit, weight: v, isOwn: Int(c) == t))
                runCount += 1
            }
            if let bitmap = summaries.bitmap {
                for (c, v) in zip(query.components, query.values) {
                    if let i = bitmap.rank(of: Int(c)) { locate(i, c, v) }
                }
            } else {
                var low = summaries.sparseComponents.lowerBound
                let high = summaries.sparseComponents.upperBound
                let components = typed.summaryComponents
                for (c, v) in zip(query.components, query.values) {
                    // Lower bound of c in the list's ascending summary components, from `low` on.
                    let lo = components.interpolatedLowerBound(of: c, in: low ..< high)
                    low = lo
                    if lo == high { break }
                    if UInt32(components[lo]) == c { locate(lo - summaries.sparseComponents.lowerBound, c, v) }
                }
            }
            for run in runs[..<runCount] {
                var bit = run.firstBit
                for e in run.entries {
                    let b = Int(readBits(blockBits, at: bit, width: width))
                    bit += width
                    guard b < blockCount else { continue }
                    let code = Float(codes[e])
                    sums[b].codes += run.weight * code
                    sums[b].weights += run.weight
                    if run.isOwn { sums[b].ownCode = code }
                }
            }
        }
    }

    private func bruteForce<C, W>(_ query: QueryVector, _ k: Int, _ typed: TypedIndex<C, W>) -> [SearchHit] {
        heap.reset(capacity: min(k, typed.storage.documentCount))
        guard !query.components.isEmpty, heap.capacity > 0 else { return [] }
        loadQuery(query)
        defer { clearQuery(query) }
        var heap = self.heap
        self.heap = TopKHeap()
        dense.withUnsafeMutableBufferPointer { q in
            for d in 0 ..< typed.storage.documentCount {
                let score = typed.score(d, q.baseAddress!)
                if score != 0 { heap.offer(score, UInt32(d)) }
            }
        }
        let hits = heap.sortedHits()
        self.heap = heap
        return hits
    }

    private func exact<C, W>(_ query: QueryVector, _ k: Int, _ typed: TypedIndex<C, W>) -> [SearchHit] {
        let storage = typed.storage
        heap.reset(capacity: min(k, storage.documentCount))
        guard !query.components.isEmpty, heap.capacity > 0 else { return [] }
        if exactScores.count != storage.documentCount { exactScores = [Float](repeating: 0, count: storage.documentCount) }
        loadQuery(query)
        defer { clearQuery(query) }
        let documentCount = UInt32(storage.documentCount)
        var heap = self.heap
        self.heap = TopKHeap()
        // Term at a time over complete lists (blocked and tail regions); the visited bits record
        // which documents were touched, so no per-posting bookkeeping beyond one OR.
        exactScores.withUnsafeMutableBufferPointer { scores in
          visited.withUnsafeMutableBufferPointer { seen in
            for (c, v) in zip(query.components, query.values) where Int(c) < storage.dimension {
                let t = Int(c)
                typed.accumulate(storage.blockedPostings(ofList: t), weight: v, into: scores.baseAddress!, seen: seen.baseAddress!, limit: documentCount)
                typed.accumulate(storage.tail(ofList: t), weight: v, into: scores.baseAddress!, seen: seen.baseAddress!, limit: documentCount)
            }
            // Candidates: every document within rounding distance of the k-th accumulated score,
            // rescored with the forward index so scores match approximate search bit for bit.
            var threshold = -Float.infinity  // the k-th accumulated score once the heap is full
            forEachSetBit(seen) { d in
                guard scores[d] >= threshold else { return }
                heap.offer(scores[d], UInt32(d))
                if heap.isFull { threshold = heap.threshold }
            }
            let cutoff = heap.isFull ? heap.threshold * (1 - 1e-4) - 1e-6 : -Float.infinity
            heap.reset(capacity: heap.capacity)
            dense.withUnsafeMutableBufferPointer { q in
                forEachSetBit(seen) { d in
                    if scores[d] >= cutoff { heap.offer(typed.score(d, q.baseAddress!), UInt32(d)) }
                    scores[d] = 0
                }
            }
            for word in seen.indices { seen[word] = 0 }
          }
        }
        let hits = heap.sortedHits()
        self.heap = heap
        return hits
    }
}

/// Calls `body` with the position of every set bit of `words`, in ascending order.
@inline(__always)
private func forEachSetBit(_ words: UnsafeMutableBufferPointer<UInt64>, _ body: (Int) -> Void) {
    for w in words.indices where words[w] != 0 {
        var bits = words[w]
        while bits != 0 {
            body(w << 6 | bits.trailingZeroBitCount)
            bits &= bits - 1
        }
    }
}

/// One summary component's entries in a list, and the query weight they are added with.
private struct SummaryRun {
    let entries: Range<Int>
    /// Bit position of the first entry's block index in `summaryBlocks`.
    let firstBit: Int
    let weight: Float
    /// Whether the component is the list's own (the list of component `t` holds `t`'s entries).
    let isOwn: Bool
}

/// The parts of one block's summary score: with the block's quantization `scale` and `minimum`,
/// the dot product is `scale · codes + minimum · weights`.
struct BlockSums {
    /// Σ query weight × code over the summary components shared with the query.
    var codes: Float = 0
    /// Σ query weight over the same components.
    var weights: Float = 0
    /// The code of the list's own component, or -1 when the summary does not keep it.
    var ownCode: Float = -1
}
