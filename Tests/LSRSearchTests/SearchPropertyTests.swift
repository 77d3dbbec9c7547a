import LSR
import LSRTestSupport
import XCTest

/// Approximate and exact search against brute force on random collections.
final class SearchPropertyTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func build(_ collection: SyntheticCollection, _ configuration: BuildConfiguration, name: String) throws -> Index {
        try directory.buildIndex(collection, configuration, name: name)
    }

    private func queries(_ index: Index, seed: UInt64) throws -> (QuerySet, SyntheticCollection) {
        let collection = SyntheticCollection(seed: seed, count: 25, dimension: 60, meanLength: 5, idPrefix: "q")
        return (try directory.queries(collection, for: index, name: "q\(seed)"), collection)
    }

    func testExactSearchEqualsBruteForce() throws {
        for seed: UInt64 in 1 ... 4 {
            let collection = SyntheticCollection(seed: seed, count: 300, dimension: 60, meanLength: 8)
            let index = try build(collection, BuildConfiguration(valuePrecision: .f32, seed: seed), name: "exact\(seed)")
            let (set, raw) = try queries(index, seed: seed + 100)
            let searcher = Searcher(index: index)
            for (q, query) in set.vectors.enumerated() {
                let truth = collection.bruteForce(raw.vectors[q])
                let hits = try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact)
                let positives = truth.filter { $0 > 0 }.count
                XCTAssertEqual(hits.count, min(10, positives), "seed \(seed) query \(q)")
                guard !hits.isEmpty else { continue }
                let expectedKth = truth.sorted(by: >)[hits.count - 1]
                for hit in hits {
                    XCTAssertEqual(Double(hit.score), truth[hit.document], accuracy: 1e-4, "seed \(seed) query \(q)")
                    XCTAssertGreaterThanOrEqual(Double(hit.score), expectedKth - 1e-4, "seed \(seed) query \(q)")
                }
                XCTAssertEqual(hits, hits.sorted { $0.score != $1.score ? $0.score > $1.score : $0.document < $1.document })
                XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 10), method: .bruteForce), hits, "forward scan, seed \(seed) query \(q)")
                XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 1000), method: .bruteForce), try searcher.search(query, parameters: SearchParameters(k: 1000), method: .exact), "seed \(seed) query \(q)")
            }
        }
    }

    func testApproximateWithoutPruningOrSkippingEqualsExact() throws {
        for seed: UInt64 in 5 ... 8 {
            let collection = SyntheticCollection(seed: seed, count: 400, dimension: 60, meanLength: 8)
            let configuration = BuildConfiguration(pruning: .none, summaryEnergy: 1, summaries: .always, seed: seed)
            let index = try build(collection, configuration, name: "full\(seed)")
            XCTAssertGreaterThan(index.metadata.summaryEntryCount, 0)
            let (set, _) = try queries(index, seed: seed + 100)
            let searcher = Searcher(index: index)
            let everything = SearchParameters(k: 10, queryCut: 1000, heapFactor: 1e-30, planning: .skipAhead)
            for (q, query) in set.vectors.enumerated() {
                XCTAssertEqual(try searcher.search(query, parameters: everything), try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact), "seed \(seed) query \(q)")
            }
        }
    }

    func testApproximateScoresAreExactScoresAndRecallIsHigh() throws {
        let collection = SyntheticCollection(seed: 9, count: 2000, dimension: 80, meanLength: 10)
        let index = try build(
            collection, BuildConfiguration(pruning: .globalThreshold(nPostings: 60, maxFraction: 1.5), summaries: .always, seed: 9), name: "approx")
        let (set, _) = try queries(index, seed: 109)
        let approximate = try index.search(set.vectors, parameters: SearchParameters(k: 10, queryCut: 5, heapFactor: 0.9, planning: .skipAhead), threads: 2)
        let exact = try index.search(set.vectors, parameters: SearchParameters(k: 2000), method: .exact, threads: 2)
        for (q, hits) in approximate.hits.enumerated() {
            let exactScores = Dictionary(uniqueKeysWithValues: exact.hits[q].map { ($0.document, $0.score) })
            for hit in hits { XCTAssertEqual(hit.score, exactScores[hit.document], "query \(q) document \(hit.document)") }
        }
        let recall = try RecallAgainstExact.meanRecall(
            approximate: approximate.hits.map { $0.map(\.document) }, exact: exact.hits.map { $0.prefix(10).map(\.document) }, k: 10)
        XCTAssertGreaterThan(recall, 0.7)
        XCTAssertLessThanOrEqual(recall, 1)
    }

    func testBatchResultsMatchSerialResultsInInputOrder() throws {
        let collection = SyntheticCollection(seed: 11, count: 500, dimension: 60, meanLength: 8)
        let index = try build(collection, BuildConfiguration(summaries: .always, seed: 11), name: "batch")
        let (set, _) = try queries(index, seed: 111)
        let searcher = Searcher(index: index)
        for planning in SearchPlanning.allCases {
            let parameters = SearchParameters(planning: planning)
            let serial = try set.vectors.map { try searcher.search($0, parameters: parameters) }
            XCTAssertEqual(try index.search(set.vectors, parameters: parameters, threads: 4).hits, serial, "\(planning)")
        }
    }

    func testEmptyAndUnknownQueriesReturnNothing() throws {
        let collection = SyntheticCollection(seed: 12, count: 50, dimension: 30, meanLength: 4)
        let index = try build(collection, BuildConfiguration(seed: 12), name: "empty")
        let path = directory.write("{\"id\": \"e\", \"vector\": {}}\n{\"id\": \"u\", \"vector\": {\"nope\": 1}}\n", to: "odd.jsonl")
        let set = try index.readQueries(path: path)
        XCTAssertEqual(set.unknownTokens, 1)
        XCTAssertEqual(set.queriesWithOnlyUnknownTokens, 1)
        let searcher = Searcher(index: index)
        for query in set.vectors {
            XCTAssertEqual(try searcher.search(query, parameters: .default), [])
            XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact), [])
            XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 10), method: .bruteForce), [])
        }
    }
}

