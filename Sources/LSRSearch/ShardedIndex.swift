import Foundation
import LSRFormats
import LSRVectors

/// A sharded collection (``CollectionManifest``) opened for search: every shard is an ``Index``;
/// a search runs on each shard and merges their top k.
///
/// Positions are the collection's (the input's order): shard s's document j is position
/// j × N + s. Exact search over a collection returns what exact search over one index of the
/// same documents returns, ids and scores: a document's score sums the same products in the same
/// order (each shard numbers its tokens in the same byte order), and ties go to the lower
/// position in both. Approximate search runs Seismic's search on each shard with the same
/// parameters, so it scores more candidates than over one index: recall is typically higher at
/// equal parameters, and so is the cost (`Evaluation/reports/shards-gcide-2026-12-03.json`).
public final class ShardedIndex: @unchecked Sendable {
    // @unchecked Sendable: all state is immutable after init; the shards are Sendable.
    /// The collection directory, as given.
    public let path: String
    /// The manifest: the partition and each shard's directory and document count.
    public let manifest: CollectionManifest
    /// The numbers of the shards opened, ascending: every shard, unless opened with
    /// ``init(path:serving:)`` to serve some of them.
    public let shardNumbers: [Int]
    /// The shards opened, parallel to ``shardNumbers``.
    public let shards: [Index]

    /// Opens the collection at `path`: its manifest and every shard (each mapped, milliseconds),
    /// or only the shards numbered in `serving` (a server of part of a collection, whose other
    /// shards may be on other machines: search covers the shards opened, and results carry
    /// collection positions).
    /// - Throws: `LSRError`: the manifest's errors (``CollectionManifest/read(collection:)``), a
    ///   shard's (``Index/init(path:)``), `.corruptIndex` when a shard's document count differs
    ///   from the manifest's, `.invalidArgument` for a shard number the collection lacks or none.
    public init(path: String, serving: [Int]? = nil) throws {
        self.path = path
        let manifest = try CollectionManifest.read(collection: path)
        self.manifest = manifest
        shardNumbers = Array(Set(serving ?? Array(manifest.shards.indices))).sorted()
        guard let first = shardNumbers.first, let last = shardNumbers.last, first >= 0, last < manifest.shards.count else {
            throw LSRError(
                .invalidArgument, "shards to serve must be some of 0 ..< \(manifest.shards.count), got \(serving ?? [])", path: path, field: "shards")
        }
        shards = try shardNumbers.map { number in
            let shard = manifest.shards[number]
            let index = try Index(path: path + "/" + shard.directory)
            guard index.documentCount == shard.documents else {
                throw LSRError(
                    .corruptIndex, "the shard holds \(index.documentCount) documents, the manifest says \(shard.documents); rebuild the collection",
                    path: index.path)
            }
            return index
        }
    }

    /// Documents over all shards.
    public var documentCount: Int { manifest.documentCount }

    /// The external id and text of the document at collection position `position`.
    /// - Throws: `LSRError.invalidArgument` for a position outside the collection; the document
    ///   store's errors.
    public func document(at position: Int) throws -> (id: String, content: String?) {
        guard position >= 0, position < documentCount else {
            throw LSRError(.invalidArgument, "document position \(position) outside 0 ..< \(documentCount)", field: "position")
        }
        let (shard, local) = manifest.location(of: position)
        guard let opened = shardNumbers.firstIndex(of: shard) else {
            throw LSRError(.invalidArgument, "document position \(position) is in shard \(shard), which is not served here", field: "position")
        }
        return try shards[opened].documents.document(at: local)
    }

    /// The collection position of the document with external id `id` in the shards opened, or nil.
    public func position(of id: String) -> Int? {
        for (shard, index) in zip(shardNumbers, shards) {
            if let local = index.documents.position(of: id) { return manifest.position(shard: shard, local: local) }
        }
        return nil
    }

    /// Recomputes every shard's section checksums.
    /// - Returns: the damaged sections as `<shard directory>/<section>` (empty when all are intact).
    public func verify() -> [String] {
        zip(shardNumbers, shards).flatMap { shard, index in index.verify().map { manifest.shards[shard].directory + "/" + $0 } }
    }

    /// Reads a query file as ``Index/readQueries(path:idsPath:vocabularyPath:)`` does, encoded
    /// for every shard (their vocabularies differ in the tokens some shard never saw).
    /// - Throws: as ``Index/readQueries(path:idsPath:vocabularyPath:)``.
    public func readQueries(path: String, idsPath: String? = nil, vocabularyPath: String? = nil) throws -> ShardedQuerySet {
        counted(try shards.map { try $0.readQueries(path: path, idsPath: idsPath, vocabularyPath: vocabularyPath) })
    }

    /// Encodes text queries with the shards' stored text query encoder (every shard has it).
    /// - Throws: as ``Index/textQueries(_:)``.
    public func textQueries(_ texts: [(id: String, text: String)]) throws -> ShardedQuerySet {
        counted(try shards.map { try $0.textQueries(texts) })
    }

    /// The queries encoded for each shard, with the tokens no shard knows counted: a query's
    /// tokens are those a shard knew plus those it did not (the same for every shard), less the
    /// distinct tokens some shard knew.
    private func counted(_ sets: [QuerySet]) -> ShardedQuerySet {
        var queries = ShardedQuerySet(shards: sets, reader: ObjectIdentifier(self))
        let first = sets[0]
        for q in first.ids.indices {
            var known = Set<String>()
            for (index, set) in zip(shards, sets) {
                for component in set.vectors[q].components { known.insert(index.vocabulary.token(at: Int(component))) }
            }
            // The readers append every query, so each has its count.
            let unknownToFirst = first.unknownTokensPerQuery.indices.contains(q) ? first.unknownTokensPerQuery[q] : 0
            let unknown = max(0, first.vectors[q].components.count + unknownToFirst - known.count)
            queries.unknownTokens += unknown
            if known.isEmpty { queries.emptyQueries += 1 }
            if known.isEmpty && unknown > 0 { queries.queriesWithOnlyUnknownTokens += 1 }
        }
        return queries
    }

