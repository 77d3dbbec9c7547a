import Foundation
import LSREvaluation
import LSRFormats
import LSRTestSupport
import LSRVectors
import XCTest

final class EvaluationTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// The SciFact reference run reproduces the committed trec_eval metrics to 1e-6.
    func testSciFactReferenceMetrics() throws {
        try XCTSkipUnless(SharedData.available, "../shared/data is not beside the repository")
        let run = try Run.read(path: SharedData.path("scifact/splade-tiny/exact_test_run.trec.zst"))
        let qrels = try Qrels.read(path: SharedData.path("scifact/qrels/test.tsv"))
        let reference = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: SharedData.path("scifact/splade-tiny/exact_test_metrics.json")))) as! [String: Double]
        var metrics: [Metric] = []
        for name in reference.keys where name != "n_queries" { metrics.append(try Metric(parsing: name)) }
        let result = Evaluator(metrics: metrics).evaluate(run, qrels: qrels)
        XCTAssertEqual(Double(result.queries), reference["n_queries"])
        for (name, expected) in reference where name != "n_queries" {
            let ours = result.metrics[try Metric(parsing: name).description]!
            XCTAssertEqual(ours, expected, accuracy: 1e-6, name)
        }
    }

    /// Per-query values equal pytrec_eval's on a run full of score ties with graded judgments.
    func testPerQueryValuesMatchPytrecEval() throws {
        let run = try Run.read(path: fixtures + "/ties.run")
        let qrels = try Qrels.read(path: fixtures + "/graded.qrels")
        let expected = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: fixtures + "/pytrec_eval.json"))) as! [String: [String: Double]]
        let names = expected.values.first!.keys.sorted()
        let result = Evaluator(metrics: try names.map { try Metric(parsing: $0) }, ignoreIdenticalIDs: false).evaluate(run, qrels: qrels)
        XCTAssertEqual(Set(result.perQuery.keys), Set(expected.keys))
        for (query, values) in expected {
            for (name, value) in values {
                let ours = result.perQuery[query]![try Metric(parsing: name).description]!
                XCTAssertEqual(ours, value, accuracy: 1e-12, "\(query) \(name)")
            }
        }
        let complete = Evaluator(metrics: [.ndcg(10)], ignoreIdenticalIDs: false, complete: true).evaluate(run, qrels: qrels)
        XCTAssertEqual(complete.queries, expected.count + 1)
        XCTAssertEqual(complete.perQuery["q99"]?["ndcg@10"], 0)
    }

    func testTiesAreBrokenByDescendingDocumentID() {
        let run = Run(results: ["q": [("a", 1), ("c", 1), ("b", 2), ("aa", 1)]])
        XCTAssertEqual(run.ranking(of: "q"), ["b", "c", "aa", "a"])
    }

    func testGradedMetricsByHand() throws {
        let run = Run(results: ["q": [("d1", 3), ("d2", 2), ("d3", 1)]])
        let qrels = Qrels(judgments: ["q": ["d1": 0, "d2": 2, "d3": 1, "d4": 3]])
        let result = Evaluator(metrics: [.ndcg(3), .precision(2), .recall(3), .averagePrecision(3), .reciprocalRank, .reciprocalRankAt(1)])
            .evaluate(run, qrels: qrels)
        let dcg = 2 / log2(3.0) + 1 / log2(4.0)
        let idcg = 3 / log2(2.0) + 2 / log2(3.0) + 1 / log2(4.0)
        XCTAssertEqual(result.metrics["ndcg@3"]!, dcg / idcg, accuracy: 1e-12)
        XCTAssertEqual(result.metrics["p@2"], 0.5)
        XCTAssertEqual(result.metrics["recall@3"]!, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(result.metrics["map@3"]!, (1.0 / 2 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(result.metrics["mrr"], 0.5)
        XCTAssertEqual(result.metrics["mrr@1"], 0)
    }

    func testIdenticalIDsAreDroppedUnlessKept() {
        let run = Run(results: ["q1": [("q1", 9), ("d", 1)]])
        let qrels = Qrels(judgments: ["q1": ["d": 1]])
        XCTAssertEqual(Evaluator(metrics: [.reciprocalRank]).evaluate(run, qrels: qrels).metrics["mrr"], 1)
        XCTAssertEqual(Evaluator(metrics: [.reciprocalRank], ignoreIdenticalIDs: false).evaluate(run, qrels: qrels).metrics["mrr"], 0.5)
    }

    func testMetricNames() throws {
        XCTAssertEqual(try Metric(parsing: "ndcg_cut_10"), .ndcg(10))
        XCTAssertEqual(try Metric(parsing: "P_5"), .precision(5))
        XCTAssertEqual(try Metric(parsing: "recip_rank"), .reciprocalRank)
        XCTAssertEqual(try Metric(parsing: "mrr@10").description, "mrr@10")
        XCTAssertThrowsError(try Metric(parsing: "ndcg@0"))
        XCTAssertThrowsError(try Metric(parsing: "bleu"))
    }

    func testMalformedFilesNameFileAndLine() {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let cases: [(String, String, Int, String)] = [
            ("run", "q Q0 d 1 1.5 t\nq Q0 e 2 x t\n", 2, "score"),
            ("run", "q Q0 d 1 1.5 t\nq d\n", 2, "columns"),
            ("run", "q Q0 d 1 1.5 t\nq Q0 d 2 1.0 t\n", 2, "twice"),
            ("run", "q Q0 d 1 nan t\n", 1, "finite"),
            ("qrels", "query-id\tcorpus-id\tscore\nq\td\t1\nq\te\tyes\n", 3, "integer"),
            ("qrels", "q\td\t1\nq\td\t2\n", 2, "twice"),
            ("qrels", "q 0 d\n", 1, "integer"),
        ]
        for (i, (kind, text, line, fragment)) in cases.enumerated() {
            let path = directory.write(text, to: "case\(i).\(kind)")
            XCTAssertThrowsError(kind == "run" ? try Run.read(path: path) as Any : try Qrels.read(path: path) as Any) { error in
                let error = error as! LSRError
                XCTAssertEqual(error.path, path)
                XCTAssertEqual(error.line, line, "case \(i)")
                XCTAssertTrue(error.description.contains(fragment), "case \(i): \(error)")
            }
        }
    }
}

final class BEIRTextTests: XCTestCase {
    func testReadsCorpusAndQueriesAndRejectsBadLines() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.write("{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"body\", \"metadata\": {}}\n\n{\"_id\": 2, \"text\": \"only\"}\n", to: "c.jsonl")
        XCTAssertEqual(try BEIRTextFile.read(path: path), ["d1": "T body", "2": "only"])
        let bad = directory.write("{\"_id\": \"a\", \"text\": \"x\"}\n{\"text\": \"y\"}\n", to: "bad.jsonl")
        XCTAssertThrowsError(try BEIRTextFile.read(path: bad)) { error in
            XCTAssertEqual((error as? LSRError)?.line, 2)
            XCTAssertEqual((error as? LSRError)?.field, "_id")
        }
        if SharedData.available {
            let corpus = try BEIRTextFile.read(path: SharedData.path("scifact/corpus.jsonl.zst"))
            XCTAssertEqual(corpus.count, 5183)
            XCTAssertEqual(try BEIRTextFile.read(path: SharedData.path("scifact/queries.jsonl")).count, 1109)
        }
    }
}
