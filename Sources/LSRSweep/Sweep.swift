import LSREvaluation
import LSRFormats
import LSRSearch
import LSRVectors

/// The (query_cut, heap_factor) points a sweep visits: every combination of the given values.
public struct SweepGrid: Sendable, Equatable {
    /// The query cuts visited (each ≥ 1).
    public var queryCuts: [Int]
    /// The heap factors visited (each > 0).
    public var heapFactors: [Float]
    /// Hybrid sweeps: the interpolation weights (`--fusion interpolate`) and candidate counts
    /// visited at every (query_cut, heap_factor).
    public var alphas: [Float]
    /// Hybrid sweeps: the candidate counts visited (sparse results per query that dense scoring sees);
    /// empty: ``defaultCandidates``.
    public var candidates: [Int]

    /// The default grid: query cuts 3, 5, 8, 12, 20 × heap factors 1.0, 0.9, 0.8, 0.7, no hybrid terms
    /// (the values ``init(parsing:)`` starts from).
    public static let `default` = SweepGrid(queryCuts: [3, 5, 8, 12, 20], heapFactors: [1.0, 0.9, 0.8, 0.7])
    /// The hybrid terms when a hybrid sweep gives none.
    public static let defaultAlphas: [Float] = [0.1, 0.3, 0.5, 0.7, 0.9]
    /// The candidate counts when a hybrid sweep gives none: 100.
    public static let defaultCandidates = [100]

    /// A grid of the given values, not checked here (``init(parsing:)`` checks what it parses).
    public init(queryCuts: [Int], heapFactors: [Float], alphas: [Float] = [], candidates: [Int] = []) {
        self.queryCuts = queryCuts
        self.heapFactors = heapFactors
        self.alphas = alphas
        self.candidates = candidates
    }

    /// Parses `query_cut=3,5,8` and `heap_factor=1.0,0.9` terms (either may be left out, keeping
    /// the default values), and for hybrid sweeps `alpha=0.3,0.5` and `candidates=100,1000`.
    /// - Throws: `LSRError.invalidArgument` for an unknown name or a value out of range.
    public init(parsing terms: [String]) throws {
        self = .default
        for term in terms {
            let parts = term.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw LSRError(.invalidArgument, "grid term '\(term)' is not name=v1,v2,…", field: "grid") }
            let values = parts[1].split(separator: ",").map { String($0) }
            switch parts[0] {
            case "query_cut":
                queryCuts = try values.map { v in
                    guard let n = Int(v), n >= 1 else { throw LSRError(.invalidArgument, "query_cut values must be integers ≥ 1, got '\(v)'", field: "grid") }
                    return n
                }
            case "heap_factor":
                heapFactors = try values.map { v in
                    guard let f = Float(v), f.isFinite, f > 0 else { throw LSRError(.invalidArgument, "heap_factor values must be numbers > 0, got '\(v)'", field: "grid") }
                    return f
                }
            case "alpha":
                alphas = try values.map { v in
                    guard let f = Float(v), f >= 0, f <= 1 else { throw LSRError(.invalidArgument, "alpha values must be numbers in [0, 1], got '\(v)'", field: "grid") }
                    return f
                }
            case "candidates":
                candidates = try values.map { v in
                    guard let n = Int(v), n >= 1 else { throw LSRError(.invalidArgument, "candidates values must be integers ≥ 1, got '\(v)'", field: "grid") }
                    return n
                }
            default:
                throw LSRError(.invalidArgument, "unknown grid parameter '\(parts[0])'; use query_cut, heap_factor, alpha and candidates", field: "grid")
            }
        }
        guard !queryCuts.isEmpty, !heapFactors.isEmpty else { throw LSRError(.invalidArgument, "the grid is empty", field: "grid") }
    }

    var points: [(Int, Float)] { queryCuts.flatMap { qc in heapFactors.map { (qc, $0) } } }
}