    /// Searches every query on every shard opened, one shard after another, each on up to
    /// `threads` threads, and merges each query's top k.
    /// - Returns: hits with collection positions, in query order; a query's time is the sum of
    ///   its times on the shards (a search that visits the shards one after another).
    /// - Throws: as ``Index/search(_:parameters:method:threads:)``; `.invalidArgument` when
    ///   `queries` was not read by this object (each shard numbers its tokens its own way).
    public func search(
        _ queries: ShardedQuerySet, parameters: SearchParameters = .default, method: SearchMethod = .approximate,
        threads: Int = availableCores
    ) throws -> BatchSearchResult {
        try checkReader(of: queries)
        let results = try zip(shards, queries.shards).map { index, set in
            try index.search(set.vectors, parameters: parameters, method: method, threads: threads)
        }
        return merge(results, k: parameters.k)
    }

    /// Searches as ``search(_:parameters:method:threads:)`` does, counting what each search does
    /// on every shard (``Index/searchCountingWork(_:parameters:method:threads:)``).
    /// - Returns: merged hits and, per query, the work summed over the shards (its
    ///   ``SearchWorkCounts/queries`` counts the shard searches), in query order.
    /// - Throws: as ``search(_:parameters:method:threads:)``.
    public func searchCountingWork(
        _ queries: ShardedQuerySet, parameters: SearchParameters = .default, method: SearchMethod = .approximate,
        threads: Int = availableCores
    ) throws -> (hits: [[SearchHit]], work: [SearchWorkCounts]) {
        try checkReader(of: queries)
        let results = try zip(shards, queries.shards).map { index, set in
            try index.searchCountingWork(set.vectors, parameters: parameters, method: method, threads: threads)
        }
        let queryCount = queries.ids.count
        let work = (0 ..< queryCount).map { q in results.reduce(SearchWorkCounts()) { $0 + $1.work[q] } }
        return (mergeHits(results.map(\.hits), k: parameters.k), work)
    }

    private func checkReader(of queries: ShardedQuerySet) throws {
        guard queries.reader == ObjectIdentifier(self) else {
            throw LSRError(
                .invalidArgument, "the queries were read by another collection object; read them with this one's readQueries or textQueries",
                field: "queries")
        }
    }

    /// The collection's results from the opened shards' results for the same queries (parallel
    /// to ``shards``, hits with the shards' positions): each query's top `k`, its times summed.
    package func merge(_ results: [BatchSearchResult], k: Int) -> BatchSearchResult {
        let queries = results.first?.hits.count ?? 0
        return BatchSearchResult(
            hits: mergeHits(results.map(\.hits), k: k),
            microseconds: (0 ..< queries).map { q in results.reduce(0) { $0 + $1.microseconds[q] } },
            wallSeconds: results.reduce(0) { $0 + $1.wallSeconds }, threads: results.map(\.threads).max() ?? 1)
    }

    /// Each query's top `k` over the opened shards' hits (parallel to ``shards``), in collection positions.
    private func mergeHits(_ perShard: [[[SearchHit]]], k: Int) -> [[SearchHit]] {
        let queries = perShard.first?.count ?? 0
        var hits: [[SearchHit]] = []
        hits.reserveCapacity(queries)
        for q in 0 ..< queries {
            var candidates: [SearchHit] = []
            for (shard, shardHits) in zip(shardNumbers, perShard) {
                candidates += shardHits[q].map { SearchHit(document: manifest.position(shard: shard, local: $0.document), score: $0.score) }
            }
            hits.append(Self.best(candidates, k: k))
        }
        return hits
    }

    /// The best `k` of `candidates` (collection positions, each at most once), in rank order:
    /// higher scores first, equal scores by lower position, as one index ranks them.
    public static func best(_ candidates: [SearchHit], k: Int) -> [SearchHit] {
        let ranked = candidates.sorted { $0.score > $1.score || ($0.score == $1.score && $0.document < $1.document) }
        return Array(ranked.prefix(max(0, k)))
    }
}

/// Queries encoded for every shard a ``ShardedIndex`` opened, by its
/// ``ShardedIndex/readQueries(path:idsPath:vocabularyPath:)`` or ``ShardedIndex/textQueries(_:)``;
/// only that object searches them.
public struct ShardedQuerySet: Sendable {
    /// The queries encoded for each shard opened, in shard order; their ids and contents are equal.
    public let shards: [QuerySet]
    /// Query tokens dropped because no shard knows them, in all.
    public internal(set) var unknownTokens = 0
    /// Queries of which every token was unknown to every shard (they return no results).
    public internal(set) var queriesWithOnlyUnknownTokens = 0
    /// Queries left with no token any shard knows, for any reason: they return no results.
    public internal(set) var emptyQueries = 0
    /// The collection object that read the queries.
    let reader: ObjectIdentifier

    init(shards: [QuerySet], reader: ObjectIdentifier) {
        self.shards = shards
        self.reader = reader
    }

    /// Query ids in file order.
    public var ids: [String] { shards.first?.ids ?? [] }
    /// Query text, when the file had any.
    public var contents: [String?] { shards.first?.contents ?? [] }
}
