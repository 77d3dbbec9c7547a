import ArgumentParser
import Foundation
import LSR

/// Where the index and the queries are; shared by `lsr search`, `lsr tune` and `lsr eval sweep`.
struct QueryInputOptions: ParsableArguments {
    @Option(help: "Index directory.")
    var index: String
    @Option(help: "Queries: vectors (.jsonl, .jsonl.zst, .bin or .bin.zst) or, for an index with a text query encoder, text (BEIR queries.jsonl with _id and text, or JSONL with id and content, no vector).")
    var queries: String?
    @Option(help: "A text query (repeatable; ids q1, q2, …), for an index with a text query encoder (lsr add-encoder, lsr index --query-encoder or --weighting bm25).")
    var query: [String] = []
    @Option(help: "Binary queries: their ids, one per line.")
    var queryIds: String?
    @Option(help: "Binary queries: vocabulary naming their components.")
    var vocab: String?
    @Option(name: .customLong("preload"), help: "Map the whole index into memory before the first query, so that no query waits on a page fault or a disk read: auto (for \(QueryInputOptions.preloadMinimumQueries) queries or more, when the index takes at most half the memory this process may use), always or never.")
    var preloadChoice: PreloadChoice = .auto

    func validate() throws {
        guard (queries == nil) != query.isEmpty else { throw ValidationError("give --queries FILE or --query TEXT (one kind)") }
        if !query.isEmpty && (queryIds != nil || vocab != nil) {
            throw ValidationError("--query-ids and --vocab are for binary query files, not --query")
        }
    }

    /// The queries' name in reports: the file, or `--query`.
    var queriesLabel: String { queries ?? "--query" }

    /// Opens the index (`lsr search` and `lsr tune` open a collection themselves; `sweep` works on one index).
    func openIndex(for command: String) throws -> Index { try openOneIndex(index, for: command) }

    /// The smallest batch `--preload auto` maps the whole index for: a smaller one touches too
    /// little of it for one read of every page to pay.
    static let preloadMinimumQueries = 100

    /// Preloads `indexes` (``Index/preload()``) before searching `queryCount` queries, as
    /// `--preload` says: the milliseconds it took, or nil when they were not preloaded.
    func preloadIfWorthwhile(_ indexes: [Index], queryCount: Int) -> Double? {
        switch preloadChoice {
        case .never: return nil
        case .auto:
            guard queryCount >= Self.preloadMinimumQueries else { return nil }
            let bytes = indexes.reduce(0) { $0 + $1.fileBytes }
            guard UInt64(bytes) <= usableMemory() / 2 else { return nil }
        case .always: break
        }
        let clock = ContinuousClock()
        let started = clock.now
        var mapped = true
        for index in indexes { mapped = index.preload() && mapped }
        return mapped ? (clock.now - started).seconds * 1e3 : nil
    }

    func readQueries(for index: Index) throws -> QuerySet {
        if let queries { return try index.readQueries(path: queries, idsPath: queryIds, vocabularyPath: vocab) }
        return try index.textQueries(numberedQueries)
    }

    /// The queries, encoded for every shard of `collection`.
    func readQueries(for collection: ShardedIndex) throws -> ShardedQuerySet {
        if let queries { return try collection.readQueries(path: queries, idsPath: queryIds, vocabularyPath: vocab) }
        return try collection.textQueries(numberedQueries)
    }

    /// `--query` texts with their ids, `q1`, `q2`, …
    private var numberedQueries: [(id: String, text: String)] { query.enumerated().map { (id: "q\($0.offset + 1)", text: $0.element) } }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search an index with query vectors or text; print a TREC run.")

