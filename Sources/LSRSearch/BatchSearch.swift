import LSRVectors

/// The results of searching many queries.
public struct BatchSearchResult: Sendable {
    /// Hits per query, in input order.
    public var hits: [[SearchHit]]
    /// Search time of each query in microseconds (query already encoded; output excluded).
    public var microseconds: [Double]
    /// Wall-clock time of the whole batch in seconds.
    public var wallSeconds: Double
    /// Worker threads used.
    public var threads: Int

    /// A result from its parts (see each property).
    public init(hits: [[SearchHit]], microseconds: [Double], wallSeconds: Double, threads: Int) {
        self.hits = hits
        self.microseconds = microseconds
        self.wallSeconds = wallSeconds
        self.threads = threads
    }

    /// Queries per second over the whole batch.
    public var queriesPerSecond: Double { wallSeconds > 0 ? Double(hits.count) / wallSeconds : 0 }
    /// Mean, median and tail per-query latencies.
    public var latency: LatencySummary { LatencySummary(microseconds) }
}

/// Mean and nearest-rank percentiles of a set of latencies, in microseconds.
public struct LatencySummary: Sendable, Equatable {
    /// Mean latency in microseconds (0 for no samples).
    public var mean: Double
    /// Median (nearest-rank 50th percentile) latency in microseconds.
    public var p50: Double
    /// Nearest-rank 90th percentile latency in microseconds.
    public var p90: Double
    /// Nearest-rank 99th percentile latency in microseconds.
    public var p99: Double

    /// The summary of `samples` (microseconds, in any order); all zero when there are none.
    public init(_ samples: [Double]) {
        guard !samples.isEmpty else {
            mean = 0; p50 = 0; p90 = 0; p99 = 0
            return
        }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double {
            sorted[max(0, min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1))]
        }
        mean = samples.reduce(0, +) / Double(samples.count)
        p50 = percentile(0.5)
        p90 = percentile(0.9)
        p99 = percentile(0.99)
    }
}

/// How ``Searcher/search(_:parameters:method:)`` finds the top k.
public enum SearchMethod: Sendable, Equatable {
    /// The planner's choice per query between Seismic's skip-ahead search and exact exhaustive
    /// search, under `queryCut`, `heapFactor` and `planning`.
    case approximate
    /// The exact oracle: every posting of every query term, term at a time.
    case exact
    /// Exact, by scoring every document's forward vector (no inverted lists).
    case bruteForce
}

extension Index {
    /// Searches every query with `method` on up to `threads` threads (one ``Searcher`` each);
    /// exact methods use only `parameters.k`.
    /// - Returns: hits in input order and per-query timings.
    /// - Throws: `LSRError.invalidArgument` for parameters out of range, `threads` < 1, or a
    ///   malformed query (``Searcher/validate(_:)``, naming its position); nothing is searched then.
    public func search(
        _ queries: [QueryVector], parameters: SearchParameters = .default, method: SearchMethod = .approximate,
        threads: Int = availableCores
    ) throws -> BatchSearchResult {
        try validateBatch(queries, parameters: parameters, method: method, threads: threads)
        let workers = workerCount(queries.count, threads: threads)
        return run(queries, parameters: parameters, method: method, searchers: (0 ..< workers).map { _ in Searcher(index: self) })
    }

    /// ``search(_:parameters:method:threads:)`` with the given searchers of this index, one per
    /// thread: for callers that search many small batches and keep their searchers, since
    /// making one costs O(documents).
    package func search(
        _ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod, reusing searchers: [Searcher]
    ) throws -> BatchSearchResult {
        try validateBatch(queries, parameters: parameters, method: method, threads: searchers.count)
        guard searchers.allSatisfy({ $0.index === self }) else {
            throw LSRError(.invalidArgument, "searchers of another index", field: "searchers")
        }
        return run(queries, parameters: parameters, method: method, searchers: searchers)
    }

    /// Runs a validated batch, worker w on `searchers[w]`.
    private func run(_ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod, searchers: [Searcher]) -> BatchSearchResult {
        let workers = workerCount(queries.count, threads: searchers.count)
        let searchers = SearcherPool(searchers)
        let hits = ParallelSlots<[SearchHit]>(count: queries.count)
        let times = ParallelSlots<Double>(count: queries.count)
        let clock = ContinuousClock()
        let started = clock.now
        parallelForEach(queries.count, threads: workers) { worker, i in
            let searcher = searchers.searchers[worker]
            let begin = clock.now
            let result = searcher.run(queries[i], parameters, method)
            let elapsed = clock.now - begin
            hits[i] = result
            times[i] = elapsed.seconds * 1e6
        }
        let wall = clock.now - started
        return BatchSearchResult(
            hits: hits.collect(), microseconds: times.collect(),
            wallSeconds: wall.seconds, threads: workers)
    }

    /// Checks a batch's arguments before any search.
    func validateBatch(_ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod, threads: Int) throws {
        try parameters.validate(for: method)
        guard threads >= 1 else { throw LSRError(.invalidArgument, "threads must be ≥ 1, got \(threads)", field: "threads") }
        let largest = largestWeight
        for (position, query) in queries.enumerated() {
            do {
                try query.validate(largestDocumentWeight: largest)
            } catch var error as LSRError {
                error.message = "query \(position): " + error.message
                throw error
            }
        }
    }
}

/// Searchers indexed by worker; each is used by one worker thread at a time.
private final class SearcherPool: @unchecked Sendable {
    // @unchecked Sendable: `parallelForEach` never runs one worker index on two threads at once.
    let searchers: [Searcher]
    init(_ searchers: [Searcher]) { self.searchers = searchers }
}

extension Index {
    /// Searches every query as ``search(_:parameters:method:threads:)`` does, counting what each
    /// search does (``SearchWorkCounts``); counting costs a little, so time other runs.
    /// - Returns: hits and counts per query, in input order.
    /// - Throws: as ``search(_:parameters:method:threads:)``.
    public func searchCountingWork(
        _ queries: [QueryVector], parameters: SearchParameters = .default, method: SearchMethod = .approximate,
        threads: Int = availableCores
    ) throws -> (hits: [[SearchHit]], work: [SearchWorkCounts]) {
        try validateBatch(queries, parameters: parameters, method: method, threads: threads)
        let workers = workerCount(queries.count, threads: threads)
        let searchers = SearcherPool((0 ..< workers).map { _ in Searcher(index: self) })
        let hits = ParallelSlots<[SearchHit]>(count: queries.count)
        let counts = ParallelSlots<SearchWorkCounts>(count: queries.count)
        parallelForEach(queries.count, threads: workers) { worker, i in
            var work = SearchWorkCounts()
            let searcher = searchers.searchers[worker]
            hits[i] = searcher.run(queries[i], parameters, method, counting: &work)
            counts[i] = work
        }
        return (hits.collect(), counts.collect())
    }
}
