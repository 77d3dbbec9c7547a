import ArgumentParser
import Foundation
import LSR

/// Where the index and the queries are; shared by `lsr search` and `lsr eval sweep`.
struct QueryInputOptions: ParsableArguments {
    @Option(help: "Index directory.")
    var index: String
    @Option(help: "Queries: .jsonl, .jsonl.zst, .bin or .bin.zst.")
    var queries: String
    @Option(help: "Binary queries: their ids, one per line.")
    var queryIds: String?
    @Option(help: "Binary queries: vocabulary naming their components.")
    var vocab: String?

    func openIndex() throws -> Index { try Index(path: index) }

    func readQueries(for index: Index) throws -> QuerySet {
        try index.readQueries(path: queries, idsPath: queryIds, vocabularyPath: vocab)
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search", abstract: "Search an index with a file of query vectors; print a TREC run.")

    @OptionGroup var input: QueryInputOptions
    @Option(help: "Results per query.")
    var k: Int = SearchParameters.default.k
    @Option(help: "Lists visited: the query's heaviest terms. More: higher recall, slower.")
    var queryCut: Int = SearchParameters.default.queryCut
    @Option(help: "Skip a block when its summary score < heap-factor × k-th best score. Lower: higher recall, slower.")
    var heapFactor: Float = SearchParameters.default.heapFactor
    @Flag(help: "Exact search over every posting (the oracle) instead of approximate search.")
    var exact = false
    @Flag(help: "Exact search by scoring every document's forward vector (the baseline --exact is measured against).")
    var bruteForce = false
    @OptionGroup var threading: ThreadOptions
    @Option(help: "Write the TREC run here instead of standard output.")
    var output: String?
    @Option(help: "Write a JSON report of latencies and throughput here.")
    var report: String?
    @Flag(help: "Print results for people, with the stored text of queries and documents.")
    var showContent = false
    @Flag(help: "Also run exact search and report recall@k of the results against it.")
    var recallVsExact = false
    @OptionGroup(title: "Evaluation of the run")
    var evaluation: EvaluationOptions

    var parameters: SearchParameters { SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor) }

    func validate() throws {
        try evaluation.validate()
        if exact && bruteForce { throw ValidationError("--exact and --brute-force are two exact methods: choose one") }
        do {
            try parameters.validate()
        } catch let error as LSRError {
            throw ValidationError("--" + (error.field ?? "") + ": " + error.message)
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let openStarted = clock.now
        let opened = try input.openIndex()
        let openElapsed = clock.now - openStarted
        let openMilliseconds = Double(openElapsed.components.seconds) * 1e3 + Double(openElapsed.components.attoseconds) * 1e-15
        let querySet = try input.readQueries(for: opened)
        let method: SearchMethod = bruteForce ? .bruteForce : exact ? .exact : .approximate
        let result = opened.search(querySet.vectors, parameters: parameters, method: method, threads: threading.threads)

        var recall: Double? = nil
        if recallVsExact {
            let truth = method != .approximate ? result : opened.search(querySet.vectors, parameters: parameters, exact: true, threads: threading.threads)
            recall = RecallAgainstExact.meanRecall(
                approximate: result.hits.map { $0.map(\.document) }, exact: truth.hits.map { $0.map(\.document) }, k: k)
        }

        let run = try trecRun(querySet, result, opened)
        if let output { try writeAtomically(run, to: output) }
        var metrics: EvaluationResult? = nil
        if evaluation.qrels != nil || evaluation.exactRun != nil {
            metrics = try evaluation.evaluate(try Run(hits: result.hits, queryIDs: querySet.ids, index: opened))
        }
        if showContent {
            try printHuman(querySet, result, opened)
        } else if output == nil {
            FileHandle.standardOutput.write(Data(run.utf8))
        }

        let latency = result.latency
        var summary = "\(querySet.ids.count) queries, \(result.threads) threads, \(method == .approximate ? "k=\(k) query_cut=\(queryCut) heap_factor=\(heapFactor)" : method == .exact ? "exact" : "brute force"): "
            + String(format: "mean %.1f µs, p50 %.1f, p90 %.1f, p99 %.1f, %.0f queries/s", latency.mean, latency.p50, latency.p90, latency.p99, result.queriesPerSecond)
        if let recall { summary += String(format: ", recall@%d vs exact %.4f", k, recall) }
        if querySet.unknownTokens > 0 { summary += ", \(querySet.unknownTokens) unknown query tokens skipped" }
        if querySet.queriesWithOnlyUnknownTokens > 0 {
            summary += ", \(querySet.queriesWithOnlyUnknownTokens) queries had only unknown tokens (no results)"
        }
        printError(summary)
        if let metrics { printError(metrics.table(perQuery: false).trimmingCharacters(in: .newlines)) }

        if let report {
            var fields: [String: Any] = [
                "queries": querySet.ids.count, "threads": result.threads, "k": k, "query_cut": queryCut,
                "heap_factor": Double(heapFactor), "exact": exact, "brute_force": bruteForce, "mean_us": latency.mean, "p50_us": latency.p50,
                "p90_us": latency.p90, "p99_us": latency.p99, "qps": result.queriesPerSecond,
                "unknown_tokens": querySet.unknownTokens,
                "queries_with_only_unknown_tokens": querySet.queriesWithOnlyUnknownTokens, "index": input.index, "queries_file": input.queries,
                "open_ms": openMilliseconds,
            ]
            if let recall { fields["recall_vs_exact"] = recall }
            if let metrics { fields["metrics"] = metrics.metrics }
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.prettyPrinted, .sortedKeys])
            try writeAtomically(String(decoding: data, as: UTF8.self) + "\n", to: report)
        }
    }

    private func trecRun(_ querySet: QuerySet, _ result: BatchSearchResult, _ index: Index) throws -> String {
        var lines = ""
        for (q, hits) in result.hits.enumerated() {
            for (rank, hit) in hits.enumerated() {
                let id = try index.documents.document(at: hit.document).id
                lines += "\(querySet.ids[q]) Q0 \(id) \(rank + 1) \(hit.score) lsr\n"
            }
        }
        return lines
    }

    private func printHuman(_ querySet: QuerySet, _ result: BatchSearchResult, _ index: Index) throws {
        var text = ""
        for (q, hits) in result.hits.enumerated() {
            text += "query \(querySet.ids[q])" + (querySet.contents[q].map { ": \($0)" } ?? "") + "\n"
            if hits.isEmpty { text += "  (no results)\n" }
            for (rank, hit) in hits.enumerated() {
                let document = try index.documents.document(at: hit.document)
                text += String(format: "  %2d. %8.4f  %@", rank + 1, hit.score, document.id)
                if let content = document.content { text += "  " + String(content.prefix(160)) }
                text += "\n"
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
