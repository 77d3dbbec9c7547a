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
    @Option(help: "Postings kept per list on average (global) or at most (fixed). More: higher recall, bigger, slower. auto (global's default): 1000, or 8% of the mean list length where that is more (large collections: 3500 at 8.8M documents of 127 nonzeros); lsr info shows the number used. fixed's default: 1000.")
    var nPostings: PostingCount?
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
    @Option(help: "Memory the build may hold, in bytes or with a K, M or G suffix (binary units), e.g. 1G (default: what the collection needs besides its inverted lists plus an eighth of them, at least 1 GiB, at most a third of the physical memory). A smaller budget builds the inverted lists in more passes; the index bytes are the same. Too small for the collection: a one-line error naming the budget that would do.")
    var memoryBudget: ByteCount?
    @Flag(help: "Replace an existing index at --output.")
    var force = false

    enum PruningChoice: String, ExpressibleByArgument, CaseIterable { case global, fixed, none }

    var configuration: BuildConfiguration {
        let pruningStrategy: PruningStrategy
        switch pruning {
        case .global:
            switch nPostings ?? .automatic {
            case .automatic: pruningStrategy = .automatic(maxFraction: maxFraction)
            case let .count(n): pruningStrategy = .globalThreshold(nPostings: n, maxFraction: maxFraction)
            }
        case .fixed: pruningStrategy = .fixedSize(nPostings: nPostings?.count ?? 1000)
        case .none: pruningStrategy = .none
        }
        let blocking: BlockingStrategy = blockSize.map { .fixedSize(blockSize: $0) }
            ?? .randomCentroids(centroidFraction: centroidFraction, minClusterSize: minClusterSize, docCut: docCut)
        return BuildConfiguration(
            pruning: pruningStrategy, blocking: blocking, summaryEnergy: summaryEnergy, maxSummaryEntries: maxSummaryEntries, valuePrecision: precision,
            summaries: summaries, seed: seed, threads: threading.threads, memoryBudget: memoryBudget?.bytes)
    }

    func validate() throws {
        if pruning == .fixed, case .automatic = nPostings {
            throw ValidationError("--n-postings: --pruning fixed needs a number (auto is for --pruning global)")
        }
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
        let progress = BuildProgressLine()
        let statistics = try IndexBuilder(configuration: configuration).build(
            input: reader, outputPath: output, overwrite: force, progress: progress.update)
        progress.finish()
        print("""
            indexed \(statistics.documents) documents (\(statistics.nonzeros) nonzeros, \(statistics.vocabularySize) tokens) in \(String(format: "%.2f", statistics.seconds)) s
            inverted lists built in \(statistics.listRanges) pass\(statistics.listRanges == 1 ? "" : "es") over the forward index (memory budget \(formatBytes(statistics.memoryBudget)))
            postings: \(statistics.postings), kept in blocks: \(statistics.blockedPostings), blocks: \(statistics.blocks), summary entries: \(statistics.summaryEntries)
            index: \(output) (\(formatBytes(statistics.indexBytes)) + document store \(formatBytes(statistics.documentStoreBytes)))
            stages: \(statistics.stageSeconds.map { "\($0.stage) \(String(format: "%.1f", $0.seconds)) s" }.joined(separator: ", "))
            """)
        if statistics.skippedEmptyLines > 0 { printError("skipped \(statistics.skippedEmptyLines) empty lines") }
        if statistics.droppedZeroWeights > 0 { printError("dropped \(statistics.droppedZeroWeights) zero weights") }
    }
}

extension ValuePrecision: ExpressibleByArgument {}

/// The build's progress line: stage, units done, rate and, when the total is known, an ETA.
/// Rates count from the stage's first report (stages alternate when the lists are built in
/// several passes; their counts are cumulative).
final class BuildProgressLine: @unchecked Sendable {
    // @unchecked Sendable: `started` is touched under `lock`.
    private let line = ProgressLine()
    private let lock = NSLock()
    private var started: [BuildProgress.Stage: ContinuousClock.Instant] = [:]

    func update(_ step: BuildProgress) {
        let now = ContinuousClock.now
        lock.lock()
        let since = started[step.stage] ?? now
        started[step.stage] = since
        lock.unlock()
        let (seconds, attoseconds) = (now - since).components
        let elapsed = Double(seconds) + Double(attoseconds) * 1e-18
        var text = "\(step.stage.rawValue): \(step.completed)"
        if let total = step.total { text += "/\(total)" }
        if elapsed >= 1, step.completed > 0 {
            let rate = Double(step.completed) / elapsed
            let unit = step.stage == .reading ? " documents/s" : "/s"
            text += String(format: " (%.0f%@", rate, unit)
            if let total = step.total, total > step.completed {
                text += ", ETA " + formatDuration(Double(total - step.completed) / rate)
            }
            text += ")"
        }
        line.update(text)
    }

    func finish() { line.finish() }
}

func formatDuration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded(.up))
    return s < 60 ? "\(s) s" : s < 3600 ? "\(s / 60) min \(s % 60) s" : "\(s / 3600) h \(s % 3600 / 60) min"
}

/// `--n-postings`: a number, or auto (``PruningStrategy/automatic(maxFraction:)``).
enum PostingCount: ExpressibleByArgument {
    case automatic
    case count(Int)

    init?(argument: String) {
        if argument == "auto" {
            self = .automatic
        } else if let n = Int(argument) {
            self = .count(n)
        } else {
            return nil
        }
    }

    /// The number given, nil for auto.
    var count: Int? {
        if case let .count(n) = self { return n }
        return nil
    }
}

/// A byte count written as a number with an optional binary-unit suffix: 1073741824, 512M, 1.5G.
struct ByteCount: ExpressibleByArgument {
    let bytes: Int

    init?(argument: String) {
        let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
        var text = argument.uppercased()
        if text.hasSuffix("IB") || (text.hasSuffix("B") && text.count > 1 && units[text[text.index(text.endIndex, offsetBy: -2)]] != nil) {
            text.removeLast(text.hasSuffix("IB") ? 2 : 1)
        }
        var scale = 1.0
        if let last = text.last, let unit = units[last] {
            scale = unit
            text.removeLast()
        }
        guard let number = Double(text), number.isFinite, number >= 0, number * scale < Double(Int.max) else { return nil }
        bytes = Int((number * scale).rounded())
    }
}
extension SummaryPolicy: ExpressibleByArgument {}
