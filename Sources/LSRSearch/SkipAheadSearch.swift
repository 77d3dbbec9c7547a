import CLSRKernels
import LSRFormats
import LSRSuccinct
import LSRVectors

/// Seismic's skip-ahead search (Bruch et al., SIGIR 2024) in its three layers: select the lists
/// (the `queryCut` heaviest query terms), score a list's block summaries, evaluate the blocks
/// that pass. Documents of passing blocks join one ``ScoringQueue``, so their vectors are
/// prefetched ahead across block and list boundaries.
///
/// A search whose work (in ``SearchCostModel`` units) passes `budget` is abandoned and returns
/// nil, for the planner to answer exhaustively.
struct SkipAheadSearch<Work: SearchWork>: TypedIndexVisitor {
    unowned let searcher: Searcher
    let query: QueryVector
    let parameters: SearchParameters
    var work: Work
    /// Abandon the search once its work costs more than this.
    let budget: Float
    /// Whether `searcher.cutOrder` already holds the lists to visit (the planner chose them).
    let listsSelected: Bool
    private var blocksEvaluated = 0
    private var summaryEntriesRead = 0
    // The searcher's scratch, copied out: the hot loops read no class property.
    private let dense: UnsafeMutableBufferPointer<Float>
    private let visited: UnsafeMutableBufferPointer<UInt64>
    private let blockSums: UnsafeMutableBufferPointer<BlockSums>

    /// How many documents ahead of the one being scored the next vector is prefetched.
    static var prefetchDistance: Int { 2 }

    init(searcher: Searcher, query: QueryVector, parameters: SearchParameters, work: Work, budget: Float = .infinity, listsSelected: Bool = false) {
        self.searcher = searcher
        self.query = query
        self.parameters = parameters
        self.work = work
        self.budget = budget
        self.listsSelected = listsSelected
        dense = searcher.dense
        visited = searcher.visited
        blockSums = searcher.blockSums
    }

    mutating func visit<C, W>(_ typed: TypedIndex<C, W>) -> [SearchHit]? {
        let storage = typed.storage
        searcher.heap.reset(capacity: min(parameters.k, storage.documentCount))
        guard !query.components.isEmpty, searcher.heap.capacity > 0 else { return [] }
        searcher.loadQuery(query)
        defer { searcher.clearQuery(query) }
        if !listsSelected { selectLists(query, queryCut: parameters.queryCut, into: &searcher.cutOrder) }
        let model = SearchCostModel.standard

        // Work on locals: class properties in the inner loop cost dynamic exclusivity checks.
        var heap = searcher.heap
        searcher.heap = TopKHeap()
        var queue = ScoringQueue(storage: searcher.queueStorage)
        let q = dense.baseAddress!
        var abandoned = false
        var listsVisited = 0
        lists: for position in searcher.cutOrder {
            let t = Int(query.components[position])
            guard t < storage.dimension else { continue }
            let blocks = storage.blocks(ofList: t)
            if blocks.isEmpty { continue }
            listsVisited += 1
            work.visitList(postings: storage.blockedPostings(ofList: t).count)
            scoreSummaries(list: t, blockCount: blocks.count, typed)
            for b in 0 ..< blocks.count {
                evaluateBlock(b, of: blocks, list: t, typed, &queue, &heap)
                let spent = model.skipAheadCost(
                    lists: listsVisited, documents: queue.scoredCount, blocks: blocksEvaluated, summaryEntries: summaryEntriesRead)
                if spent > budget {
                    abandoned = true
                    break lists
                }
            }
        }
        if !abandoned { queue.score(keeping: 0, typed, q, into: &heap, &work) }
        for d in queue.queued { visited[Int(d >> 6)] = 0 }
        let hits = abandoned ? nil : heap.sortedHits()
        searcher.heap = heap
        return hits
    }

    /// Block `b` of a list: skipped when its summary score is below `heapFactor ×` the k-th
    /// score; otherwise its unvisited documents whose own weight can reach the cutoff are queued
    /// (their offsets prefetched), and queued documents are scored up to the prefetch distance.
    @inline(__always)
    private mutating func evaluateBlock<C, W>(
        _ b: Int, of blocks: Range<Int>, list t: Int, _ typed: TypedIndex<C, W>,
        _ queue: inout ScoringQueue, _ heap: inout TopKHeap
    ) {
        let storage = typed.storage
        let g = blocks.lowerBound + b
        let sums = blockSums[b]
        let scale = storage.blockScale[g], minimum = storage.blockMinimum[g]
        let summary = scale * sums.codes + minimum * sums.weights
        let cutoff = heap.isFull ? parameters.heapFactor * heap.threshold : -Float.infinity
        work.evaluateBlock()
        blocksEvaluated += 1
        if summary < cutoff { return }
        let postings = storage.postings(ofBlock: g)
        work.scanBlock(postings: postings.count)
        // A document is skipped too when the summary score with the list's own coordinate
        // replaced by the document's weight is below the cutoff: `floor` is the least weight
        // that passes (no skipping when the summary lacks the coordinate or the cutoff is not
        // positive).
        let qt = dense[t], own = sums.ownCode
        let floor = cutoff > 0 && qt > 0 && own >= 0 ? scale * own + minimum - (summary - cutoff) / qt : -Float.infinity
        let documentCount = UInt32(storage.documentCount)
        let seen = visited
        for p in postings where W.decode(typed.postingValues[p]) >= floor {
            let d = storage.postingDocuments[p]
            guard d < documentCount else { continue }
            let word = Int(d >> 6), bit = UInt64(1) << UInt64(d & 63)
            if seen[word] & bit != 0 { continue }
            seen[word] |= bit
            queue.append(d)
            storage.forwardOffsets.prefetch(Int(d))
        }
        queue.score(keeping: Self.prefetchDistance, typed, dense.baseAddress!, into: &heap, &work)
    }

    /// Accumulates, for every block of list `t`, the parts of its summary's dot product with the
    /// query (``BlockSums``) into `searcher.blockSums`.
    @inline(__always)
    private mutating func scoreSummaries<C, W>(list t: Int, blockCount: Int, _ typed: TypedIndex<C, W>) {
        let storage = typed.storage
        let sums = blockSums
        for b in 0 ..< blockCount { sums[b] = BlockSums() }
        guard let summaries = storage.summaries(ofList: t, blockCount: blockCount),
              let codes = storage.summaryCodes.baseAddress.map({ $0 + summaries.entryStart }),
              let blockBits = storage.summaryBlocks.baseAddress.map(UnsafeRawPointer.init) else { return }
        let width = summaries.blockWidth, entryCount = UInt64(summaries.entryCount)
        let query = self.query
        // First every shared component's run of entries is located and its first lines
        // prefetched, then the runs are added up: the runs' cache misses overlap.
        let entries = withUnsafeTemporaryAllocation(of: SummaryRun.self, capacity: query.components.count) { runs -> Int in
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
            var entries = 0
            for run in runs[..<runCount] {
                var bit = run.firstBit
                entries += run.entries.count
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
            return entries
        }
        work.readSummaryEntries(entries)
        summaryEntriesRead += entries
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