/// One measured grid point.
public struct SweepPoint: Sendable, Equatable, Codable {
    /// The query cut searched with.
    public var queryCut: Int
    /// The heap factor searched with.
    public var heapFactor: Float
    /// Mean per-query latency in microseconds (for hybrid points, all stages together).
    public var meanMicroseconds: Double
    /// Median (nearest-rank) per-query latency in microseconds.
    public var p50Microseconds: Double
    /// Nearest-rank 99th percentile per-query latency in microseconds.
    public var p99Microseconds: Double
    /// Recall@k against exact search.
    public var recall: Double
    /// nDCG@10 against the qrels, when they were given.
    public var ndcg10: Double?
    /// On the Pareto frontier: no faster point reaches this recall.
    public var onFrontier: Bool
    /// Hybrid points: the interpolation weight (nil for other fusions) and the candidates.
    public var alpha: Float?
    /// Hybrid points: the sparse candidates per query that dense scoring saw; nil for sparse points.
    public var candidates: Int?

    /// A point from its fields (see each property).
    public init(
        queryCut: Int, heapFactor: Float, meanMicroseconds: Double, p50Microseconds: Double, p99Microseconds: Double,
        recall: Double, ndcg10: Double?, onFrontier: Bool, alpha: Float? = nil, candidates: Int? = nil
    ) {
        self.queryCut = queryCut
        self.heapFactor = heapFactor
        self.meanMicroseconds = meanMicroseconds
        self.p50Microseconds = p50Microseconds
        self.p99Microseconds = p99Microseconds
        self.recall = recall
        self.ndcg10 = ndcg10
        self.onFrontier = onFrontier
        self.alpha = alpha
        self.candidates = candidates
    }
}

/// Runs approximate search over a parameter grid and measures latency and recall at each point.
public struct Sweep: Sendable {
    /// The points visited.
    public var grid: SweepGrid
    /// Results per query, and the k of the recall@k measured.
    public var k: Int
    /// Threads for the timed searches (1: single-threaded latency, the comparable figure).
    public var threads: Int

    /// Hybrid sweeps: the dense queries and the fusion (its alpha comes from the grid).
    public var hybrid: (dense: DenseQueries, fusion: Fusion)?

    /// A sweep; by default the default grid, k 10, one thread, sparse search only.
    public init(grid: SweepGrid = .default, k: Int = 10, threads: Int = 1, hybrid: (dense: DenseQueries, fusion: Fusion)? = nil) {
        self.grid = grid
        self.k = k
        self.threads = threads
        self.hybrid = hybrid
    }

    /// The hybrid settings a hybrid sweep visits at each grid point: (alpha or nil, fusion, candidates).
    private var hybridSettings: [(alpha: Float?, fusion: Fusion, candidates: Int)] {
        guard let hybrid else { return [] }
        let candidates = grid.candidates.isEmpty ? SweepGrid.defaultCandidates : grid.candidates
        let fusions: [(Float?, Fusion)]
        if case .interpolate = hybrid.fusion {
            fusions = (grid.alphas.isEmpty ? SweepGrid.defaultAlphas : grid.alphas).map { ($0, Fusion.interpolate(alpha: $0)) }
        } else {
            fusions = [(nil, hybrid.fusion)]
        }
        return fusions.flatMap { alpha, fusion in candidates.map { (alpha, fusion, $0) } }
    }

