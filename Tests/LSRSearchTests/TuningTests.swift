import Foundation
import LSR
import LSRTestSupport
import XCTest

/// `lsr tune`'s presets: file format, round trip, damage detection, determinism, and recall on
/// held-out queries.
final class TuningTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func pruned() throws -> Index {
        // Large enough, and pruned enough, that skip-ahead search beats exact search at low
        // targets (random weights make high recall expensive: exact wins there).
        let collection = SyntheticCollection(seed: 41, count: 25000, dimension: 200, meanLength: 20)
        return try directory.buildIndex(collection, BuildConfiguration(pruning: .globalThreshold(nPostings: 400, maxFraction: 1.5), seed: 41), name: "index")
    }

    private func queries(_ index: Index, seed: UInt64, count: Int) throws -> QuerySet {
        let collection = SyntheticCollection(seed: seed, count: count, dimension: 200, meanLength: 12, idPrefix: "q\(seed)-", skew: 1.5)
        return try directory.queries(collection, for: index, name: "q\(seed)")
    }

    private var examplePresets: SearchPresets {
        SearchPresets(
            k: 10, index: "00000000deadbeef", queries: 100, queriesFile: "q.jsonl", seed: 7, method: "test", created: "2026-12-02T00:00:00Z",
            lsrVersion: lsrVersion, plannerVersion: 2, presets: [
                SearchPreset(targetRecall: 0.97, method: .exact, queryCut: 0, heapFactor: 0, tuningRecall: 1, recallLowerBound: 1,
                             crossValidatedRecall: 1, meanMicroseconds: 100),
                SearchPreset(targetRecall: 0.9, method: .approximate, queryCut: 4, heapFactor: 0.85, tuningRecall: 0.92, recallLowerBound: 0.91,
                             crossValidatedRecall: 0.915, meanMicroseconds: 50),
            ])
    }

    func testPresetsRoundTripAndChooseTheLowestTargetAtOrAbove() throws {
        let presets = examplePresets
        XCTAssertEqual(presets.presets.map(\.targetRecall), [0.9, 0.97], "kept in ascending order")
        let decoded = try SearchPresets.decode(try presets.encoded(), path: "p", plannerVersion: 2)
        XCTAssertEqual(decoded, presets)
        XCTAssertEqual(decoded.preset(forTargetRecall: 0.9)?.queryCut, 4)
        XCTAssertEqual(decoded.preset(forTargetRecall: 0.85)?.targetRecall, 0.9)
        XCTAssertEqual(decoded.preset(forTargetRecall: 0.95)?.method, .exact)
        XCTAssertNil(decoded.preset(forTargetRecall: 0.99))
    }

    func testDamagedPresetsAreDetected() throws {
        let bytes = try examplePresets.encoded()
        let newline = bytes.firstIndex(of: UInt8(ascii: "\n"))!
        var flipped = bytes
        flipped[newline + 20] ^= 0x01
        // A well-formed file whose values are out of range (checksum recomputed).
        var invalid = examplePresets
        invalid.presets[0].queryCut = -3
        let damaged: [[UInt8]] = [flipped, Array(bytes.dropLast(5)), bytes + [UInt8(ascii: " ")], Array("hello\n{}".utf8), [], try invalid.encoded()]
        for (n, bad) in damaged.enumerated() {
            XCTAssertThrowsError(try SearchPresets.decode(bad, path: "presets", plannerVersion: 2), "case \(n)") { error in
                let error = error as! LSRError
                XCTAssertEqual(error.code, .corruptIndex, "case \(n): \(error)")
                XCTAssertEqual(error.path, "presets")
            }
        }
        var wrongVersion = bytes
        wrongVersion[12] = UInt8(ascii: "9")  // "lsr-presets 9 …"
        var otherPlanner = examplePresets
        otherPlanner.plannerVersion += 1
        for bad in [wrongVersion, try otherPlanner.encoded()] {
            XCTAssertThrowsError(try SearchPresets.decode(bad, path: "presets", plannerVersion: 2)) { XCTAssertEqual(($0 as! LSRError).code, .unsupportedVersion) }
        }
    }

    func testStoredPresetsBelongToTheirIndex() throws {
        let index = try pruned()
        XCTAssertNil(try index.presets())
        var presets = examplePresets
        presets.index = index.identity
        try index.store(presets)
        XCTAssertEqual(try index.presets(), presets)
        presets.index = "0123456789abcdef"
        try index.store(presets)
        XCTAssertThrowsError(try index.presets())
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: index.path).filter { $0.contains(".tmp") }
        XCTAssertEqual(leftovers, [])
    }

    /// Tuning with the work-model selection is deterministic for a seed, and its presets reach
    /// their targets (less one point) on queries it never saw.
    func testTuningIsDeterministicAndHoldsOnHeldOutQueries() throws {
        let index = try pruned()
        let tune = try queries(index, seed: 42, count: 300)
        let test = try queries(index, seed: 43, count: 300)
        let tuner = Tuner(targets: [0.4, 0.6, 0.9], k: 10, threads: 2, seed: 5, selection: .workModel)
        let first = try tuner.tune(index: index, queries: tune)
        let second = try tuner.tune(index: index, queries: tune)
        XCTAssertEqual(first.presets.presets, second.presets.presets)
        XCTAssertEqual(first.points, second.points)
        XCTAssertEqual(first.presets.presets.map(\.targetRecall), [0.4, 0.6, 0.9])

        let truth = try index.search(test.vectors, parameters: SearchParameters(k: 10), method: .exact, threads: 2).hits.map { $0.map(\.document) }
        var approximateRecalls: [Double] = []
        for preset in first.presets.presets {
            let hits = try index.search(test.vectors, parameters: preset.parameters(k: 10), method: preset.searchMethod, threads: 2).hits
            let recall = try RecallAgainstExact.meanRecall(approximate: hits.map { $0.map(\.document) }, exact: truth, k: 10)
            XCTAssertGreaterThanOrEqual(recall, preset.targetRecall - 0.01, "target \(preset.targetRecall): \(preset)")
            if preset.method == .approximate { approximateRecalls.append(recall) }
        }
        // The check above means something only if some preset really is approximate.
        XCTAssertFalse(approximateRecalls.isEmpty, "every preset is exact: \(first.presets.presets)")
        XCTAssertLessThan(approximateRecalls.min() ?? 1, 1)
        // A higher target never gets a cheaper setting.
        let costs = first.presets.presets.map { p in first.points.first { $0.method == p.method && $0.queryCut == p.queryCut && $0.heapFactor == p.heapFactor }!.estimatedMicroseconds }
        XCTAssertEqual(costs, costs.sorted())
    }

    /// A sharded collection is tuned as a whole: its presets name it and every shard, reach
    /// their targets on the collection's merged results for unseen queries, serve a server of
    /// some shards, and are refused once a shard is not the one they were tuned on.
    func testACollectionIsTunedAsAWholeAndItsPresetsBelongToIt() throws {
        let documents = SyntheticCollection(seed: 41, count: 12000, dimension: 200, meanLength: 20)
        let input = directory.write(documents.jsonl(), to: "docs.jsonl")
        let configuration = BuildConfiguration(pruning: .globalThreshold(nPostings: 200, maxFraction: 1.5), seed: 41)
        try ShardedIndexBuilder(configuration: configuration, shardCount: 2).build(input: try VectorFileReader(path: input), outputPath: directory.file("c"))
        let collection = try ShardedIndex(path: directory.file("c"))
        func queries(seed: UInt64) throws -> ShardedQuerySet {
            let set = SyntheticCollection(seed: seed, count: 200, dimension: 200, meanLength: 12, idPrefix: "q\(seed)-", skew: 1.5)
            return try collection.readQueries(path: directory.write(set.jsonl(), to: "q\(seed).jsonl"))
        }
        let tuner = Tuner(targets: [0.5, 0.8], k: 10, threads: 2, seed: 5, selection: .workModel)
        let result = try tuner.tune(collection: collection, queries: try queries(seed: 42))
        let presets = result.presets
        XCTAssertEqual(presets.shards, collection.shards.map(\.identity))
        XCTAssertEqual(presets.index, collection.identity)
        XCTAssertNil(try collection.presets())
        try collection.store(presets)
        XCTAssertEqual(try collection.presets(), presets)
        XCTAssertEqual(try tuner.tune(collection: collection, queries: try queries(seed: 42)).presets.presets, presets.presets, "deterministic")

        let test = try queries(seed: 43)
        let truth = try collection.search(test, parameters: SearchParameters(k: 10), method: .exact).hits.map { $0.map(\.document) }
        var approximate = 0
        for preset in presets.presets {
            let hits = try collection.search(test, parameters: preset.parameters(k: 10), method: preset.searchMethod).hits
            let recall = try RecallAgainstExact.meanRecall(approximate: hits.map { $0.map(\.document) }, exact: truth, k: 10)
            XCTAssertGreaterThanOrEqual(recall, preset.targetRecall - 0.01, "\(preset)")
            if preset.method == .approximate && recall < 1 { approximate += 1 }
        }
        XCTAssertGreaterThan(approximate, 0, "the check above means something only for an approximate preset: \(presets.presets)")

        // A server of some shards uses the collection's presets, and cannot tune.
        let server = try ShardedIndex(path: directory.file("c"), serving: [1])
        XCTAssertEqual(try server.presets(), presets)
        XCTAssertNil(server.identity)
        XCTAssertThrowsError(try tuner.tune(collection: server, queries: try server.readQueries(path: directory.file("q43.jsonl")))) {
            XCTAssertEqual(($0 as! LSRError).code, .invalidArgument)
        }
        // Presets of a collection are not an index's.
        try collection.shards[0].store(presets)
        XCTAssertThrowsError(try collection.shards[0].presets()) { XCTAssertEqual(($0 as! LSRError).code, .corruptIndex) }
        // Shard 1 rebuilt (same documents, other clusters): the collection and a server of shard
        // 1 refuse the presets, a server of shard 0 still uses them.
        var reseeded = configuration
        reseeded.seed = 7
        try ShardedIndexBuilder(configuration: reseeded, shardCount: 2).build(input: try VectorFileReader(path: input), outputPath: directory.file("other"))
        let shard1 = directory.file("c/shard-0001/index.lsr")
        try FileManager.default.removeItem(atPath: shard1)
        try FileManager.default.copyItem(atPath: directory.file("other/shard-0001/index.lsr"), toPath: shard1)
        for serving in [nil, [1]] as [[Int]?] {
            XCTAssertThrowsError(try ShardedIndex(path: directory.file("c"), serving: serving).presets()) {
                XCTAssertTrue("\($0)".contains("another collection"), "\($0)")
            }
        }
        XCTAssertEqual(try ShardedIndex(path: directory.file("c"), serving: [0]).presets(), presets)
    }

    func testTunerRejectsBadSettings() {
        for tuner in [Tuner(targets: [0]), Tuner(targets: [1.5]), Tuner(targets: []), Tuner(k: 0), Tuner(folds: 1), Tuner(margin: -1)] {
            XCTAssertThrowsError(try tuner.validate()) { XCTAssertEqual(($0 as! LSRError).code, .invalidArgument) }
        }
    }
}
