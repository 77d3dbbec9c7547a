import LSRFormats
import LSRVectors

/// Queries read from a file and encoded against one index.
public struct QuerySet: Sendable {
    /// Query ids in file order, distinct.
    public var ids: [String]
    /// Query text, when the file had any.
    public var contents: [String?]
    /// Encoded queries, parallel to `ids`.
    public var vectors: [QueryVector]
    /// Query tokens dropped because the index has never seen them, in all.
    public var unknownTokens: Int
    /// Queries of which every token was unknown (they return no results).
    public var queriesWithOnlyUnknownTokens: Int
    /// Queries left with no token at all, for any reason (empty text, only unknown tokens, only
    /// tokens weighted 0): they return no results.
    public var emptyQueries = 0
    /// Each query's unknown tokens, for sets made by appending (the readers'; empty otherwise).
    package private(set) var unknownTokensPerQuery: [Int] = []

    /// A query set from its parts; empty by default. ``emptyQueries`` starts at 0.
    public init(
        ids: [String] = [], contents: [String?] = [], vectors: [QueryVector] = [], unknownTokens: Int = 0, queriesWithOnlyUnknownTokens: Int = 0
    ) {
        self.ids = ids
        self.contents = contents
        self.vectors = vectors
        self.unknownTokens = unknownTokens
        self.queriesWithOnlyUnknownTokens = queriesWithOnlyUnknownTokens
    }

    /// Adds one encoded query.
    mutating func append(id: String, content: String?, _ encoded: (query: QueryVector, unknownTokens: Int)) {
        ids.append(id)
        contents.append(content)
        vectors.append(encoded.query)
        unknownTokens += encoded.unknownTokens
        unknownTokensPerQuery.append(encoded.unknownTokens)
        if encoded.query.components.isEmpty { emptyQueries += 1 }
        if encoded.unknownTokens > 0 && encoded.query.components.isEmpty { queriesWithOnlyUnknownTokens += 1 }
    }
}

extension Index {
    /// Reads a query file (Seismic JSONL or binary, plain or zstd) and encodes it for this index.
    /// A JSONL file whose first record has no `vector` is read as text queries with the index's
    /// text encoder (``readTextQueries(path:)``).
    /// - Parameters:
    ///   - idsPath: for binary queries, their ids (else positions are used).
    ///   - vocabularyPath: for binary queries, names of their components; without it, binary
    ///     component ids are matched with the ids of the binary file the index was built from.
    /// - Throws: `LSRError` for unreadable or malformed input, naming the file, line (or byte
    ///   offset) and field: a repeated query id, or weights that could make scores overflow
    ///   Float32 in this index (``Searcher/validate(_:)``); `.invalidArgument` for binary queries
    ///   without a vocabulary against an index built from JSONL.
    public func readQueries(path: String, idsPath: String? = nil, vocabularyPath: String? = nil) throws -> QuerySet {
        if try TextFileReader.holdsText(path: path) {
            guard idsPath == nil, vocabularyPath == nil else {
                throw LSRError(.invalidArgument, "a text query file carries its ids and tokens: leave out --query-ids and --vocab", path: path)
            }
            return try readTextQueries(path: path)
        }
        let reader = try VectorFileReader(path: path, idsPath: idsPath, vocabularyPath: vocabularyPath)
        if reader.format == .binary && vocabularyPath == nil && !metadata.hasSourceComponentIDs {
            throw LSRError(
                .invalidArgument,
                "binary queries need --vocab: this index was built from JSONL, so it knows tokens, not component ids",
                path: path)
        }
        var set = QuerySet()
        let sourceMap = reader.format == .binary && vocabularyPath == nil ? sourceComponentMap() : nil
        var known: [UInt32?] = []  // the index component of each reader component, as first seen
        try reader.forEach { record in
            let pairs = zip(record.components, record.values).map { (component, value) -> (UInt32?, Float) in
                if let sourceMap { return (sourceMap[reader.sourceComponent(of: component)], value) }
                let c = Int(component)
                while known.count <= c { known.append(vocabulary.id(of: reader.tokens[known.count])) }
                return (known[c], value)
            }
            let encoded = encode(pairs)
            try checkScoreRange(encoded.query, path: path, line: record.line, position: record.position)
            set.append(id: record.id, content: record.content, encoded)
        }
        return set
    }

    /// Throws `LSRError.invalidInput` naming the record when `query`'s weights could make a
    /// score overflow Float32 in this index.
    func checkScoreRange(_ query: QueryVector, path: String, line: Int?, position: Int) throws {
        guard let problem = QueryVector.overflow(weightSum: query.weightSum, largestDocumentWeight: largestWeight) else { return }
        throw LSRError(.invalidInput, line == nil ? "query \(position): \(problem)" : problem, path: path, line: line, field: "vector")
    }
}
