import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Every public entry point called with values out of range: each throws an `LSRError` naming
/// the argument (never a trap, never a silently wrong result), and nothing is searched.
final class PublicArgumentTests: XCTestCase {
    var directory: TemporaryDirectory!
    var index: Index!
    var query: QueryVector!

    override func setUpWithError() throws {
        directory = TemporaryDirectory()
        index = try directory.buildIndex(
            SyntheticCollection(seed: 3, count: 300, dimension: 60, meanLength: 8), BuildConfiguration(seed: 3), name: "idx")
        query = try directory.queries(SyntheticCollection(seed: 4, count: 1, dimension: 60, meanLength: 6, idPrefix: "q"), for: index, name: "q").vectors[0]
    }

    override func tearDown() { directory.cleanUp() }

    /// Asserts that `body` throws an `.invalidArgument` (or `code`) LSRError whose description
    /// holds every fragment.
    func assertRejected<T>(
        _ body: @autoclosure () throws -> T, code: LSRError.Code = .invalidArgument, _ fragments: String...,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? LSRError else { return XCTFail("not an LSRError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            for fragment in fragments { XCTAssertTrue("\(error)".contains(fragment), "'\(fragment)' not in: \(error)", file: file, line: line) }
        }
    }

    func testSearchParametersOutOfRange() throws {
        let searcher = Searcher(index: index)
        let bad: [(SearchParameters, String)] = [
            (SearchParameters(k: 0), "k"), (SearchParameters(k: -3), "k"), (SearchParameters(k: .min), "k"),
            (SearchParameters(queryCut: 0), "query-cut"), (SearchParameters(queryCut: -1), "query-cut"),
            (SearchParameters(queryCut: .min), "query-cut"),
            (SearchParameters(heapFactor: 0), "heap-factor"), (SearchParameters(heapFactor: -0.5), "heap-factor"),
            (SearchParameters(heapFactor: .nan), "heap-factor"), (SearchParameters(heapFactor: .infinity), "heap-factor"),
        ]
        for (parameters, field) in bad {
            // Exact methods use only k: they ignore the approximate settings.
            let methods: [SearchMethod] = field == "k" ? [.approximate, .exact, .bruteForce] : [.approximate]
            for method in methods {
                assertRejected(try searcher.search(query, parameters: parameters, method: method), field)
                var work = SearchWorkCounts()
                assertRejected(try searcher.search(query, parameters: parameters, method: method, counting: &work), field)
                XCTAssertEqual(work, SearchWorkCounts(), "nothing was searched")
                assertRejected(try index.search([query], parameters: parameters, method: method, threads: 1), field)
                assertRejected(try index.searchCountingWork([query], parameters: parameters, method: method, threads: 1), field)
            }
            if field != "k" {
                let exact = try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact)
                XCTAssertEqual(try searcher.search(query, parameters: parameters, method: .exact), exact)
                XCTAssertEqual(try searcher.search(query, parameters: parameters, method: .bruteForce), exact)
            }
        }
        // The bounds themselves are accepted.
        XCTAssertFalse(try searcher.search(query, parameters: SearchParameters(k: 1, queryCut: 1, heapFactor: .leastNonzeroMagnitude)).isEmpty)
        XCTAssertFalse(try searcher.search(query, parameters: SearchParameters(k: .max, queryCut: .max, heapFactor: .greatestFiniteMagnitude)).isEmpty)
    }

