import LSRFormats
import LSRVectors

/// Searches one index; owns the per-query scratch (dense query, visited set, heap, block
/// accumulators, scoring queue), so it allocates nothing per query after the first. Not
/// thread-safe: use one searcher per thread (they may share the ``Index``).
///
/// The algorithms live one per file: skip-ahead (`SkipAheadSearch.swift`), exhaustive
/// term-at-a-time (`ExhaustiveSearch.swift`) and brute force (`BruteForceSearch.swift`); the
/// planner (`SearchPlanner.swift`) chooses between the first two per query. Each runs
/// specialized for the index's storage types through the one dispatch point,
/// `IndexStorage.dispatch`.
public final class Searcher {
    /// The index searched.
    public let index: Index
    /// The query as a dense vector, zero outside the current query's components.
    let dense: UnsafeMutableBufferPointer<Float>
    /// One bit per document: scored (skip-ahead) or touched (exhaustive) by the current query.
    let visited: UnsafeMutableBufferPointer<UInt64>
    /// Per block of the list being visited, its summary's dot-product parts.
    let blockSums: UnsafeMutableBufferPointer<BlockSums>
    /// Room for every document: each is queued at most once per query (the visited ones).
    let queueStorage: UnsafeMutablePointer<UInt32>
    /// Accumulated scores of exhaustive search, zero between queries.
    let accumulators: UnsafeMutableBufferPointer<Float>
    /// Positions found by one call of exhaustive search's score scan.
    let scanPositions: UnsafeMutableBufferPointer<UInt32>
    var heap = TopKHeap()
    /// Exhaustive search's documents to rescore (reused).
    var candidates: [Candidate] = []
    /// Exhaustive search's tails waiting to be read or left out (reused).
    var boundedTails: [BoundedTail] = []
    /// The query's positions ordered by weight (reused).
    var cutOrder: [Int] = []
    /// ``Index/largestWeight``, read once.
    let largestDocumentWeight: Float

    /// A searcher of `index`, its scratch allocated up front (about 8 bytes per document, plus buffers per
    /// vocabulary token and per block of a list).
    public init(index: Index) {
        self.index = index
        let storage = index.storage
        dense = .allocate(capacity: storage.denseQuerySize)
        dense.initialize(repeating: 0)
        visited = .allocate(capacity: (storage.documentCount + 63) / 64)
        visited.initialize(repeating: 0)
        blockSums = .allocate(capacity: IndexLayout.maximumBlocksPerList + 1)
        blockSums.initialize(repeating: BlockSums())
        queueStorage = .allocate(capacity: max(1, storage.documentCount))
        accumulators = .allocate(capacity: max(1, storage.documentCount))
        accumulators.initialize(repeating: 0)
        scanPositions = .allocate(capacity: 256)
        largestDocumentWeight = index.largestWeight
    }

    deinit {
        dense.deallocate()
        visited.deallocate()
        blockSums.deallocate()
        queueStorage.deallocate()
        accumulators.deallocate()
        scanPositions.deallocate()
    }

    /// The top `parameters.k` documents for `query`, by `method`: the one search entry point.
    ///
    /// - `.approximate`: per query, the planner runs Seismic's skip-ahead search, or exact
    ///   exhaustive search when that is estimated to cost less (small collections, indexes built
    ///   without summaries, settings that would score most documents). Skip-ahead: the
    ///   `queryCut` heaviest query terms pick lists; blocks whose summary score is below
    ///   `heapFactor ×` the current k-th score are skipped; in the other blocks, a document is
    ///   skipped too when the summary score with the list's coordinate replaced by the
    ///   document's own weight is below that bound; the remaining documents are scored exactly.
    /// - `.exact`: term at a time over the query terms' postings (the oracle): every blocked
    ///   posting, and every tail that can change the top k (`ExhaustiveSearch.swift`).
    /// - `.bruteForce`: every document's forward vector scored, with no inverted lists (the
    ///   baseline `.exact` is measured against; same results).
    ///
    /// Exact methods use only `parameters.k`. Documents sharing no component with the query are
    /// never returned.
    /// - Returns: up to `k` hits, best first (ties by lower document id).
    /// - Throws: `LSRError.invalidArgument` for parameters out of range (see
    ///   ``SearchParameters/validate(for:)``) or a malformed query (``validate(_:)``); nothing is
    ///   searched then.
    public func search(_ query: QueryVector, parameters: SearchParameters = .default, method: SearchMethod = .approximate) throws -> [SearchHit] {
        try parameters.validate(for: method)
        try validate(query)
        return run(query, parameters, method)
    }

