import CLSRKernels
import LSR
import LSRTestSupport
import XCTest

final class BuildTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func core(_ index: Index) -> [String: UInt64] {
        let file = try! IndexFile(path: index.path + "/" + IndexLayout.indexFileName)
        return Dictionary(uniqueKeysWithValues: file.entries.filter { $0.name != IndexLayout.vocabularySource && $0.name != IndexLayout.metadata }.map { ($0.name, $0.checksum) })
    }

    func testJSONLCompressedAndBinaryInputsGiveIdenticalIndexesAndResults() throws {
        let collection = SyntheticCollection(seed: 3, count: 400, dimension: 50, meanLength: 7)
        let jsonl = directory.write(collection.jsonl(withContent: false), to: "d.jsonl")
        let zst = directory.write(try ZstdCompression.compress(Array(collection.jsonl(withContent: false).utf8)), to: "d.jsonl.zst")
        let bin = directory.write(collection.binary(), to: "d.bin")
        let ids = directory.write(collection.ids.joined(separator: "\n") + "\n", to: "ids.txt")
        let vocab = directory.write(collection.vocabulary.joined(separator: "\n") + "\n", to: "vocab.txt")
        let builder = IndexBuilder(configuration: BuildConfiguration(seed: 3, threads: 2))
        try builder.build(input: try VectorFileReader(path: jsonl), outputPath: directory.file("a"))
        try builder.build(input: try VectorFileReader(path: zst), outputPath: directory.file("b"))
        try builder.build(input: try VectorFileReader(path: bin, idsPath: ids, vocabularyPath: vocab), outputPath: directory.file("c"))
        let indexes = try ["a", "b", "c"].map { try Index(path: directory.file($0)) }
        XCTAssertEqual(core(indexes[0]), core(indexes[1]))
        XCTAssertEqual(core(indexes[0]), core(indexes[2]))
        let queries = SyntheticCollection(seed: 30, count: 20, dimension: 50, meanLength: 4, idPrefix: "q")
        let queryPath = directory.write(queries.jsonl(), to: "q.jsonl")
        let results = try indexes.map { index in
            try index.search(try index.readQueries(path: queryPath).vectors, parameters: .default, threads: 1).hits
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
        XCTAssertEqual(try indexes[2].documents.document(at: 5).id, "doc5")
    }

    /// Same bytes with 1, 2 and 5 threads, from JSONL and from binary input, over enough
    /// documents that reading hands several batches to its collecting thread.
    func testSameSeedSameBytesAnyThreadCount() throws {
        let collection = SyntheticCollection(seed: 4, count: 9_000, dimension: 60, meanLength: 8)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let binary = directory.write(collection.binary(), to: "d.bin")
        let ids = directory.write(collection.ids.joined(separator: "\n") + "\n", to: "ids.txt")
        let vocabulary = directory.write(collection.vocabulary.joined(separator: "\n") + "\n", to: "vocab.txt")
        for (name, threads) in [("one", 1), ("two", 2), ("five", 5)] {
            try IndexBuilder(configuration: BuildConfiguration(seed: 7, threads: threads))
                .build(input: try VectorFileReader(path: input), outputPath: directory.file(name))
            try IndexBuilder(configuration: BuildConfiguration(seed: 7, threads: threads))
                .build(input: try VectorFileReader(path: binary, idsPath: ids, vocabularyPath: vocabulary), outputPath: directory.file(name + ".bin"))
        }
        let one = try Data(contentsOf: URL(fileURLWithPath: directory.file("one/index.lsr")))
        let two = try Data(contentsOf: URL(fileURLWithPath: directory.file("two/index.lsr")))
        XCTAssertEqual(one, two)
        XCTAssertEqual(one, try Data(contentsOf: URL(fileURLWithPath: directory.file("five/index.lsr"))))
        let oneBinary = try Data(contentsOf: URL(fileURLWithPath: directory.file("one.bin/index.lsr")))
        XCTAssertEqual(oneBinary, try Data(contentsOf: URL(fileURLWithPath: directory.file("two.bin/index.lsr"))))
        XCTAssertEqual(oneBinary, try Data(contentsOf: URL(fileURLWithPath: directory.file("five.bin/index.lsr"))))
        XCTAssertEqual(try Index(path: directory.file("two.bin")).documents.document(at: 8_999).id, collection.ids[8_999])
        try IndexBuilder(configuration: BuildConfiguration(seed: 8)).build(input: try VectorFileReader(path: input), outputPath: directory.file("three"))
        XCTAssertNotEqual(one, try Data(contentsOf: URL(fileURLWithPath: directory.file("three/index.lsr"))))
    }

    /// The memory budget changes how many passes build the inverted lists, never the bytes; a
    /// budget too small for the collection fails before writing anything, naming one that
    /// works, and that one builds the lists in several passes.
    func testMemoryBudgetChangesPassesNotBytes() throws {
        let collection = SyntheticCollection(seed: 9, count: 40_000, dimension: 3_000, meanLength: 60, skew: 1.8)
        let input = directory.write(collection.binary(), to: "d.bin")
        func configuration(_ budget: Int?) -> BuildConfiguration {
            BuildConfiguration(
                pruning: .globalThreshold(nPostings: 300, maxFraction: 1.5), summaries: .always, seed: 5, threads: 2,
                memoryBudget: budget)
        }
        let whole = try IndexBuilder(configuration: configuration(nil))
            .build(input: try VectorFileReader(path: input), outputPath: directory.file("whole"))
        XCTAssertEqual(whole.listRanges, 1)
        XCTAssertGreaterThan(whole.blockedPostings, 0)
        XCTAssertGreaterThan(whole.postings, whole.blockedPostings)

        var failure: LSRError?
        XCTAssertThrowsError(
            try IndexBuilder(configuration: configuration(64 << 20))
                .build(input: try VectorFileReader(path: input), outputPath: directory.file("small"))
        ) { failure = $0 as? LSRError }
        XCTAssertEqual(failure?.code, .invalidArgument)
        XCTAssertEqual(failure?.field, "memory-budget")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("small")))
        let named = try XCTUnwrap(failure?.message.components(separatedBy: "at least ").last?.dropLast().description).flatMap { Int($0) }
        let budget = try XCTUnwrap(named, failure?.message ?? "") << 20

        let passes = try IndexBuilder(configuration: configuration(budget))
            .build(input: try VectorFileReader(path: input), outputPath: directory.file("passes"))
        XCTAssertGreaterThanOrEqual(passes.listRanges, 3)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: directory.file("whole/index.lsr"))),
            try Data(contentsOf: URL(fileURLWithPath: directory.file("passes/index.lsr"))))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("passes/scratch")))
    }

    /// The bounded-memory builder writes the sections the in-memory builder (commit f757b58)
    /// wrote, on collections covering 2- and 4-byte component ids, f16 and f32, every pruning
    /// strategy, fixed and clustered blocks, no summaries, empty documents and a token whose
    /// weights all round to zero in f16. Compared by `sectionFingerprint` (every section's name,
    /// length and checksum, whatever the order of the sections in the file): the values are those
    /// of the builder of commit f3c9490, whose files had the in-memory builder's table checksums
    /// (`Fixtures/golden_builds.py`); since then `meta` is written last.
    func testBuildsMatchTheInMemoryBuildersBytes() throws {
        let expected: [(name: String, collection: String, options: [String], checksum: UInt64)] = [
            ("narrow-defaults", "narrow", [], 0xF60F_6022_D59C_315E),
            ("narrow-always", "narrow", ["--summaries", "always", "--n-postings", "50"], 0x6DC2_5832_0D0A_E0B2),
            ("narrow-fixed-f32", "narrow", ["--pruning", "fixed", "--n-postings", "40", "--summaries", "always", "--precision", "f32"],
             0x7A36_E0B9_3752_2806),
            ("narrow-none-blocks", "narrow", ["--pruning", "none", "--summaries", "always", "--block-size", "16"], 0x75A1_ECFE_0C7F_ED39),
            ("narrow-never", "narrow", ["--summaries", "never"], 0x766C_8297_8A01_9FA9),
            ("wide-always", "wide", ["--summaries", "always", "--n-postings", "20"], 0x0C80_BB9B_AD3F_43BC),
        ]
        func weight(_ i: Int, _ j: Int) -> Double { Double((i * 7 + j * 13) % 97 + 1) / 8 }
        func record(_ i: Int, _ tokens: [(String, Double)]) -> String {
            "{\"id\": \"d\(i)\", \"vector\": {" + tokens.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}}\n"
        }
        var narrow = ""
        for i in 0 ..< 2000 {
            if i % 97 == 0 {
                narrow += record(i, [])
                continue
            }
            var seen = Set<Int>(), tokens: [(String, Double)] = []
            for j in 0 ..< 5 + (i * 37) % 60 {
                let t = (i + j * j * 11) % (j < 10 ? 50 : 3000)
                if seen.insert(t).inserted { tokens.append(("t\(t)", weight(i, j))) }
            }
            if i % 50 == 1 { tokens.append(("zero", 1e-09)) }
            narrow += record(i, tokens)
        }
        var wide = ""
        for i in 0 ..< 300 {
            var seen = Set<Int>(), tokens: [(String, Double)] = []
            for j in 0 ..< 240 {
                let t = j < 5 ? j : (i * 240 + j) % 70001
                if seen.insert(t).inserted { tokens.append(("w\(t)", weight(i, j))) }
            }
            wide += record(i, tokens)
        }
        let inputs = ["narrow": directory.write(narrow, to: "narrow.jsonl"), "wide": directory.write(wide, to: "wide.jsonl")]
        for (name, collection, options, checksum) in expected {
            let output = directory.file(name)
            let run = try runLSR(["index", "--input", inputs[collection]!, "--output", output, "--threads", "2", "--seed", "11"] + options)
            XCTAssertEqual(run.status, 0, run.stderr)
            let file = try IndexFile(path: output + "/" + IndexLayout.indexFileName)
            let built = try sectionFingerprint(file)
            XCTAssertEqual(String(built, radix: 16), String(checksum, radix: 16), name)
            try checkTailMaximums(file, name)
        }
    }

    /// `list.tailmax` (newer than the golden values, so left out of the fingerprint) holds the
    /// largest stored weight of each list's tail, 0 for an empty tail.
    private func checkTailMaximums(_ file: IndexFile, _ name: String) throws {
        let metadata = try IndexMetadata.decode(try file.verifiedSection(IndexLayout.metadata), path: file.path)
        let tails = try file.array(IndexLayout.listTail, of: UInt64.self, count: metadata.vocabularySize + 1)
        let maximums = try file.array(IndexLayout.listTailMaximum, of: Float.self, count: metadata.vocabularySize)
        let values = try file.section(IndexLayout.postingValues)
        func value(_ p: Int) -> Float {
            metadata.valuePrecision == .f16
                ? HalfPrecision.decode(values.load(fromByteOffset: 2 * p, as: UInt16.self)) : values.load(fromByteOffset: 4 * p, as: Float.self)
        }
        var nonEmpty = 0
        for t in 0 ..< metadata.vocabularySize {
            let tail = Int(tails[t]) ..< Int(tails[t + 1])
            nonEmpty += tail.isEmpty ? 0 : 1
            XCTAssertEqual(maximums[t], tail.map(value).max() ?? 0, "\(name): list \(t)")
        }
        XCTAssertEqual(nonEmpty > 0, metadata.blockedPostingCount < metadata.postingCount, "\(name): lists with tails")
    }

    /// A hash of every section's name, length and checksum, in name order: what an index file
    /// holds, whatever the order of its sections.
    /// `meta` counts as if it had no `writtenBy` (the golden values are older than that key),
    /// after checking that it names this lsr.
    private func sectionFingerprint(_ file: IndexFile) throws -> UInt64 {
        let entries = try file.entries.filter { $0.name != IndexLayout.listTailMaximum }.sorted { $0.name < $1.name }.map { entry -> String in
            guard entry.name == IndexLayout.metadata else { return "\(entry.name) \(entry.length) \(entry.checksum)\n" }
            var metadata = try IndexMetadata.decode(try file.verifiedSection(IndexLayout.metadata), path: file.path)
            XCTAssertEqual(metadata.writtenBy, lsrVersion)
            metadata.writtenBy = nil
            let bytes = try metadata.encoded()
            return "\(entry.name) \(bytes.count) \(bytes.withUnsafeBytes { XXHash64.hash($0) })\n"
        }
        return Array(entries.joined().utf8).withUnsafeBytes { XXHash64.hash($0) }
    }

    /// The default n_postings is 1000 until the lists average 12,500 postings and 8% of their
    /// mean length beyond, and an automatic build is byte for byte the explicit build of the
    /// number it chose, which the index records.
    func testAutomaticPostingsGrowWithTheLists() throws {
        func rule(_ meanListLength: Double) -> Int {
            PruningStrategy.automaticPostings(minimum: 1000, listFraction: 0.08, meanListLength: meanListLength)
        }
        XCTAssertEqual([0, 100, 12_499, 12_500, 20_100, 44_170].map(rule), [1000, 1000, 1000, 1000, 1600, 3500])
        XCTAssertEqual(rule(.infinity), 1000)
        XCTAssertEqual(rule(.nan), 1000)
        XCTAssertGreaterThan(rule(1e300), 1_000_000_000)
        XCTAssertEqual(PruningStrategy.automaticPostings(minimum: 1, listFraction: 0.5, meanListLength: 10), 1)

        // 40,000 documents over 60 tokens: lists of about 17,000 postings.
        let collection = SyntheticCollection(seed: 12, count: 40_000, dimension: 60, meanLength: 25, skew: 1)
        let input = directory.write(collection.binary(), to: "d.bin")
        let vocab = directory.write(collection.vocabulary.joined(separator: "\n") + "\n", to: "vocab.txt")
        let reader = { try VectorFileReader(path: input, vocabularyPath: vocab) }
        try IndexBuilder(configuration: BuildConfiguration(seed: 3, threads: 2)).build(input: try reader(), outputPath: directory.file("auto"))
        let automatic = try Index(path: directory.file("auto"))
        let nonzeros = collection.vectors.reduce(0) { $0 + $1.count }
        let lists = Set(collection.vectors.flatMap { $0.map(\.token) }).count
        let chosen = rule(Double(nonzeros) / Double(lists))
        XCTAssertGreaterThan(chosen, 1000)
        XCTAssertEqual(automatic.metadata.buildParameters["n_postings"], "\(chosen)")
        try IndexBuilder(configuration: BuildConfiguration(pruning: .globalThreshold(nPostings: chosen, maxFraction: 1.5), seed: 3, threads: 2))
            .build(input: try reader(), outputPath: directory.file("explicit"))
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: directory.file("auto/index.lsr"))),
            try Data(contentsOf: URL(fileURLWithPath: directory.file("explicit/index.lsr"))))
        try IndexBuilder(configuration: BuildConfiguration(pruning: .globalThreshold(nPostings: 1000, maxFraction: 1.5), seed: 3, threads: 2))
            .build(input: try reader(), outputPath: directory.file("thousand"))
        XCTAssertLessThan(
            try Index(path: directory.file("thousand")).metadata.blockedPostingCount, automatic.metadata.blockedPostingCount)
    }

    /// A list may have at most 65,535 blocks: fixed-size blocking gives a longer list larger
    /// blocks (it trapped at 65,537 blocks, and at 65,536 the list was silently unsearchable).
    func testFixedSizeBlockingKeepsListsWithinTheBlockLimit() throws {
        let count = 70_000
        var lines = ""
        for d in 0 ..< count { lines += "{\"id\": \"d\(d)\", \"vector\": {\"a\": \(1 + Double(d % 97) / 10), \"b\(d % 50)\": 1}}\n" }
        let input = directory.write(lines, to: "long.jsonl")
        let configuration = BuildConfiguration(
            pruning: .fixedSize(nPostings: count), blocking: .fixedSize(blockSize: 1), summaries: .always, threads: 2)
        try IndexBuilder(configuration: configuration).build(input: try VectorFileReader(path: input), outputPath: directory.file("long"))
        let index = try Index(path: directory.file("long"))
        // List a: 70,000 postings in blocks of 2 (35,000 blocks); the 50 short lists keep blocks of 1.
        XCTAssertEqual(index.metadata.blockCount, 35_000 + count)
        let query = index.query(tokens: ["a"], values: [1]).query
        let searcher = Searcher(index: index)
        let exact = try searcher.search(query, parameters: SearchParameters(k: 20), method: .exact)
        XCTAssertEqual(exact.count, 20)
        let skipAhead = SearchParameters(k: 20, queryCut: 1, heapFactor: 1e-30, planning: .skipAhead)
        XCTAssertEqual(try searcher.search(query, parameters: skipAhead), exact)
    }

    func testExistingIndexSurvivesRefusalAndFailedRebuild() throws {
        let collection = SyntheticCollection(seed: 5, count: 100, dimension: 30, meanLength: 5)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let output = directory.file("index")
        try IndexBuilder().build(input: try VectorFileReader(path: input), outputPath: output)
        let before = try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr"))
        XCTAssertThrowsError(try IndexBuilder().build(input: try VectorFileReader(path: input), outputPath: output)) {
            XCTAssertEqual(($0 as? LSRError)?.code, .outputExists)
        }
        let bad = directory.write(collection.jsonl() + "{\"id\": \"bad\", \"vector\": {\"t1\": -2}}\n", to: "bad.jsonl")
        XCTAssertThrowsError(try IndexBuilder().build(input: try VectorFileReader(path: bad), outputPath: output, overwrite: true)) {
            XCTAssertEqual(($0 as? LSRError)?.line, 101, "\($0)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr")), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("lsr-build") }
        XCTAssertEqual(leftovers, [])
        XCTAssertEqual(try Index(path: output).verify(), [])
    }

    /// Reading hands records to a collecting thread in batches (4,096 records each): an input
    /// error after several batches were handed, on either side of a batch boundary, fails
    /// the build with the bad line under any thread count, leaves the existing index as it was
    /// and nothing else behind.
    func testInputErrorAfterHandedBatchesLeavesTheIndexAlone() throws {
        let collection = SyntheticCollection(seed: 12, count: 12_000, dimension: 40, meanLength: 6)
        let output = directory.file("index")
        try IndexBuilder().build(input: try VectorFileReader(path: directory.write(collection.jsonl(), to: "d.jsonl")), outputPath: output)
        let before = try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr"))
        let lines = collection.jsonl().split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        for (badLine, threads) in [(4_096, 2), (4_097, 2), (9_000, 2), (11_999, 1), (12_000, 3)] {
            var broken = lines
            broken[badLine - 1] = "{\"id\": \"bad\", \"vector\": {\"t1\": \"heavy\"}}"
            let input = directory.write(broken.joined(separator: "\n") + "\n", to: "bad-\(badLine).jsonl")
            XCTAssertThrowsError(try IndexBuilder(configuration: BuildConfiguration(threads: threads))
                .build(input: try VectorFileReader(path: input), outputPath: output, overwrite: true)) {
                XCTAssertEqual(($0 as? LSRError)?.line, badLine, "\($0)")
            }
            var duplicated = lines
            duplicated[badLine - 1] = lines[0]
            let duplicate = directory.write(duplicated.joined(separator: "\n") + "\n", to: "dup-\(badLine).jsonl")
            XCTAssertThrowsError(try IndexBuilder(configuration: BuildConfiguration(threads: threads))
                .build(input: try VectorFileReader(path: duplicate), outputPath: output, overwrite: true)) {
                XCTAssertEqual(($0 as? LSRError)?.line, badLine, "\($0)")
                XCTAssertEqual(($0 as? LSRError)?.field, "id", "\($0)")
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr")), before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains("lsr-build") }
        XCTAssertEqual(leftovers, [])
    }

    func testFlippedByteIsCaughtByCheck() throws {
        let collection = SyntheticCollection(seed: 6, count: 100, dimension: 30, meanLength: 5)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let output = directory.file("index")
        try IndexBuilder().build(input: try VectorFileReader(path: input), outputPath: output)
        let file = output + "/index.lsr"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let entry = try IndexFile(path: file).entries.first { $0.name == IndexLayout.postingDocuments }!
        bytes[entry.offset + 3] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: file))
        XCTAssertEqual(try Index(path: output).verify(), [IndexLayout.postingDocuments])
        // A flipped version byte is damage (the header checksum covers it) ...
        bytes[9] ^= 1
        try bytes.write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try Index(path: output)) {
            XCTAssertEqual(($0 as? LSRError)?.code, .corruptIndex)
            XCTAssertTrue("\($0)".contains("header checksum mismatch"), "\($0)")
        }
        // ... while a file of another version, its header intact, is refused as such.
        bytes[9] ^= 1
        bytes[8] = 3
        let checksum = bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0 ..< 40])) }
        withUnsafeBytes(of: checksum.littleEndian) { for i in 0 ..< 8 { bytes[40 + i] = $0[i] } }
        try bytes.write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try Index(path: output)) {
            XCTAssertEqual(($0 as? LSRError)?.code, .unsupportedVersion)
            XCTAssertTrue("\($0)".contains("format version 3 is not supported"), "\($0)")
        }
    }
}

