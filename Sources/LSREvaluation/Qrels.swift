import LSRFormats
import LSRVectors

/// Relevance judgments: for each query, graded relevance of judged documents (0 = judged not
/// relevant; ≥ 1 relevant, as trec_eval's default relevance level).
public struct Qrels: Sendable, Equatable {
    /// Relevance grade by document id, by query id.
    public var judgments: [String: [String: Int]]

    /// Judgments given directly: relevance grade by document id, by query id.
    public init(judgments: [String: [String: Int]]) { self.judgments = judgments }

    /// Reads BEIR `qrels/<split>.tsv` (`query-id \t corpus-id \t score`, with a header line) or
    /// TREC qrels (`qid iter docid rel`, whitespace-separated), plain or zstd-compressed; the
    /// format is recognized per line by its column count.
    /// - Throws: `LSRError.invalidInput` naming the file and line of a malformed line or a
    ///   document judged twice for one query.
    public static func read(path: String) throws -> Qrels {
        var judgments: [String: [String: Int]] = [:]
        try forEachLine(path) { fields, line in
            let query: Substring, document: Substring, grade: Substring
            switch fields.count {
            case 3: (query, document, grade) = (fields[0], fields[1], fields[2])
            case 4: (query, document, grade) = (fields[0], fields[2], fields[3])
            default:
                throw LSRError(.invalidInput, "expected 3 columns (BEIR: query-id corpus-id score) or 4 (TREC: qid iter docid rel), found \(fields.count)", path: path, line: line)
            }
            guard let relevance = Int(grade) else {
                let headerNames: Set<String> = ["score", "relevance", "rel", "label"]
                if line == 1 && fields.count == 3 && headerNames.contains(grade.lowercased()) { return }  // the BEIR header
                throw LSRError(.invalidInput, "relevance '\(grade)' is not an integer", path: path, line: line, field: "relevance")
            }
            let previous = judgments[String(query), default: [:]].updateValue(relevance, forKey: String(document))
            if previous != nil {
                throw LSRError(.invalidInput, "document '\(document)' is judged twice for query '\(query)'", path: path, line: line)
            }
        }
        return Qrels(judgments: judgments)
    }
}

/// Calls `body` with the whitespace-separated fields and 1-based number of every non-blank line.
func forEachLine(_ path: String, _ body: ([Substring], Int) throws -> Void) throws {
    var reader = LineReader(stream: try openByteStream(path))
    while let done = try reader.nextLine({ bytes, line -> Bool in
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LSRError(.invalidInput, "invalid UTF-8", path: path, line: line)
        }
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if !fields.isEmpty { try body(fields, line) }
        return true
    }) { _ = done }
}
