import ArgumentParser
import Foundation
import LSR

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate runs (trec_eval metrics, recall against exact) and sweep search parameters.",
        subcommands: [MetricsCommand.self, SweepCommand.self],
        defaultSubcommand: MetricsCommand.self)
}

struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Relevance metrics of a run against qrels (trec_eval definitions), and recall against an exact run (the default of `lsr eval`).")

    @Option(name: .customLong("run"), help: "The run: TREC (qid Q0 docid rank score tag) or Seismic TSV (qid docid rank score).")
    var runPath: String
    @OptionGroup var options: EvaluationOptions
    @Flag(help: "Print JSON instead of a table.")
    var json = false
    @Flag(help: "Include every query's values.")
    var perQuery = false
    @Option(help: "BEIR queries.jsonl (_id, text), plain or .zst: shows each query's text in the per-query table.")
    var queriesText: String?

    func validate() throws {
        guard options.qrels != nil || options.exactRun != nil else { throw ValidationError("give --qrels, --exact-run or both") }
    }

    func run() throws {
        let run = try Run.read(path: runPath)
        let result = try options.evaluate(run)
        // Metrics of zero that mean "nothing to evaluate" must not pass for a bad ranking.
        if run.results.isEmpty {
            printError("lsr: warning: \(runPath) holds no results, so every metric is 0")
        } else if let qrels = options.qrels, !options.complete, result.queries == 0 {
            printError("lsr: warning: no query of \(runPath) has judgments in \(qrels) (different query ids?), so the qrels metrics average over nothing")
        }
        let texts = try queriesText.map { try BEIRTextFile.read(path: $0) } ?? [:]
        print(json ? try result.json(perQuery: perQuery) : result.table(perQuery: perQuery, queryTexts: texts), terminator: "")
    }
}

/// What to evaluate a run with; shared by `lsr eval` and `lsr search`.
struct EvaluationOptions: ParsableArguments {
    @Option(help: "Relevance judgments: BEIR qrels TSV (query-id corpus-id score) or TREC qrels.")
    var qrels: String?
    @Option(help: "Comma-separated metrics: ndcg@K, recall@K, p@K, map@K, mrr, mrr@K.")
    var metrics: String = "ndcg@10,recall@100,p@10,map@100,mrr"
    @Flag(help: "Average over every qrels query, missing ones counting 0 (trec_eval -c).")
    var complete = false
    @Flag(help: "Drop results whose document id equals the query id, as BEIR's evaluator does (the default), or keep them.")
    var identicalIDs: IdenticalIDs = .ignoreIdenticalIds

    enum IdenticalIDs: EnumerableFlag { case ignoreIdenticalIds, keepIdenticalIds }
    @Option(help: "An exact run to measure recall@k against (Seismic's accuracy).")
    var exactRun: String?
    @Option(help: "The k of recall against the exact run.")
    var recallK: Int = 10

    func validate() throws {
        do {
            _ = try parsedMetrics()
        } catch let error as LSRError {
            throw ValidationError("--metrics: " + error.message)
        }
        guard recallK >= 1 else { throw ValidationError("--recall-k must be ≥ 1, got \(recallK)") }
    }

    func parsedMetrics() throws -> [Metric] {
        try metrics.split(separator: ",").map { try Metric(parsing: $0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Metrics against the qrels (when given) plus `recall_vs_exact@k` (when an exact run is given).
    func evaluate(_ run: Run) throws -> EvaluationResult {
        var result = EvaluationResult(queries: 0, metrics: [:], perQuery: [:], order: [])
        if let qrels {
            result = Evaluator(metrics: try parsedMetrics(), ignoreIdenticalIDs: identicalIDs == .ignoreIdenticalIds, complete: complete)
                .evaluate(run, qrels: try Qrels.read(path: qrels))
        }
        if let exactRun {
            let exact = try Run.read(path: exactRun)
            let name = "recall_vs_exact@\(recallK)"
            var total = 0.0
            for query in exact.results.keys {
                let value = try RecallAgainstExact.recall(approximate: run.ranking(of: query), exact: exact.ranking(of: query), k: recallK)
                total += value
                result.perQuery[query, default: [:]][name] = value
            }
            result.metrics[name] = exact.results.isEmpty ? 1 : total / Double(exact.results.count)
            result.order.append(name)
            if qrels == nil { result.queries = exact.results.count }
        }
        return result
    }
}