    @OptionGroup var input: QueryInputOptions
    @Option(help: "Results per query.")
    var k: Int = SearchParameters.default.k
    @Option(help: "Lists visited: the query's heaviest terms. More: higher recall, slower. (default: \(SearchParameters.default.queryCut))")
    var queryCut: Int?
    @Option(help: "Skip a block when its summary score < heap-factor × k-th best score. Lower: higher recall, slower. (default: \(SearchParameters.default.heapFactor))")
    var heapFactor: Float?
    @Option(help: "Search with the preset `lsr tune` stored for this recall@k target (the lowest tuned target at or above it). Without presets this is an error: run `lsr tune` first.")
    var targetRecall: Double?
    @Option(help: "Approximate search per query: cost (skip-ahead, or exact search where that is estimated to cost less; the default) or skip-ahead (always).")
    var planning: SearchPlanning?
    @Flag(help: "Exact search over every posting (the oracle) instead of approximate search.")
    var exact = false
    @Flag(help: "Exact search by scoring every document's forward vector (the baseline --exact is measured against).")
    var bruteForce = false
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Write the TREC run here instead of standard output.")
    var output: String?
    @Option(help: "Write a JSON report of latencies (with each query's), throughput and, with --count-work, work here.")
    var report: String?
    @Flag(help: "Print results for people, with the stored text of queries and documents.")
    var showContent = false
    @Flag(help: "Also run exact search and report recall@k of the results against it.")
    var recallVsExact = false
    @Flag(help: "Search once more counting the work done (lists, summary entries, blocks, documents scored) and report it per query.")
    var countWork = false
    @OptionGroup(title: "Hybrid search (dense vectors stored with the index)")
    var hybrid: HybridOptions
    @OptionGroup(title: "Evaluation of the run")
    var evaluation: EvaluationOptions

    var parameters: SearchParameters {
        SearchParameters(
            k: k, queryCut: queryCut ?? SearchParameters.default.queryCut, heapFactor: heapFactor ?? SearchParameters.default.heapFactor,
            planning: planning ?? SearchParameters.default.planning)
    }

    func validate() throws {
        try evaluation.validate()
        if exact && bruteForce { throw ValidationError("--exact and --brute-force are two exact methods: choose one") }
        if let targetRecall {
            guard targetRecall > 0 && targetRecall <= 1 else { throw ValidationError("--target-recall must be in (0, 1], got \(targetRecall)") }
            guard queryCut == nil, heapFactor == nil, planning == nil, !exact, !bruteForce else {
                throw ValidationError("--target-recall chooses the search settings: leave out --query-cut, --heap-factor, --planning, --exact and --brute-force")
            }
        }
        if bruteForce && countWork { throw ValidationError("--count-work counts approximate and exact search, not --brute-force") }
        try hybrid.validate()
        if hybrid.isHybrid && (countWork || recallVsExact) {
            throw ValidationError("--count-work and --recall-vs-exact measure sparse search: leave them out with --dense-queries")
        }
        if hybrid.denseOnly && (targetRecall != nil || queryCut != nil || heapFactor != nil || planning != nil || exact || bruteForce) {
            throw ValidationError("--dense-only searches no inverted list: leave out the sparse search settings")
        }
        do {
            try parameters.validate(for: bruteForce ? .bruteForce : exact ? .exact : .approximate)
        } catch let error as LSRError {
            throw ValidationError("--" + (error.field ?? "") + ": " + error.message)
        }
    }

    func run() throws {
        if CollectionManifest.isCollection(at: input.index) { return try runOnCollection() }
        let clock = ContinuousClock()
        let openStarted = clock.now
        let opened = try input.openIndex(for: "search")
        let openMilliseconds = (clock.now - openStarted).seconds * 1e3
        let querySet = try input.readQueries(for: opened)
        let preloadMilliseconds = input.preloadIfWorthwhile([opened], queryCount: querySet.vectors.count)
        let (method, parameters, presetNote) = try settings { try opened.presets() }
        var outcome = SearchOutcome(
            queryIDs: querySet.ids, queryContents: querySet.contents, method: method, parameters: parameters, openMilliseconds: openMilliseconds,
            unknownTokens: querySet.unknownTokens, queriesWithOnlyUnknownTokens: querySet.queriesWithOnlyUnknownTokens,
            emptyQueries: querySet.emptyQueries, document: { try opened.documents.document(at: $0) })
        outcome.presetNote = presetNote
        outcome.preloadMilliseconds = preloadMilliseconds
        if let denseQueries = hybrid.denseQueries {
            let dense = try DenseQueries.read(path: denseQueries, idsPath: hybrid.denseQueryIds, queryIDs: querySet.ids)
            let searched = hybrid.denseOnly
                ? try opened.denseSearch(dense, k: k, threads: threading.threads)
                : try opened.hybridSearch(
                    querySet.vectors, dense: dense, parameters: parameters, method: method, hybrid: hybrid.parameters, threads: threading.threads)
            outcome.result = BatchSearchResult(hits: searched.hits, microseconds: searched.microseconds, wallSeconds: searched.wallSeconds, threads: searched.threads)
            outcome.stages = searched
        } else {
            outcome.result = try opened.search(querySet.vectors, parameters: parameters, method: method, threads: threading.threads)
        }
        if recallVsExact {
            let truth = method != .approximate ? outcome.result : try opened.search(querySet.vectors, parameters: parameters, method: .exact, threads: threading.threads)
            outcome.recall = try RecallAgainstExact.meanRecall(
                approximate: outcome.result.hits.map { $0.map(\.document) }, exact: truth.hits.map { $0.map(\.document) }, k: k)
        }
        if countWork {
            outcome.workPerQuery = try opened.searchCountingWork(querySet.vectors, parameters: parameters, method: method, threads: threading.threads).work
        }
        try finish(outcome)
    }

