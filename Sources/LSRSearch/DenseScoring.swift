import COpenBLAS
import Glibc
import LSRFormats
import LSRVectors

/// How a query's sparse candidates and their dense scores become one ranking (hybrid search).
public enum Fusion: Sendable, Equatable {
    /// `alpha · s + (1 − alpha) · d`, where s and d are the sparse and the dense scores min-max
    /// normalized over the query's candidates (`(x − min) / (max − min)`; a query whose
    /// candidates all have the same score gets 0 for that side: it carries no ranking).
    case interpolate(alpha: Float)
    /// Reciprocal rank fusion: `1 / (k + sparse rank) + 1 / (k + dense rank)`, ranks from 1 over
    /// the candidates (the sparse rank is the candidates' order; the dense rank orders them by
    /// dense score, ties by lower document).
    case reciprocalRank(k: Int)
    /// The dense score alone: sparse search picks the candidates, the dense vectors order them.
    case rescore

    /// Reciprocal rank fusion with the customary k = 60.
    public static let reciprocalRankFusion = Fusion.reciprocalRank(k: 60)

    /// The fused score of each candidate.
    /// - Parameters:
    ///   - documents: the candidates, in sparse rank order (best first).
    ///   - sparse: their sparse scores; `dense`: their dense scores (same order and count).
    public func scores(documents: [Int], sparse: [Float], dense: [Float]) -> [Float] {
        switch self {
        case let .interpolate(alpha):
            let s = Self.normalized(sparse), d = Self.normalized(dense)
            return zip(s, d).map { alpha * $0 + (1 - alpha) * $1 }
        case let .reciprocalRank(k):
            let denseOrder = dense.indices.sorted { dense[$0] != dense[$1] ? dense[$0] > dense[$1] : documents[$0] < documents[$1] }
            var denseRank = [Int](repeating: 0, count: dense.count)
            for (rank, i) in denseOrder.enumerated() { denseRank[i] = rank + 1 }
            return documents.indices.map { 1 / Float(k + $0 + 1) + 1 / Float(k + denseRank[$0]) }
        case .rescore:
            return dense
        }
    }

    /// The top `k` candidates by fused score, best first (ties: lower document).
    public func rank(documents: [Int], sparse: [Float], dense: [Float], k: Int) -> [SearchHit] {
        let fused = scores(documents: documents, sparse: sparse, dense: dense)
        var hits = zip(documents, fused).map { SearchHit(document: $0, score: $1) }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.document < $1.document }
        return Array(hits.prefix(max(0, k)))
    }

    private static func normalized(_ scores: [Float]) -> [Float] {
        guard let low = scores.min(), let high = scores.max(), high > low else { return scores.map { _ in 0 } }
        return scores.map { ($0 - low) / (high - low) }
    }
}

