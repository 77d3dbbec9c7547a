import LSR
import LSRTestSupport
import XCTest

final class DenseScoringTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    /// Three candidates worked by hand: documents 7, 3, 5 in sparse order, sparse scores 3, 2, 1,
    /// dense scores 0.1, 0.9, 0.5.
    func testFusionOfAHandWorkedCase() {
        let documents = [7, 3, 5], sparse: [Float] = [3, 2, 1], dense: [Float] = [0.1, 0.9, 0.5]
        // Normalized: sparse 1, 0.5, 0; dense 0, 1, 0.5. α = 0.5: 0.5, 0.75, 0.25.
        for (fused, expected) in zip(Fusion.interpolate(alpha: 0.5).scores(documents: documents, sparse: sparse, dense: dense), [Float(0.5), 0.75, 0.25]) {
            XCTAssertEqual(fused, expected, accuracy: 1e-6)
        }
        XCTAssertEqual(Fusion.interpolate(alpha: 0.5).rank(documents: documents, sparse: sparse, dense: dense, k: 2),
                       [SearchHit(document: 3, score: 0.75), SearchHit(document: 7, score: 0.5)])
        // α = 1 is the sparse ranking, α = 0 the dense one.
        XCTAssertEqual(Fusion.interpolate(alpha: 1).rank(documents: documents, sparse: sparse, dense: dense, k: 3).map(\.document), [7, 3, 5])
        XCTAssertEqual(Fusion.interpolate(alpha: 0).rank(documents: documents, sparse: sparse, dense: dense, k: 3).map(\.document), [3, 5, 7])
        // Sparse ranks 1, 2, 3; dense ranks 3, 1, 2.
        let rrf = Fusion.reciprocalRankFusion.scores(documents: documents, sparse: sparse, dense: dense)
        XCTAssertEqual(rrf, [Float(1) / 61 + Float(1) / 63, Float(1) / 62 + Float(1) / 61, Float(1) / 63 + Float(1) / 62])
        XCTAssertEqual(Fusion.reciprocalRankFusion.rank(documents: documents, sparse: sparse, dense: dense, k: 3).map(\.document), [3, 7, 5])
        XCTAssertEqual(Fusion.rescore.rank(documents: documents, sparse: sparse, dense: dense, k: 3),
                       [SearchHit(document: 3, score: 0.9), SearchHit(document: 5, score: 0.5), SearchHit(document: 7, score: 0.1)])
        // Equal sparse scores carry no ranking: the dense side decides; dense ties go to the lower document.
        XCTAssertEqual(Fusion.interpolate(alpha: 0.9).rank(documents: documents, sparse: [1, 1, 1], dense: dense, k: 3).map(\.document), [3, 5, 7])
        XCTAssertEqual(Fusion.reciprocalRankFusion.rank(documents: [4, 2], sparse: [2, 1], dense: [0.5, 0.5], k: 2).map(\.document), [2, 4])
        XCTAssertEqual(Fusion.rescore.rank(documents: [], sparse: [], dense: [], k: 3), [])
    }

    /// The scorer's products match a plain loop; its exact top-k over every document equals
    /// rescoring every document as a candidate.
    func testScorerMatchesAPlainLoopAndRescoringEverything() throws {
        let count = 5_000, dimension = 24
        let collection = SyntheticCollection(seed: 5, count: count, dimension: 50, meanLength: 5)
        var generator = SplitMix64(seed: 11)
        let matrix = (0 ..< count).map { _ in (0 ..< dimension).map { _ in Float.random(in: -1 ... 1, using: &generator) } }
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let npy = directory.write(npyBytes(matrix), to: "dense.npy")
        try IndexBuilder(configuration: BuildConfiguration()).build(
            input: try VectorFileReader(path: input), outputPath: directory.file("idx"), dense: DenseInput(path: npy, precision: .f32))
        let index = try Index(path: directory.file("idx"))
        let scorer = DenseScorer(vectors: try XCTUnwrap(try index.denseVectors()))
        let queries = (0 ..< 7).map { _ in (0 ..< dimension).map { _ in Float.random(in: -1 ... 1, using: &generator) } }
        let everyDocument = Array(0 ..< count)
        let top = try scorer.topK(queries: queries, k: 10)
        for (q, query) in queries.enumerated() {
            let scores = try scorer.scores(of: everyDocument, query: query)
            for d in stride(from: 0, to: count, by: 97) {
                let id = Int(try index.documents.document(at: d).id.dropFirst(3))!
                let plain = zip(matrix[id], query).reduce(Double(0)) { $0 + Double($1.0) * Double($1.1) }
                XCTAssertEqual(Double(scores[d]), plain, accuracy: 1e-5)
            }
            // The same documents; scores equal to float rounding (BLAS orders a product's sums by
            // the shape of the batch: one query here, seven in topK).
            let rescored = Fusion.rescore.rank(documents: everyDocument, sparse: scores, dense: scores, k: 10)
            XCTAssertEqual(top[q].map(\.document), rescored.map(\.document), "query \(q)")
            for (a, b) in zip(top[q], rescored) { XCTAssertEqual(a.score, b.score, accuracy: 1e-6 * abs(b.score)) }
        }
        XCTAssertThrowsError(try scorer.scores(of: [0], query: [1, 2]))
        XCTAssertThrowsError(try scorer.scores(of: [count], query: queries[0]))
        XCTAssertThrowsError(try scorer.topK(queries: queries, k: -1))
    }

    /// A hybrid sweep visits every alpha and candidate count at every grid point; its recall is
    /// against the same fusion over exact sparse candidates (1 where the planner answers exactly).
    func testHybridSweepVisitsAlphasAndCandidates() throws {
        let collection = SyntheticCollection(seed: 6, count: 300, dimension: 60, meanLength: 8)
        var generator = SplitMix64(seed: 12)
        let matrix = (0 ..< 300).map { _ in (0 ..< 8).map { _ in Float.random(in: -1 ... 1, using: &generator) } }
        try IndexBuilder(configuration: BuildConfiguration()).build(
            input: try VectorFileReader(path: directory.write(collection.jsonl(), to: "d.jsonl")), outputPath: directory.file("idx"),
            dense: DenseInput(path: directory.write(npyBytes(matrix), to: "dense.npy")))
        let index = try Index(path: directory.file("idx"))
        let queries = try directory.queries(SyntheticCollection(seed: 60, count: 12, dimension: 60, meanLength: 6, idPrefix: "q"), for: index, name: "q")
        let denseQueries = directory.write(npyBytes((0 ..< 12).map { _ in (0 ..< 8).map { _ in Float.random(in: -1 ... 1, using: &generator) } }), to: "q.npy")
        let dense = try DenseQueries.read(path: denseQueries, idsPath: nil, queryIDs: queries.ids)
        let grid = try SweepGrid(parsing: ["query_cut=4", "heap_factor=1.0", "alpha=0.2,0.8", "candidates=20,50"])
        XCTAssertEqual(grid.alphas, [0.2, 0.8])
        XCTAssertEqual(grid.candidates, [20, 50])
        XCTAssertThrowsError(try SweepGrid(parsing: ["alpha=1.5"]))
        XCTAssertThrowsError(try SweepGrid(parsing: ["candidates=0"]))
        let points = try Sweep(grid: grid, k: 5, hybrid: (dense, .interpolate(alpha: 0.5))).run(index: index, queries: queries)
        XCTAssertEqual(points.map(\.alpha), [0.2, 0.2, 0.8, 0.8])
        XCTAssertEqual(points.map(\.candidates), [20, 50, 20, 50])
        for point in points { XCTAssertEqual(point.recall, 1.0, accuracy: 1e-9) }
        let rrf = try Sweep(grid: SweepGrid(parsing: ["query_cut=4", "heap_factor=1.0"]), k: 5, hybrid: (dense, .reciprocalRankFusion))
            .run(index: index, queries: queries)
        XCTAssertEqual(rrf.map(\.alpha), [nil])
        XCTAssertEqual(rrf.map(\.candidates), [100])
    }
}