/// Cost-based planning: exhaustive where chosen, equal to exact search there; summaries only
/// where pruning shortens the lists.
final class PlannerTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    /// Where the planner chooses exhaustive search, the results are exactly exact search's; where
    /// it chooses skip-ahead, they are skip-ahead's. Both kinds of plan occur.
    func testPlannedSearchEqualsTheAlgorithmItChose() throws {
        let collection = SyntheticCollection(seed: 31, count: 3000, dimension: 200, meanLength: 20)
        let index = try directory.buildIndex(
            collection, BuildConfiguration(pruning: .globalThreshold(nPostings: 40, maxFraction: 1.5), summaries: .always, seed: 31), name: "plan")
        let queries = SyntheticCollection(seed: 32, count: 60, dimension: 200, meanLength: 12, idPrefix: "q", skew: 1)
        let set = try directory.queries(queries, for: index, name: "q")
        let searcher = Searcher(index: index)
        var plans = Set<Bool>()
        for heapFactor: Float in [1.2, 0.9, 0.5, 0.1] {
            for (q, query) in set.vectors.enumerated() {
                var work = SearchWorkCounts()
                let planned = try searcher.search(query, parameters: SearchParameters(k: 10, queryCut: 5, heapFactor: heapFactor), counting: &work)
                let exhaustive = work.exhaustiveQueries == 1
                plans.insert(exhaustive)
                let expected = try exhaustive
                    ? searcher.search(query, parameters: SearchParameters(k: 10), method: .exact)
                    : searcher.search(query, parameters: SearchParameters(k: 10, queryCut: 5, heapFactor: heapFactor, planning: .skipAhead))
                XCTAssertEqual(planned, expected, "query \(q) heap_factor \(heapFactor) exhaustive \(exhaustive)")
                XCTAssertEqual(planned, try searcher.search(query, parameters: SearchParameters(k: 10, queryCut: 5, heapFactor: heapFactor)), "deterministic")
            }
        }
        XCTAssertEqual(plans, [true, false], "both plans should occur on this collection")
    }

    /// A skip-ahead search estimated cheap that turns out to score nearly every document is
    /// abandoned for exhaustive search, whose results it then returns; the searcher's scratch
    /// is clean afterwards (the next queries equal a fresh searcher's).
    func testAbandonedSkipAheadFallsBackToExactResults() throws {
        // Every document holds the same 30 tokens: summaries never prune, so skip-ahead scores
        // everything although the estimate at heap factor 1.0 expects 8% of it.
        var generator = SplitMix64(seed: 37)
        var lines = ""
        for d in 0 ..< 2000 {
            let pairs = (0 ..< 30).map { "\"t\($0)\": \(Float.random(in: 0.1 ... 2, using: &generator))" }
            lines += "{\"id\": \"d\(d)\", \"vector\": {\(pairs.joined(separator: ", "))}}\n"
        }
        let input = directory.write(lines, to: "same.jsonl")
        try IndexBuilder(configuration: BuildConfiguration(pruning: .none, summaryEnergy: 1, summaries: .always, seed: 37))
            .build(input: try VectorFileReader(path: input), outputPath: directory.file("same"))
        let index = try Index(path: directory.file("same"))
        let queries = (0 ..< 5).map { q in
            "{\"id\": \"q\(q)\", \"vector\": {" + (0 ..< 30).map { "\"t\($0)\": \(Float(($0 * 7 + q) % 11 + 1) / 4)" }.joined(separator: ", ") + "}}"
        }
        let set = try index.readQueries(path: directory.write(queries.joined(separator: "\n") + "\n", to: "q.jsonl"))
        let searcher = Searcher(index: index)
        let parameters = SearchParameters(k: 10, queryCut: 1, heapFactor: 1)
        var work = SearchWorkCounts()
        for query in set.vectors {
            XCTAssertEqual(try searcher.search(query, parameters: parameters, counting: &work), try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact))
        }
        XCTAssertEqual(work.abandonedSearches, set.vectors.count, "\(work)")
        XCTAssertEqual(work.exhaustiveQueries, set.vectors.count)
        let fresh = Searcher(index: index)
        let skipAhead = SearchParameters(k: 10, queryCut: 3, heapFactor: 0.9, planning: .skipAhead)
        for query in set.vectors { XCTAssertEqual(try searcher.search(query, parameters: skipAhead), try fresh.search(query, parameters: skipAhead)) }
    }

    /// An index without summaries (automatic policy, nothing pruned) answers approximate
    /// queries exactly, and is little more than its forward index and lists.
    func testUnprunedCollectionGetsNoSummariesAndExactAnswers() throws {
        let collection = SyntheticCollection(seed: 33, count: 800, dimension: 100, meanLength: 15)
        let index = try directory.buildIndex(collection, BuildConfiguration(seed: 33), name: "small")
        XCTAssertEqual(index.metadata.buildParameters["summarized"], "no")
        XCTAssertEqual(index.metadata.blockCount, 0)
        XCTAssertEqual(index.metadata.summaryEntryCount, 0)
        let summarized = try directory.buildIndex(collection, BuildConfiguration(summaries: .always, seed: 33), name: "always")
        XCTAssertGreaterThan(summarized.metadata.summaryEntryCount, 0)
        XCTAssertLessThan(index.fileBytes, summarized.fileBytes)
        let queries = SyntheticCollection(seed: 34, count: 30, dimension: 100, meanLength: 8, idPrefix: "q")
        let set = try directory.queries(queries, for: index, name: "q")
        let searcher = Searcher(index: index)
        for (q, query) in set.vectors.enumerated() {
            for parameters in [SearchParameters.default, SearchParameters(k: 10, queryCut: 1, heapFactor: 2, planning: .skipAhead)] {
                XCTAssertEqual(try searcher.search(query, parameters: parameters), try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact), "query \(q)")
            }
        }
    }

    /// A heavily pruned collection keeps its summaries under the automatic policy.
    func testPrunedCollectionGetsSummaries() throws {
        let collection = SyntheticCollection(seed: 35, count: 3000, dimension: 100, meanLength: 20)
        let index = try directory.buildIndex(collection, BuildConfiguration(pruning: .globalThreshold(nPostings: 30, maxFraction: 1.5), seed: 35), name: "pruned")
        XCTAssertEqual(index.metadata.buildParameters["summarized"], "yes")
        XCTAssertGreaterThan(index.metadata.summaryEntryCount, 0)
        XCTAssertGreaterThanOrEqual(Double(index.metadata.buildParameters["pruning_ratio"] ?? "0") ?? 0, BuildConfiguration.minimumPruningRatio)
    }
}

