import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Text in, end to end: `lsr tokenize`, `lsr encode`, text query encoders, BM25 from text.
final class TextCLITests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    static let tokenizer = SharedData.path("inference-free/tokenizer.json")
    static let weights = SharedData.path("inference-free/idf.json")

    @discardableResult
    private func lsr(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (stdout: String, stderr: String) {
        let result = try runLSR(arguments)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return (result.stdout, result.stderr)
    }

    /// `tokenize` and `encode` over every golden text give the reference's ids and vectors, line for line.
    func testTokenizeAndEncodeEqualTheGoldenFiles() throws {
        try XCTSkipUnless(SharedData.available, "needs ../shared/data")
        let texts = SharedData.path("inference-free/golden-dev.tokens.jsonl.zst")
        let tokens = directory.file("tokens.jsonl"), vectors = directory.file("vectors.jsonl")
        try lsr(["tokenize", "--input", texts, "--tokenizer", Self.tokenizer, "--output", tokens])
        try lsr(["encode", "--input", texts, "--tokenizer", Self.tokenizer, "--weights", Self.weights, "--output", vectors, "--threads", "2"])
        let golden = try jsonObjects(texts), goldenVectors = try jsonObjects(SharedData.path("inference-free/golden-dev.queries.jsonl.zst"))
        let ours = try jsonObjects(tokens), ourVectors = try jsonObjects(vectors)
        XCTAssertEqual(ours.count, golden.count)
        XCTAssertEqual(ourVectors.count, goldenVectors.count)
        var tokenMismatches = 0, vectorMismatches = 0
        for (expected, got) in zip(golden, ours) {
            if (got["id"] as? String) != (expected["id"] as? String) || (got["ids"] as? [Int]) != (expected["ids"] as? [Int]) { tokenMismatches += 1 }
        }
        for (expected, got) in zip(goldenVectors, ourVectors) {
            let e = (expected["vector"] as! [String: NSNumber]).mapValues(\.doubleValue)
            let g = (got["vector"] as! [String: NSNumber]).mapValues(\.doubleValue)
            let same = (got["id"] as? String) == (expected["id"] as? String) && (got["content"] as? String) == (expected["content"] as? String)
                && e.count == g.count && g.allSatisfy { token, weight in e[token].map { abs($0 - weight) <= 1e-6 } ?? false }
            if !same { vectorMismatches += 1 }
        }
        XCTAssertEqual(tokenMismatches, 0)
        XCTAssertEqual(vectorMismatches, 0)
        let first = try XCTUnwrap(ours.first)
        XCTAssertEqual((first["tokens"] as? [String])?.count, (first["ids"] as? [Int])?.count)
    }

    /// An index with an idf encoder answers `--query` and BEIR text query files exactly as the
    /// vectors `lsr encode` makes; without an encoder, a one-line error says how to add one.
    func testTextQueriesThroughTheStoredEncoder() throws {
        try XCTSkipUnless(SharedData.available, "needs ../shared/data")
        let docs = SharedData.path("scifact/splade-tiny/docs.jsonl.zst"), queries = SharedData.path("scifact/queries.jsonl")
        let plain = directory.file("plain"), withEncoder = directory.file("encoder")
        try lsr(["index", "--input", docs, "--output", plain])
        try lsr(["index", "--input", docs, "--output", withEncoder, "--query-encoder", "idf", "--tokenizer", Self.tokenizer, "--weights", Self.weights])
        try assertLSRFails(["search", "--index", plain, "--query", "what causes scurvy"], mentions: ["add-encoder", "no text query encoder"])
        try assertLSRFails(["search", "--index", plain, "--queries", queries], mentions: ["add-encoder"])

        let vectors = directory.file("queries.vectors.jsonl")
        try lsr(["encode", "--input", queries, "--tokenizer", Self.tokenizer, "--weights", Self.weights, "--output", vectors])
        let fromVectors = try lsr(["search", "--index", withEncoder, "--queries", vectors, "--k", "20"]).stdout
        let fromText = try lsr(["search", "--index", withEncoder, "--queries", queries, "--k", "20"]).stdout
        XCTAssertEqual(fromText, fromVectors)
        XCTAssertGreaterThan(fromText.split(separator: "\n").count, 1109 * 10)

        let shown = try lsr(["search", "--index", withEncoder, "--query", "vitamin C deficiency causes scurvy", "--query", "", "--k", "3", "--show-content"])
        XCTAssertTrue(shown.stdout.contains("query q1: vitamin C deficiency causes scurvy"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("query q2: \n  (no results)"), shown.stdout)
        XCTAssertTrue(shown.stderr.contains("1 queries had no tokens"), shown.stderr)
        XCTAssertEqual(shown.stdout.split(separator: "\n").filter { $0.hasPrefix("   1.") }.count, 1)

        // add-encoder gives the plain index the same answers; a second one needs --force.
        try lsr(["add-encoder", "--index", plain, "--tokenizer", Self.tokenizer, "--weights", Self.weights])
        XCTAssertEqual(try lsr(["search", "--index", plain, "--queries", queries, "--k", "20"]).stdout, fromVectors)
        try assertLSRFails(["add-encoder", "--index", plain, "--tokenizer", Self.tokenizer, "--weights", Self.weights], mentions: ["--force"])
        let info = try lsr(["info", plain]).stdout
        XCTAssertTrue(info.contains("text query encoder: idf"), info)
        XCTAssertTrue(try lsr(["check", plain]).stdout.contains("ok"))

        // A damaged encoder file is an error naming it, and `check` finds it.
        let encoderFile = plain + "/query-encoder"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: encoderFile)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: encoderFile))
        try assertLSRFails(["search", "--index", plain, "--query", "x"], mentions: ["query-encoder", "checksum"])
        try assertLSRFails(["check", plain], mentions: ["query-encoder"])
    }

    /// BM25 from SciFact's text: text queries work at once, and NDCG@10 on the test queries is
    /// BM25's (the README's table).
    func testBM25FromTextOnSciFact() throws {
        try XCTSkipUnless(SharedData.available, "needs ../shared/data")
        let index = directory.file("bm25")
        let built = try lsr([
            "index", "--input", SharedData.path("scifact/corpus.jsonl.zst"), "--weighting", "bm25", "--tokenizer", Self.tokenizer, "--output", index,
        ])
        XCTAssertTrue(built.stdout.contains("indexed 5183 documents"), built.stdout)
        let qrels = SharedData.path("scifact/qrels/test.tsv")
        let testIDs = Set(try String(contentsOfFile: qrels, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[0]) })
        let queries = try String(contentsOfFile: SharedData.path("scifact/queries.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { line in testIDs.contains { line.hasPrefix("{\"_id\": \"\($0)\",") } }
        XCTAssertEqual(queries.count, 300)
        let testQueries = directory.write(queries.joined(separator: "\n") + "\n", to: "test.jsonl")
        for method in [["--exact"], []] {
            let report = directory.file("report.json")
            try lsr(["search", "--index", index, "--queries", testQueries, "--k", "100", "--qrels", qrels, "--report", report, "--output", directory.file("run")] + method)
            let metrics = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])?["metrics"] as? [String: Double])
            XCTAssertEqual(try XCTUnwrap(metrics["ndcg_cut_10"] ?? metrics["ndcg@10"]), 0.6715, accuracy: 0.002, "\(method) \(metrics)")
        }
        let shown = try lsr(["search", "--index", index, "--query", "vitamin C and scurvy", "--k", "1", "--show-content"]).stdout
        XCTAssertTrue(shown.lowercased().contains("vitamin c") || shown.lowercased().contains("ascorbic"), shown)
    }

    func testBadTextInputsAreOneLineErrorsAndWriteNothing() throws {
        let docs = directory.write("{\"id\": \"d\", \"vector\": {\"hello\": 1}}\n", to: "docs.jsonl")
        let vocab = directory.write("[UNK]\nhello\n", to: "vocab.txt")
        let idf = directory.write("{\"hello\": 1.5}", to: "idf.json")
        let output = directory.file("index")
        let cases: [([String], [String])] = [
            (["--query-encoder", "idf", "--tokenizer", directory.file("missing.json"), "--weights", idf], ["missing.json"]),
            (["--query-encoder", "idf", "--tokenizer", directory.write("{\"model\": {\"type\": \"BPE\"}}", to: "bpe.json"), "--weights", idf], ["bpe.json", "WordPiece"]),
            (["--query-encoder", "idf", "--tokenizer", vocab, "--weights", directory.write("[1, 2]", to: "list.json")], ["list.json"]),
            (["--query-encoder", "idf", "--tokenizer", vocab, "--weights", directory.write("{\"hello\": -2}", to: "neg.json")], ["neg.json", "hello"]),
            (["--query-encoder", "idf", "--tokenizer", directory.write("", to: "empty.txt"), "--weights", idf], ["empty.txt", "empty"]),
            (["--query-encoder", "idf", "--tokenizer", vocab], ["--weights"]),
            (["--weighting", "bm25"], ["--tokenizer"]),
            (["--weighting", "bm25", "--tokenizer", vocab, "--bm25-b", "2"], ["bm25-b"]),
            (["--tokenizer", vocab], ["--query-encoder"]),
        ]
        for (extra, fragments) in cases {
            try assertLSRFails(["index", "--input", docs, "--output", output] + extra, mentions: fragments)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(extra)")
        }
        // BM25 over a vector file: the record's `vector` is named.
        try assertLSRFails(["index", "--input", docs, "--output", output, "--weighting", "bm25", "--tokenizer", vocab], mentions: ["docs.jsonl:1:", "vector"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        try assertLSRFails(["tokenize", "--input", docs], mentions: ["--tokenizer"])
        try assertLSRFails(["encode", "--input", docs, "--tokenizer", vocab, "--weights", idf, "--output", directory.file("v.jsonl")], mentions: ["docs.jsonl", "vector"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("v.jsonl")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp-") }, [])
        try assertLSRFails(["tokenize", "--input", docs, "--tokenizer", vocab, "--count-only", "--output", directory.file("t")], mentions: ["--count-only"])

        // BM25 over a directory that is not an index: refused before the corpus is read.
        let texts = directory.write("{\"_id\": \"1\", \"text\": \"hello\"}\n", to: "texts.jsonl")
        let notIndex = directory.file("not-an-index")
        try FileManager.default.createDirectory(atPath: notIndex, withIntermediateDirectories: false)
        try assertLSRFails(["index", "--input", texts, "--output", notIndex, "--weighting", "bm25", "--tokenizer", vocab, "--force"], mentions: ["neither an lsr index nor a collection"])

        // A BM25 index keeps its encoder; an index over other tokens takes none.
        let bm25 = directory.file("bm25")
        XCTAssertEqual(try runLSR(["index", "--input", texts, "--output", bm25, "--weighting", "bm25", "--tokenizer", vocab]).status, 0)
        try assertLSRFails(["add-encoder", "--index", bm25, "--tokenizer", vocab, "--weights", idf, "--force"], mentions: ["BM25"])
        XCTAssertTrue(try lsr(["search", "--index", bm25, "--query", "hello"]).stdout.hasPrefix("q1 Q0 1 1 "))
        let other = directory.file("other")
        let otherDocs = directory.write("{\"id\": \"d\", \"vector\": {\"x1\": 1, \"x2\": 2, \"hello\": 1}}\n", to: "other.jsonl")
        XCTAssertEqual(try runLSR(["index", "--input", otherDocs, "--output", other]).status, 0)
        try assertLSRFails(["add-encoder", "--index", other, "--tokenizer", vocab, "--weights", idf], mentions: ["another vocabulary"])
        try assertLSRFails(["tune", "--index", bm25, "--query", "hello"], mentions: ["--queries"])
    }
}