    func testMalformedQueryVectors() throws {
        let searcher = Searcher(index: index)
        let bad: [(QueryVector, String)] = [
            (QueryVector(components: [1, 2], values: [1]), "2 components but 1 weights"),
            (QueryVector(components: [5, 2], values: [1, 1]), "strictly ascending"),
            (QueryVector(components: [2, 2], values: [1, 1]), "strictly ascending"),
            (QueryVector(components: [2], values: [.nan]), "finite and not negative"),
            (QueryVector(components: [2], values: [-1]), "finite and not negative"),
            (QueryVector(components: [2], values: [.infinity]), "finite and not negative"),
            (QueryVector(components: [2], values: [3.4e38]), "overflow"),
            (QueryVector(components: [1, 2, 3], values: [2e33, 2e33, 2e33]), "overflow"),
        ]
        for (vector, fragment) in bad {
            for method in [SearchMethod.approximate, .exact, .bruteForce] {
                assertRejected(try searcher.search(vector, parameters: .default, method: method), fragment, "query")
            }
            assertRejected(try searcher.validate(vector), fragment)
            assertRejected(try index.search([query, query, vector], threads: 2), "query 2:", fragment)
        }
        // Large weights that cannot overflow (f16 document weights ≤ 65,504) give finite scores;
        // components beyond the index's vocabulary match nothing.
        XCTAssertEqual(index.largestWeight, 65504)
        let large = QueryVector(components: query.components, values: query.values.map { $0 * 1e30 })
        let largeHits = try searcher.search(large, method: .exact)
        XCTAssertFalse(largeHits.isEmpty)
        XCTAssertTrue(largeHits.allSatisfy { $0.score.isFinite && $0.score > 0 })
        XCTAssertEqual(try searcher.search(QueryVector(components: [UInt32.max], values: [1])), [])
        XCTAssertEqual(try searcher.search(QueryVector(components: [], values: [])), [])
    }

    func testLargestWeightOfSinglePrecisionIndexes() throws {
        let collection = SyntheticCollection(seed: 5, count: 50, dimension: 20, meanLength: 4)
        let f32 = try directory.buildIndex(collection, BuildConfiguration(valuePrecision: .f32), name: "f32")
        XCTAssertEqual(f32.largestWeight, collection.vectors.joined().map(\.weight).max())
        // Weights whose sum times that weight passes half of Float32's range are rejected; just
        // below, accepted, with finite scores.
        let limit = Float.greatestFiniteMagnitude / 2 / f32.largestWeight
        let searcher = Searcher(index: f32)
        assertRejected(try searcher.search(QueryVector(components: [0, 1], values: [limit, limit])), "overflow")
        assertRejected(try searcher.search(QueryVector(components: [0], values: [limit * 1.001])), "overflow")
        let nearLimit = try searcher.search(QueryVector(components: [0], values: [limit * 0.999]), method: .exact)
        XCTAssertFalse(nearLimit.isEmpty)
        XCTAssertTrue(nearLimit.allSatisfy { $0.score.isFinite })
    }

    func testBatchThreadsAndRecallArguments() throws {
        for threads in [0, -1, Int.min] {
            assertRejected(try index.search([query], threads: threads), "threads")
            assertRejected(try index.searchCountingWork([query], threads: threads), "threads")
        }
        XCTAssertEqual(try index.search([], threads: 1).hits.count, 0)
        assertRejected(try RecallAgainstExact.recall(approximate: [1], exact: [1], k: 0), "k")
        assertRejected(try RecallAgainstExact.recall(approximate: [1], exact: [1], k: -5), "k")
        assertRejected(try RecallAgainstExact.meanRecall(approximate: [[1]], exact: [[1], [2]], k: 10), "1 result lists against 2")
        assertRejected(try RecallAgainstExact.meanRecall(approximate: [[1]], exact: [[1]], k: 0), "k")
    }

