import ArgumentParser
import Foundation
import LSR

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Search over a (query_cut, heap_factor) grid; report latency, recall against exact, the Pareto frontier and a plot.")

    @OptionGroup var input: QueryInputOptions
    @Option(help: "Relevance judgments; adds nDCG@10 to every point.")
    var qrels: String?
    @Option(parsing: .upToNextOption, help: "Grid terms: query_cut=3,5,8,12,20 heap_factor=1.0,0.9,0.8,0.7.")
    var grid: [String] = []
    @Option(help: "Results per query.")
    var k: Int = 10
    @Option(help: "Threads for the timed searches (1: single-threaded latency).")
    var threads: Int = 1
    @Option(help: "Report name: files go to <reports>/<name>/ (default: sweep-<index name>).")
    var name: String?
    @Option(help: "Reports directory.")
    var reports: String = "Evaluation/reports"
    @Option(help: "Also print the fastest point reaching this recall.")
    var targetRecall: Double?
    @Option(help: "Hybrid sweep: dense query vectors (.npy or .fvecs) for the index's dense vectors; the grid also takes alpha=… and candidates=….")
    var denseQueries: String?
    @Option(help: "The query id of each --dense-queries row, one per line (default: rows in the order of the queries).")
    var denseQueryIds: String?
    @Option(help: "Hybrid sweep fusion: interpolate (over the grid's alpha values), rrf or rescore.")
    var fusion: HybridOptions.FusionChoice = .interpolate

    func validate() throws {
        guard input.queries != nil else { throw ValidationError("lsr eval sweep reads a query file: give --queries FILE, not --query") }
        guard k >= 1 else { throw ValidationError("--k must be ≥ 1, got \(k)") }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        if let targetRecall, !(0 ... 1).contains(targetRecall) {
            throw ValidationError("--target-recall must be in [0, 1], got \(targetRecall)")
        }
        let parsed: SweepGrid
        do { parsed = try SweepGrid(parsing: grid) } catch let error as LSRError { throw ValidationError("--grid: " + error.message) }
        if denseQueries == nil && (!parsed.alphas.isEmpty || !parsed.candidates.isEmpty || denseQueryIds != nil) {
            throw ValidationError("alpha and candidates grid terms and --dense-query-ids go with --dense-queries")
        }
        if fusion != .interpolate && !parsed.alphas.isEmpty { throw ValidationError("alpha grid terms go with --fusion interpolate") }
    }

    func run() throws {
        let opened = try input.openIndex(for: "eval sweep")
        let querySet = try input.readQueries(for: opened)
        _ = input.preloadIfWorthwhile([opened], queryCount: querySet.vectors.count)
        let judgments = try qrels.map { try Qrels.read(path: $0) }
        var hybrid: (dense: DenseQueries, fusion: Fusion)? = nil
        if let denseQueries {
            let dense = try DenseQueries.read(path: denseQueries, idsPath: denseQueryIds, queryIDs: querySet.ids)
            hybrid = (dense, fusion.fusion(alpha: 0.5))  // the grid's alpha values replace 0.5
        }
        let sweep = Sweep(grid: try SweepGrid(parsing: grid), k: k, threads: threads, hybrid: hybrid)
        let progress = ProgressLine()
        let points = try sweep.run(index: opened, queries: querySet, qrels: judgments) { done, total in
            progress.update("sweep: \(done)/\(total) points")
        }
        progress.finish()
        let report = SweepReport(points: points, k: k, provenance: provenance(opened))
        let directory = reports + "/" + (name ?? "sweep-" + URL(fileURLWithPath: input.index).lastPathComponent)
        try report.write(to: directory)
        print(report.markdown(), terminator: "")
        print("\nwrote \(directory)/sweep.json, sweep.md, sweep.svg")
        if let targetRecall {
            if let best = Sweep.fastest(points, reaching: targetRecall) {
                print(String(format: "fastest reaching recall@%d ≥ %.4f: --query-cut %d --heap-factor %g (%.1f µs mean, recall %.4f)",
                             k, targetRecall, best.queryCut, Double(best.heapFactor), best.meanMicroseconds, best.recall))
            } else {
                print(String(format: "no grid point reaches recall@%d ≥ %.4f; widen the grid (larger query_cut, smaller heap_factor)", k, targetRecall))
            }
        }
    }

    /// Machine, version, commit, index parameters, data files and sizes.
    private func provenance(_ index: Index) -> [String: String] {
        var fields: [String: String] = [
            "lsr_version": lsrVersion, "commit": gitCommit() ?? "unknown", "cores": "\(availableCores)",
            "cpu": cpuModel() ?? "unknown", "threads": "\(threads)", "date": ISO8601DateFormatter().string(from: Date()),
            "index": input.index, "index_bytes": "\(index.fileBytes)", "documents": "\(index.documentCount)",
            "queries_file": "\(input.queries ?? "") (\(fileSize(input.queries ?? "")) bytes)",
        ]
        if let qrels { fields["qrels_file"] = "\(qrels) (\(fileSize(qrels)) bytes)" }
        fields["index_parameters"] = index.metadata.buildParameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return fields
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// The CPU model name from /proc/cpuinfo (Linux).
func cpuModel() -> String? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix("model name") }?
        .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
}

/// The current git commit of the working directory, if it is a repository.
func gitCommit() -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "rev-parse", "--short", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
