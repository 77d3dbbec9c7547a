import LSRVectors

/// The knobs of approximate search.
public struct SearchParameters: Sendable, Equatable {
    /// Number of results.
    public var k: Int
    /// Only the `queryCut` heaviest query terms choose inverted lists to visit. Higher: more
    /// lists, higher recall, slower.
    public var queryCut: Int
    /// A block is skipped when its summary's dot product with the query is below
    /// `heapFactor ×` the current k-th best score. Lower: fewer skips, higher recall, slower.
    public var heapFactor: Float

    /// How approximate search chooses its algorithm per query.
    public var planning: SearchPlanning

    /// The defaults of `lsr search`: about recall@10 0.95 on the default build of gcide and of a
    /// 250k-document mixture collection (their tuned 0.95 presets were 6 / 0.785 and 6 / 0.898;
    /// `Evaluation/reports/defaults-2026-12-02.md`). `lsr tune` finds the setting for your data.
    public static let `default` = SearchParameters(k: 10, queryCut: 6, heapFactor: 0.8)

    /// Parameters with the defaults of `lsr search` (``default``, cost-based planning) for any not given. Ranges are
    /// checked by ``validate(for:)``, not here.
    public init(k: Int = 10, queryCut: Int = 6, heapFactor: Float = 0.8, planning: SearchPlanning = .costBased) {
        self.k = k
        self.queryCut = queryCut
        self.heapFactor = heapFactor
        self.planning = planning
    }

    /// Checks the parameters `method` uses: `k` for every method, `queryCut` and `heapFactor`
    /// for approximate search only (exact methods ignore them).
    /// - Throws: `LSRError.invalidArgument` naming the parameter and its valid range.
    public func validate(for method: SearchMethod = .approximate) throws {
        guard k >= 1 else { throw LSRError(.invalidArgument, "k must be ≥ 1, got \(k)", field: "k") }
        guard method == .approximate else { return }
        guard queryCut >= 1 else { throw LSRError(.invalidArgument, "query-cut must be ≥ 1, got \(queryCut)", field: "query-cut") }
        guard heapFactor.isFinite, heapFactor > 0 else {
            throw LSRError(.invalidArgument, "heap-factor must be a finite number > 0, got \(heapFactor)", field: "heap-factor")
        }
    }
}

/// How approximate search chooses between skip-ahead and exhaustive search.
public enum SearchPlanning: String, Sendable, Equatable, CaseIterable, Codable {
    /// Per query, the algorithm estimated to cost less (see `SearchPlanner.swift`): exhaustive
    /// (exact) search on small or unpruned collections and at settings that would score most
    /// documents, skip-ahead elsewhere. The default.
    case costBased = "cost"
    /// Always skip-ahead search (Seismic's algorithm), whatever it costs; on an index built
    /// without summaries, which skip-ahead cannot search, exhaustive search.
    case skipAhead = "skip-ahead"
}

/// One result: a document position in the index and its score (the dot product with the
/// stored document vector).
public struct SearchHit: Sendable, Equatable, Hashable {
    /// The document's position in the index (0-based; its external id is in ``Index/documents``).
    public var document: Int
    /// The query's dot product with the document's stored vector (the fused or dense score for hybrid and
    /// dense search).
    public var score: Float
    /// A hit of document position `document` with `score`.
    public init(document: Int, score: Float) {
        self.document = document
        self.score = score
    }
}
