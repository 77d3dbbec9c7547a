import LSRFormats
import LSRVectors

/// What hybrid search does after sparse search: how many candidates it keeps per query and how
/// their dense scores are fused with the sparse ranking.
public struct HybridParameters: Sendable, Equatable {
    /// How the candidates' sparse and dense scores become one ranking; default interpolation, alpha 0.5.
    public var fusion: Fusion
    /// Sparse results per query that dense scoring sees (at least k).
    public var candidates: Int

    /// Parameters; by default interpolation with alpha 0.5 over 100 candidates. Ranges are checked by
    /// ``validate()``, not here.
    public init(fusion: Fusion = .interpolate(alpha: 0.5), candidates: Int = 100) {
        self.fusion = fusion
        self.candidates = candidates
    }

    /// - Throws: `LSRError.invalidArgument` naming the option: candidates < 1, alpha outside
    ///   [0, 1], an RRF k < 1.
    public func validate() throws {
        guard candidates >= 1 else { throw LSRError(.invalidArgument, "must be ≥ 1, got \(candidates)", field: "candidates") }
        switch fusion {
        case let .interpolate(alpha):
            guard alpha >= 0 && alpha <= 1 else { throw LSRError(.invalidArgument, "must be in [0, 1], got \(alpha)", field: "alpha") }
        case let .reciprocalRank(k):
            guard k >= 1 else { throw LSRError(.invalidArgument, "must be ≥ 1, got \(k)", field: "rrf-k") }
        case .rescore: break
        }
    }
}

/// Hits of a hybrid or dense batch and the time of each stage per query.
public struct HybridSearchResult: Sendable {
    /// Hits per query, in input order.
    public var hits: [[SearchHit]]
    /// Per query, microseconds: sparse search (zero for dense-only search), dense scoring of the
    /// candidates (or the query's share of the dense batch), and fusion.
    public var sparseMicroseconds: [Double]
    /// Per query, microseconds of dense scoring: of its candidates, or its share of its dense batch's time.
    public var denseMicroseconds: [Double]
    /// Per query, microseconds of fusion (zero for dense-only search).
    public var fusionMicroseconds: [Double]
    /// Wall-clock time of the whole batch in seconds.
    public var wallSeconds: Double
    /// Worker threads used.
    public var threads: Int

    /// Per query, the three stages together.
    public var microseconds: [Double] {
        sparseMicroseconds.indices.map { sparseMicroseconds[$0] + denseMicroseconds[$0] + fusionMicroseconds[$0] }
    }
}

/// Dense query vectors for a query set, one row per query in the set's order.
public struct DenseQueries: Sendable {
    /// Values per query vector.
    public let dimension: Int
    /// One vector of ``dimension`` values per query, in the query set's order.
    public let rows: [[Float]]

    /// Reads `path` (`.npy` or `.fvecs`, as ``DenseMatrixReader``) for the queries `queryIDs`.
    /// - Parameter idsPath: the query id of each row, one per line; rows of ids outside
    ///   `queryIDs` are skipped. Without it, the rows are the queries in order.
    /// - Throws: `LSRError.invalidInput` naming the file (and row): a query without a row, a
    ///   query with two, a row count that does not match.
    public static func read(path: String, idsPath: String?, queryIDs: [String]) throws -> DenseQueries {
        let reader = try DenseMatrixReader(path: path)
        let ids = try idsPath.map(readIDFile)
        var position: [String: Int] = [:]
        for (i, id) in queryIDs.enumerated() { position[id] = i }
        var rows = [[Float]?](repeating: nil, count: queryIDs.count)
        let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: reader.dimension)
        defer { row.deallocate() }
        while try reader.next(into: row) {
            let r = reader.rowsRead - 1
            let q: Int
            if let ids {
                guard r < ids.count else {
                    throw LSRError(.invalidInput, "more rows than the \(ids.count) ids of \(idsPath!)", path: path, field: "row \(r)")
                }
                guard let p = position[ids[r]] else { continue }
                q = p
            } else {
                guard r < queryIDs.count else {
                    throw LSRError(.invalidInput, "more rows than the \(queryIDs.count) queries", path: path, field: "row \(r)")
                }
                q = r
            }
            guard rows[q] == nil else {
                throw LSRError(.invalidInput, "a second row for query \(queryIDs[q])", path: path, field: "row \(r)")
            }
            rows[q] = Array(row)
        }
        if let missing = rows.firstIndex(where: { $0 == nil }) {
            throw LSRError(.invalidInput, "query \(queryIDs[missing]) has no row" + (idsPath.map { " (ids: \($0))" } ?? ""), path: path)
        }
        return DenseQueries(dimension: reader.dimension, rows: rows.map { $0! })
    }
}