/// Vocabularies beyond 65,536 tokens switch the index to 4-byte component ids.
final class WideVocabularyTests: XCTestCase {
    func testMoreThan65535TokensSearchExactlyAndApproximately() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let collection = SyntheticCollection(seed: 21, count: 4000, dimension: 70_000, meanLength: 60, skew: 1)
        let input = directory.write(collection.jsonl(withContent: false), to: "wide.jsonl")
        let output = directory.file("wide")
        try IndexBuilder(configuration: BuildConfiguration(pruning: .none, summaryEnergy: 1, valuePrecision: .f32, summaries: .always, seed: 21))
            .build(input: try VectorFileReader(path: input), outputPath: output)
        let index = try Index(path: output)
        XCTAssertGreaterThan(index.metadata.vocabularySize, 65_536)
        XCTAssertEqual(index.metadata.componentWidth, 4)
        let queries = SyntheticCollection(seed: 22, count: 10, dimension: 70_000, meanLength: 30, idPrefix: "q", skew: 1)
        let set = try index.readQueries(path: directory.write(queries.jsonl(), to: "q.jsonl"))
        let searcher = Searcher(index: index)
        for (q, query) in set.vectors.enumerated() {
            let exact = try searcher.search(query, parameters: SearchParameters(k: 5), method: .exact)
            let truth = collection.bruteForce(queries.vectors[q])
            for hit in exact { XCTAssertEqual(Double(hit.score), truth[hit.document], accuracy: 1e-4) }
            if let best = exact.first { XCTAssertEqual(Double(best.score), truth.max()!, accuracy: 1e-4) }
            XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 5, queryCut: 1000, heapFactor: 1e-30, planning: .skipAhead)), exact)
            XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 5)), exact, "the planner answers exactly here")
            XCTAssertEqual(try searcher.search(query, parameters: SearchParameters(k: 5), method: .bruteForce), exact)
        }
    }
}