    /// Measures every grid point on `queries`; exact search (on every core) gives the truth.
    /// - Parameters:
    ///   - qrels: judgments for nDCG@10 (optional).
    ///   - progress: called after each point with (points done, points in all).
    public func run(
        index: Index, queries: QuerySet, qrels: Qrels? = nil, progress: ((Int, Int) -> Void)? = nil
    ) throws -> [SweepPoint] {
        if hybrid != nil { return try runHybrid(index: index, queries: queries, qrels: qrels, progress: progress) }
        let exact = try index.search(queries.vectors, parameters: SearchParameters(k: k), method: .exact, threads: availableCores)
        let truth = exact.hits.map { $0.map(\.document) }
        if let (queryCut, heapFactor) = grid.points.first {  // warm-up, untimed
            _ = try index.search(queries.vectors, parameters: SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor), threads: threads)
        }
        var measured: [SweepPoint] = []
        for (n, (queryCut, heapFactor)) in grid.points.enumerated() {
            let parameters = SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor)
            let result = try index.search(queries.vectors, parameters: parameters, threads: threads)
            let recall = try RecallAgainstExact.meanRecall(approximate: result.hits.map { $0.map(\.document) }, exact: truth, k: k)
            var ndcg: Double? = nil
            if let qrels {
                let run = try Run(hits: result.hits, queryIDs: queries.ids, index: index)
                ndcg = Evaluator(metrics: [.ndcg(10)]).evaluate(run, qrels: qrels).metrics["ndcg@10"]
            }
            let latency = result.latency
            measured.append(SweepPoint(
                queryCut: queryCut, heapFactor: heapFactor, meanMicroseconds: latency.mean, p50Microseconds: latency.p50,
                p99Microseconds: latency.p99, recall: recall, ndcg10: ndcg, onFrontier: false))
            progress?(n + 1, grid.points.count)
        }
        return Sweep.markFrontier(measured)
    }

    /// A hybrid sweep: at every grid point and hybrid setting, hybrid search with approximate
    /// sparse candidates; recall@k is against hybrid search with exact sparse candidates at the
    /// same setting (how much the approximate candidates cost the fused ranking).
    private func runHybrid(index: Index, queries: QuerySet, qrels: Qrels?, progress: ((Int, Int) -> Void)?) throws -> [SweepPoint] {
        guard let hybrid else { return [] }
        let settings = hybridSettings
        let total = grid.points.count * settings.count
        var measured: [SweepPoint] = []
        for setting in settings {
            let parameters = HybridParameters(fusion: setting.fusion, candidates: setting.candidates)
            let exact = try index.hybridSearch(
                queries.vectors, dense: hybrid.dense, parameters: SearchParameters(k: k), method: .exact, hybrid: parameters, threads: availableCores)
            let truth = exact.hits.map { $0.map(\.document) }
            for (queryCut, heapFactor) in grid.points {
                let result = try index.hybridSearch(
                    queries.vectors, dense: hybrid.dense, parameters: SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor),
                    hybrid: parameters, threads: threads)
                let recall = try RecallAgainstExact.meanRecall(approximate: result.hits.map { $0.map(\.document) }, exact: truth, k: k)
                var ndcg: Double? = nil
                if let qrels {
                    let run = try Run(hits: result.hits, queryIDs: queries.ids, index: index)
                    ndcg = Evaluator(metrics: [.ndcg(10)]).evaluate(run, qrels: qrels).metrics["ndcg@10"]
                }
                let latency = LatencySummary(result.microseconds)
                measured.append(SweepPoint(
                    queryCut: queryCut, heapFactor: heapFactor, meanMicroseconds: latency.mean, p50Microseconds: latency.p50,
                    p99Microseconds: latency.p99, recall: recall, ndcg10: ndcg, onFrontier: false, alpha: setting.alpha,
                    candidates: setting.candidates))
                progress?(measured.count, total)
            }
        }
        return Sweep.markFrontier(measured)
    }

    /// Marks the Pareto frontier: going from fastest to slowest, a point is on it when its recall
    /// beats every faster point's.
    public static func markFrontier(_ points: [SweepPoint]) -> [SweepPoint] {
        var marked = points
        var best = -Double.infinity
        for i in marked.indices.sorted(by: { marked[$0].meanMicroseconds < marked[$1].meanMicroseconds }) where marked[i].recall > best {
            marked[i].onFrontier = true
            best = marked[i].recall
        }
        return marked
    }

    /// The fastest point whose recall reaches `target`, if any.
    public static func fastest(_ points: [SweepPoint], reaching target: Double) -> SweepPoint? {
        points.filter { $0.recall >= target }.min { $0.meanMicroseconds < $1.meanMicroseconds }
    }
}
