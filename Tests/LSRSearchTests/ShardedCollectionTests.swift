import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Sharded collections (`ShardedIndexBuilder`, `ShardedIndex`) against one index of the same
/// documents, and the checks that keep a collection whole.
final class ShardedCollectionTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func buildCollection(_ input: String, shards: Int, _ configuration: BuildConfiguration, name: String) throws -> ShardedIndex {
        try ShardedIndexBuilder(configuration: configuration, shardCount: shards).build(input: try VectorFileReader(path: input), outputPath: directory.file(name))
        return try ShardedIndex(path: directory.file(name))
    }

    /// Hits as (external id, score), to compare an index with a collection.
    private func named(_ hits: [SearchHit], _ id: (Int) throws -> String) throws -> [String] {
        try hits.map { "\(try id($0.document)) \($0.score.bitPattern)" }
    }

    func testExactSearchOverACollectionEqualsOneIndexIdsAndScores() throws {
        for (seed, shards, precision) in [(1, 2, ValuePrecision.f16), (2, 3, .f32), (3, 5, .f16), (4, 7, .f32)] as [(UInt64, Int, ValuePrecision)] {
            let collection = SyntheticCollection(seed: seed, count: 311, dimension: 70, meanLength: 8)
            let configuration = BuildConfiguration(valuePrecision: precision, seed: seed)
            let single = try directory.buildIndex(collection, configuration, name: "single\(seed)")
            let sharded = try buildCollection(directory.file("single\(seed).jsonl"), shards: shards, configuration, name: "sharded\(seed)")
            XCTAssertEqual(sharded.documentCount, 311)
            XCTAssertEqual(sharded.shards.map(\.documentCount), (0 ..< shards).map { CollectionManifest.documentCount(ofShard: $0, shards: shards, documents: 311) })
            let queryFile = directory.write(SyntheticCollection(seed: seed + 50, count: 30, dimension: 80, meanLength: 6, idPrefix: "q").jsonl(), to: "q\(seed).jsonl")
            let singleQueries = try single.readQueries(path: queryFile)
            let shardedQueries = try sharded.readQueries(path: queryFile)
            XCTAssertEqual(shardedQueries.ids, singleQueries.ids)
            XCTAssertEqual(shardedQueries.unknownTokens, singleQueries.unknownTokens, "tokens t70 … t79 are unknown to both")
            XCTAssertGreaterThan(singleQueries.unknownTokens, 0)
            for method in [SearchMethod.exact, .bruteForce] {
                for k in [1, 10, 400] {
                    let one = try single.search(singleQueries.vectors, parameters: SearchParameters(k: k), method: method, threads: 2)
                    let many = try sharded.search(shardedQueries, parameters: SearchParameters(k: k), method: method, threads: 2)
                    for q in one.hits.indices {
                        XCTAssertEqual(
                            try named(many.hits[q], { try sharded.document(at: $0).id }), try named(one.hits[q], { try single.documents.document(at: $0).id }),
                            "seed \(seed), \(shards) shards, \(method), k \(k), query \(q)")
                    }
                    // Positions are the input's: the same numbers as in one index.
                    XCTAssertEqual(many.hits, one.hits, "seed \(seed) \(method) k \(k)")
                }
            }
            // Approximate search with nothing skipped is exact search, on a collection too.
            let everything = SearchParameters(k: 10, queryCut: 1000, heapFactor: 1e-30, planning: .skipAhead)
            XCTAssertEqual(
                try sharded.search(shardedQueries, parameters: everything).hits,
                try sharded.search(shardedQueries, parameters: SearchParameters(k: 10), method: .exact).hits, "seed \(seed)")
            for position in [0, 1, shards, 310] {
                let id = try single.documents.document(at: position).id
                XCTAssertEqual(try sharded.document(at: position).id, id)
                XCTAssertEqual(sharded.position(of: id), position)
            }
            XCTAssertNil(sharded.position(of: "no such id"))
            XCTAssertThrowsError(try sharded.document(at: 311))
            XCTAssertEqual(sharded.verify(), [])
        }
    }

    func testServersOfSomeShardsMergeToTheWholeCollection() throws {
        let collection = SyntheticCollection(seed: 11, count: 200, dimension: 50, meanLength: 7)
        let input = directory.write(collection.jsonl(), to: "docs.jsonl")
        let whole = try buildCollection(input, shards: 4, BuildConfiguration(), name: "c")
        let queryFile = directory.write(SyntheticCollection(seed: 12, count: 20, dimension: 50, meanLength: 5, idPrefix: "q").jsonl(), to: "q.jsonl")
        let parameters = SearchParameters(k: 10)
        let expected = try whole.search(try whole.readQueries(path: queryFile), parameters: parameters, method: .exact).hits
        let servers = try [[0, 2], [3, 1]].map { try ShardedIndex(path: directory.file("c"), serving: $0) }
        XCTAssertEqual(servers.map(\.shardNumbers), [[0, 2], [1, 3]])
        let parts = try servers.map { try $0.search(try $0.readQueries(path: queryFile), parameters: parameters, method: .exact).hits }
        for q in expected.indices {
            XCTAssertEqual(ShardedIndex.best(parts[0][q] + parts[1][q], k: 10), expected[q], "query \(q)")
        }
        XCTAssertThrowsError(try servers[0].document(at: 1)) { XCTAssertTrue("\($0)".contains("not served here"), "\($0)") }
        XCTAssertEqual(try servers[0].document(at: 2).id, "doc2")
        XCTAssertThrowsError(try ShardedIndex(path: directory.file("c"), serving: [4]))
        XCTAssertThrowsError(try ShardedIndex(path: directory.file("c"), serving: []))
    }

    func testShardsBuiltApartAreAssembledAndChecked() throws {
        let collection = SyntheticCollection(seed: 21, count: 90, dimension: 40, meanLength: 6)
        let input = directory.write(collection.jsonl(), to: "docs.jsonl")
        let builder = ShardedIndexBuilder(shardCount: 3)
        let parts = directory.file(".parts")
        try FileManager.default.createDirectory(atPath: parts, withIntermediateDirectories: false)
        for shard in [2, 0] {
            try builder.buildShard(shard, input: try VectorFileReader(path: input), outputPath: parts + "/" + CollectionManifest.shardDirectory(shard))
        }
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)) {
            XCTAssertTrue("\($0)".contains("shard 1 of 3 is missing"), "\($0)")
        }
        // A shard of another partition: its metadata gives it away.
        try ShardedIndexBuilder(shardCount: 2).buildShard(1, input: try VectorFileReader(path: input), outputPath: parts + "/shard-0001")
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)) {
            XCTAssertTrue("\($0)".contains("shard-0001: built as shard 1 of 2, not as shard 1 of 3"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: parts + "/shard-0001")
        // The right shard of a shorter input: the counts give it away.
        let shorter = directory.write(SyntheticCollection(seed: 21, count: 87, dimension: 40, meanLength: 6).jsonl(), to: "shorter.jsonl")
        try builder.buildShard(1, input: try VectorFileReader(path: shorter), outputPath: parts + "/shard-0001")
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)) {
            XCTAssertTrue("\($0)".contains("round-robin partition"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: parts + "/shard-0001")
        // Another setting: every shard must share the build's settings.
        try ShardedIndexBuilder(configuration: BuildConfiguration(valuePrecision: .f32), shardCount: 3)
            .buildShard(1, input: try VectorFileReader(path: input), outputPath: parts + "/shard-0001")
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)) {
            XCTAssertTrue("\($0)".contains("other settings than shard 0 (precision: f32 vs f16)"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: parts + "/shard-0001")
        // Something else in the directory is refused; leftovers of interrupted shard builds go.
        _ = directory.write("x", to: ".parts/notes.txt")
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)) {
            XCTAssertTrue("\($0)".contains("'notes.txt' is not a shard"), "\($0)")
        }
        try FileManager.default.removeItem(atPath: parts + "/notes.txt")
        try FileManager.default.createDirectory(atPath: parts + "/.shard-0001.lsr-build-1-2", withIntermediateDirectories: false)
        try builder.buildShard(1, input: try VectorFileReader(path: input), outputPath: parts + "/shard-0001")
        XCTAssertThrowsError(try builder.buildShard(3, input: try VectorFileReader(path: input), outputPath: directory.file("x")))
        try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts))
        // The same bytes as a collection built in one go.
        try builder.build(input: try VectorFileReader(path: input), outputPath: directory.file("d"))
        for shard in 0 ..< 3 {
            let name = "/" + CollectionManifest.shardDirectory(shard) + "/index.lsr"
            XCTAssertEqual(FileManager.default.contents(atPath: directory.file("c") + name), FileManager.default.contents(atPath: directory.file("d") + name))
        }
        XCTAssertEqual(try CollectionManifest.read(collection: directory.file("c")), try CollectionManifest.read(collection: directory.file("d")))
    }

    func testAnIdInTwoShardsIsRefused() throws {
        let first = SyntheticCollection(seed: 31, count: 40, dimension: 30, meanLength: 5)
        var second = SyntheticCollection(seed: 32, count: 40, dimension: 30, meanLength: 5)
        second.ids = (0 ..< 40).map { "other\($0)" }
        second.ids[7] = first.ids[8]  // document 7 goes to shard 1 of 2, document 8 to shard 0
        let parts = directory.file(".parts")
        try FileManager.default.createDirectory(atPath: parts, withIntermediateDirectories: false)
        let builder = ShardedIndexBuilder(shardCount: 2)
        try builder.buildShard(0, input: try VectorFileReader(path: directory.write(first.jsonl(), to: "a.jsonl")), outputPath: parts + "/shard-0000")
        try builder.buildShard(1, input: try VectorFileReader(path: directory.write(second.jsonl(), to: "b.jsonl")), outputPath: parts + "/shard-0001")
        XCTAssertThrowsError(try ShardedIndexBuilder.assemble(shardsIn: parts, into: directory.file("c"), shardCount: 2)) {
            XCTAssertTrue("\($0)".contains("document id 'doc8' is in shards 0 and 1"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("c")))
    }

    func testBadCollectionsAreClearErrorsAndLeaveNothing() throws {
        let tiny = directory.write(SyntheticCollection(seed: 41, count: 2, dimension: 10, meanLength: 3).jsonl(), to: "tiny.jsonl")
        XCTAssertThrowsError(try buildCollection(tiny, shards: 3, BuildConfiguration(), name: "c")) {
            XCTAssertTrue("\($0)".contains("holds 2 documents, fewer than the 3 shards"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("c")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") }, [])
        XCTAssertThrowsError(try ShardedIndexBuilder(shardCount: 0).build(input: try VectorFileReader(path: tiny), outputPath: directory.file("c")))

        // Replacing: an index by a collection and back, only when asked.
        let docs = directory.write(SyntheticCollection(seed: 42, count: 30, dimension: 10, meanLength: 3).jsonl(), to: "docs.jsonl")
        try IndexBuilder().build(input: try VectorFileReader(path: docs), outputPath: directory.file("x"))
        XCTAssertThrowsError(try buildCollection(docs, shards: 2, BuildConfiguration(), name: "x")) {
            XCTAssertEqual(($0 as? LSRError)?.code, .outputExists)
        }
        let replaced = try ShardedIndexBuilder(shardCount: 2).build(input: try VectorFileReader(path: docs), outputPath: directory.file("x"), overwrite: true)
        XCTAssertEqual(replaced.map(\.documents), [15, 15])
        XCTAssertTrue(CollectionManifest.isCollection(at: directory.file("x")))
        try IndexBuilder().build(input: try VectorFileReader(path: docs), outputPath: directory.file("x"), overwrite: true)
        XCTAssertEqual(try Index(path: directory.file("x")).documentCount, 30)
        try FileManager.default.createDirectory(atPath: directory.file("plain"), withIntermediateDirectories: false)
        XCTAssertThrowsError(try ShardedIndexBuilder(shardCount: 2).build(input: try VectorFileReader(path: docs), outputPath: directory.file("plain"), overwrite: true))

        // A damaged manifest, and one whose counts were edited (checksum recomputed).
        _ = try buildCollection(docs, shards: 2, BuildConfiguration(), name: "m")
        let manifestPath = CollectionManifest.path(inCollection: directory.file("m"))
        var bytes = Array(FileManager.default.contents(atPath: manifestPath)!)
        bytes[bytes.count - 5] ^= 1
        _ = directory.write(bytes, to: "m/collection")
        XCTAssertThrowsError(try ShardedIndex(path: directory.file("m"))) { XCTAssertEqual(($0 as? LSRError)?.code, .corruptIndex) }
        var edited = CollectionManifest(documentCount: 30, shardCount: 2)
        edited.shards[0].documents = 16
        _ = directory.write(try edited.encoded(), to: "m/collection")
        XCTAssertThrowsError(try ShardedIndex(path: directory.file("m"))) { XCTAssertTrue("\($0)".contains("round-robin partition"), "\($0)") }
        // A shard with another document count than the manifest says.
        _ = directory.write(try CollectionManifest(documentCount: 29, shardCount: 2).encoded(), to: "m/collection")
        XCTAssertThrowsError(try ShardedIndex(path: directory.file("m"))) { XCTAssertTrue("\($0)".contains("the manifest says 14"), "\($0)") }
    }

    /// The manifest's bytes, as `Documentation/IndexFormat.md` describes them: a change here is a
    /// format change (bump `CollectionManifest.formatVersion`, add a CHANGELOG entry).
    func testManifestBytesAreFrozen() throws {
        var manifest = CollectionManifest(documentCount: 7, shardCount: 3)
        manifest.writtenBy = "0.1.0"
        let body = """
            {
              "document_count" : 7,
              "partition" : "round-robin",
              "shards" : [
                {
                  "directory" : "shard-0000",
                  "documents" : 3
                },
                {
                  "directory" : "shard-0001",
                  "documents" : 2
                },
                {
                  "directory" : "shard-0002",
                  "documents" : 2
                }
              ],
              "written_by" : "0.1.0"
            }

            """
        let bytes = try manifest.encoded()
        let header = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("lsr-collection 1 xxh64 "), header)
        XCTAssertTrue(header.hasSuffix(" \(body.utf8.count)"), header)
        XCTAssertEqual(String(decoding: bytes.drop { $0 != UInt8(ascii: "\n") }.dropFirst(), as: UTF8.self), body)
        XCTAssertEqual(manifest.location(of: 5).shard, 2)
        XCTAssertEqual(manifest.location(of: 5).local, 1)
        XCTAssertEqual(manifest.position(shard: 2, local: 1), 5)
    }

    /// Binary input without a vocabulary: the reader numbers components on its first pass and
    /// must number them alike on every shard's pass; binary queries without a vocabulary then
    /// find the same documents over the collection as over one index.
    func testBinaryInputWithoutVocabularyShardsLikeOneIndex() throws {
        let collection = SyntheticCollection(seed: 51, count: 257, dimension: 90, meanLength: 9)
        let input = directory.write(collection.binary(), to: "docs.bin")
        try IndexBuilder().build(input: try VectorFileReader(path: input), outputPath: directory.file("single"))
        try ShardedIndexBuilder(shardCount: 4).build(input: try VectorFileReader(path: input), outputPath: directory.file("sharded"))
        let single = try Index(path: directory.file("single")), sharded = try ShardedIndex(path: directory.file("sharded"))
        let queries = directory.write(SyntheticCollection(seed: 52, count: 25, dimension: 90, meanLength: 6).binary(), to: "q.bin")
        let one = try single.search(try single.readQueries(path: queries).vectors, parameters: SearchParameters(k: 20), method: .exact)
        let many = try sharded.search(try sharded.readQueries(path: queries), parameters: SearchParameters(k: 20), method: .exact)
        XCTAssertEqual(many.hits, one.hits)
        XCTAssertGreaterThan(one.hits.map(\.count).reduce(0, +), 25 * 10)
        // Queries read by another object are refused, not misread.
        let other = try ShardedIndex(path: directory.file("sharded"), serving: [0, 1, 2, 3])
        XCTAssertThrowsError(try other.search(try sharded.readQueries(path: queries))) { XCTAssertTrue("\($0)".contains("another collection object"), "\($0)") }
    }

    /// A text query encoder given to the builder is stored in every shard; text queries over the
    /// collection find what they find over one index.
    func testTextQueriesOverACollectionEqualOneIndex() throws {
        let collection = SyntheticCollection(seed: 71, count: 150, dimension: 40, meanLength: 6)
        let input = directory.write(collection.jsonl(), to: "docs.jsonl")
        let vocabulary = directory.write((["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + collection.vocabulary).joined(separator: "\n") + "\n", to: "vocab.txt")
        let idf = directory.write("{" + collection.vocabulary.enumerated().map { "\"\($0.element)\": \(1 + Double($0.offset) / 10)" }.joined(separator: ", ") + "}", to: "idf.json")
        let encoder = try StoredQueryEncoder.idf(tokenizerPath: vocabulary, weightsPath: idf)
        try IndexBuilder().build(input: try VectorFileReader(path: input), outputPath: directory.file("single"), queryEncoder: encoder)
        try ShardedIndexBuilder(shardCount: 3).build(input: try VectorFileReader(path: input), outputPath: directory.file("sharded"), queryEncoder: encoder)
        let single = try Index(path: directory.file("single")), sharded = try ShardedIndex(path: directory.file("sharded"))
        let texts = [(id: "a", text: "t1 t5 t7"), (id: "b", text: "t30 nothing t2"), (id: "c", text: "unknown words only")]
        let oneSet = try single.textQueries(texts), manySet = try sharded.textQueries(texts)
        XCTAssertEqual(manySet.unknownTokens, oneSet.unknownTokens)
        XCTAssertEqual(manySet.queriesWithOnlyUnknownTokens, oneSet.queriesWithOnlyUnknownTokens)
        XCTAssertEqual(manySet.emptyQueries, 1)
        XCTAssertEqual(oneSet.emptyQueries, 1)
        let one = try single.search(oneSet.vectors, parameters: SearchParameters(k: 15), method: .exact)
        let many = try sharded.search(manySet, parameters: SearchParameters(k: 15), method: .exact)
        XCTAssertEqual(many.hits, one.hits)
        XCTAssertEqual(many.hits.map(\.count), [15, 15, 0])
    }

    /// A source that holds another number of documents on a later pass (a file changed, a pipe).
    func testAnInputThatChangesBetweenPassesIsRefused() throws {
        let input = directory.write(SyntheticCollection(seed: 61, count: 20, dimension: 10, meanLength: 3).jsonl(), to: "docs.jsonl")
        let shrinking = ShrinkingSource(try VectorFileReader(path: input))
        XCTAssertThrowsError(try ShardedIndexBuilder(shardCount: 2).build(input: shrinking, outputPath: directory.file("c"))) {
            XCTAssertTrue("\($0)".contains("the input changed between the shards' passes: 19 documents now, 20 at first"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("c")))
    }
}

/// A vector source whose later passes lose the last document.
private final class ShrinkingSource: VectorSource {
    private let source: VectorFileReader
    private var passes = 0
    init(_ source: VectorFileReader) { self.source = source }
    var path: String { source.path }
    var format: VectorFileFormat { source.format }
    var tokens: [String] { source.tokens }
    var declaredCount: Int? { nil }
    var skippedEmptyLines: Int { 0 }
    var droppedZeroWeights: Int { 0 }
    func sourceComponent(of component: UInt32) -> UInt32 { component }
    func forEach(sortingComponents: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        passes += 1
        let limit = passes == 1 ? Int.max : 19
        var seen = 0
        try source.forEach(sortingComponents: sortingComponents) { record in
            seen += 1
            if seen <= limit { try body(record) }
        }
    }
}
