import LSRFormats
import LSRText
import LSRVectors

/// A text query encoder bound to one index: text in, a query over the index's components out.
public struct TextQueryEncoder: Sendable {
    /// What the index stores about its encoder.
    public let description: StoredQueryEncoder.Description
    /// The encoder that turns text into a token vector over its tokenizer's vocabulary (``encode(_:)`` then
    /// maps the tokens to the index's components).
    public let encoder: QueryEncoder
    /// The index component of each tokenizer token id (`UInt32.max`: the index has never seen it).
    private let components: [UInt32]

    /// - Throws: `LSRError.invalidArgument` when fewer than half of the index's tokens are
    ///   tokens of the encoder's tokenizer (an index over another vocabulary, or built from
    ///   binary vectors without `--vocab`, whose tokens are component numbers).
    init(stored: StoredQueryEncoder, vocabulary: MappedVocabulary) throws {
        description = stored.description
        encoder = try stored.queryEncoder()
        components = encoder.tokenizer.tokens.map { vocabulary.id(of: $0) ?? .max }
        let shared = components.lazy.filter { $0 != .max }.count
        guard shared * 2 >= vocabulary.count else {
            throw LSRError(
                .invalidArgument,
                "only \(shared) of the index's \(vocabulary.count) tokens are tokens of the encoder's tokenizer: the index is over another vocabulary (an index built from binary vectors needs --vocab to name its tokens)")
        }
    }

    /// The query of `text`: its token vector, tokens the index has never seen dropped.
    /// - Returns: the query and the number of its tokens the index does not know.
    public func encode(_ text: String) -> (query: QueryVector, unknownTokens: Int) {
        let vector = encoder.encode(text)
        var pairs: [(UInt32, Float)] = []
        pairs.reserveCapacity(vector.tokenIDs.count)
        for (id, weight) in zip(vector.tokenIDs, vector.weights) where components[Int(id)] != .max {
            pairs.append((components[Int(id)], weight))
        }
        pairs.sort { $0.0 < $1.0 }
        return (QueryVector(components: pairs.map(\.0), values: pairs.map(\.1)), vector.tokenIDs.count - pairs.count)
    }
}

extension Index {
    /// The text query encoder stored with the index, or nil when it has none.
    /// - Throws: `LSRError` when the stored encoder is damaged.
    public func textEncoder() throws -> TextQueryEncoder? {
        guard let stored = try StoredQueryEncoder.read(indexDirectory: path) else { return nil }
        do {
            return try textEncoder(stored)
        } catch let error as LSRError {
            throw error.at(path: path + "/" + StoredQueryEncoder.fileName)
        }
    }

    /// `stored` bound to this index.
    /// - Throws: `LSRError.invalidArgument` when the index is not over the encoder's vocabulary.
    public func textEncoder(_ stored: StoredQueryEncoder) throws -> TextQueryEncoder {
        try TextQueryEncoder(stored: stored, vocabulary: vocabulary)
    }

    /// The stored text query encoder.
    /// - Throws: `LSRError.invalidArgument` saying how to add one when the index has none.
    public func requireTextEncoder() throws -> TextQueryEncoder {
        guard let encoder = try textEncoder() else {
            throw LSRError(
                .invalidArgument,
                "this index has no text query encoder: add one with `lsr add-encoder --index \(path) --tokenizer tokenizer.json --weights idf.json`, or search with query vectors",
                path: path)
        }
        return encoder
    }

    /// Encodes `texts` (id, text) with the stored encoder.
    /// - Throws: `LSRError.invalidArgument` for a repeated id or an index without a text encoder.
    public func textQueries(_ texts: [(id: String, text: String)]) throws -> QuerySet {
        let encoder = try requireTextEncoder()
        var set = QuerySet()
        var seen = Set<String>()
        for (id, text) in texts {
            guard seen.insert(id).inserted else { throw LSRError(.invalidArgument, "duplicate query id '\(id)'", field: "id") }
            set.append(id: id, content: text, encoder.encode(text))
        }
        return set
    }

    /// Reads a text query file (BEIR `queries.jsonl`, or Seismic JSONL with `content` and no
    /// `vector`; plain or zstd) and encodes it with the stored encoder, in file order.
    /// - Throws: `LSRError` for malformed input (a repeated id among it), or an index without a
    ///   text encoder.
    public func readTextQueries(path queriesPath: String) throws -> QuerySet {
        let encoder = try requireTextEncoder()
        var set = QuerySet()
        try TextFileReader(path: queriesPath).forEach { record in
            let encoded = encoder.encode(record.text)
            try checkScoreRange(encoded.query, path: queriesPath, line: record.line, position: record.position)
            set.append(id: record.id, content: record.text, encoded)
        }
        return set
    }
}