/// A damaged index may give wrong results, but never crashes search.
final class DamagedIndexTests: XCTestCase {
    func testGarbageInAnySectionNeverCrashesSearch() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let collection = SyntheticCollection(seed: 31, count: 300, dimension: 50, meanLength: 8)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let pristine = directory.file("pristine")
        try IndexBuilder(configuration: BuildConfiguration(seed: 31)).build(input: try VectorFileReader(path: input), outputPath: pristine)
        let queries = directory.write(SyntheticCollection(seed: 32, count: 20, dimension: 50, meanLength: 6, idPrefix: "q").jsonl(), to: "q.jsonl")
        let sections = try IndexFile(path: pristine + "/index.lsr").entries.filter { $0.name != IndexLayout.metadata && $0.length > 0 }
        var generator = SplitMix64(seed: 33)
        for entry in sections {
            for trial in 0 ..< 3 {
                let damaged = directory.file("damaged-\(entry.name)-\(trial)")
                try FileManager.default.copyItem(atPath: pristine, toPath: damaged)
                var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged + "/index.lsr"))
                // Trial 0 garbles every byte, the others about one in 16 and at least one.
                let surelyDamaged = entry.offset + Int.random(in: 0 ..< entry.length, using: &generator)
                for i in entry.offset ..< entry.offset + entry.length
                where trial == 0 || i == surelyDamaged || UInt8.random(in: 0 ... 15, using: &generator) == 0 {
                    bytes[i] ^= UInt8.random(in: 1 ... 255, using: &generator)
                }
                try bytes.write(to: URL(fileURLWithPath: damaged + "/index.lsr"))
                let index: Index
                do {
                    index = try Index(path: damaged)
                } catch let error as LSRError {
                    XCTAssertEqual(error.code, .corruptIndex, "\(error)")
                    continue
                }
                XCTAssertEqual(index.verify(), [entry.name])
                let set = try index.readQueries(path: queries)
                let searcher = Searcher(index: index)
                for query in set.vectors {
                    for hit in try searcher.search(query, parameters: .default) { XCTAssertLessThan(hit.document, index.documentCount) }
                    for hit in try searcher.search(query, parameters: SearchParameters(k: 10), method: .exact) { XCTAssertLessThan(hit.document, index.documentCount) }
                }
            }
        }
    }
}

