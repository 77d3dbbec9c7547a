import Foundation
import LSR
import LSRTestSupport
import XCTest

final class SweepTests: XCTestCase {
    private func point(_ us: Double, _ recall: Double) -> SweepPoint {
        SweepPoint(queryCut: 1, heapFactor: 1, meanMicroseconds: us, p50Microseconds: us, p99Microseconds: us, recall: recall, ndcg10: nil, onFrontier: false)
    }

    func testFrontierAndFastestPoint() {
        let points = Sweep.markFrontier([point(50, 0.8), point(40, 0.85), point(60, 0.84), point(90, 0.97), point(70, 0.95)])
        XCTAssertEqual(points.map(\.onFrontier), [false, true, false, true, true])
        XCTAssertEqual(Sweep.fastest(points, reaching: 0.95)?.meanMicroseconds, 70)
        XCTAssertNil(Sweep.fastest(points, reaching: 0.99))
    }

    func testGridParsing() throws {
        let grid = try SweepGrid(parsing: ["query_cut=3,5", "heap_factor=0.9"])
        XCTAssertEqual(grid.queryCuts, [3, 5])
        XCTAssertEqual(grid.heapFactors, [0.9])
        XCTAssertEqual(try SweepGrid(parsing: []), .default)
        XCTAssertThrowsError(try SweepGrid(parsing: ["query_cut=0"]))
        XCTAssertThrowsError(try SweepGrid(parsing: ["k=3"]))
        XCTAssertThrowsError(try SweepGrid(parsing: ["heap_factor=x"]))
    }

    func testSweepMeasuresEveryPointAndWritesReports() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let collection = SyntheticCollection(seed: 41, count: 600, dimension: 60, meanLength: 8)
        let input = directory.write(collection.jsonl(), to: "d.jsonl")
        try IndexBuilder(configuration: BuildConfiguration(seed: 41)).build(input: try VectorFileReader(path: input), outputPath: directory.file("idx"))
        let index = try Index(path: directory.file("idx"))
        let queries = try index.readQueries(path: directory.write(SyntheticCollection(seed: 42, count: 20, dimension: 60, meanLength: 5, idPrefix: "q").jsonl(), to: "q.jsonl"))
        var qrelsText = "query-id\tcorpus-id\tscore\n"
        for q in 0 ..< 20 { qrelsText += "q\(q)\tdoc\(q * 7)\t1\n" }
        let qrels = try Qrels.read(path: directory.write(qrelsText, to: "qrels.tsv"))
        let points = try Sweep(grid: SweepGrid(queryCuts: [1, 1000], heapFactors: [1e-30, 1])).run(index: index, queries: queries, qrels: qrels)
        XCTAssertEqual(points.count, 4)
        let everything = points.first { $0.queryCut == 1000 && $0.heapFactor == 1e-30 }!
        XCTAssertEqual(everything.recall, 1, accuracy: 0.02)
        XCTAssertTrue(points.allSatisfy { $0.ndcg10 != nil && $0.recall >= 0 && $0.recall <= 1 && $0.meanMicroseconds > 0 })
        XCTAssertTrue(points.contains(where: \.onFrontier))
        try SweepReport(points: points, k: 10, provenance: ["cpu": "test"]).write(to: directory.file("report"))
        let svg = try String(contentsOfFile: directory.file("report/sweep.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("polyline") || points.filter(\.onFrontier).count == 1)
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 4)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("report/sweep.json")))) as! [String: Any]
        XCTAssertEqual((json["points"] as? [Any])?.count, 4)
        XCTAssertTrue(try String(contentsOfFile: directory.file("report/sweep.md"), encoding: .utf8).contains("| query_cut | heap_factor |"))
    }
}