    /// ``search(_:parameters:method:)``, adding what the search did to `work` (brute force is
    /// counted as `.exact`, whose results it equals).
    public func search(
        _ query: QueryVector, parameters: SearchParameters = .default, method: SearchMethod = .approximate,
        counting work: inout SearchWorkCounts
    ) throws -> [SearchHit] {
        try parameters.validate(for: method)
        try validate(query)
        return run(query, parameters, method, counting: &work)
    }

    /// Checks that `query` can be searched in this index: as many weights as components,
    /// components strictly ascending, weights finite and not negative, and small enough that no
    /// score can overflow Float32 (their sum times the index's largest document weight, see
    /// ``Index/largestWeight``, stays below half of `Float.greatestFiniteMagnitude`). Components the
    /// index does not have are allowed (they match nothing).
    /// - Throws: `LSRError.invalidArgument` naming the first problem.
    public func validate(_ query: QueryVector) throws {
        try query.validate(largestDocumentWeight: largestDocumentWeight)
    }

    /// Runs a validated search.
    func run(_ query: QueryVector, _ parameters: SearchParameters, _ method: SearchMethod) -> [SearchHit] {
        switch method {
        case .approximate:
            var search = PlannedSearch(searcher: self, query: query, parameters: parameters, work: UncountedWork())
            return index.storage.dispatch(&search)
        case .exact:
            var search = ExhaustiveSearch(searcher: self, query: query, k: parameters.k, work: UncountedWork())
            return index.storage.dispatch(&search)
        case .bruteForce:
            var search = BruteForceSearch(searcher: self, query: query, k: parameters.k)
            return index.storage.dispatch(&search)
        }
    }

    /// Runs a validated search, adding its work to `work`.
    func run(_ query: QueryVector, _ parameters: SearchParameters, _ method: SearchMethod, counting work: inout SearchWorkCounts) -> [SearchHit] {
        let hits: [SearchHit]
        switch method {
        case .approximate:
            var search = PlannedSearch(searcher: self, query: query, parameters: parameters, work: work)
            hits = index.storage.dispatch(&search)
            work = search.work
        case .exact, .bruteForce:
            var search = ExhaustiveSearch(searcher: self, query: query, k: parameters.k, work: work)
            hits = index.storage.dispatch(&search)
            work = search.work
            work.exhaustiveQueries += 1
        }
        work.queries += 1
        return hits
    }

    /// Scatters the query into the dense buffer (undone by `clearQuery`).
    func loadQuery(_ query: QueryVector) {
        let dimension = index.storage.dimension
        for (c, v) in zip(query.components, query.values) where Int(c) < dimension { dense[Int(c)] = v }
    }

    func clearQuery(_ query: QueryVector) {
        let dimension = index.storage.dimension
        for c in query.components where Int(c) < dimension { dense[Int(c)] = 0 }
    }
}

/// Calls `body` with the position of every set bit of `words`, in ascending order, zeroing
/// each word after its bits when `clearing`.
@inline(__always)
func forEachSetBit(_ words: UnsafeMutableBufferPointer<UInt64>, clearing: Bool = false, _ body: (Int) -> Void) {
    for w in words.indices where words[w] != 0 {
        var bits = words[w]
        while bits != 0 {
            body(w << 6 | bits.trailingZeroBitCount)
            bits &= bits - 1
        }
        if clearing { words[w] = 0 }
    }
}