/// Binary queries, with and without a vocabulary, find what the same JSONL queries find.
final class BinaryQueryTests: XCTestCase {
    func testBinaryAndJSONLQueriesAgree() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let documents = SyntheticCollection(seed: 61, count: 300, dimension: 50, meanLength: 7)
        let queries = SyntheticCollection(seed: 62, count: 15, dimension: 50, meanLength: 5, idPrefix: "q")
        let vocab = directory.write(documents.vocabulary.joined(separator: "\n") + "\n", to: "vocab.txt")
        let ids = directory.write(documents.ids.joined(separator: "\n") + "\n", to: "ids.txt")
        let binaryIndex = directory.file("from-binary")
        try IndexBuilder().build(
            input: try VectorFileReader(path: directory.write(documents.binary(), to: "d.bin"), idsPath: ids, vocabularyPath: vocab),
            outputPath: binaryIndex)
        let index = try Index(path: binaryIndex)
        let queryIDs = directory.write(queries.ids.joined(separator: "\n") + "\n", to: "qids.txt")
        let binaryQueries = directory.write(queries.binary(), to: "q.bin")
        let byComponentID = try index.readQueries(path: binaryQueries, idsPath: queryIDs)
        let byVocabulary = try index.readQueries(path: binaryQueries, idsPath: queryIDs, vocabularyPath: vocab)
        let byToken = try index.readQueries(path: directory.write(queries.jsonl(), to: "q.jsonl"))
        XCTAssertEqual(byComponentID.vectors, byToken.vectors)
        XCTAssertEqual(byVocabulary.vectors, byToken.vectors)
        XCTAssertEqual(byComponentID.ids, queries.ids)
        XCTAssertGreaterThan(byToken.vectors.map(\.components.count).reduce(0, +), 0)

