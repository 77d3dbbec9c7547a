import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Every kind of bad input the `lsr` command meets, one generated fixture per case: each is
/// rejected with one line naming the file, the line or byte offset and what is wrong, a
/// non-zero exit and nothing left behind (an existing index is kept byte for byte), or, where
/// the case is benign, accepted.
final class BadInputTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    /// What `lsr index` must do with an input.
    enum Outcome {
        /// Fails; stderr holds every fragment (the location, the field, the problem).
        case rejected([String])
        /// Builds an index of this many documents; stderr holds the notice, if any.
        case accepted(documents: Int, notice: String? = nil)
    }

    struct Case {
        var name: String
        var file: String
        var bytes: [UInt8]
        var extraArguments: [String] = []
        var outcome: Outcome
    }

    // MARK: Vector files

    func testJSONLCases() throws {
        let good = #"{"id": "a", "vector": {"x": 1.5, "y": 0.25}}"#
        func jsonl(_ lines: String...) -> [UInt8] { Array(lines.joined(separator: "\n").utf8) + [0x0A] }
        let megabyteContent = String(repeating: "lorem ipsum ", count: 90_000)
        let manyTokens = (0 ..< 2000).map { "\"t\($0)\": \(Double($0 % 50) / 10 + 0.1)" }.joined(separator: ", ")
        let cases: [Case] = [
            Case(name: "invalid JSON", file: "docs.jsonl", bytes: jsonl(good, #"{"id": "b", "vector": {"x": 1.0}"#),
                 outcome: .rejected(["docs.jsonl:2:", "invalid JSON"])),
            Case(name: "line not an object", file: "docs.jsonl", bytes: jsonl("[1, 2]"),
                 outcome: .rejected(["docs.jsonl:1:", "must be a JSON object"])),
            Case(name: "missing id", file: "docs.jsonl", bytes: jsonl(good, #"{"vector": {"x": 1}}"#),
                 outcome: .rejected(["docs.jsonl:2:", "field 'id'", "missing"])),
            Case(name: "id not a string or integer", file: "docs.jsonl", bytes: jsonl(#"{"id": [1], "vector": {"x": 1}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'id'", "string or an integer"])),
            Case(name: "null id", file: "docs.jsonl", bytes: jsonl(#"{"id": null, "vector": {"x": 1}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'id'"])),
            Case(name: "missing vector", file: "docs.jsonl", bytes: jsonl(#"{"id": "a"}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector'", "missing"])),
            Case(name: "vector not an object", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": [1, 2]}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector'", "object"])),
            Case(name: "content not a string", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "content": 5, "vector": {"x": 1}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'content'"])),
            Case(name: "weight a string", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": "1.0"}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "string"])),
            Case(name: "weight NaN", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": NaN}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "NaN"])),
            Case(name: "weight Infinity", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": Infinity}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "Infinity"])),
            Case(name: "weight -Infinity", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"y": 1, "x": -Infinity}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "-Infinity"])),
            Case(name: "weight negative", file: "docs.jsonl", bytes: jsonl(good, #"{"id": "b", "vector": {"x": -0.5}}"#),
                 outcome: .rejected(["docs.jsonl:2:", "field 'vector.x'", "negative"])),
            Case(name: "weight too large for Float32", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": 1e39}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "too large for Float32"])),
            Case(name: "weight beyond Double", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": 1e400}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "too large"])),
            Case(name: "weight beyond half precision", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": 70000}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "'a'", "half precision", "--precision f32"])),
            Case(name: "token twice in a vector", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": 1, "x": 2}}"#),
                 outcome: .rejected(["docs.jsonl:1:", "field 'vector.x'", "twice"])),
            Case(name: "duplicate id", file: "docs.jsonl",
                 bytes: jsonl(good, #"{"id": "b", "vector": {"x": 1}}"#, good),
                 outcome: .rejected(["docs.jsonl:3:", "field 'id'", "duplicate id 'a'"])),
            Case(name: "text after the object", file: "docs.jsonl", bytes: jsonl(good + " x"),
                 outcome: .rejected(["docs.jsonl:1:", "end of the line"])),
            Case(name: "invalid UTF-8", file: "docs.jsonl",
                 bytes: jsonl(good) + Array(#"{"id": "b"#.utf8) + [0xFF] + Array(#"", "vector": {"x": 1}}"#.utf8) + [0x0A],
                 outcome: .rejected(["docs.jsonl:2:", "invalid UTF-8"])),
            Case(name: "empty file", file: "docs.jsonl", bytes: [],
                 outcome: .rejected(["docs.jsonl", "no documents"])),
            Case(name: "only empty lines", file: "docs.jsonl", bytes: Array("\n  \n\n".utf8),
                 outcome: .rejected(["docs.jsonl", "no documents"])),
            Case(name: "empty lines", file: "docs.jsonl",
                 bytes: jsonl(good, "", "   ", #"{"id": "b", "vector": {"x": 1}}"#),
                 outcome: .accepted(documents: 2, notice: "skipped 2 empty lines")),
            Case(name: "zero weights", file: "docs.jsonl", bytes: jsonl(#"{"id": "a", "vector": {"x": 0, "y": 1}}"#),
                 outcome: .accepted(documents: 1, notice: "dropped 1 zero weights")),
            Case(name: "final line without newline", file: "docs.jsonl",
                 bytes: Array((good + "\n" + #"{"id": "b", "vector": {"x": 1}}"#).utf8),
                 outcome: .accepted(documents: 2)),
            Case(name: "CRLF line ends", file: "docs.jsonl",
                 bytes: Array((good + "\r\n" + #"{"id": "b", "vector": {"x": 1}}"# + "\r\n").utf8),
                 outcome: .accepted(documents: 2)),
            Case(name: "UTF-8 byte-order mark", file: "docs.jsonl", bytes: [0xEF, 0xBB, 0xBF] + jsonl(good),
                 outcome: .accepted(documents: 1)),
            Case(name: "one-megabyte line", file: "docs.jsonl",
                 bytes: jsonl(good, #"{"id": "long", "content": "\#(megabyteContent)", "vector": {\#(manyTokens)}}"#),
                 outcome: .accepted(documents: 2)),
        ]
        XCTAssertGreaterThan(cases.last!.bytes.count, 1_000_000)
        try check(cases)
    }

    func testBinaryCases() throws {
        func vector(_ components: [UInt32], _ values: [Float]) -> [UInt8] {
            var bytes = le(UInt32(components.count))
            for c in components { bytes += le(c) }
            for v in values { bytes += le(v.bitPattern) }
            return bytes
        }
        let two = le(UInt32(2)) + vector([1, 5], [0.5, 1]) + vector([2], [2])
        let threeIDs = directory.write("a\nb\nc\n", to: "three-ids.txt")
        let repeatedIDs = directory.write("a\na\n", to: "repeated-ids.txt")
        let cases: [Case] = [
            Case(name: "truncated", file: "docs.bin", bytes: Array(two.dropLast(3)),
                 outcome: .rejected(["docs.bin (byte 33)", "truncated", "vector 1"])),
            Case(name: "empty", file: "docs.bin", bytes: [],
                 outcome: .rejected(["docs.bin (byte 0)", "empty file"])),
            Case(name: "nnz beyond the file", file: "docs.bin", bytes: le(UInt32(1)) + le(UInt32(1000)) + le(UInt32(1)) + le(UInt32(2)),
                 outcome: .rejected(["docs.bin (byte ", "truncated", "nnz 1000"])),
            Case(name: "components not ascending", file: "docs.bin", bytes: le(UInt32(1)) + vector([5, 1], [1, 1]),
                 outcome: .rejected(["docs.bin (byte 12)", "field 'components'", "not ascending"])),
            Case(name: "duplicate components", file: "docs.bin", bytes: le(UInt32(1)) + vector([5, 5], [1, 1]),
                 outcome: .rejected(["docs.bin (byte 12)", "field 'components'", "duplicate component 5"])),
            Case(name: "NaN value", file: "docs.bin", bytes: le(UInt32(1)) + vector([1, 5], [1, .nan]),
                 outcome: .rejected(["docs.bin (byte 20)", "field 'values'", "not finite"])),
            Case(name: "infinite value", file: "docs.bin", bytes: le(UInt32(1)) + vector([1], [-.infinity]),
                 outcome: .rejected(["docs.bin (byte 12)", "field 'values'", "not finite"])),
            Case(name: "negative value", file: "docs.bin", bytes: le(UInt32(1)) + vector([1], [-1]),
                 outcome: .rejected(["docs.bin (byte 12)", "field 'values'", "negative"])),
            Case(name: "trailing bytes", file: "docs.bin", bytes: two + [7],
                 outcome: .rejected(["docs.bin (byte 36)", "trailing bytes"])),
            Case(name: "no vectors", file: "docs.bin", bytes: le(UInt32(0)),
                 outcome: .rejected(["docs.bin", "no documents"])),
            Case(name: "ids file with another count", file: "docs.bin", bytes: two, extraArguments: ["--ids", threeIDs],
                 outcome: .rejected(["three-ids.txt", "3 lines", "2 vectors"])),
            Case(name: "ids file repeating an id", file: "docs.bin", bytes: two, extraArguments: ["--ids", repeatedIDs],
                 outcome: .rejected(["repeated-ids.txt:2:", "duplicate id 'a'"])),
            Case(name: "component ids up to u32 max", file: "docs.bin",
                 bytes: le(UInt32(2)) + vector([3, 4_000_000_000, UInt32.max], [1, 2, 3]) + vector([3], [1]),
                 outcome: .accepted(documents: 2)),
        ]
        try check(cases)
    }

    func testCompressedCases() throws {
        let plain = Array(SyntheticCollection(seed: 3, count: 200, dimension: 50, meanLength: 8).jsonl().utf8)
        let compressed = try ZstdCompression.compress(plain)
        var corrupt = compressed
        corrupt[corrupt.count / 2] ^= 0xFF
        let cases: [Case] = [
            Case(name: "zstd", file: "docs.jsonl.zst", bytes: compressed, outcome: .accepted(documents: 200)),
            Case(name: "truncated zstd frame", file: "docs.jsonl.zst", bytes: Array(compressed.prefix(compressed.count / 2)),
                 outcome: .rejected(["docs.jsonl.zst (byte ", "truncated zstd"])),
            Case(name: "corrupt zstd frame", file: "docs.jsonl.zst", bytes: corrupt,
                 outcome: .rejected(["docs.jsonl.zst", "zstd"])),
            Case(name: "zstd frame then garbage", file: "docs.jsonl.zst", bytes: compressed + [1, 2, 3, 4, 5, 6, 7, 8],
                 outcome: .rejected(["docs.jsonl.zst", "zstd"])),
        ]
        try check(cases)
    }

    /// Runs each case twice: into a fresh output path (nothing may appear there on failure) and
    /// with `--force` over an existing index (which a failure must leave byte for byte).
    private func check(_ cases: [Case]) throws {
        let existing = directory.file("existing")
        let seed = directory.write(SyntheticCollection(seed: 9, count: 50, dimension: 20, meanLength: 4).jsonl(), to: "seed.jsonl")
        XCTAssertEqual(try runLSR(["index", "--input", seed, "--output", existing]).status, 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: existing + "/index.lsr"))
        for (number, testCase) in cases.enumerated() {
            let caseDirectory = directory.file("case\(number)")
            try FileManager.default.createDirectory(atPath: caseDirectory, withIntermediateDirectories: false)
            let input = caseDirectory + "/" + testCase.file
            XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data(testCase.bytes)))
            let fresh = caseDirectory + "/index"
            let result = try runLSR(["index", "--input", input, "--output", fresh, "--threads", "1"] + testCase.extraArguments)
            let context = "\(testCase.name): \(result.stderr)"
            switch testCase.outcome {
            case let .rejected(fragments):
                XCTAssertNotEqual(result.status, 0, context)
                assertOneLineError(result.stderr, fragments, context)
                XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), context)
                let over = try runLSR(["index", "--input", input, "--output", existing, "--force", "--threads", "1"] + testCase.extraArguments)
                XCTAssertNotEqual(over.status, 0, context)
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: existing + "/index.lsr")), original, context)
            case let .accepted(documents, notice):
                XCTAssertEqual(result.status, 0, context)
                XCTAssertEqual(try Index(path: fresh).documentCount, documents, context)
                if let notice { XCTAssertTrue(result.stderr.contains(notice), context) }
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: caseDirectory).filter { $0.contains(".lsr-build-") }
            XCTAssertEqual(leftovers, [], context)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".lsr-") }, [])
    }

    // MARK: Queries and parameters

    func testQueryCases() throws {
        let collection = SyntheticCollection(seed: 4, count: 30, dimension: 12, meanLength: 4)
        let index = directory.file("index")
        XCTAssertEqual(try runLSR(["index", "--input", directory.write(collection.jsonl(), to: "docs.jsonl"), "--output", index]).status, 0)
        let token = collection.vocabulary[0]
        let queries = directory.write("""
            {"id": "empty", "vector": {}}
            {"id": "unknown", "vector": {"never-seen": 1.0, "nor-this": 2.0}}
            {"id": "known", "vector": {"\(token)": 1.0, "never-seen": 1.0}}

            """, to: "queries.jsonl")

        let result = try runLSR(["search", "--index", index, "--queries", queries, "--k", "1000"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let ranked = result.stdout.split(separator: "\n").map { $0.split(separator: " ") }
        XCTAssertFalse(ranked.contains { $0[0] == "empty" || $0[0] == "unknown" }, "no results for them")
        let matching = collection.vectors.filter { $0.contains { $0.token == token } }.count
        XCTAssertEqual(ranked.filter { $0[0] == "known" }.count, matching, "k beyond the collection returns every match")
        XCTAssertTrue(result.stderr.contains("3 unknown query tokens skipped"), result.stderr)
        XCTAssertTrue(result.stderr.contains("1 queries had only unknown tokens"), result.stderr)

        let run = directory.file("run.trec")
        let badQueries = directory.write("{\"id\": \"q\", \"vector\": {\"a\": 1}}\n{\"id\": \"q2\", \"vector\": {\"a\": \"x\"}}\n", to: "bad.jsonl")
        let bad = try runLSR(["search", "--index", index, "--queries", badQueries, "--output", run])
        XCTAssertNotEqual(bad.status, 0)
        assertOneLineError(bad.stderr, ["bad.jsonl:2:", "field 'vector.a'"], bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run), "no run file from a failed search")
    }

    func testOutOfRangeParametersNameTheFlagAndRange() throws {
        let input = directory.write(SyntheticCollection(seed: 5, count: 20, dimension: 10, meanLength: 3).jsonl(), to: "docs.jsonl")
        let index = directory.file("index")
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", index]).status, 0)
        let build = ["index", "--input", input, "--output", directory.file("never")]
        let search = ["search", "--index", index, "--queries", input]
        let cases: [([String], [String])] = [
            (build + ["--summary-energy", "1.5"], ["--summary-energy", "(0, 1]", "1.5"]),
            (build + ["--summary-energy", "0"], ["--summary-energy", "(0, 1]"]),
            (build + ["--centroid-fraction", "0"], ["--centroid-fraction", "(0, 1]"]),
            (build + ["--n-postings", "0"], ["--n-postings", "≥ 1"]),
            (build + ["--max-fraction=-1"], ["--max-fraction", "> 0"]),
            (build + ["--doc-cut", "0"], ["--doc-cut", "≥ 1"]),
            (build + ["--min-cluster-size", "0"], ["--min-cluster-size", "≥ 1"]),
            (build + ["--block-size", "0"], ["--block-size", "≥ 1"]),
            (build + ["--max-summary-entries", "0"], ["--max-summary-entries", "≥ 1"]),
            (build + ["--threads", "0"], ["--threads", "≥ 1"]),
            (build + ["--precision", "f8"], ["--precision", "f16", "f32"]),
            (search + ["--k", "0"], ["--k", "≥ 1"]),
            (search + ["--query-cut", "0"], ["--query-cut", "≥ 1"]),
            (search + ["--heap-factor=0"], ["--heap-factor", "> 0"]),
            (search + ["--heap-factor", "nan"], ["--heap-factor", "finite"]),
            (search + ["--threads", "0"], ["--threads", "≥ 1"]),
        ]
        for (arguments, fragments) in cases {
            let result = try runLSR(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            assertOneLineError(result.stderr, fragments, arguments.joined(separator: " "))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("never")))
    }

    // MARK: Index files

    func testDamagedIndexFiles() throws {
        let input = directory.write(SyntheticCollection(seed: 6, count: 300, dimension: 40, meanLength: 6).jsonl(), to: "docs.jsonl")
        let original = directory.file("original")
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", original]).status, 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: original + "/index.lsr"))
        let postings = try Index(path: original).sectionSizes.first { $0.name == "post.docs" }
        XCTAssertNotNil(postings)

        func damaged(_ name: String, _ change: (inout Data) throws -> Void) throws -> String {
            let copy = directory.file(name)
            try FileManager.default.copyItem(atPath: original, toPath: copy)
            var data = bytes
            try change(&data)
            try data.write(to: URL(fileURLWithPath: copy + "/index.lsr"))
            return copy
        }
        let wrongMagic = try damaged("magic") { $0[0] = UInt8(ascii: "X") }
        let newerVersion = try damaged("version") { data in
            // Another version with its header intact: the header checksum resealed.
            data[8] = 9
            let checksum = data.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[0 ..< 40])) }
            withUnsafeBytes(of: checksum.littleEndian) { for i in 0 ..< 8 { data[40 + i] = $0[i] } }
        }
        let truncated = try damaged("truncated") { $0 = $0.prefix($0.count - 100) }
        let flippedHeader = try damaged("header") { $0[20] ^= 0x01 }
        let flippedPostings = try damaged("postings") { data in
            let offset = try IndexFile(path: original + "/index.lsr").entries.first { $0.name == "post.docs" }!.offset
            data[offset + 3] ^= 0x10
        }
        let noStore = try damaged("no-store") { _ in }
        try FileManager.default.removeItem(atPath: noStore + "/documents.sqlite")
        let badStore = try damaged("bad-store") { _ in }
        let store = badStore + "/documents.sqlite"
        var storeBytes = try Data(contentsOf: URL(fileURLWithPath: store))
        for i in stride(from: 4096, to: storeBytes.count, by: 97) { storeBytes[i] ^= 0x5A }
        try storeBytes.write(to: URL(fileURLWithPath: store))

        let openFailures: [(String, [String])] = [
            (wrongMagic, ["magic/index.lsr (byte 0)", "wrong magic number"]),
            (newerVersion, ["version/index.lsr (byte 8)", "version 9 is not supported", "reads version \(IndexFileFormat.version)", "rebuild"]),
            (truncated, ["truncated/index.lsr", "truncated"]),
            (flippedHeader, ["header/index.lsr", "checksum"]),
            (noStore, ["no-store/documents.sqlite", "missing document store"]),
        ]
        let queries = directory.write(#"{"id": "q", "vector": {"t0": 1}}"# + "\n", to: "q.jsonl")
        for (path, fragments) in openFailures {
            for arguments in [["search", "--index", path, "--queries", queries], ["check", path], ["info", path]] {
                let result = try runLSR(arguments)
                XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
                assertOneLineError(result.stderr, fragments, arguments.joined(separator: " "))
            }
        }
        // A flipped byte inside a big section is found by `lsr check`, which names the section;
        // search over it stays in bounds.
        let checked = try runLSR(["check", "--index", flippedPostings])
        XCTAssertNotEqual(checked.status, 0)
        assertOneLineError(checked.stderr, ["postings", "post.docs", "checksum mismatch"], checked.stderr)
        XCTAssertEqual(try runLSR(["search", "--index", flippedPostings, "--queries", queries]).status, 0)
        // A damaged document store is reported by `lsr check` (or on open when SQLite notices).
        let storeCheck = try runLSR(["check", badStore])
        XCTAssertNotEqual(storeCheck.status, 0)
        assertOneLineError(storeCheck.stderr, ["documents.sqlite"], storeCheck.stderr)
        XCTAssertEqual(try runLSR(["check", original]).status, 0)
    }

    // MARK: Helpers

    private func assertOneLineError(_ stderr: String, _ fragments: [String], _ context: String, line: UInt = #line) {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "one line: \(context)", line: line)
        XCTAssertTrue(stderr.hasPrefix("lsr: "), context, line: line)
        for fragment in fragments {
            XCTAssertTrue(stderr.contains(fragment), "'\(fragment)' missing: \(context)", line: line)
        }
    }

    private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