    /// `run` for a sharded collection (`lsr index --shards`): searches every shard and merges,
    /// with the collection's presets for `--target-recall`. Hybrid search and work counts are
    /// per index: refused here.
    private func runOnCollection() throws {
        guard !hybrid.isHybrid, !hybrid.denseOnly, hybrid.denseQueries == nil else {
            throw LSRError(.invalidArgument, "a sharded collection holds no dense vectors: hybrid search needs one index", path: input.index, field: "dense-queries")
        }
        guard !countWork else {
            throw LSRError(.invalidArgument, "--count-work counts one index's work: search a shard (\(input.index)/\(CollectionManifest.shardDirectory(0)))", path: input.index, field: "count-work")
        }
        let clock = ContinuousClock()
        let openStarted = clock.now
        let collection = try ShardedIndex(path: input.index)
        let openMilliseconds = (clock.now - openStarted).seconds * 1e3
        let querySet = try input.readQueries(for: collection)
        let preloadMilliseconds = input.preloadIfWorthwhile(collection.shards, queryCount: querySet.ids.count)
        let (method, parameters, presetNote) = try settings { try collection.presets() }
        var outcome = SearchOutcome(
            queryIDs: querySet.ids, queryContents: querySet.contents, method: method, parameters: parameters, openMilliseconds: openMilliseconds,
            unknownTokens: querySet.unknownTokens, queriesWithOnlyUnknownTokens: querySet.queriesWithOnlyUnknownTokens,
            emptyQueries: querySet.emptyQueries, document: { try collection.document(at: $0) })
        outcome.presetNote = presetNote
        outcome.shards = collection.shards.count
        outcome.preloadMilliseconds = preloadMilliseconds
        outcome.result = try collection.search(querySet, parameters: parameters, method: method, threads: threading.threads)
        if recallVsExact {
            let truth = method != .approximate ? outcome.result : try collection.search(querySet, parameters: parameters, method: .exact, threads: threading.threads)
            outcome.recall = try RecallAgainstExact.meanRecall(
                approximate: outcome.result.hits.map { $0.map(\.document) }, exact: truth.hits.map { $0.map(\.document) }, k: k)
        }
        try finish(outcome)
    }

    /// What a search found and what the output needs to describe it.
    private struct SearchOutcome {
        var queryIDs: [String]
        var queryContents: [String?]
        var method: SearchMethod
        var parameters: SearchParameters
        var openMilliseconds: Double
        /// How long ``QueryInputOptions/preloadIfWorthwhile(_:queryCount:)`` took; nil when not preloaded.
        var preloadMilliseconds: Double?
        var unknownTokens: Int
        var queriesWithOnlyUnknownTokens: Int
        var emptyQueries: Int
        /// The external id and content of a document position.
        var document: (Int) throws -> (id: String, content: String?)
        var result = BatchSearchResult(hits: [], microseconds: [], wallSeconds: 0, threads: 1)
        var presetNote = ""
        var recall: Double? = nil
        var stages: HybridSearchResult? = nil
        var workPerQuery: [SearchWorkCounts] = []
        /// Shards searched, for a collection.
        var shards: Int? = nil
    }