        let jsonlIndex = directory.file("from-jsonl")
        try IndexBuilder().build(input: try VectorFileReader(path: directory.write(documents.jsonl(), to: "d.jsonl")), outputPath: jsonlIndex)
        XCTAssertThrowsError(try Index(path: jsonlIndex).readQueries(path: binaryQueries)) { error in
            XCTAssertTrue("\(error)".contains("--vocab"), "\(error)")
        }
        XCTAssertEqual(try Index(path: jsonlIndex).readQueries(path: binaryQueries, vocabularyPath: vocab).vectors, byToken.vectors)
    }
}

/// The builder's C kernels against Swift's own operations.
final class BuilderKernelTests: XCTestCase {
    func testSortKernelMatchesSwiftSort() {
        var generator = SplitMix64(seed: 21)
        for n in [0, 1, 2, 3, 10, 24, 25, 26, 100, 1000, 5000] {
            let patterns: [[UInt64]] = [
                (0 ..< n).map { _ in generator.next() },
                (0 ..< n).map { _ in generator.next() % 7 },
                (0 ..< n).map { UInt64($0) },
                (0 ..< n).map { UInt64(n - $0) },
                [UInt64](repeating: 42, count: n),
                (0 ..< n).map { UInt64($0 % 2 == 0 ? $0 : n - $0) << 32 | generator.next() >> 40 },
            ]
            for keys in patterns {
                var sorted = keys
                sorted.withUnsafeMutableBufferPointer { lsr_sort_u64($0.baseAddress, $0.count) }
                XCTAssertEqual(sorted, keys.sorted(), "n = \(n)")
            }
        }
    }

