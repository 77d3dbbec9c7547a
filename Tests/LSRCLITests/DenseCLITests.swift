import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Dense vectors stored with an index: `lsr index --dense`, `lsr add-dense`, `info`, `check`.
final class DenseCLITests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private let collection = SyntheticCollection(seed: 21, count: 60, dimension: 80, meanLength: 10)

    /// One row per document, row i = (i, −i/2, i/7, 1): easy to check wherever it lands.
    private func row(_ i: Int) -> [Float] { [Float(i), -Float(i) / 2, Float(i) / 7, 1] }

    func testRowsLandOnTheirDocumentsWhateverTheOrder() throws {
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        // Rows in reverse document order, with the ids file saying so.
        let order = Array((0 ..< 60).reversed())
        let matrix = directory.write(npyBytes(order.map(row)), to: "dense.npy")
        let ids = directory.write(order.map { "doc\($0)\n" }.joined(), to: "dense.ids")
        let index = directory.file("idx")
        let built = try runLSR(["index", "--input", input, "--output", index, "--dense", matrix, "--dense-ids", ids, "--dense-precision", "f32"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let opened = try Index(path: index)
        let dense = try XCTUnwrap(try opened.denseVectors())
        XCTAssertEqual(dense.metadata, DenseMetadata(rows: 60, dimension: 4, precision: .f32, source: "dense.npy"))
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4)
        defer { buffer.deallocate() }
        for d in 0 ..< 60 {
            let id = try opened.documents.document(at: d).id
            try dense.vector(of: d, into: buffer)
            XCTAssertEqual(Array(buffer), row(Int(id.dropFirst(3))!), id)
        }
        XCTAssertThrowsError(try dense.vector(of: 60, into: buffer))
        XCTAssertTrue(try runLSR(["info", index]).stdout.contains("dense vectors: 60 × 4, f32, from dense.npy"))
        XCTAssertTrue(try runLSR(["check", index]).stdout.contains("dense vectors"))

        // Without ids the rows are in document order; f16 rounds; .fvecs reads the same.
        let inOrder = directory.write(fvecsBytes((0 ..< 60).map(row)), to: "dense.fvecs")
        XCTAssertEqual(try runLSR(["add-dense", "--index", index, "--dense", inOrder, "--force"]).status, 0)
        let half = try XCTUnwrap(try Index(path: index).denseVectors())
        XCTAssertEqual(half.metadata.precision, .f16)
        for d in [0, 7, 59] {
            try half.vector(of: d, into: buffer)
            XCTAssertEqual(Array(buffer), row(d).map(HalfPrecision.round))
        }

        // A damaged dense.lsr: check names it and fails.
        let path = index + "/dense.lsr"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: path))
        try assertLSRFails(["check", index], mentions: ["dense.lsr", "checksum mismatch"])
        // A truncated one: sparse search still works, info says why the vectors are unusable,
        // and add-dense --force replaces it.
        try bytes.prefix(100).write(to: URL(fileURLWithPath: path))
        let queries = directory.write(collection.jsonl(), to: "q.jsonl")
        XCTAssertEqual(try runLSR(["search", "--index", index, "--queries", queries, "--k", "3"]).status, 0)
        XCTAssertTrue(try runLSR(["info", index]).stdout.contains("dense vectors: unusable"))
        try assertLSRFails(["check", index], mentions: ["dense.lsr"])
        XCTAssertEqual(try runLSR(["add-dense", "--index", index, "--dense", inOrder, "--force"]).status, 0)
        XCTAssertEqual(try runLSR(["check", index]).status, 0)
    }

    func testBadRowsAreErrorsAndLeaveNothingBehind() throws {
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        let index = directory.file("idx")
        let matrix = directory.write(npyBytes((0 ..< 60).map(row)), to: "dense.npy")
        func ids(_ list: [String]) -> String { directory.write(list.map { $0 + "\n" }.joined(), to: "ids-\(UInt32.random(in: 0 ... .max))") }
        let all = (0 ..< 60).map { "doc\($0)" }
        var unknown = all
        unknown[5] = "nobody"
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", matrix, "--dense-ids", ids(unknown)],
                    mentions: ["dense.npy", "row 5", "'nobody'", "not a document"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: index))
        var repeated = all
        repeated[9] = "doc3"
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", matrix, "--dense-ids", ids(repeated)],
                    mentions: ["row 9", "a second row for document doc3"])
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", matrix, "--dense-ids", ids(Array(all.prefix(59)))],
                    mentions: ["60 rows", "59 ids"])
        let short = directory.write(npyBytes((0 ..< 59).map(row)), to: "short.npy")
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", short], mentions: ["59 rows for 60 documents", "document 59"])
        let long = directory.write(npyBytes((0 ..< 61).map(row)), to: "long.npy")
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", long], mentions: ["row 60", "more rows than the index's 60 documents"])
        let huge = directory.write(npyBytes((0 ..< 60).map { [Float($0) * 2000] }), to: "huge.npy")
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense", huge], mentions: ["row 33", "beyond float16's range", "--dense-precision f32"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: index))
        try assertLSRFails(["index", "--input", input, "--output", index, "--dense-ids", ids(all)], mentions: ["--dense-ids and --dense-precision go with --dense"])

        // add-dense: refuses to replace without --force; a failed replacement keeps the old file.
        XCTAssertEqual(try runLSR(["index", "--input", input, "--output", index, "--dense", matrix]).status, 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: index + "/dense.lsr"))
        try assertLSRFails(["add-dense", "--index", index, "--dense", matrix], mentions: ["already has dense vectors", "--force"])
        try assertLSRFails(["add-dense", "--index", index, "--dense", short, "--force"], mentions: ["59 rows for 60 documents"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: index + "/dense.lsr")), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: index).sorted(), ["dense.lsr", "documents.sqlite", "index.lsr"])
    }

    /// Hybrid search end to end on SciFact with the MiniLM embeddings: the shared data's
    /// reference NDCG@10 for dense search, interpolation and RRF over the exact sparse top 100;
    /// the interpolated run beats both sparse and dense alone.
    func testHybridSearchOnSciFactMatchesTheReferenceNumbers() throws {
        try XCTSkipUnless(SharedData.available, "needs ../shared/data")
        let minilm = SharedData.path("scifact/minilm")
        let index = directory.file("scifact")
        let built = try runLSR([
            "index", "--input", SharedData.path("scifact/splade-tiny/docs.jsonl.zst"), "--vocab", SharedData.path("vocab.txt"),
            "--output", index, "--dense", minilm + "/docs.npy", "--dense-ids", minilm + "/docs.ids.txt"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let queries = SharedData.path("scifact/splade-tiny/queries.jsonl"), qrels = SharedData.path("scifact/qrels/test.tsv")
        let dense = ["--dense-queries", minilm + "/queries.npy", "--dense-query-ids", minilm + "/queries.ids.txt"]
        func ndcg(_ options: [String]) throws -> Double {
            let run = directory.file("run-\(UInt32.random(in: 0 ... .max))")
            let searched = try runLSR(["search", "--index", index, "--queries", queries, "--output", run, "--threads", "2"] + options)
            XCTAssertEqual(searched.status, 0, searched.stderr)
            let evaluated = try runLSR(["eval", "--run", run, "--qrels", qrels, "--metrics", "ndcg@10", "--json"])
            let json = try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as! [String: Any]
            return ((json["metrics"] as! [String: Any])["ndcg@10"] as! NSNumber).doubleValue
        }
        let sparse = try ndcg(["--exact"])
        let denseOnly = try ndcg(dense + ["--dense-only"])
        let interpolated = try ndcg(["--exact"] + dense + ["--fusion", "interpolate", "--alpha", "0.5"])
        let rrf = try ndcg(["--exact"] + dense + ["--fusion", "rrf"])
        XCTAssertEqual(sparse, 0.6436, accuracy: 0.001)
        XCTAssertEqual(denseOnly, 0.6451, accuracy: 0.002)
        XCTAssertEqual(interpolated, 0.6924, accuracy: 0.002)
        XCTAssertEqual(rrf, 0.6833, accuracy: 0.002)
        XCTAssertGreaterThan(interpolated, max(sparse, denseOnly) + 0.03)

        // Bad dense queries: one-line errors naming the file.
        try assertLSRFails(["search", "--index", index, "--queries", queries, "--dense-queries", minilm + "/docs.npy"],
                           mentions: ["docs.npy", "row 1109", "more rows than the 1109 queries"])
        try assertLSRFails(["search", "--index", index, "--queries", queries, "--dense-queries", minilm + "/docs.npy", "--dense-query-ids", minilm + "/docs.ids.txt"],
                           mentions: ["docs.npy", "has no row"])
        let plain = directory.file("plain")
        XCTAssertEqual(try runLSR(["index", "--input", SharedData.path("scifact/splade-tiny/docs.jsonl.zst"), "--vocab", SharedData.path("vocab.txt"), "--output", plain]).status, 0)
        try assertLSRFails(["search", "--index", plain, "--queries", queries] + dense, mentions: ["no dense vectors", "lsr add-dense"])
        try assertLSRFails(["search", "--index", index, "--queries", queries, "--alpha", "0.4"], mentions: ["go with --dense-queries"])
        try assertLSRFails(["search", "--index", index, "--queries", queries] + dense + ["--alpha", "1.5"], mentions: ["--alpha", "[0, 1]"])
        try assertLSRFails(["search", "--index", index, "--queries", queries] + dense + ["--dense-only", "--exact"], mentions: ["--dense-only"])
    }
}
