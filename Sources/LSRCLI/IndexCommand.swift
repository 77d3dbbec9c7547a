import ArgumentParser
import Foundation
import LSR

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index", abstract: "Build an index from sparse vectors (Seismic JSONL or binary, optionally .zst), or from text with BM25 weights.")

    @Option(help: "Documents: .jsonl, .jsonl.zst, .bin or .bin.zst (vectors); with --weighting bm25, text: BEIR corpus.jsonl (_id, title, text) or JSONL with id and content, plain or .zst.")
    var input: String
    @Option(help: "vectors: the input holds the document vectors. bm25: the input is text; each document becomes its BM25 impacts over --tokenizer's wordpieces (Lucene's BM25: a query's distinct tokens, weight 1 each, score it with its BM25 score), and text queries just work.")
    var weighting: Weighting = .vectors
    @Option(help: "Store a text query encoder with the index: idf (inference-free: --tokenizer and --weights), so lsr search takes --query TEXT and text query files.")
    var queryEncoder: QueryEncoderChoice?
    @Option(help: "Tokenizer for --weighting bm25 or --query-encoder: a Hugging Face tokenizer.json or a vocab.txt.")
    var tokenizer: String?
    @Option(help: "Token weights for --query-encoder idf: a JSON object {token: weight} (OpenSearch's idf.json).")
    var weights: String?
    @Option(help: "BM25 term-frequency saturation.")
    var bm25K1: Double = BM25Parameters().k1
    @Option(help: "BM25 document-length normalization.")
    var bm25B: Double = BM25Parameters().b
    @Flag(help: "BM25 text queries weight a token by its count in the query (default: each distinct token once).")
    var queryTermFrequency = false
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
    @OptionGroup var dense: DenseOptions
    @Option(help: "Build a sharded collection: this many ordinary indexes over a round-robin partition of the documents (document p in shard p mod N), one after another, and a manifest; lsr search, info and check open it like an index. 1: one index.")
    var shards: Int = 1
    @Flag(help: "Replace an existing index or collection at --output.")
    var force = false

    enum PruningChoice: String, ExpressibleByArgument, CaseIterable { case global, fixed, none }
    enum Weighting: String, ExpressibleByArgument, CaseIterable { case vectors, bm25 }
    enum QueryEncoderChoice: String, ExpressibleByArgument, CaseIterable { case idf }

    var bm25Parameters: BM25Parameters { BM25Parameters(k1: bm25K1, b: bm25B, queryTermFrequency: queryTermFrequency) }

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
        switch (weighting, queryEncoder) {
        case (.bm25, .some):
            throw ValidationError("--weighting bm25 stores its own query encoder (BM25 queries): leave out --query-encoder")
        case (.bm25, nil):
            guard tokenizer != nil else { throw ValidationError("--weighting bm25 needs --tokenizer (tokenizer.json or vocab.txt)") }
            guard weights == nil else { throw ValidationError("--weights is for --query-encoder idf, not --weighting bm25") }
            guard ids == nil, vocab == nil else { throw ValidationError("--ids and --vocab are for binary vector input, not text") }
            do { try bm25Parameters.validate() } catch let error as LSRError { throw ValidationError("--\(error.field ?? ""): \(error.message)") }
        case (.vectors, .idf?):
            guard tokenizer != nil, weights != nil else { throw ValidationError("--query-encoder idf needs --tokenizer and --weights") }
        case (.vectors, nil):
            guard tokenizer == nil, weights == nil else {
                throw ValidationError("--tokenizer and --weights go with --query-encoder idf or --weighting bm25")
            }
        }
        if weighting == .vectors {
            guard bm25K1 == BM25Parameters().k1, bm25B == BM25Parameters().b, !queryTermFrequency else {
                throw ValidationError("--bm25-k1, --bm25-b and --query-term-frequency go with --weighting bm25")
            }
        }
        try dense.validate()
        guard shards >= 1, shards <= ShardedIndexBuilder.maximumShards else {
            throw ValidationError("--shards must be in 1 … \(ShardedIndexBuilder.maximumShards), got \(shards)")
        }
        if shards > 1 && dense.input != nil {
            throw ValidationError("--shards: dense vectors are stored with one index; a sharded collection cannot hold them")
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
        let progress = BuildProgressLine()
        let source: any VectorSource
        var encoder: StoredQueryEncoder? = nil
        switch weighting {
        case .vectors:
            source = try VectorFileReader(path: input, idsPath: ids, vocabularyPath: vocab)
            if queryEncoder == .idf, let tokenizer, let weights {
                encoder = try StoredQueryEncoder.idf(tokenizerPath: tokenizer, weightsPath: weights)
            }
        case .bm25:
            let stored = try StoredQueryEncoder.bm25(tokenizerPath: tokenizer ?? "", parameters: bm25Parameters)
            encoder = stored
            try IndexBuilder.checkOutput(output, overwrite: force)
            let started = ContinuousClock.now
            let counting = ProgressLine()
            let documents = try BM25Documents(
                path: input, tokenizer: try stored.queryEncoder().tokenizer, parameters: bm25Parameters, threads: threading.threads
            ) { counting.update("counting wordpieces: \($0) documents") }
            counting.finish()
            printError(String(
                format: "BM25 statistics: %d documents, %.1f wordpieces per document, %.1f s", documents.documentCount, documents.averageLength,
                (ContinuousClock.now - started).seconds))
            source = documents
        }
        if shards > 1 {
            let started = ContinuousClock.now
            let built = try ShardedIndexBuilder(configuration: configuration, shardCount: shards).build(
                input: source, outputPath: output, overwrite: force, queryEncoder: encoder
            ) { shard, step in progress.update(step, prefix: "shard \(shard + 1)/\(shards) ") }
            progress.finish()
            let total = { (value: (BuildStatistics) -> Int) in built.map(value).reduce(0, +) }
            print("""
                indexed \(total(\.documents)) documents (\(total(\.nonzeros)) nonzeros) into \(shards) shards in \(String(format: "%.2f", (ContinuousClock.now - started).seconds)) s
                postings: \(total(\.postings)), kept in blocks: \(total(\.blockedPostings)), blocks: \(total(\.blocks)), summary entries: \(total(\.summaryEntries))
                collection: \(output) (\(formatBytes(total(\.indexBytes))) of indexes + document stores \(formatBytes(total(\.documentStoreBytes))))
                shards: \(built.enumerated().map { "\($0.offset): \($0.element.documents) documents \(String(format: "%.1f", $0.element.seconds)) s" }.joined(separator: ", "))
                """)
            if let encoder { print("text query encoder: \(encoder.description.kind.rawValue) (\(encoder.description.tokenizerFile)), in every shard") }
            if total(\.skippedEmptyLines) > 0 { printError("skipped \(total(\.skippedEmptyLines)) empty lines") }
            if total(\.droppedZeroWeights) > 0 { printError("dropped \(total(\.droppedZeroWeights)) zero weights") }
            return
        }
        let statistics = try IndexBuilder(configuration: configuration).build(
            input: source, outputPath: output, overwrite: force, queryEncoder: encoder, dense: dense.input, progress: { progress.update($0) })
        progress.finish()
        print("""
            indexed \(statistics.documents) documents (\(statistics.nonzeros) nonzeros, \(statistics.vocabularySize) tokens) in \(String(format: "%.2f", statistics.seconds)) s
            inverted lists built in \(statistics.listRanges) pass\(statistics.listRanges == 1 ? "" : "es") over the forward index (memory budget \(formatBytes(statistics.memoryBudget)))
            postings: \(statistics.postings), kept in blocks: \(statistics.blockedPostings), blocks: \(statistics.blocks), summary entries: \(statistics.summaryEntries)
            index: \(output) (\(formatBytes(statistics.indexBytes)) + document store \(formatBytes(statistics.documentStoreBytes)))
            stages: \(statistics.stageSeconds.map { "\($0.stage) \(String(format: "%.1f", $0.seconds)) s" }.joined(separator: ", "))
            """)
        if let encoder { print("text query encoder: \(encoder.description.kind.rawValue) (\(encoder.description.tokenizerFile))") }
        if let input = dense.input { print("dense vectors: \(input.path), stored \(input.precision.rawValue)") }
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
    private var started: [String: ContinuousClock.Instant] = [:]

    /// Shows `step`, after `prefix` (which also keys the rates: a new prefix starts them afresh).
    func update(_ step: BuildProgress, prefix: String = "") {
        let now = ContinuousClock.now
        let key = prefix + step.stage.rawValue
        lock.lock()
        let since = started[key] ?? now
        started[key] = since
        lock.unlock()
        let elapsed = (now - since).seconds
        var text = "\(prefix)\(step.stage.rawValue): \(step.completed)"
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
