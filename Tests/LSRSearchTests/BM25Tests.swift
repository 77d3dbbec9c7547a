import Foundation
import LSR
import LSRTestSupport
import XCTest

/// BM25 indexes built from text against a straightforward BM25 over the same wordpieces.
final class BM25Tests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    /// A corpus of Zipf-distributed words of a small vocabulary (some words split into
    /// wordpieces, some unknown), as BEIR JSONL; and queries over the same words.
    private func corpus(documents: Int, seed: UInt64) -> (vocabulary: [String], corpus: String, queries: [String]) {
        var generator = SplitMix64(seed: seed)
        let words = (0 ..< 60).map { "w\($0)" } + ["split", "##able", "##ness", "kind"]
        let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ","] + words
        func word() -> String {
            let u = Double(generator.next() % 1_000_000) / 1_000_000
            let pick = Int(pow(u, 3) * Double(words.count + 4))  // skewed: low ids frequent
            switch pick {
            case words.count: return "splitable"
            case words.count + 1: return "kindness"
            case words.count + 2: return "zzz"  // unknown: [UNK]
            case words.count + 3: return "W1."
            default: return words[min(pick, words.count - 1)].hasPrefix("##") ? "kind" : words[min(pick, words.count - 1)]
            }
        }
        var lines = ""
        for d in 0 ..< documents {
            let length = d % 17 == 0 ? 0 : 1 + Int(generator.next() % 120)
            let text = (0 ..< length).map { _ in word() }.joined(separator: " ")
            let title = d % 3 == 0 ? "title \(word())" : ""
            lines += "{\"_id\": \"d\(d)\", \"title\": \(JSONText.quoted(title)), \"text\": \(JSONText.quoted(text))}\n"
        }
        let queries = (0 ..< 60).map { q in (0 ..< 1 + q % 6).map { _ in word() }.joined(separator: " ") } + ["", "zzz", "w1 w1 w1 w2"]
        return (vocabulary, lines, queries)
    }

    /// BM25 the textbook way (Lucene's formula, exact document lengths).
    private func referenceScores(_ documents: [[Int32]], query: [Int32], k1: Double, b: Double, termFrequency: Bool) -> [Double] {
        let n = Double(documents.count)
        let average = Double(documents.map(\.count).reduce(0, +)) / n
        var df: [Int32: Int] = [:]
        for document in documents { for t in Set(document) { df[t, default: 0] += 1 } }
        var queryCounts: [Int32: Int] = [:]
        for t in query { queryCounts[t, default: 0] += 1 }
        return documents.map { document in
            var tf: [Int32: Int] = [:]
            for t in document { tf[t, default: 0] += 1 }
            var score = 0.0
            for (t, count) in queryCounts {
                guard let f = tf[t].map(Double.init), let d = df[t].map(Double.init) else { continue }
                let idf = log(1 + (n - d + 0.5) / (d + 0.5))
                score += (termFrequency ? Double(count) : 1) * idf * f / (f + k1 * (1 - b + b * Double(document.count) / average))
            }
            return score
        }
    }

    private func check(precision: ValuePrecision, parameters: BM25Parameters, tolerance: Double) throws {
        let (vocabulary, corpus, queries) = corpus(documents: 700, seed: 11)
        let vocabularyPath = directory.write(vocabulary.joined(separator: "\n") + "\n", to: "vocab.txt")
        let corpusPath = directory.write(corpus, to: "corpus-\(precision).jsonl")
        let tokenizer = try Tokenizer(contentsOf: vocabularyPath)
        let source = try BM25Documents(path: corpusPath, tokenizer: tokenizer, parameters: parameters, threads: 2)
        let output = directory.file("bm25-\(precision)-\(parameters.queryTermFrequency)")
        try IndexBuilder(configuration: BuildConfiguration(valuePrecision: precision, threads: 2)).build(
            input: source, outputPath: output, queryEncoder: try StoredQueryEncoder.bm25(tokenizerPath: vocabularyPath, parameters: parameters))
        let index = try Index(path: output)
        XCTAssertEqual(index.documentCount, 700)

        var texts: [String] = []
        try TextFileReader(path: corpusPath).forEach { texts.append($0.text) }
        let documents = texts.map { tokenizer.ids($0) }
        XCTAssertTrue(documents.contains { $0.contains(1) }, "the corpus has unknown words")
        let set = try index.textQueries(queries.enumerated().map { (id: "q\($0.offset)", text: $0.element) })
        XCTAssertEqual(set.emptyQueries, 1, "only the empty query has no token ([UNK] is a token)")
        let k = 10
        let result = try index.search(set.vectors, parameters: SearchParameters(k: k), method: .exact, threads: 2)
        for (q, hits) in result.hits.enumerated() {
            let reference = referenceScores(
                documents, query: tokenizer.ids(queries[q]), k1: parameters.k1, b: parameters.b, termFrequency: parameters.queryTermFrequency)
            let positive = reference.filter { $0 > 0 }.sorted(by: >)
            XCTAssertEqual(hits.count, min(k, positive.count), "query \(q) '\(queries[q])'")
            for (rank, hit) in hits.enumerated() {
                let expected = reference[Int(hit.document)]
                XCTAssertEqual(Double(hit.score), expected, accuracy: tolerance * expected, "query \(q) rank \(rank)")
                // The same top k up to ties: each hit's score is the rank-th best score.
                XCTAssertEqual(expected, positive[rank], accuracy: 2 * tolerance * positive[rank], "query \(q) rank \(rank)")
            }
        }
    }

    func testExactSearchEqualsReferenceBM25InSinglePrecision() throws {
        try check(precision: .f32, parameters: BM25Parameters(), tolerance: 1e-4)
    }

    func testExactSearchEqualsReferenceBM25InHalfPrecision() throws {
        // Each impact is rounded to 11 significant bits (relative error ≤ 2⁻¹¹), so is the sum.
        try check(precision: .f16, parameters: BM25Parameters(), tolerance: 1.0 / 2048)
    }

    func testQueryTermFrequencyAndOtherParameters() throws {
        try check(precision: .f32, parameters: BM25Parameters(k1: 1.2, b: 0.75, queryTermFrequency: true), tolerance: 1e-4)
    }

    func testStatisticsAndBadParameters() throws {
        let vocabularyPath = directory.write("[UNK]\na\nb\n", to: "vocab.txt")
        let tokenizer = try Tokenizer(contentsOf: vocabularyPath)
        let path = directory.write("{\"_id\": \"1\", \"text\": \"a a b\"}\n{\"_id\": \"2\", \"text\": \"b\"}\n", to: "c.jsonl")
        let source = try BM25Documents(path: path, tokenizer: tokenizer, threads: 1)
        XCTAssertEqual(source.documentCount, 2)
        XCTAssertEqual(source.averageLength, 2)
        XCTAssertEqual(source.documentFrequencies, [0, 1, 2])
        let vector = source.vector(ids: [1, 1, 2])
        XCTAssertEqual(vector.components, [1, 2])
        // idf(a) = ln(1 + 1.5 / 1.5), tf 2, |d| = 3: 2 / (2 + 0.9 · (0.6 + 0.4 · 1.5)).
        XCTAssertEqual(Double(vector.values[0]), log(2.0) * 2 / (2 + 0.9 * 1.2), accuracy: 1e-6)
        XCTAssertEqual(Double(vector.values[1]), log(1 + 0.5 / 2.5) * 1 / (1 + 0.9 * 1.2), accuracy: 1e-6)
        for bad in [BM25Parameters(k1: -1), BM25Parameters(b: 1.5), BM25Parameters(k1: .nan)] {
            XCTAssertThrowsError(try BM25Documents(path: path, tokenizer: tokenizer, parameters: bad, threads: 1))
        }
        let empty = directory.write("\n\n", to: "empty.jsonl")
        XCTAssertThrowsError(try BM25Documents(path: empty, tokenizer: tokenizer, threads: 1)) { error in
            XCTAssertEqual((error as? LSRError)?.code, .invalidInput)
        }
    }
}
