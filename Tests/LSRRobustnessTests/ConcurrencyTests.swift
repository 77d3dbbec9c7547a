import Foundation
import LSR
import LSRTestSupport
import XCTest

/// One index shared by many threads returns exactly the serial results.
final class ConcurrencyTests: XCTestCase {
    func testSixtyFourConcurrentSearchersMatchASerialRun() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        let input = directory.write(SyntheticCollection(seed: 51, count: 2000, dimension: 200, meanLength: 20).jsonl(), to: "d.jsonl")
        try IndexBuilder(configuration: BuildConfiguration(seed: 51)).build(input: try VectorFileReader(path: input), outputPath: directory.file("idx"))
        let index = try Index(path: directory.file("idx"))
        let queries = try index.readQueries(path: directory.write(
            SyntheticCollection(seed: 52, count: 64, dimension: 200, meanLength: 10, idPrefix: "q").jsonl(), to: "q.jsonl"))
        let serialSearcher = Searcher(index: index)
        let parameters = SearchParameters(k: 10, queryCut: 5, heapFactor: 0.9)
        let serial = try queries.vectors.map { try serialSearcher.search($0, parameters: parameters) }
        let serialExact = try queries.vectors.map { try serialSearcher.search($0, parameters: SearchParameters(k: 10), method: .exact) }
        let serialIDs = try serial.map { try $0.map { try index.documents.document(at: $0.document).id } }

        let mismatches = Counter()
        DispatchQueue.concurrentPerform(iterations: 64) { worker in
            let searcher = Searcher(index: index)
            for round in 0 ..< 3 {
                if (worker + round) % 3 == 0 {
                    // A batch search of its own, on 2 threads, inside this thread.
                    let batch = try? index.search(queries.vectors, parameters: parameters, threads: 2)
                    if batch?.hits != serial { mismatches.add() }
                } else {
                    for (q, query) in queries.vectors.enumerated().shuffled() {
                        if (q + worker) % 2 == 0 {
                            if (try? searcher.search(query, parameters: parameters)) != serial[q] { mismatches.add() }
                        } else if (try? searcher.search(query, parameters: SearchParameters(k: 10), method: .exact)) != serialExact[q] {
                            mismatches.add()
                        }
                        let ids = try? serial[q].map { try index.documents.document(at: $0.document).id }
                        if ids != serialIDs[q] { mismatches.add() }
                    }
                }
            }
        }
        XCTAssertEqual(mismatches.value, 0)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
