import Foundation
import LSR
import LSRTestSupport
import XCTest

/// End-to-end runs of the `lsr` executable.
final class CLITests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    /// Exact search on SciFact reproduces the reference exact run (same documents, scores within 1e-4).
    func testExactSearchReproducesSciFactReferenceRun() throws {
        try XCTSkipUnless(SharedData.available, "../shared/data is not beside the repository")
        let index = directory.file("scifact")
        let built = try runLSR([
            "index", "--input", SharedData.path("scifact/splade-tiny/docs.jsonl.zst"), "--output", index, "--precision", "f32",
        ])
        XCTAssertEqual(built.status, 0, built.stderr)
        let run = directory.file("exact.run")
        let searched = try runLSR([
            "search", "--index", index, "--queries", SharedData.path("scifact/splade-tiny/queries.jsonl"),
            "--exact", "--k", "1000", "--output", run,
        ])
        XCTAssertEqual(searched.status, 0, searched.stderr)

        let referenceFile = directory.file("reference.run")
        let reader = try VectorLineSource(path: SharedData.path("scifact/splade-tiny/exact_test_run.trec.zst"))
        try reader.lines.joined(separator: "\n").write(toFile: referenceFile, atomically: true, encoding: .utf8)
        let reference = try parseRun(referenceFile)
        let ours = try parseRun(run)
        XCTAssertEqual(reference.count, 300)
        for (query, expected) in reference {
            let got = try XCTUnwrap(ours[query], "query \(query) missing")
            XCTAssertEqual(got.count, expected.count, "query \(query)")
            let expectedScores = Dictionary(uniqueKeysWithValues: expected.map { ($0.doc, $0.score) })
            let boundary = expected.map(\.score).min() ?? 0
            for (doc, score) in got {
                if let reference = expectedScores[doc] {
                    XCTAssertEqual(score, reference, accuracy: 1e-4, "query \(query) doc \(doc)")
                } else {
                    // Only a tie at the cut-off may differ.
                    XCTAssertEqual(score, boundary, accuracy: 1e-4, "query \(query): unexpected doc \(doc)")
                }
            }
        }
    }

    /// `lsr index --shards`, then `lsr search`, `info` and `check` on the collection: its exact
    /// and brute-force runs are byte for byte those of one index over the same documents.
    func testShardedCollectionSearchesLikeOneIndex() throws {
        let corpus = repositoryRoot + "/Indexes/sample/corpus.jsonl.zst"
        let queries = repositoryRoot + "/Queries/sample/queries.jsonl"
        let single = directory.file("single"), sharded = directory.file("sharded")
        XCTAssertEqual(try runLSR(["index", "--input", corpus, "--output", single]).status, 0)
        let built = try runLSR(["index", "--input", corpus, "--output", sharded, "--shards", "3"])
        XCTAssertEqual(built.status, 0, built.stderr)
        XCTAssertTrue(built.stdout.contains("into 3 shards"), built.stdout)
        for method in [["--exact"], ["--brute-force"], ["--exact", "--k", "100", "--threads", "1"]] {
            let one = try runLSR(["search", "--index", single, "--queries", queries] + method)
            let many = try runLSR(["search", "--index", sharded, "--queries", queries] + method)
            XCTAssertEqual(many.status, 0, many.stderr)
            XCTAssertEqual(many.stdout, one.stdout, "\(method)")
            XCTAssertTrue(many.stderr.contains("3 shards one after another"), many.stderr)
            XCTAssertTrue(many.stderr.contains("27 unknown query tokens skipped"), many.stderr)
        }
        let report = directory.file("report.json")
        let approximate = try runLSR(["search", "--index", sharded, "--queries", queries, "--recall-vs-exact", "--report", report, "--output", directory.file("run")])
        XCTAssertEqual(approximate.status, 0, approximate.stderr)
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        XCTAssertEqual(fields["shards"] as? Int, 3)
        XCTAssertEqual(try XCTUnwrap(fields["recall_vs_exact"] as? Double), 1.0, accuracy: 0.05)
        let info = try runLSR(["info", sharded])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("round-robin over 3 shards"), info.stdout)
        XCTAssertTrue(info.stdout.contains("total            1000"), info.stdout)
        let check = try runLSR(["check", "--index", sharded])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("collection of 3 shards"), check.stdout)
        // Presets: the collection is tuned as a whole, and its presets serve --target-recall.
        try assertLSRFails(["search", "--index", sharded, "--queries", queries, "--target-recall", "0.9"], mentions: ["this collection has no presets", "lsr tune"])
        let tuned = try runLSR(["tune", "--index", sharded, "--queries", queries, "--target-recall", "0.8,0.9", "--threads", "2", "--selection", "model"])
        XCTAssertEqual(tuned.status, 0, tuned.stderr)
        XCTAssertTrue(tuned.stdout.contains("presets stored in \(sharded)/presets"), tuned.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: sharded + "/presets"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: sharded + "/shard-0000/presets"), "the shards keep none of their own")
        XCTAssertTrue(try runLSR(["info", sharded]).stdout.contains("presets (recall@10 vs exact"))
        XCTAssertTrue(try runLSR(["check", sharded]).stdout.contains(", presets)"))
        let preset = try runLSR(["search", "--index", sharded, "--queries", queries, "--target-recall", "0.9", "--recall-vs-exact", "--output", directory.file("run")])
        XCTAssertEqual(preset.status, 0, preset.stderr)
        XCTAssertTrue(preset.stderr.contains("preset for recall 0.900"), preset.stderr)
        let reached = try XCTUnwrap(preset.stderr.range(of: #"recall@10 vs exact ([0-9.]+)"#, options: .regularExpression))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(Double(preset.stderr[reached].split(separator: " ").last!)), 0.9, "tuned on these queries: \(preset.stderr)")
        try assertLSRFails(["search", "--index", sharded, "--queries", queries, "--count-work"], mentions: ["search a shard"])
        try assertLSRFails(["index", "--input", corpus, "--output", directory.file("x"), "--shards", "0"], mentions: ["--shards must be in 1"])
        try assertLSRFails(["index", "--input", corpus, "--output", sharded, "--shards", "2"], mentions: ["already exists"])
        // A damaged shard is found by check and named.
        let shardIndex = sharded + "/shard-0001/index.lsr"
        var bytes = Array(FileManager.default.contents(atPath: shardIndex)!)
        bytes[bytes.count / 2] ^= 0x40
        _ = FileManager.default.createFile(atPath: shardIndex, contents: Data(bytes))
        try assertLSRFails(["check", sharded], mentions: ["shard-0001/"])
    }

    func testBadInvocationsFailWithOneLineErrors() throws {
        let missing = try runLSR(["search", "--index", directory.file("nope"), "--queries", directory.file("q.jsonl")])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nope"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
        let badK = try runLSR(["search", "--index", "x", "--queries", "y", "--k", "0"])
        XCTAssertNotEqual(badK.status, 0)
        XCTAssertTrue(badK.stderr.contains("--k"), badK.stderr)
        XCTAssertEqual(badK.stderr.split(separator: "\n").count, 1, badK.stderr)
        let unknownFlag = try runLSR(["index", "--inptu", "x"])
        XCTAssertNotEqual(unknownFlag.status, 0)
        XCTAssertEqual(unknownFlag.stderr.split(separator: "\n").count, 1, unknownFlag.stderr)
        for (arguments, mention) in [(["--pruning", "fixed", "--n-postings", "auto"], "--pruning fixed needs a number"), (["--n-postings", "many"], "many")] {
            let postings = try runLSR(["index", "--input", "x.jsonl", "--output", directory.file("p")] + arguments)
            XCTAssertNotEqual(postings.status, 0)
            XCTAssertTrue(postings.stderr.contains(mention), postings.stderr)
            XCTAssertEqual(postings.stderr.split(separator: "\n").count, 1, postings.stderr)
        }
        let bad = directory.write("{\"id\": \"a\", \"vector\": {\"t\": 1}}\n{\"id\": \"b\", \"vector\": {\"t\": -1}}\n", to: "bad.jsonl")
        let index = try runLSR(["index", "--input", bad, "--output", directory.file("idx")])
        XCTAssertNotEqual(index.status, 0)
        XCTAssertTrue(index.stderr.contains("bad.jsonl:2"), index.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("idx")))
    }

    func testIndexSearchInfoCheckOnSyntheticData() throws {
        let collection = SyntheticCollection(seed: 2, count: 300, dimension: 40, meanLength: 6)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let index = directory.file("idx")
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", index, "--threads", "1"]).status, 0)
        let again = try runLSR(["index", "--input", input, "--output", index])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        let queries = directory.write(SyntheticCollection(seed: 20, count: 5, dimension: 40, meanLength: 3, idPrefix: "q").jsonl(), to: "q.jsonl")
        let report = directory.file("report.json")
        let search = try runLSR(["search", "--index", index, "--queries", queries, "--k", "3", "--report", report])
        XCTAssertEqual(search.status, 0, search.stderr)
        let lines = search.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 15)
        XCTAssertTrue(lines[0].hasPrefix("q0 Q0 doc"), String(lines[0]))
        XCTAssertTrue(lines[0].hasSuffix(" 1 " + lines[0].split(separator: " ")[4] + " lsr"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        for key in ["queries", "threads", "k", "query_cut", "heap_factor", "mean_us", "p50_us", "p90_us", "p99_us", "qps", "unknown_tokens"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["queries"] as? Int, 5)
        // --preload auto (the default) maps a small index before 100 queries or more, not
        // before 5; always and never override it; the results never change. Where the system
        // cannot preload (Linux before 5.14, other systems), no search reports it.
        XCTAssertNil(json["preload_ms"], "5 queries")
        let supported = try Index(path: index).preload()
        let batch = directory.write(SyntheticCollection(seed: 21, count: 100, dimension: 40, meanLength: 3, idPrefix: "b").jsonl(), to: "b.jsonl")
        for (file, mode, preloaded) in [(queries, "never", false), (queries, "always", supported), (batch, "auto", supported), (batch, "never", false)] {
            let modeReport = directory.file("report-\(mode).json")
            let searched = try runLSR(["search", "--index", index, "--queries", file, "--k", "3", "--preload", mode, "--report", modeReport])
            XCTAssertEqual(searched.status, 0, searched.stderr)
            if file == queries {
                XCTAssertEqual(searched.stdout.split(separator: "\n").map { $0.split(separator: " ")[..<5] }, lines.map { $0.split(separator: " ")[..<5] })
            }
            let figures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: modeReport))) as! [String: Any]
            XCTAssertEqual(figures["preload_ms"] != nil, preloaded, "\(mode), \(figures["queries"] ?? "?") queries")
        }
        let human = try runLSR(["search", "--index", index, "--queries", queries, "--show-content", "--k", "2"])
        XCTAssertTrue(human.stdout.contains("text of doc"), human.stdout)
        XCTAssertTrue(try runLSR(["info", index]).stdout.contains("documents: 300"))
        XCTAssertEqual(try runLSR(["check", index]).status, 0)
    }

    /// The portable kernels (LSR_PORTABLE=1) and the vectorized ones agree on scores.
    func testPortableAndVectorizedKernelsAgree() throws {
        let collection = SyntheticCollection(seed: 8, count: 400, dimension: 300, meanLength: 40)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let index = directory.file("idx")
        // Blocks and summaries on small lists, so that clustering runs its kernel too (lists of up
        // to 150 postings, up to 30 centroids).
        let options = ["--summaries", "always", "--n-postings", "100"]
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", index] + options).status, 0)
        // Half-precision rounding and centroid assignment (AVX and F16C, or portable) write the same bytes.
        let portableIndex = directory.file("idx-portable")
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", portableIndex] + options, environment: ["LSR_PORTABLE": "1"]).status, 0)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: index + "/index.lsr")), try Data(contentsOf: URL(fileURLWithPath: portableIndex + "/index.lsr")))
        let queries = directory.write(SyntheticCollection(seed: 80, count: 20, dimension: 300, meanLength: 30, idPrefix: "q").jsonl(), to: "q.jsonl")
        let arguments = ["search", "--index", index, "--queries", queries, "--exact", "--k", "20"]
        let vectorized = try runLSR(arguments)
        let portable = try runLSR(arguments, environment: ["LSR_PORTABLE": "1"])
        XCTAssertEqual(vectorized.status, 0)
        let a = vectorized.stdout.split(separator: "\n"), b = portable.stdout.split(separator: "\n")
        XCTAssertEqual(a.count, 400)
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(Double(x.split(separator: " ")[4])!, Double(y.split(separator: " ")[4])!, accuracy: 1e-4)
        }
        // The forward-index scan is the same exact search by another route: the same run.
        let scan = try runLSR(["search", "--index", index, "--queries", queries, "--brute-force", "--k", "20"])
        XCTAssertEqual(scan.status, 0, scan.stderr)
        XCTAssertEqual(scan.stdout, vectorized.stdout)
        XCTAssert(scan.stderr.contains("brute force"), scan.stderr)
        let both = try runLSR(arguments + ["--brute-force"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssert(both.stderr.contains("choose one"), both.stderr)

        // The query weights gathered (the default on Intel) or loaded one by one (elsewhere): the
        // same sums in the same order, so the same bytes, for u16 and u32 components.
        // Over 65,536 distinct components make the ids u32.
        let wideInput = directory.write(SyntheticCollection(seed: 9, count: 2_500, dimension: 100_000, meanLength: 60, skew: 1).binary(), to: "wide.bin")
        let wideIndex = directory.file("idx-wide")
        XCTAssertEqual(try runLSR(["index", "--input", wideInput, "--output", wideIndex]).status, 0)
        let wideInfo = try runLSR(["info", wideIndex]).stdout
        XCTAssert(wideInfo.contains("4-byte component ids"), wideInfo)
        let wideQueries = directory.write(
            SyntheticCollection(seed: 90, count: 20, dimension: 100_000, meanLength: 30, idPrefix: "q", skew: 1).binary(), to: "wq.bin")
        for (searched, searchedQueries) in [(index, queries), (wideIndex, wideQueries)] {
            let scanning = ["search", "--index", searched, "--queries", searchedQueries, "--brute-force", "--k", "20"]
            let gathered = try runLSR(scanning, environment: ["LSR_DOT_QUERY": "gather"])
            let loaded = try runLSR(scanning, environment: ["LSR_DOT_QUERY": "loads"])
            XCTAssertEqual(gathered.status, 0, gathered.stderr)
            XCTAssertGreaterThan(gathered.stdout.split(separator: "\n").count, 20)
            XCTAssertEqual(gathered.stdout, loaded.stdout)
        }
    }

    /// `lsr eval --json` has the documented shape and `lsr search --qrels` evaluates its own run.
    func testEvalJSONAndSearchWithQrels() throws {
        let run = directory.write("q1 Q0 d1 1 2.0 x\nq1 Q0 d2 2 1.0 x\nq2 Q0 d3 1 1.0 x\n", to: "r.run")
        let qrels = directory.write("query-id\tcorpus-id\tscore\nq1\td2\t1\nq2\td3\t2\n", to: "q.tsv")
        let eval = try runLSR(["eval", "--run", run, "--qrels", qrels, "--metrics", "ndcg@10,recall@100,p@10,map@100,mrr", "--json", "--per-query"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["queries"] as? Int, 2)
        let metrics = json["metrics"] as! [String: Double]
        XCTAssertEqual(Set(metrics.keys), ["ndcg@10", "recall@100", "p@10", "map@100", "mrr"])
        XCTAssertEqual(metrics["mrr"]!, 0.75, accuracy: 1e-12)
        XCTAssertEqual((json["per_query"] as! [String: [String: Double]])["q1"]?["mrr"], 0.5)
        let selfRun = directory.write("q1 Q0 q1 1 9.0 x\nq1 Q0 d2 2 1.0 x\n", to: "self.run")
        let dropped = try runLSR(["eval", "--run", selfRun, "--qrels", qrels, "--metrics", "mrr", "--json", "--ignore-identical-ids"])
        let kept = try runLSR(["eval", "--run", selfRun, "--qrels", qrels, "--metrics", "mrr", "--json", "--keep-identical-ids"])
        XCTAssertTrue(dropped.stdout.contains("\"mrr\" : 1"), dropped.stdout + dropped.stderr)
        XCTAssertTrue(kept.stdout.contains("\"mrr\" : 0.5"), kept.stdout + kept.stderr)
        let empty = try runLSR(["eval", "--run", directory.write("", to: "empty.run"), "--qrels", qrels])
        XCTAssertEqual(empty.status, 0, empty.stderr)
        XCTAssertTrue(empty.stderr.contains("holds no results"), empty.stderr)
        let unjudged = try runLSR(["eval", "--run", directory.write("x9 Q0 d1 1 1.0 x\n", to: "unjudged.run"), "--qrels", qrels])
        XCTAssertTrue(unjudged.stderr.contains("no query of"), unjudged.stderr)
        XCTAssertFalse(eval.stderr.contains("warning"), eval.stderr)
        let badMetric = try runLSR(["eval", "--run", run, "--qrels", qrels, "--metrics", "bleu"])
        XCTAssertNotEqual(badMetric.status, 0)
        XCTAssertEqual(badMetric.stderr.split(separator: "\n").count, 1, badMetric.stderr)

        let collection = SyntheticCollection(seed: 9, count: 200, dimension: 40, meanLength: 6)
        let index = directory.file("idx")
        XCTAssertEqual(try runLSR(["index", "--input", directory.write(collection.jsonl(), to: "d.jsonl"), "--output", index]).status, 0)
        let queries = directory.write(SyntheticCollection(seed: 90, count: 4, dimension: 40, meanLength: 4, idPrefix: "q").jsonl(), to: "qs.jsonl")
        let searchQrels = directory.write("q0\tdoc1\t1\nq1\tdoc2\t1\n", to: "sq.tsv")
        let search = try runLSR(["search", "--index", index, "--queries", queries, "--qrels", searchQrels, "--output", directory.file("o.run")])
        XCTAssertEqual(search.status, 0, search.stderr)
        XCTAssertTrue(search.stderr.contains("ndcg@10"), search.stderr)
    }

    private func parseRun(_ path: String) throws -> [String: [(doc: String, score: Double)]] {
        var runs: [String: [(doc: String, score: Double)]] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 6, let score = Double(fields[4]) else { continue }
            runs[String(fields[0]), default: []].append((String(fields[2]), score))
        }
        return runs
    }
    /// `lsr tune` stores presets that `lsr info` prints and `lsr search --target-recall` uses;
    /// without presets, with a damaged file or an unreachable target, one-line errors.
    func testTuneThenSearchAtATargetRecall() throws {
        let documents = SyntheticCollection(seed: 51, count: 3000, dimension: 150, meanLength: 20)
        let input = directory.write(documents.jsonl(), to: "docs.jsonl")
        let tuneQueries = directory.write(SyntheticCollection(seed: 52, count: 500, dimension: 150, meanLength: 12, idPrefix: "a", skew: 1.5).jsonl(), to: "tune.jsonl")
        let testQueries = directory.write(SyntheticCollection(seed: 53, count: 500, dimension: 150, meanLength: 12, idPrefix: "b", skew: 1.5).jsonl(), to: "test.jsonl")
        let index = directory.file("index")
        let built = try runLSR(["index", "--input", input, "--output", index, "--n-postings", "40"])
        XCTAssertEqual(built.status, 0, built.stderr)

        let early = try runLSR(["search", "--index", index, "--queries", testQueries, "--target-recall", "0.9"])
        XCTAssertNotEqual(early.status, 0)
        XCTAssertTrue(early.stderr.contains("lsr tune"), early.stderr)
        XCTAssertEqual(early.stderr.split(separator: "\n").count, 1, early.stderr)

        let report = directory.file("tune.json")
        // Two standard errors of margin: this test is about the commands, TuningTests about
        // how the recall holds on unseen queries.
        let tuned = try runLSR([
            "tune", "--index", index, "--queries", tuneQueries, "--target-recall", "0.9,0.95", "--threads", "2", "--margin", "2", "--report", report,
        ])
        XCTAssertEqual(tuned.status, 0, tuned.stderr)
        XCTAssertTrue(tuned.stdout.contains("0.900") && tuned.stdout.contains("0.950"), tuned.stdout)
        let reportJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        XCTAssertGreaterThan((reportJSON["points"] as! [Any]).count, 10)
        let info = try runLSR(["info", index])
        XCTAssertTrue(info.stdout.contains("presets (recall@10"), info.stdout)

        for target in ["0.9", "0.95"] {
            let searchReport = directory.file("search-\(target).json")
            let searched = try runLSR([
                "search", "--index", index, "--queries", testQueries, "--target-recall", target, "--threads", "1",
                "--recall-vs-exact", "--output", directory.file("run"), "--report", searchReport,
            ])
            XCTAssertEqual(searched.status, 0, searched.stderr)
            XCTAssertTrue(searched.stderr.contains("preset for recall"), searched.stderr)
            let figures = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: searchReport))) as! [String: Any]
            XCTAssertGreaterThanOrEqual(figures["recall_vs_exact"] as! Double, Double(target)! - 0.01)
            XCTAssertEqual(figures["target_recall"] as? Double, Double(target))
        }

        let unreachable = try runLSR(["search", "--index", index, "--queries", testQueries, "--target-recall", "0.999"])
        XCTAssertNotEqual(unreachable.status, 0)
        XCTAssertTrue(unreachable.stderr.contains("no preset reaches"), unreachable.stderr)
        let mixed = try runLSR(["search", "--index", index, "--queries", testQueries, "--target-recall", "0.9", "--query-cut", "3"])
        XCTAssertNotEqual(mixed.status, 0)
        XCTAssertEqual(mixed.stderr.split(separator: "\n").count, 1, mixed.stderr)

        let presetsPath = index + "/" + SearchPresets.fileName
        var bytes = try Data(contentsOf: URL(fileURLWithPath: presetsPath))
        bytes[bytes.count - 10] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: presetsPath))
        let damaged = try runLSR(["search", "--index", index, "--queries", testQueries, "--target-recall", "0.9"])
        XCTAssertNotEqual(damaged.status, 0)
        XCTAssertTrue(damaged.stderr.contains("presets") && damaged.stderr.contains("damaged"), damaged.stderr)
        XCTAssertEqual(damaged.stderr.split(separator: "\n").count, 1, damaged.stderr)
    }
}