/// Dot products of dense queries with the stored dense document vectors, through OpenBLAS
/// (`cblas_sgemv` per query for candidates, `cblas_sgemm` for query batches; one BLAS thread:
/// parallelism comes from one scorer per search thread).
///
/// Rows are decoded to float32 a chunk at a time into the scorer's scratch, so memory stays at
/// one chunk whatever the collection. Not thread-safe: one scorer per thread.
package final class DenseScorer {
    public let vectors: DenseVectors
    /// Rows decoded per BLAS call.
    static let chunkRows = 2048
    private let rows: UnsafeMutableBufferPointer<Float>
    private var products: [Float] = []

    /// OpenBLAS's own threads would oversubscribe the search threads.
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// How products are computed. By default one `sgemv` per query for a query's candidates and
    /// `sgemm` for batches of queries (exact dense search): the faster of the two in each case
    /// (`Evaluation/reports/hybrid-scifact-2026-12-03.md`). For benchmarks only,
    /// `LSR_DENSE_KERNEL=sgemm|sgemv|loop` forces one (loop: a plain loop). All agree to float
    /// rounding.
    enum Kernel: String { case sgemm, sgemv, loop }
    static let forcedKernel: Kernel? = getenv("LSR_DENSE_KERNEL").flatMap { Kernel(rawValue: String(cString: $0)) }

    public init(vectors: DenseVectors) {
        _ = Self.singleThreaded
        self.vectors = vectors
        rows = .allocate(capacity: Self.chunkRows * vectors.dimension)
    }

    deinit { rows.deallocate() }

    /// The dense score of each of `documents` for `query`.
    /// - Throws: `LSRError.invalidArgument` when `query` does not have the vectors' dimension or
    ///   a document is out of range.
    public func scores(of documents: [Int], query: [Float]) throws -> [Float] {
        try check(query)
        var result = [Float](repeating: 0, count: documents.count)
        var start = 0
        while start < documents.count {
            let count = min(Self.chunkRows, documents.count - start)
            for i in 0 ..< count { try decode(documents[start + i], into: i) }
            try multiply(queries: query, queryCount: 1, rowCount: count, kernel: Self.forcedKernel ?? .sgemv) { _, row, score in
                result[start + row] = score
            }
            start += count
        }
        return result
    }

    /// The exact dense top-k of every query over all documents, best first (ties: lower
    /// document): `sgemm` of the query batch with each chunk of decoded rows.
    /// - Throws: `LSRError.invalidArgument` for a query of another dimension or a negative k.
    public func topK(queries: [[Float]], k: Int) throws -> [[SearchHit]] {
        guard k >= 0 else { throw LSRError(.invalidArgument, "k must be ≥ 0, got \(k)", field: "k") }
        for query in queries { try check(query) }
        var heaps = queries.map { _ in var heap = TopKHeap(); heap.reset(capacity: min(k, vectors.metadata.rows)); return heap }
        let batch = Array(queries.joined())
        var start = 0
        while start < vectors.metadata.rows && k > 0 && !queries.isEmpty {
            let count = min(Self.chunkRows, vectors.metadata.rows - start)
            for i in 0 ..< count { try decode(start + i, into: i) }
            try multiply(queries: batch, queryCount: queries.count, rowCount: count, kernel: Self.forcedKernel ?? .sgemm) { q, row, score in
                // Most documents fall below the k-th score: compare before offering.
                if !heaps[q].isFull || score >= heaps[q].threshold { heaps[q].offer(score, UInt32(start + row)) }
            }
            start += count
        }
        return heaps.map { $0.sortedHits() }
    }

    private func check(_ query: [Float]) throws {
        guard query.count == vectors.dimension else {
            throw LSRError(.invalidArgument, "a dense query of dimension \(query.count) for vectors of dimension \(vectors.dimension)", field: "dense query")
        }
    }

    private func decode(_ document: Int, into slot: Int) throws {
        let d = vectors.dimension
        try vectors.vector(of: document, into: UnsafeMutableBufferPointer(rebasing: rows[slot * d ..< (slot + 1) * d]))
    }

    /// `queries (queryCount × d) · rows[..<rowCount]ᵀ`, each product handed to `body(query, row, score)`.
    private func multiply(queries: [Float], queryCount: Int, rowCount: Int, kernel: Kernel, _ body: (Int, Int, Float) -> Void) throws {
        let d = Int32(vectors.dimension)
        if products.count < queryCount * rowCount { products = [Float](repeating: 0, count: queryCount * rowCount) }
        queries.withUnsafeBufferPointer { q in
            products.withUnsafeMutableBufferPointer { c in
                switch kernel {
                case .sgemm:
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queryCount), Int32(rowCount), d,
                                1, q.baseAddress, d, rows.baseAddress, d, 0, c.baseAddress, Int32(rowCount))
                case .sgemv:
                    for i in 0 ..< queryCount {
                        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rowCount), d, 1, rows.baseAddress, d,
                                    q.baseAddress! + i * Int(d), 1, 0, c.baseAddress! + i * rowCount, 1)
                    }
                case .loop:
                    let n = Int(d)
                    for i in 0 ..< queryCount {
                        for r in 0 ..< rowCount {
                            var sum: Float = 0
                            for j in 0 ..< n { sum += q[i * n + j] * rows[r * n + j] }
                            c[i * rowCount + r] = sum
                        }
                    }
                }
            }
        }
        for q in 0 ..< queryCount {
            for row in 0 ..< rowCount { body(q, row, products[q * rowCount + row]) }
        }
    }
}
