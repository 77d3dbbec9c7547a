import LSRSearch

/// What ``Tuner`` searches: one index with its queries, or a sharded collection with its own.
/// Results are documents (index or collection positions) per query.
protocol TuningSubject {
    /// The tuning queries.
    var queryCount: Int { get }
    /// Components of the longest query (no query cut beyond it is worth trying).
    var longestQuery: Int { get }
    /// Whether approximate search can differ from exact search (some list has blocks).
    var hasBlocks: Bool { get }
    /// Searches every query, counting its work: each query's documents and estimated cost.
    func searchCountingWork(_ parameters: SearchParameters, _ method: SearchMethod, threads: Int) throws -> (hits: [[Int]], costs: [Double])
    /// Seconds one single-threaded batch of every query takes.
    func wallSeconds(_ parameters: SearchParameters, _ method: SearchMethod) throws -> Double
    /// Maps every page before the timings (``Index/preload()``).
    func preload()
    /// What the presets record they were tuned on: ``SearchPresets/index`` and ``SearchPresets/shards``.
    var identity: (index: String, shards: [String]?) { get }
    /// The search planner version the presets hold for.
    var plannerVersion: Int { get }
}

struct IndexTuning: TuningSubject {
    let index: Index
    let queries: QuerySet

    var queryCount: Int { queries.vectors.count }
    var longestQuery: Int { queries.vectors.map(\.components.count).max() ?? 1 }
    var hasBlocks: Bool { index.metadata.blockedPostingCount > 0 }

    func searchCountingWork(_ parameters: SearchParameters, _ method: SearchMethod, threads: Int) throws -> (hits: [[Int]], costs: [Double]) {
        let run = try index.searchCountingWork(queries.vectors, parameters: parameters, method: method, threads: threads)
        return (run.hits.map { $0.map(\.document) }, run.work.map(\.estimatedNanoseconds))
    }

    func wallSeconds(_ parameters: SearchParameters, _ method: SearchMethod) throws -> Double {
        try index.search(queries.vectors, parameters: parameters, method: method, threads: 1).wallSeconds
    }

    func preload() { _ = index.preload() }
    var identity: (index: String, shards: [String]?) { (index.identity, nil) }
    var plannerVersion: Int { index.plannerVersion }
}

struct CollectionTuning: TuningSubject {
    let collection: ShardedIndex
    let queries: ShardedQuerySet
    /// ``ShardedIndex/identity``: every shard is open.
    let collectionIdentity: String

    var queryCount: Int { queries.ids.count }
    var longestQuery: Int { queries.shards.flatMap { $0.vectors.map(\.components.count) }.max() ?? 1 }
    var hasBlocks: Bool { collection.shards.contains { $0.metadata.blockedPostingCount > 0 } }

    func searchCountingWork(_ parameters: SearchParameters, _ method: SearchMethod, threads: Int) throws -> (hits: [[Int]], costs: [Double]) {
        let run = try collection.searchCountingWork(queries, parameters: parameters, method: method, threads: threads)
        return (run.hits.map { $0.map(\.document) }, run.work.map(\.estimatedNanoseconds))
    }

    func wallSeconds(_ parameters: SearchParameters, _ method: SearchMethod) throws -> Double {
        try collection.search(queries, parameters: parameters, method: method, threads: 1).wallSeconds
    }

    func preload() { for shard in collection.shards { _ = shard.preload() } }
    var identity: (index: String, shards: [String]?) { (collectionIdentity, collection.shards.map(\.identity)) }
    var plannerVersion: Int { collection.plannerVersion }
}