    /// Writes the run, the evaluation, the summary line and the report of a search.
    private func finish(_ outcome: SearchOutcome) throws {
        let result = outcome.result, parameters = outcome.parameters, method = outcome.method
        var results: [String: [(document: String, score: Double)]] = [:]
        var lines = ""
        for (q, hits) in result.hits.enumerated() {
            var ranked: [(document: String, score: Double)] = []
            for (rank, hit) in hits.enumerated() {
                let id = try outcome.document(hit.document).id
                lines += "\(outcome.queryIDs[q]) Q0 \(id) \(rank + 1) \(hit.score) lsr\n"
                ranked.append((id, Double(hit.score)))
            }
            results[outcome.queryIDs[q]] = ranked
        }
        if let output { try writeAtomically(lines, to: output) }
        var metrics: EvaluationResult? = nil
        if evaluation.qrels != nil || evaluation.exactRun != nil { metrics = try evaluation.evaluate(Run(results: results)) }
        if showContent {
            try printHuman(outcome)
        } else if output == nil {
            FileHandle.standardOutput.write(Data(lines.utf8))
        }

        let work = outcome.workPerQuery.isEmpty ? nil : outcome.workPerQuery.reduce(SearchWorkCounts(), +).perQuery
        let latency = result.latency
        var setting = method == .approximate ? "k=\(k) query_cut=\(parameters.queryCut) heap_factor=\(parameters.heapFactor)" : method == .exact ? "exact" : "brute force"
        if hybrid.denseOnly { setting = "k=\(k) dense only" } else if hybrid.isHybrid { setting += ", " + hybrid.label }
        let shardNote = outcome.shards.map { "\($0) shards one after another, " } ?? ""
        var summary = "\(outcome.queryIDs.count) queries, \(shardNote)\(result.threads) threads, \(outcome.presetNote)\(setting): "
            + String(format: "mean %.1f µs, p50 %.1f, p90 %.1f, p99 %.1f, %.0f queries/s", latency.mean, latency.p50, latency.p90, latency.p99, result.queriesPerSecond)
        if let recall = outcome.recall { summary += String(format: ", recall@%d vs exact %.4f", k, recall) }
        if let stages = outcome.stages {
            summary += String(format: "; per query: sparse %.1f µs, dense %.1f µs, fusion %.1f µs",
                              LatencySummary(stages.sparseMicroseconds).mean, LatencySummary(stages.denseMicroseconds).mean, LatencySummary(stages.fusionMicroseconds).mean)
        }
        if outcome.unknownTokens > 0 { summary += ", \(outcome.unknownTokens) unknown query tokens skipped" }
        if outcome.queriesWithOnlyUnknownTokens > 0 {
            summary += ", \(outcome.queriesWithOnlyUnknownTokens) queries had only unknown tokens (no results)"
        }
        if outcome.emptyQueries > outcome.queriesWithOnlyUnknownTokens {
            summary += ", \(outcome.emptyQueries - outcome.queriesWithOnlyUnknownTokens) queries had no tokens (no results)"
        }
        printError(summary)
        if let work { printError("work per query: " + work.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", ")) }
        if let metrics { printError(metrics.table(perQuery: false).trimmingCharacters(in: .newlines)) }