extension CLITests {
    /// A target no approximate setting reaches on an index that keeps 2 postings per list gets
    /// exact search as its preset, and `lsr tune` says why and what to rebuild with.
    func testTuneSaysWhenPruningCapsRecall() throws {
        let documents = SyntheticCollection(seed: 54, count: 2000, dimension: 100, meanLength: 20)
        let input = directory.write(documents.jsonl(), to: "docs.jsonl")
        let queries = directory.write(SyntheticCollection(seed: 55, count: 200, dimension: 100, meanLength: 10, idPrefix: "q").jsonl(), to: "q.jsonl")
        let index = directory.file("pruned")
        let built = try runLSR(["index", "--input", input, "--output", index, "--n-postings", "2", "--summaries", "always"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let tuned = try runLSR(["tune", "--index", index, "--queries", queries, "--target-recall", "0.99", "--threads", "2"])
        XCTAssertEqual(tuned.status, 0, tuned.stderr)
        XCTAssertTrue(tuned.stderr.contains("no approximate setting reached recall 0.990"), tuned.stderr)
        XCTAssertTrue(tuned.stderr.contains("--n-postings"), tuned.stderr)
        XCTAssertTrue(tuned.stdout.contains("exact"), tuned.stdout)
    }
}

/// Reads all lines of a (possibly compressed) text file.
struct VectorLineSource {
    var lines: [String] = []
    init(path: String) throws {
        var reader = LineReader(stream: try openByteStream(path))
        while let line = try reader.nextLine({ bytes, _ in String(decoding: bytes, as: UTF8.self) }) { lines.append(line) }
    }
}
