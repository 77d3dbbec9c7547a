import ArgumentParser
import Foundation
import LSR

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Build an index from sparse vectors (Seismic JSONL or binary, optionally .zst).")

    @Option(help: "Documents: .jsonl, .jsonl.zst, .bin or .bin.zst.")
    var input: String
    @Option(help: "Index directory to create (default: Indexes/<input name>.lsr).")
    var output: String?
    @Option(help: "Binary input: external ids, one per line (default: positions).")
    var ids: String?
    @Option(help: "Binary input: vocabulary, line i names component i.")
    var vocab: String?
    @Option(help: "Static pruning: global (Seismic's global threshold), fixed (n-postings per list), none.")
    var pruning: PruningChoice = .global
    @Option(help: "Postings kept per list on average (global) or at most (fixed). More: higher recall, bigger, slower.")
    var nPostings: Int = 1000
    @Option(help: "Global pruning: no list keeps more than n-postings × max-fraction postings.")
    var maxFraction: Double = 1.5
    @Option(help: "Blocks per list as a fraction of its length. More: tighter blocks, higher recall, more summaries.")
    var centroidFraction: Double = 0.2
    @Option(help: "Clusters smaller than this are dissolved into the others.")
    var minClusterSize: Int = 2
    @Option(help: "Components of each document used to pick its cluster.")
    var docCut: Int = 15
    @Option(help: "Use fixed blocks of this many postings instead of clustering.")
    var blockSize: Int?
    @Option(help: "Fraction of each block summary's L1 mass kept. More: better skips, bigger index.")
    var summaryEnergy: Double = 0.5
    @Option(help: "Most coordinates one block summary keeps, whatever the energy (bounds abnormal documents).")
    var maxSummaryEntries: Int = 2048
    @Option(help: "Stored weight precision: f16 (default, half the bytes) or f32 (exact input scores).")
    var precision: ValuePrecision = .f16
    @Option(help: "Blocks and summaries (used by approximate search): auto (when static pruning shortens the long lists enough for skip-ahead search to beat exact search), always, never.")
    var summaries: SummaryPolicy = .automatic
    @Option(help: "Seed of the centroid draws; same seed, same index bytes.")
    var seed: UInt64 = 42
    @OptionGroup var threading: ThreadOptions
    @Flag(help: "Replace an existing index at --output.")
    var force = false

    enum PruningChoice: String, ExpressibleByArgument, CaseIterable { case global, fixed, none }

    var configuration: BuildConfiguration {
        let pruningStrategy: PruningStrategy
        switch pruning {
        case .global: pruningStrategy = .globalThreshold(nPostings: nPostings, maxFraction: maxFraction)
        case .fixed: pruningStrategy = .fixedSize(nPostings: nPostings)
        case .none: pruningStrategy = .none
        }
        let blocking: BlockingStrategy = blockSize.map { .fixedSize(blockSize: $0) }
            ?? .randomCentroids(centroidFraction: centroidFraction, minClusterSize: minClusterSize, docCut: docCut)
        return BuildConfiguration(
            pruning: pruningStrategy, blocking: blocking, summaryEnergy: summaryEnergy, maxSummaryEntries: maxSummaryEntries, valuePrecision: precision,
            summaries: summaries, seed: seed, threads: threading.threads)
    }

    func validate() throws {
        do {
            try configuration.validate()
        } catch let error as LSRError {
            throw ValidationError("--" + (error.field ?? "") + ": " + error.message)
        }
    }

    /// The index directory: `--output`, or `Indexes/<input file name without extensions>.lsr`.
    var outputPath: String {
        if let output { return output }
        var name = URL(fileURLWithPath: input).lastPathComponent
        for suffix in [".zst", ".zstd", ".jsonl", ".json", ".bin"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return "Indexes/\(name).lsr"
    }

    func run() throws {
        let output = outputPath
        let reader = try VectorFileReader(path: input, idsPath: ids, vocabularyPath: vocab)
        let progress = ProgressLine()
        let statistics = try IndexBuilder(configuration: configuration).build(
            input: reader, outputPath: output, overwrite: force
        ) { step in
            if let total = step.total {
                progress.update("\(step.stage.rawValue): \(step.completed)/\(total)")
            } else {
                progress.update("\(step.stage.rawValue): \(step.completed)")
            }
        }
        progress.finish()
        print("""
            indexed \(statistics.documents) documents (\(statistics.nonzeros) nonzeros, \(statistics.vocabularySize) tokens) in \(String(format: "%.2f", statistics.seconds)) s
            postings: \(statistics.postings), kept in blocks: \(statistics.blockedPostings), blocks: \(statistics.blocks), summary entries: \(statistics.summaryEntries)
            index: \(output) (\(formatBytes(statistics.indexBytes)) + document store \(formatBytes(statistics.documentStoreBytes)))
            """)
        if statistics.skippedEmptyLines > 0 { printError("skipped \(statistics.skippedEmptyLines) empty lines") }
        if statistics.droppedZeroWeights > 0 { printError("dropped \(statistics.droppedZeroWeights) zero weights") }
    }
}

extension ValuePrecision: ExpressibleByArgument {}
extension SummaryPolicy: ExpressibleByArgument {}
