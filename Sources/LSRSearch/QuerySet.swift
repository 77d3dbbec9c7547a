import LSRFormats
import LSRVectors

/// Queries read from a file and encoded against one index.
public struct QuerySet: Sendable {
    /// Query ids in file order (repeats allowed).
    public var ids: [String]
    /// Query text, when the file had any.
    public var contents: [String?]
    /// Encoded queries, parallel to `ids`.
    public var vectors: [QueryVector]
    /// Query tokens dropped because the index has never seen them, in all.
    public var unknownTokens: Int
    /// Queries of which every token was unknown (they return no results).
    public var queriesWithOnlyUnknownTokens: Int
}

extension Index {
    /// Reads a query file (Seismic JSONL or binary, plain or zstd) and encodes it for this index.
    /// - Parameters:
    ///   - idsPath: for binary queries, their ids (else positions are used).
    ///   - vocabularyPath: for binary queries, names of their components; without it, binary
    ///     component ids are matched with the ids of the binary file the index was built from.
    /// - Throws: `LSRError` for unreadable or malformed input; `.invalidArgument` for binary
    ///   queries without a vocabulary against an index built from JSONL.
    public func readQueries(path: String, idsPath: String? = nil, vocabularyPath: String? = nil) throws -> QuerySet {
        let reader = try VectorFileReader(path: path, idsPath: idsPath, vocabularyPath: vocabularyPath, requireUniqueIDs: false)
        if reader.format == .binary && vocabularyPath == nil && !metadata.hasSourceComponentIDs {
            throw LSRError(
                .invalidArgument,
                "binary queries need --vocab: this index was built from JSONL, so it knows tokens, not component ids",
                path: path)
        }
        var set = QuerySet(ids: [], contents: [], vectors: [], unknownTokens: 0, queriesWithOnlyUnknownTokens: 0)
        let sourceMap = reader.format == .binary && vocabularyPath == nil ? sourceComponentMap() : nil
        var known: [UInt32?] = []  // the index component of each reader component, as first seen
        try reader.forEach { record in
            let pairs = zip(record.components, record.values).map { (component, value) -> (UInt32?, Float) in
                if let sourceMap { return (sourceMap[reader.sourceComponent(of: component)], value) }
                let c = Int(component)
                while known.count <= c { known.append(vocabulary.id(of: reader.tokens[known.count])) }
                return (known[c], value)
            }
            let (vector, unknown) = encode(pairs)
            set.ids.append(record.id)
            set.contents.append(record.content)
            set.vectors.append(vector)
            set.unknownTokens += unknown
            if unknown > 0 && vector.components.isEmpty { set.queriesWithOnlyUnknownTokens += 1 }
        }
        return set
    }
}