extension Index {
    /// Hybrid search: sparse search (`method`, `parameters`) keeps `hybrid.candidates` hits per
    /// query, their dense scores come from the stored dense vectors, and `hybrid.fusion` ranks
    /// them; up to `parameters.k` hits per query. One searcher and one dense scorer per thread.
    /// - Throws: `LSRError` when the index has no dense vectors, the dense queries do not match
    ///   their dimension or count, or a parameter is out of range.
    public func hybridSearch(
        _ queries: [QueryVector], dense: DenseQueries, parameters: SearchParameters, method: SearchMethod = .approximate,
        hybrid: HybridParameters, threads: Int = availableCores
    ) throws -> HybridSearchResult {
        try hybrid.validate()
        try parameters.validate(for: method)
        let vectors = try requireDenseVectors(dimension: dense.dimension)
        guard dense.rows.count == queries.count else {
            throw LSRError(.invalidArgument, "\(dense.rows.count) dense queries for \(queries.count) queries", field: "dense queries")
        }
        var candidateParameters = parameters
        candidateParameters.k = max(parameters.k, hybrid.candidates)
        let clock = ContinuousClock()
        let started = clock.now
        let sparse = try search(queries, parameters: candidateParameters, method: method, threads: threads)
        let workers = workerCount(queries.count, threads: threads)
        let scorers = ScorerPool((0 ..< workers).map { _ in DenseScorer(vectors: vectors) })
        let hits = ParallelSlots<[SearchHit]>(count: queries.count)
        let denseTimes = ParallelSlots<Double>(count: queries.count), fusionTimes = ParallelSlots<Double>(count: queries.count)
        let failure = ParallelSlots<[LSRError]>(count: queries.count)  // empty: no error
        parallelForEach(queries.count, threads: workers) { worker, i in
            let candidates = sparse.hits[i]
            let documents = candidates.map(\.document)
            let begin = clock.now
            do {
                let scores = try scorers.scorers[worker].scores(of: documents, query: dense.rows[i])
                let scored = clock.now
                hits[i] = hybrid.fusion.rank(documents: documents, sparse: candidates.map(\.score), dense: scores, k: parameters.k)
                denseTimes[i] = (scored - begin).seconds * 1e6
                fusionTimes[i] = (clock.now - scored).seconds * 1e6
                failure[i] = []
            } catch {
                hits[i] = []
                denseTimes[i] = 0
                fusionTimes[i] = 0
                failure[i] = [error as? LSRError ?? LSRError(.invalidArgument, "\(error)")]
            }
        }
        if let error = failure.collect().joined().first { throw error }
        return HybridSearchResult(
            hits: hits.collect(), sparseMicroseconds: sparse.microseconds, denseMicroseconds: denseTimes.collect(),
            fusionMicroseconds: fusionTimes.collect(), wallSeconds: (clock.now - started).seconds, threads: workers)
    }

    /// Exact dense search: the top `k` documents of each query by dense dot product over all
    /// documents (`sgemm` over batches of `batchSize` queries, batches spread over the threads).
    /// - Throws: as ``hybridSearch(_:dense:parameters:method:hybrid:threads:)``.
    public func denseSearch(_ dense: DenseQueries, k: Int, batchSize: Int = 64, threads: Int = availableCores) throws -> HybridSearchResult {
        guard k >= 1 else { throw LSRError(.invalidArgument, "must be ≥ 1, got \(k)", field: "k") }
        guard batchSize >= 1 else { throw LSRError(.invalidArgument, "must be ≥ 1, got \(batchSize)", field: "batch-size") }
        guard threads >= 1 else { throw LSRError(.invalidArgument, "threads must be ≥ 1, got \(threads)", field: "threads") }
        let vectors = try requireDenseVectors(dimension: dense.dimension)
        let batches = stride(from: 0, to: dense.rows.count, by: batchSize).map { $0 ..< min($0 + batchSize, dense.rows.count) }
        let workers = workerCount(batches.count, threads: threads)
        let scorers = ScorerPool((0 ..< workers).map { _ in DenseScorer(vectors: vectors) })
        let hits = ParallelSlots<[[SearchHit]]>(count: batches.count), times = ParallelSlots<Double>(count: batches.count)
        let failure = ParallelSlots<[LSRError]>(count: batches.count)  // empty: no error
        let clock = ContinuousClock()
        let started = clock.now
        parallelForEach(batches.count, threads: workers) { worker, b in
            let begin = clock.now
            do {
                hits[b] = try scorers.scorers[worker].topK(queries: Array(dense.rows[batches[b]]), k: k)
                failure[b] = []
            } catch {
                hits[b] = []
                failure[b] = [error as? LSRError ?? LSRError(.invalidArgument, "\(error)")]
            }
            times[b] = (clock.now - begin).seconds * 1e6
        }
        if let error = failure.collect().joined().first { throw error }
        let batchTimes = times.collect()
        let perQuery = batches.indices.flatMap { b in batches[b].map { _ in batchTimes[b] / Double(batches[b].count) } }
        return HybridSearchResult(
            hits: hits.collect().flatMap { $0 }, sparseMicroseconds: perQuery.map { _ in 0 }, denseMicroseconds: perQuery,
            fusionMicroseconds: perQuery.map { _ in 0 }, wallSeconds: (clock.now - started).seconds, threads: workers)
    }

    private func requireDenseVectors(dimension: Int) throws -> DenseVectors {
        guard let vectors = try denseVectors() else {
            throw LSRError(.invalidArgument, "this index has no dense vectors; store them with `lsr add-dense` (or lsr index --dense)", path: path)
        }
        guard vectors.dimension == dimension else {
            throw LSRError(.invalidArgument, "dense queries of dimension \(dimension) for document vectors of dimension \(vectors.dimension)", path: path)
        }
        return vectors
    }
}

/// Dense scorers indexed by worker; each is used by one worker thread at a time.
private final class ScorerPool: @unchecked Sendable {
    // @unchecked Sendable: `parallelForEach` never runs one worker index on two threads at once.
    let scorers: [DenseScorer]
    init(_ scorers: [DenseScorer]) { self.scorers = scorers }
}