    /// The preload's page walk reads exactly the first byte of every page: their XOR, for
    /// lengths that end inside, at and right after a page.
    func testTouchPagesReadsOneByteOfEveryPage() {
        var generator = SplitMix64(seed: 5)
        let bytes = (0 ..< 1000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for (length, page) in [(0, 64), (1, 64), (999, 7), (1000, 8), (1000, 100), (1000, 4096), (641, 64)] {
            let expected = stride(from: 0, to: length, by: page).reduce(UInt8(0)) { $0 ^ bytes[$1] }
            XCTAssertEqual(bytes.withUnsafeBytes { lsr_touch_pages($0.baseAddress, length, page) }, expected, "\(length) bytes, pages of \(page)")
        }
    }

    /// The bitmap ordering of a vector's distinct components is the order of a sort, whatever
    /// the spread of the ids, and leaves the bitmap clean for the next vector.
    func testComponentOrderKernelMatchesSort() {
        var generator = SplitMix64(seed: 33)
        let dimension = 70_001
        var bitmap = [UInt64](repeating: 0, count: (dimension + 63) / 64), position = [UInt32](repeating: 0, count: dimension)
        for n in [0, 1, 2, 3, 63, 64, 65, 127, 300, 5000] {
            for spread in [n, 2 * n + 1, 200, dimension] where spread >= n && spread > 0 {
                var chosen = Set<UInt32>()
                while chosen.count < n { chosen.insert(UInt32(generator.next() % UInt64(spread)) + (spread < dimension ? 9000 : 0)) }
                let components = Array(chosen).filter { $0 < dimension }
                var order = [UInt32](repeating: 0, count: components.count), keys = [UInt64](repeating: 0, count: components.count)
                lsr_order_distinct_components(components, components.count, &bitmap, &position, &keys, &order)
                let expected = components.indices.sorted { components[$0] < components[$1] }.map(UInt32.init)
                XCTAssertEqual(order, expected, "n = \(n), spread = \(spread)")
                XCTAssertTrue(bitmap.allSatisfy { $0 == 0 })
            }
        }
    }

    /// The document-head kernel returns the positions a sort would (heaviest first, ties to the
    /// lower position), for f16 and f32 weights, with many ties and k from 1 to past n.
    func testHeaviestPositionsKernelMatchesSort() {
        var generator = SplitMix64(seed: 21)
        for trial in 0 ..< 300 {
            let n = Int(generator.next() % 200) + 1, k = Int(generator.next() % 40) + 1
            // Few distinct weights in some trials, so that ties decide many places.
            let levels = trial % 3 == 0 ? 4 : 1000
            let weights = (0 ..< n).map { _ in Float(Int(generator.next() % UInt64(levels)) + 1) / 8 }
            let expected = Array(weights.indices.sorted { (weights[$0], -$0) > (weights[$1], -$1) }.prefix(k)).map(UInt32.init)
            var heap = [UInt64](repeating: 0, count: k)
            var positions = [UInt32](repeating: 0, count: min(k, n))
            lsr_heaviest_positions(weights, 4, n, k, &heap, &positions)
            XCTAssertEqual(positions, expected, "f32, n = \(n), k = \(k)")
            let halves = weights.map { HalfPrecision.encode($0) }
            lsr_heaviest_positions(halves, 2, n, k, &heap, &positions)
            XCTAssertEqual(positions, expected, "f16, n = \(n), k = \(k)")
        }
    }

    /// The centroid-assignment kernel picks what the plain loop picks (largest score above 0 among
    /// the allowed centroids, lowest index on ties), with sparse slots, full rows and ties.
    func testCentroidKernelMatchesPlainLoop() {
        var generator = SplitMix64(seed: 8)
        func below(_ n: Int) -> Int { Int(generator.next() % UInt64(n)) }
        let weights: [Float] = [0.25, 0.5, 1, 1.5, 3, 0.1, 2.75]
        for trial in 0 ..< 400 {
            let centroids = 1 + below(trial % 4 == 0 ? 70 : 20), dimension = 30
            // Slots: each a random subset of the centroids in ascending order, some padded to
            // full rows (zero where a centroid lacks the component).
            var slotOf = [Int32](repeating: 0, count: dimension), entryStart = [0], entryCentroid: [Int32] = [], entryValue: [Float] = []
            var dense = [[Float]]()
            for c in 0 ..< dimension where below(3) > 0 {
                var row = [Float](repeating: 0, count: centroids)
                for k in 0 ..< centroids where below(3) == 0 { row[k] = weights[below(weights.count)] }
                dense.append(row)
                slotOf[c] = Int32(dense.count)
                if below(2) == 0 {
                    entryCentroid += (0 ..< centroids).map(Int32.init)
                    entryValue += row
                } else {
                    for k in 0 ..< centroids where row[k] != 0 {
                        entryCentroid.append(Int32(k))
                        entryValue.append(row[k])
                    }
                }
                entryStart.append(entryCentroid.count)
            }
            let length = below(12)
            var components: [UInt32] = []
            while components.count < length {
                let c = UInt32(below(dimension))
                if !components.contains(c) { components.append(c) }
            }
            let values = components.map { _ in weights[below(weights.count)] }
            let allowed: [Bool]? = below(2) == 0 ? nil : (0 ..< centroids).map { _ in below(4) > 0 }

            var expectedScores = [Float](repeating: 0, count: centroids)
            for (c, v) in zip(components, values) where slotOf[Int(c)] > 0 {
                let row = dense[Int(slotOf[Int(c)]) - 1]
                for k in 0 ..< centroids where row[k] != 0 { expectedScores[k] += v * row[k] }
            }
            var expected: Int32 = -1, best: Float = 0
            for k in 0 ..< centroids where expectedScores[k] > best && (allowed?[k] ?? true) {
                expected = Int32(k)
                best = expectedScores[k]
            }
            var scores = [Float](repeating: 0, count: centroids)
            let found = allowed.map { mask in
                mask.withUnsafeBufferPointer {
                    lsr_best_centroid(components, values, components.count, slotOf, entryStart, entryCentroid, entryValue, &scores, centroids, $0.baseAddress)
                }
            } ?? lsr_best_centroid(components, values, components.count, slotOf, entryStart, entryCentroid, entryValue, &scores, centroids, nil)
            XCTAssertEqual(found, expected, "trial \(trial)")
        }
    }

    /// Every half value, the midpoints between neighbours (ties round to even), values beyond
    /// the range and random floats encode as Swift's `Float16` conversion does.
    /// The score scan of exact search finds exactly the positions above the threshold, in order,
    /// whatever the start, length and capacity (below 8 it runs the portable loop, from 8 the
    /// vector one where the CPU has it), resuming where each call stopped.
    func testPositionsAboveKernelFindsEveryPositionInOrder() {
        var generator = SplitMix64(seed: 9)
        for n in 0 ... 70 {
            var scores = (0 ..< n).map { _ in Float(generator.next() % 4) }
            if n > 3 { scores[n / 2] = .nan }
            for threshold: Float in [-1, 0, 1.5, 3] {
                for start in Set([0, 1, 7, 8, 9, n / 2, n]) where start <= n {
                    let expected = (start ..< n).filter { scores[$0] > threshold }
                    for capacity in [1, 3, 7, 8, 9, 15, 16, 256] {
                        var found: [Int] = [], position = start, calls = 0
                        var out = [UInt32](repeating: .max, count: capacity)
                        while position < n && calls <= n + 1 {
                            var next = 0
                            let count = lsr_positions_above(scores, position, n, threshold, &out, capacity, &next)
                            XCTAssertLessThanOrEqual(count, capacity)
                            XCTAssertGreaterThan(next, position, "progress")
                            found += out[..<count].map { Int($0) }
                            position = next
                            calls += 1
                        }
                        XCTAssertEqual(found, expected, "n \(n) threshold \(threshold) start \(start) capacity \(capacity)")
                    }
                }
            }
        }
    }

    func testHalfEncodingKernelMatchesFloat16() {
        var values: [Float] = [0, -0, 65504, 65519.99, 65520, 1e-8, 5.96e-8, 2.98e-8, 2.99e-8, .infinity, Float.greatestFiniteMagnitude]
        for bits in 0 ..< UInt16(0x7C00) {
            let value = Float(Float16(bitPattern: bits))
            let next = Float(Float16(bitPattern: bits + 1))
            values += [value, -value, value + (next - value) / 2, value.nextUp, value.nextDown]
        }
        var generator = SplitMix64(seed: 5)
        for _ in 0 ..< 100_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()) & 0x7FFF_FFFF)) }
        values = values.filter { !$0.isNaN }
        var halves = [UInt16](repeating: 0, count: values.count), portable = halves
        values.withUnsafeBufferPointer { v in
            halves.withUnsafeMutableBufferPointer { lsr_encode_f16(v.baseAddress, $0.baseAddress, v.count) }
            portable.withUnsafeMutableBufferPointer { lsr_encode_f16_portable(v.baseAddress, $0.baseAddress, v.count) }
        }
        for (i, value) in values.enumerated() where halves[i] != Float16(value).bitPattern || portable[i] != halves[i] {
            XCTFail("\(value): kernel \(String(halves[i], radix: 16)), portable \(String(portable[i], radix: 16)), Float16 \(String(Float16(value).bitPattern, radix: 16))")
            break
        }
    }
}
