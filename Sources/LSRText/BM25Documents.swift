import Foundation
import LSRFormats
import LSRVectors

/// BM25's parameters (Pyserini's defaults).
public struct BM25Parameters: Sendable, Equatable {
    /// Term-frequency saturation.
    public var k1: Double
    /// Document-length normalization.
    public var b: Double
    /// Weight a query token by its count in the query (as Pyserini's bag-of-words queries do);
    /// else each distinct token once.
    public var queryTermFrequency: Bool

    /// Pyserini's defaults unless given: k1 0.9, b 0.4, each distinct query token once. Ranges are checked
    /// by ``validate()``, not here.
    public init(k1: Double = 0.9, b: Double = 0.4, queryTermFrequency: Bool = false) {
        self.k1 = k1
        self.b = b
        self.queryTermFrequency = queryTermFrequency
    }

    /// - Throws: `LSRError.invalidArgument` for k1 < 0 or b outside [0, 1], or a non-finite value.
    public func validate() throws {
        guard k1.isFinite, k1 >= 0 else { throw LSRError(.invalidArgument, "must be finite and ≥ 0, got \(k1)", field: "bm25-k1") }
        guard b.isFinite, b >= 0, b <= 1 else { throw LSRError(.invalidArgument, "must be in [0, 1], got \(b)", field: "bm25-b") }
    }
}

/// The documents of a text file (BEIR `corpus.jsonl` or Seismic JSONL with `content`, plain or
/// zstd) as BM25 impact vectors, for ``IndexBuilder``: tokens are the tokenizer's wordpieces,
/// and the weight of token t in document d is Lucene's BM25 term score
///
///     idf(t) · tf / (tf + k1 · (1 − b + b · |d| / avgdl)),  idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))
///
/// with tf the count of t in d, |d| the wordpieces of d, avgdl their mean over the N documents
/// and df the documents containing t. So a query vector of the distinct query tokens, weight 1
/// each (``QueryEncoder/uniform(tokenizer:countingRepeats:)``), scores a document with exactly its
/// BM25 score, with two differences from Lucene: |d| is exact (Lucene rounds document lengths
/// to a one-byte float), and the text is tokenized into wordpieces, not Lucene's analyzed words.
///
/// Creating the source reads the file once for the collection statistics (df, avgdl); each
/// ``forEach(sortingComponents:_:)`` reads it again and computes the vectors. Both passes
/// stream, tokenizing a batch at a time on `threads` threads; memory holds one batch and a
/// count per vocabulary token.
public final class BM25Documents: VectorSource {
    public let path: String
    public var format: VectorFileFormat { .jsonl }
    /// The tokenizer's vocabulary: component i is token i.
    public var tokens: [String] { tokenizer.tokens }
    public var declaredCount: Int? { documentCount }
    /// Always 0: the text reader skips blank lines without counting them.
    public var skippedEmptyLines: Int { 0 }
    /// Always 0: BM25 vectors drop no entries.
    public var droppedZeroWeights: Int { 0 }
    /// The tokenizer that splits the documents into wordpieces; component i is its token i.
    public let tokenizer: Tokenizer
    /// The BM25 parameters the impacts are computed with.
    public let parameters: BM25Parameters
    /// N: the documents in the file.
    public let documentCount: Int
    /// The wordpieces of all documents.
    public let tokenCount: Int
    /// Per token id, the documents containing it.
    public let documentFrequencies: [Int]
    private let batches: TextBatches

    /// Reads `path` once for the collection statistics.
    /// - Parameter progress: called with the documents read so far, now and then.
    /// - Throws: `LSRError` naming the file, line and field of bad input; `.invalidInput` for a
    ///   file without documents; `.invalidArgument` for bad parameters.
    public init(
        path: String, tokenizer: Tokenizer, parameters: BM25Parameters = BM25Parameters(), threads: Int,
        progress: ((Int) -> Void)? = nil
    ) throws {
        try parameters.validate()
        self.path = path
        self.tokenizer = tokenizer
        self.parameters = parameters
        batches = TextBatches(reader: TextFileReader(path: path), tokenizer: tokenizer, threads: threads)
        var frequencies = [Int](repeating: 0, count: tokenizer.tokens.count)
        var seen = [Int](repeating: -1, count: tokenizer.tokens.count)
        var documents = 0, total = 0
        try batches.forEach { _, ids in
            for document in ids {
                total += document.count
                for id in document where seen[Int(id)] != documents {
                    seen[Int(id)] = documents
                    frequencies[Int(id)] += 1
                }
                documents += 1
            }
            progress?(documents)
        }
        guard documents > 0 else { throw LSRError(.invalidInput, "no documents: the input holds no text records", path: path) }
        documentCount = documents
        tokenCount = total
        documentFrequencies = frequencies
    }

    /// BM25's inverse document frequency of a token in `df` of the documents.
    public func idf(documentFrequency df: Int) -> Double {
        log(1 + (Double(documentCount) - Double(df) + 0.5) / (Double(df) + 0.5))
    }

    /// The mean wordpieces per document.
    public var averageLength: Double { Double(tokenCount) / Double(documentCount) }

    /// The BM25 impact vector of a document with these token ids (ascending components; ids
    /// outside the vocabulary count in the length but get no weight).
    public func vector(ids: [Int32]) -> (components: [UInt32], values: [Float]) {
        let norm = parameters.k1 * (1 - parameters.b + parameters.b * Double(ids.count) / averageLength)
        var components: [UInt32] = [], values: [Float] = []
        forEachDistinct(ids, below: documentFrequencies.count) { id, count in
            let tf = Double(count)
            components.append(UInt32(id))
            values.append(Float(idf(documentFrequency: max(1, documentFrequencies[Int(id)])) * tf / (tf + norm)))
        }
        return (components, values)
    }

    public func sourceComponent(of component: UInt32) -> UInt32 { component }

    /// Reads the file again and hands on each document's BM25 vector, its text as content.
    /// - Throws: `LSRError.invalidInput` when the file changed since the statistics were taken.
    public func forEach(sortingComponents: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        func changed(_ count: Int) -> LSRError {
            LSRError(.invalidInput, "the file changed while it was read: \(count) documents now, \(documentCount) at first", path: path)
        }
        var documents = 0
        try batches.forEach { records, ids in
            for (record, documentIDs) in zip(records, ids) {
                guard documents < documentCount else { throw changed(documents + 1) }
                var vector = VectorRecord(id: record.id, content: record.text, position: record.position, line: record.line)
                (vector.components, vector.values) = self.vector(ids: documentIDs)
                try body(vector)
                documents += 1
            }
        }
        guard documents == documentCount else { throw changed(documents) }
    }
}
