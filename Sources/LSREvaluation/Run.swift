import LSRFormats
import LSRVectors

/// Retrieved documents with scores, by query.
public struct Run: Sendable, Equatable {
    /// (document id, score) pairs in file order, by query id.
    public var results: [String: [(document: String, score: Double)]]

    /// A run given directly: (document id, score) pairs by query id.
    public init(results: [String: [(document: String, score: Double)]]) { self.results = results }

    public static func == (a: Run, b: Run) -> Bool {
        a.results.keys == b.results.keys && a.results.allSatisfy { key, value in
            let other = b.results[key]!
            return value.count == other.count && zip(value, other).allSatisfy { $0.document == $1.document && $0.score == $1.score }
        }
    }

    /// Reads a TREC run (`qid Q0 docid rank score tag`) or a Seismic result TSV
    /// (`qid \t docid \t rank \t score`), plain or zstd-compressed, recognized per line by its
    /// column count. Ranks in the file are ignored: documents are ranked by score.
    /// - Throws: `LSRError.invalidInput` naming the file and line of a malformed line, a score
    ///   that is not a finite number, or a document listed twice for one query.
    public static func read(path: String) throws -> Run {
        var results: [String: [(document: String, score: Double)]] = [:]
        var seen = Set<String>()
        try forEachLine(path) { fields, line in
            let query: Substring, document: Substring, scoreText: Substring
            switch fields.count {
            case 6: (query, document, scoreText) = (fields[0], fields[2], fields[4])
            case 4: (query, document, scoreText) = (fields[0], fields[1], fields[3])
            default:
                throw LSRError(.invalidInput, "expected 6 columns (TREC: qid Q0 docid rank score tag) or 4 (qid docid rank score), found \(fields.count)", path: path, line: line)
            }
            guard let score = Double(scoreText), score.isFinite else {
                throw LSRError(.invalidInput, "score '\(scoreText)' is not a finite number", path: path, line: line, field: "score")
            }
            guard seen.insert("\(query)\u{0}\(document)").inserted else {
                throw LSRError(.invalidInput, "document '\(document)' appears twice for query '\(query)'", path: path, line: line)
            }
            results[String(query), default: []].append((String(document), score))
        }
        return Run(results: results)
    }

    /// The documents of `query` in trec_eval's order: score descending, ties by document id in
    /// descending byte order.
    public func ranking(of query: String) -> [String] {
        (results[query] ?? []).sorted { a, b in
            a.score != b.score ? a.score > b.score : b.document.utf8.lexicographicallyPrecedes(a.document.utf8)
        }.map(\.document)
    }
}