    func testHybridAndDenseArguments() throws {
        let dense = try DenseQueries.read(path: directory.write(npyBytes([[1, 0]]), to: "dq.npy"), idsPath: nil, queryIDs: ["q0"])
        let cases: [(HybridParameters, String)] = [
            (HybridParameters(candidates: 0), "candidates"), (HybridParameters(fusion: .interpolate(alpha: .nan)), "alpha"),
            (HybridParameters(fusion: .interpolate(alpha: 1.5)), "alpha"), (HybridParameters(fusion: .reciprocalRank(k: 0)), "rrf-k"),
        ]
        for (hybrid, field) in cases {
            assertRejected(try index.hybridSearch([query], dense: dense, parameters: .default, hybrid: hybrid), field)
        }
        assertRejected(try index.hybridSearch([query], dense: dense, parameters: SearchParameters(queryCut: -2), hybrid: HybridParameters()), "query-cut")
        assertRejected(try index.denseSearch(dense, k: 0), "k")
        assertRejected(try index.denseSearch(dense, k: 10, batchSize: 0), "batch-size")
        assertRejected(try index.denseSearch(dense, k: 10, threads: 0), "threads")
        // Valid arguments on an index without dense vectors: the error says how to add them.
        assertRejected(try index.denseSearch(dense, k: 10), "add-dense")
    }

    func testTunerAndSweepArguments() throws {
        let queries = try directory.queries(SyntheticCollection(seed: 6, count: 20, dimension: 60, meanLength: 6, idPrefix: "q"), for: index, name: "qs")
        for tuner in [Tuner(targets: [1.5]), Tuner(targets: []), Tuner(targets: [.nan]), Tuner(k: 0), Tuner(threads: 0)] {
            assertRejected(try tuner.tune(index: index, queries: queries))
        }
        assertRejected(try Sweep(k: 0).run(index: index, queries: queries), "k")
        assertRejected(try Sweep(threads: 0).run(index: index, queries: queries), "threads")
        assertRejected(try Metric(parsing: "ndcg@0"), "K ≥ 1")
        assertRejected(try Metric(parsing: "ndcg@-4"), "K ≥ 1")
    }

    func testQueryFilesRepeatingAnIDOrOverflowingAreRejected() throws {
        let good = #"{"id": "a", "vector": {"t1": 1.5}}"#
        let repeated = directory.write([good, #"{"id": "b", "vector": {"t2": 1}}"#, good].joined(separator: "\n") + "\n", to: "repeat.jsonl")
        assertRejected(try index.readQueries(path: repeated), code: .invalidInput, "repeat.jsonl:3", "duplicate id 'a'")
        let overflow = directory.write(good + "\n" + #"{"id": "b", "vector": {"t2": 3.4e38}}"# + "\n", to: "overflow.jsonl")
        assertRejected(try index.readQueries(path: overflow), code: .invalidInput, "overflow.jsonl:2", "vector", "overflow")
        // A weight only on tokens the index does not know cannot overflow anything.
        let unknown = directory.write(#"{"id": "a", "vector": {"unseen": 3.4e38, "t1": 1}}"# + "\n", to: "unknown.jsonl")
        XCTAssertEqual(try index.readQueries(path: unknown).vectors.map(\.values), [[1]])

        let binaryQueries = directory.write(SyntheticCollection(seed: 7, count: 3, dimension: 60, meanLength: 4, idPrefix: "q").binary(), to: "q.bin")
        let vocabulary = directory.write((0 ..< 60).map { "t\($0)" }.joined(separator: "\n") + "\n", to: "vocab.txt")
        let ids = directory.write("x\ny\nx\n", to: "ids.txt")
        assertRejected(try index.readQueries(path: binaryQueries, idsPath: ids, vocabularyPath: vocabulary), code: .invalidInput, "duplicate", "x")
    }

    func testCLIRejectsARepeatedQueryID() throws {
        let input = directory.write(SyntheticCollection(seed: 8, count: 100, dimension: 30, meanLength: 5).jsonl(), to: "docs.jsonl")
        let output = directory.file("cli")
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", output]).status, 0)
        let line = #"{"id": "q1", "vector": {"t1": 1.5}}"#
        let queries = directory.write(line + "\n" + line + "\n", to: "queries.jsonl")
        try assertLSRFails(["search", "--index", output, "--queries", queries], mentions: ["queries.jsonl:2", "duplicate id 'q1'"])
    }
}
