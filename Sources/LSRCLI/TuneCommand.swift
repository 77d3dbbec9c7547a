import ArgumentParser
import Foundation
import LSR

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Choose search settings per recall target on sample queries and store them with the index (for `lsr search --target-recall`).",
        discussion: """
            For each target, the fastest setting whose recall@k against exact search, less one standard error, clears the \
            target on the given queries (so that it holds for unseen queries of the same kind), checked by cross-validation. \
            Give queries like the ones the index will serve (a thousand is plenty); keep others apart to test on. \
            A sharded collection is tuned as a whole (recall of its merged results); its presets go to the collection's directory.
            """)

    @OptionGroup var input: QueryInputOptions
    @Option(help: "Comma-separated recall@k targets, each in (0, 1].")
    var targetRecall: String = "0.90,0.95,0.97,0.99"
    @Option(help: "Results per query (the k of recall@k).")
    var k: Int = 10
    @Option(help: "Threads for the recall runs (timings use one).")
    var threads: Int = availableCores
    @Option(help: "Seed of the cross-validation folds.")
    var seed: UInt64 = 42
    @Option(help: "Cross-validation folds.")
    var folds: Int = 5
    @Option(help: "Standard errors of the mean recall a setting must clear its target by.")
    var margin: Double = 1
    @Option(help: "Pick among the candidates by: time (fastest measured on one thread) or model (cheapest by the work estimate; deterministic).")
    var selection: Tuner.Selection = .measuredTime
    @Option(help: "Write every evaluated setting and timing here as JSON.")
    var report: String?

    var targets: [Double] { get throws {
        try targetRecall.split(separator: ",").map { text in
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--target-recall: '\(text)' is not a number")
            }
            return value
        }
    } }

    var tuner: Tuner { get throws {
        Tuner(targets: try targets, k: k, threads: threads, seed: seed, folds: folds, selection: selection, margin: margin)
    } }

    func validate() throws {
        guard input.queries != nil else { throw ValidationError("lsr tune measures recall on a query file: give --queries FILE, not --query") }
        do {
            try tuner.validate()
        } catch let error as LSRError {
            throw ValidationError("--" + (error.field ?? "") + ": " + error.message)
        }
    }

    func run() throws {
        var tuner = try self.tuner
        let progress = ProgressLine()
        let result: TuningResult
        let store: (SearchPresets) throws -> Void
        if CollectionManifest.isCollection(at: input.index) {
            let collection = try ShardedIndex(path: input.index)
            try checkWritable(collection.path)
            let querySet = try input.readQueries(for: collection)
            // Preloaded again before the timings only when it was worth preloading at all.
            tuner.preloadsBeforeTiming = input.preloadIfWorthwhile(collection.shards, queryCount: querySet.ids.count) != nil
            result = try tuner.tune(collection: collection, queries: querySet, queriesFile: input.queries ?? "") { progress.update("tune: " + $0) }
            store = collection.store
        } else {
            let index = try input.openIndex(for: "tune")
            try checkWritable(index.path)
            let querySet = try input.readQueries(for: index)
            tuner.preloadsBeforeTiming = input.preloadIfWorthwhile([index], queryCount: querySet.vectors.count) != nil
            result = try tuner.tune(index: index, queries: querySet, queriesFile: input.queries ?? "") { progress.update("tune: " + $0) }
            store = index.store
        }
        progress.finish()
        if let report {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let body = TuneReport(presets: result.presets, points: result.points, measuredMicroseconds: result.measuredMicroseconds, seconds: result.seconds)
            try writeAtomically(String(decoding: try encoder.encode(body), as: UTF8.self) + "\n", to: report)
        }
        try store(result.presets)
        print(presetTable(result.presets), terminator: "")
        print(String(format: "tuned %d settings on %d queries in %.1f s; presets stored in %@/%@",
                     result.points.count, result.presets.queries, result.seconds, input.index, SearchPresets.fileName))
        let approximate = result.points.filter { $0.method == .approximate }
        if let best = approximate.max(by: { $0.recallBound < $1.recallBound }) {
            for preset in result.presets.presets where preset.method == .exact && best.recallBound < preset.targetRecall {
                printError(String(
                    format: "lsr: warning: no approximate setting reached recall %.3f (the best, query_cut %d heap_factor %g, reached %.4f): its preset is exact search. Static pruning caps approximate recall; an index keeping more postings per list (lsr index --n-postings) raises the cap",
                    preset.targetRecall, best.queryCut, Double(best.heapFactor), best.recallBound))
            }
        }
        for preset in result.presets.presets where preset.crossValidatedRecall < preset.targetRecall - 0.005 {
            printError(String(
                format: "lsr: warning: the preset for recall %.3f reached %.4f on held-out folds: unseen queries may fall short; tune on more queries or with a larger --margin",
                preset.targetRecall, preset.crossValidatedRecall))
        }
    }
}

/// Fails before the long run, not after it, when the presets could not be stored in `directory`.
private func checkWritable(_ directory: String) throws {
    guard access(directory, W_OK) == 0 else {
        throw LSRError(.io, "cannot store presets here: \(String(cString: strerror(errno)))", path: directory)
    }
}

private struct TuneReport: Encodable {
    var presets: SearchPresets
    var points: [TuningPointSummary]
    var measuredMicroseconds: [String: Double]
    var seconds: Double
}

/// The presets as a table (for `lsr tune` and `lsr info`).
func presetTable(_ presets: SearchPresets) -> String {
    var text = "presets (recall@\(presets.k) vs exact, tuned on \(presets.queries) queries, \(presets.created)):\n"
    let header = ["target", "method", "query_cut", "heap_factor", "tuning recall", "bound", "cross-validated", "µs (1 thread)"]
    let rows = presets.presets.map { p in
        [String(format: "%.3f", p.targetRecall), p.method.rawValue, p.method == .exact ? "-" : "\(p.queryCut)",
         p.method == .exact ? "-" : String(format: "%g", Double(p.heapFactor)), String(format: "%.4f", p.tuningRecall),
         String(format: "%.4f", p.recallLowerBound), String(format: "%.4f", p.crossValidatedRecall), String(format: "%.1f", p.meanMicroseconds)]
    }
    let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max()! }
    for row in [header] + rows {
        text += "  " + row.indices.map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "\n"
    }
    return text
}

extension Tuner.Selection: ExpressibleByArgument {}
