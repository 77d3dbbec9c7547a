import LSREvaluation
import LSRFormats
import LSRSearch
import LSRVectors

/// The (query_cut, heap_factor) points a sweep visits: every combination of the given values.
public struct SweepGrid: Sendable, Equatable {
    public var queryCuts: [Int]
    public var heapFactors: [Float]

    public static let `default` = SweepGrid(queryCuts: [3, 5, 8, 12, 20], heapFactors: [1.0, 0.9, 0.8, 0.7])

    public init(queryCuts: [Int], heapFactors: [Float]) {
        self.queryCuts = queryCuts
        self.heapFactors = heapFactors
    }

    /// Parses `query_cut=3,5,8` and `heap_factor=1.0,0.9` terms (either may be left out, keeping
    /// the default values).
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
            default:
                throw LSRError(.invalidArgument, "unknown grid parameter '\(parts[0])'; use query_cut and heap_factor", field: "grid")
            }
        }
        guard !queryCuts.isEmpty, !heapFactors.isEmpty else { throw LSRError(.invalidArgument, "the grid is empty", field: "grid") }
    }

    var points: [(Int, Float)] { queryCuts.flatMap { qc in heapFactors.map { (qc, $0) } } }
}

/// One measured grid point.
public struct SweepPoint: Sendable, Equatable, Codable {
    public var queryCut: Int
    public var heapFactor: Float
    public var meanMicroseconds: Double
    public var p50Microseconds: Double
    public var p99Microseconds: Double
    /// Recall@k against exact search.
    public var recall: Double
    /// nDCG@10 against the qrels, when they were given.
    public var ndcg10: Double?
    /// On the Pareto frontier: no faster point reaches this recall.
    public var onFrontier: Bool

    public init(
        queryCut: Int, heapFactor: Float, meanMicroseconds: Double, p50Microseconds: Double, p99Microseconds: Double,
        recall: Double, ndcg10: Double?, onFrontier: Bool
    ) {
        self.queryCut = queryCut
        self.heapFactor = heapFactor
        self.meanMicroseconds = meanMicroseconds
        self.p50Microseconds = p50Microseconds
        self.p99Microseconds = p99Microseconds
        self.recall = recall
        self.ndcg10 = ndcg10
        self.onFrontier = onFrontier
    }
}

/// Runs approximate search over a parameter grid and measures latency and recall at each point.
public struct Sweep: Sendable {
    public var grid: SweepGrid
    public var k: Int
    /// Threads for the timed searches (1: single-threaded latency, the comparable figure).
    public var threads: Int

    public init(grid: SweepGrid = .default, k: Int = 10, threads: Int = 1) {
        self.grid = grid
        self.k = k
        self.threads = threads
    }

    /// Measures every grid point on `queries`; exact search (on every core) gives the truth.
    /// - Parameters:
    ///   - qrels: judgments for nDCG@10 (optional).
    ///   - progress: called after each point with (points done, points in all).
    public func run(
        index: Index, queries: QuerySet, qrels: Qrels? = nil, progress: ((Int, Int) -> Void)? = nil
    ) throws -> [SweepPoint] {
        let exact = index.search(queries.vectors, parameters: SearchParameters(k: k), exact: true, threads: availableCores)
        let truth = exact.hits.map { $0.map(\.document) }
        if let (queryCut, heapFactor) = grid.points.first {  // warm-up, untimed
            _ = index.search(queries.vectors, parameters: SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor), threads: threads)
        }
        var measured: [SweepPoint] = []
        for (n, (queryCut, heapFactor)) in grid.points.enumerated() {
            let parameters = SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor)
            let result = index.search(queries.vectors, parameters: parameters, threads: threads)
            let recall = RecallAgainstExact.meanRecall(approximate: result.hits.map { $0.map(\.document) }, exact: truth, k: k)
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