        if let report {
            var fields: [String: Any] = [
                "queries": outcome.queryIDs.count, "threads": result.threads, "k": k, "query_cut": parameters.queryCut,
                "heap_factor": Double(parameters.heapFactor), "exact": method == .exact, "brute_force": bruteForce, "planning": parameters.planning.rawValue, "mean_us": latency.mean, "p50_us": latency.p50,
                "p90_us": latency.p90, "p99_us": latency.p99, "qps": result.queriesPerSecond,
                "unknown_tokens": outcome.unknownTokens,
                "queries_with_only_unknown_tokens": outcome.queriesWithOnlyUnknownTokens, "empty_queries": outcome.emptyQueries, "index": input.index,
                "queries_file": input.queriesLabel,
                "open_ms": outcome.openMilliseconds,
            ]
            if let shards = outcome.shards { fields["shards"] = shards }
            if let preload = outcome.preloadMilliseconds { fields["preload_ms"] = preload }
            if let recall = outcome.recall { fields["recall_vs_exact"] = recall }
            if let stages = outcome.stages {
                fields["sparse_us"] = LatencySummary(stages.sparseMicroseconds).mean
                fields["dense_us"] = LatencySummary(stages.denseMicroseconds).mean
                fields["fusion_us"] = LatencySummary(stages.fusionMicroseconds).mean
                fields["hybrid"] = hybrid.label
                fields["dense_only"] = hybrid.denseOnly
                if !hybrid.denseOnly {
                    fields["candidates"] = hybrid.parameters.candidates
                    fields["fusion"] = (hybrid.fusion ?? .interpolate).rawValue
                    if case let .interpolate(alpha) = hybrid.parameters.fusion { fields["alpha"] = Double(alpha) }
                }
            }
            if let targetRecall { fields["target_recall"] = targetRecall }
            if let work { fields["work_per_query"] = work }
            fields["per_query_us"] = result.microseconds
            if !outcome.workPerQuery.isEmpty { fields["per_query_work"] = outcome.workPerQuery.map { $0.perQuery } }
            if let metrics { fields["metrics"] = metrics.metrics }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
            try writeAtomically(String(decoding: data, as: UTF8.self) + "\n", to: report)
        }
    }

    /// The method, parameters and summary note of this search: as given, or with
    /// `--target-recall`, the stored preset's (`presets` reads them).
    private func settings(presets: () throws -> SearchPresets?) throws -> (SearchMethod, SearchParameters, String) {
        guard let targetRecall else { return (bruteForce ? .bruteForce : exact ? .exact : .approximate, parameters, "") }
        let preset = try preset(for: targetRecall, in: try presets())
        return (preset.searchMethod, preset.parameters(k: k), String(format: "preset for recall %.3f: ", preset.targetRecall))
    }

    /// The preset for `target` among the stored `presets` (of an index or a collection).
    /// - Throws: `LSRError.invalidArgument` when there are no presets, none for this target,
    ///   or presets tuned for another k.
    private func preset(for target: Double, in presets: SearchPresets?) throws -> SearchPreset {
        guard let presets else {
            let what = CollectionManifest.isCollection(at: input.index) ? "collection" : "index"
            throw LSRError(
                .invalidArgument, "this \(what) has no presets; run `lsr tune --index \(input.index) --queries QUERIES` first (or give --query-cut and --heap-factor)",
                path: input.index, field: "target-recall")
        }
        do {
            return try presets.preset(forTargetRecall: target, k: k)
        } catch var error as LSRError {
            error.path = input.index
            throw error
        }
    }

    private func printHuman(_ outcome: SearchOutcome) throws {
        var text = ""
        for (q, hits) in outcome.result.hits.enumerated() {
            text += "query \(outcome.queryIDs[q])" + (outcome.queryContents[q].map { ": \($0)" } ?? "") + "\n"
            if hits.isEmpty { text += "  (no results)\n" }
            for (rank, hit) in hits.enumerated() {
                let document = try outcome.document(hit.document)
                text += String(format: "  %2d. %8.4f  %@", rank + 1, hit.score, document.id)
                if let content = document.content { text += "  " + String(content.prefix(160)) }
                text += "\n"
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

extension SearchPlanning: ExpressibleByArgument {}

/// `--preload`: whether to map the whole index before searching.
enum PreloadChoice: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

/// The memory this process may use: the machine's, or its control group's limit when lower
/// (`memory.max` under cgroup v2, `memory.limit_in_bytes` under v1, as containers set them).
func usableMemory() -> UInt64 {
    var usable = ProcessInfo.processInfo.physicalMemory
    guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return usable }
    for line in membership.split(separator: "\n") {
        // "0::/group" (v2) or "4:memory:/group" (v1).
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { continue }
        let limitFile: String
        if fields[0] == "0" && fields[1].isEmpty {
            limitFile = "/sys/fs/cgroup\(fields[2])/memory.max"
        } else if fields[1].split(separator: ",").contains("memory") {
            limitFile = "/sys/fs/cgroup/memory\(fields[2])/memory.limit_in_bytes"
        } else {
            continue
        }
        // "max" (v2) reads as no limit; v1 writes a huge number instead.
        if let text = try? String(contentsOfFile: limitFile, encoding: .utf8),
           let limit = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            usable = min(usable, limit)
        }
    }
    return usable
}
