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
    public var mean: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double

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

/// How a batch is searched.
public enum SearchMethod: Sendable, Equatable {
    /// Seismic's skip-ahead search (``Searcher/search(_:parameters:)``).
    case approximate
    /// The exact oracle over the inverted lists (``Searcher/searchExact(_:k:)``).
    case exact
    /// Every document's forward vector scored (``Searcher/searchBruteForce(_:k:)``).
    case bruteForce
}

extension Index {
    /// Searches every query on up to `threads` threads (one ``Searcher`` each).
    /// - Parameters:
    ///   - exact: run the exact oracle instead of approximate search (`parameters.k` still applies).
    /// - Returns: hits in input order and per-query timings.
    public func search(
        _ queries: [QueryVector], parameters: SearchParameters, exact: Bool = false, threads: Int = availableCores
    ) -> BatchSearchResult {
        search(queries, parameters: parameters, method: exact ? .exact : .approximate, threads: threads)
    }

    /// Searches every query with `method` on up to `threads` threads (one ``Searcher`` each);
    /// exact methods use only `parameters.k`.
    /// - Returns: hits in input order and per-query timings.
    public func search(
        _ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod, threads: Int = availableCores
    ) -> BatchSearchResult {
        let workers = workerCount(queries.count, threads: threads)
        let searchers = SearcherPool((0 ..< workers).map { _ in Searcher(index: self) })
        let hits = ParallelSlots<[SearchHit]>(count: queries.count)
        let times = ParallelSlots<Double>(count: queries.count)
        let clock = ContinuousClock()
        let started = clock.now
        parallelForEach(queries.count, threads: workers) { worker, i in
            let searcher = searchers.searchers[worker]
            let begin = clock.now
            let result: [SearchHit]
            switch method {
            case .approximate: result = searcher.search(queries[i], parameters: parameters)
            case .exact: result = searcher.searchExact(queries[i], k: parameters.k)
            case .bruteForce: result = searcher.searchBruteForce(queries[i], k: parameters.k)
            }
            let elapsed = clock.now - begin
            hits[i] = result
            times[i] = elapsed.seconds * 1e6
        }
        let wall = clock.now - started
        return BatchSearchResult(
            hits: hits.collect(), microseconds: times.collect(),
            wallSeconds: wall.seconds, threads: workers)
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
    public func searchCountingWork(
        _ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod = .approximate, threads: Int = availableCores
    ) -> (hits: [[SearchHit]], work: [SearchWorkCounts]) {
        let workers = workerCount(queries.count, threads: threads)
        let searchers = SearcherPool((0 ..< workers).map { _ in Searcher(index: self) })
        let hits = ParallelSlots<[SearchHit]>(count: queries.count)
        let counts = ParallelSlots<SearchWorkCounts>(count: queries.count)
        parallelForEach(queries.count, threads: workers) { worker, i in
            var work = SearchWorkCounts()
            let searcher = searchers.searchers[worker]
            switch method {
            case .approximate: hits[i] = searcher.search(queries[i], parameters: parameters, counting: &work)
            case .exact, .bruteForce: hits[i] = searcher.searchExact(queries[i], k: parameters.k, counting: &work)
            }
            counts[i] = work
        }
        return (hits.collect(), counts.collect())
    }
}
