import Foundation
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

    /// Preloading maps the index (on Linux 5.14 and later) and changes no result.
    func testPreloadChangesNoResult() throws {
        let collection = SyntheticCollection(seed: 7, count: 500, dimension: 60, meanLength: 8)
        let index = try build(collection, BuildConfiguration(pruning: .globalThreshold(nPostings: 20, maxFraction: 1.5), summaries: .always, seed: 7), name: "preload")
        let (set, _) = try queries(index, seed: 107)
        let before = try index.search(set.vectors, parameters: SearchParameters(k: 10, queryCut: 3, heapFactor: 0.9), threads: 1).hits
        #if os(Linux)
        var system = utsname()
        uname(&system)
        let release = withUnsafeBytes(of: system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        XCTAssertEqual(index.preload(), version.count == 2 && (version[0], version[1]) >= (5, 14), release)
        #else
        XCTAssertFalse(index.preload())
        #endif
        XCTAssertEqual(try index.search(set.vectors, parameters: SearchParameters(k: 10, queryCut: 3, heapFactor: 0.9), threads: 1).hits, before)
    }

    /// Exact search leaves out the tails whose bounds (`list.tailmax`) cannot change the top k:
    /// on pruned collections it reads fewer postings than the query's lists hold, and its results
    /// equal a scan of every forward vector (ids and scores), for f32 and f16 weights and any k.
    func testExactSearchLeavesOutTailsAndStaysExact() throws {
        var searches = 0, leftOut = 0
        for (seed, precision) in [(UInt64(41), ValuePrecision.f32), (42, .f16)] {
            var collection = SyntheticCollection(seed: seed, count: 3000, dimension: 80, meanLength: 20)
            // Copies of 300 documents: exact ties, the copy (higher id) often in a tail where the
            // original is in a block.
            collection.ids += (0 ..< 300).map { "copy\($0)" }
            collection.vectors += collection.vectors.prefix(300)
            let configuration = BuildConfiguration(
                pruning: .globalThreshold(nPostings: 30, maxFraction: 1.5), valuePrecision: precision, summaries: .always, seed: seed)
            let index = try build(collection, configuration, name: "tails\(seed)")
            XCTAssertEqual(index.plannerVersion, 2, "an index with tail bounds")
            let raw = SyntheticCollection(seed: seed + 1, count: 40, dimension: 80, meanLength: 12, idPrefix: "q", skew: 1)
            let set = try directory.queries(raw, for: index, name: "q\(seed)")
            var listLengths: [String: Int] = [:]
            for vector in collection.vectors { for (token, _) in vector { listLengths[token, default: 0] += 1 } }
            let searcher = Searcher(index: index)
            for (q, query) in set.vectors.enumerated() {
                let postings = raw.vectors[q].reduce(0) { $0 + (listLengths[$1.token] ?? 0) }
                for k in [1, 10, 100] {
                    var work = SearchWorkCounts()
                    let exact = try searcher.search(query, parameters: SearchParameters(k: k), method: .exact, counting: &work)
                    XCTAssertEqual(exact, try searcher.search(query, parameters: SearchParameters(k: k), method: .bruteForce), "seed \(seed) query \(q) k \(k)")
                    XCTAssertLessThanOrEqual(work.postingsAccumulated, postings)
                    searches += 1
                    if work.postingsAccumulated < postings { leftOut += 1 }
                }
            }
        }
        // The comparison above means something only if tails really were left out.
        XCTAssertGreaterThan(leftOut, searches / 3, "\(leftOut) of \(searches) searches left tails out")
    }

    /// An index as written before `list.tailmax` existed (the same file with the section's table
    /// entry renamed, so no reader finds it) opens, reads every tail, answers exactly as the index
    /// with the section does, and keeps planner version 1, under which its presets were tuned.
    func testIndexWithoutTailBoundsSearchesAsBefore() throws {
        let collection = SyntheticCollection(seed: 45, count: 2000, dimension: 80, meanLength: 20)
        let configuration = BuildConfiguration(pruning: .globalThreshold(nPostings: 30, maxFraction: 1.5), summaries: .always, seed: 45)
        let bounded = try build(collection, configuration, name: "bounded")
        let old = directory.file("unbounded")
        try FileManager.default.createDirectory(atPath: old, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bounded.path + "/documents.sqlite", toPath: old + "/documents.sqlite")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: bounded.path + "/" + IndexLayout.indexFileName)))
        let sections = Int(bytes[12]) | Int(bytes[13]) << 8, table = bytes[16 ..< 24].reversed().reduce(0) { $0 << 8 | Int($1) }
        let entry = try XCTUnwrap((0 ..< sections).first { e in
            bytes[(table + 48 * e)...].prefix { $0 != 0 }.elementsEqual(IndexLayout.listTailMaximum.utf8)
        })
        bytes[table + 48 * entry + 12] = UInt8(ascii: "-")  // "list.tailmax" → "list.tailmax-"
        func store(_ value: UInt64, at offset: Int) { for i in 0 ..< 8 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        store(bytes[table ..< table + 48 * sections].withUnsafeBytes { XXHash64.hash($0) }, at: 32)
        store(bytes[0 ..< 40].withUnsafeBytes { XXHash64.hash($0) }, at: 40)
        try Data(bytes).write(to: URL(fileURLWithPath: old + "/" + IndexLayout.indexFileName))
        let unbounded = try Index(path: old)
        XCTAssertEqual(bounded.plannerVersion, 2)
        XCTAssertEqual(unbounded.plannerVersion, 1)

        let raw = SyntheticCollection(seed: 46, count: 40, dimension: 80, meanLength: 12, idPrefix: "q", skew: 1)
        let queries = (try directory.queries(raw, for: bounded, name: "qb"), try directory.queries(raw, for: unbounded, name: "qu"))
        let searchers = (Searcher(index: bounded), Searcher(index: unbounded))
        var fewer = 0
        for (q, (query, same)) in zip(queries.0.vectors, queries.1.vectors).enumerated() {
            XCTAssertEqual(query, same)
            var work = (SearchWorkCounts(), SearchWorkCounts())
            let exact = try searchers.0.search(query, parameters: SearchParameters(k: 10), method: .exact, counting: &work.0)
            XCTAssertEqual(try searchers.1.search(query, parameters: SearchParameters(k: 10), method: .exact, counting: &work.1), exact, "query \(q)")
            XCTAssertLessThanOrEqual(work.0.postingsAccumulated, work.1.postingsAccumulated)
            fewer += work.0.postingsAccumulated < work.1.postingsAccumulated ? 1 : 0
            let skipAhead = SearchParameters(k: 10, queryCut: 4, heapFactor: 0.9, planning: .skipAhead)
            XCTAssertEqual(try searchers.1.search(query, parameters: skipAhead), try searchers.0.search(query, parameters: skipAhead), "query \(q)")
        }
        XCTAssertGreaterThan(fewer, 10, "the index with bounds left tails out")
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
