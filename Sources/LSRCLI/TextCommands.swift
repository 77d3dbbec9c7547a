import ArgumentParser
import Foundation
import LSR

/// Where `tokenize` gets its tokenizer: a file, or the encoder stored with an index.
struct TokenizerOptions: ParsableArguments {
    @Option(help: "Tokenizer: a Hugging Face tokenizer.json (BertNormalizer + BertPreTokenizer + WordPiece) or a vocab.txt.")
    var tokenizer: String?
    @Option(name: .customLong("index"), help: "Use the tokenizer of this index's text query encoder instead.")
    var indexPath: String?

    func validate() throws {
        guard (tokenizer == nil) != (indexPath == nil) else { throw ValidationError("give --tokenizer FILE or --index DIR (one of them)") }
    }

    func load() throws -> Tokenizer {
        if let tokenizer { return try Tokenizer(contentsOf: tokenizer) }
        let path = indexPath ?? ""
        // Every shard of a collection stores the same encoder: the first one's will do.
        let index = CollectionManifest.isCollection(at: path) ? path + "/" + CollectionManifest.shardDirectory(0) : path
        return try Index(path: index).requireTextEncoder().encoder.tokenizer
    }
}

/// The files of an inference-free encoder, for `encode` and `add-encoder`.
struct EncoderFiles: ParsableArguments {
    @Option(help: "Tokenizer: tokenizer.json or vocab.txt (plain or .zst).")
    var tokenizer: String
    @Option(help: "Token weights: a JSON object {token: weight} (OpenSearch's idf.json; plain or .zst).")
    var weights: String
}

/// The output of `tokenize` and `encode`: a file written atomically (it buffers), or standard
/// output in blocks of about 1 MiB.
final class RecordOutput {
    private let file: AtomicOutputFile?
    private var pending = ""

    init(path: String?) throws { file = try path.map { try AtomicOutputFile(path: $0) } }

    func write(_ line: String) throws {
        if let file { return try file.write(line) }
        pending += line
        if pending.utf8.count >= 1 << 20 { flushStandardOutput() }
    }

    private func flushStandardOutput() {
        FileHandle.standardOutput.write(Data(pending.utf8))
        pending = ""
    }

    func commit() throws {
        if let file { try file.commit() } else { flushStandardOutput() }
    }
}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the WordPiece tokens of each text: {\"id\", \"ids\", \"tokens\"} per line, in input order.",
        discussion: "Texts: BEIR corpus.jsonl / queries.jsonl (_id, title, text) or Seismic JSONL (id, content), plain or .zst. No special tokens are added. Standard error gets the tokenizer's throughput (tokenizing only, one thread): the benchmark of Evaluation/tokenizer_throughput.sh.")

    @Option(help: "Texts: .jsonl or .jsonl.zst.")
    var input: String
    @OptionGroup var source: TokenizerOptions
    @Option(help: "Write here (atomically) instead of standard output.")
    var output: String?
    @Flag(help: "Only tokenize and report the throughput (no output).")
    var countOnly = false

    func validate() throws {
        if countOnly && output != nil { throw ValidationError("--count-only writes nothing: leave out --output") }
    }

    func run() throws {
        let tokenizer = try source.load()
        let out = try countOnly ? nil : RecordOutput(path: output)
        let clock = ContinuousClock()
        var tokenizing = Duration.zero
        var texts = 0, bytes = 0, pieces = 0
        let started = clock.now
        try TextFileReader(path: input, requireUniqueIDs: false).forEach { record in
            let before = clock.now
            let ids = tokenizer.ids(record.text)
            tokenizing += clock.now - before
            texts += 1
            bytes += record.text.utf8.count
            pieces += ids.count
            guard let out else { return }
            let tokens = tokenizer.tokens(of: ids).map(JSONText.quoted).joined(separator: ", ")
            try out.write("{\"id\": \(JSONText.quoted(record.id)), \"ids\": [\(ids.map(String.init).joined(separator: ", "))], \"tokens\": [\(tokens)]}\n")
        }
        try out?.commit()
        let seconds = tokenizing.seconds, total = (clock.now - started).seconds
        printError(String(
            format: "tokenized %d texts, %.2f MB, %d wordpieces: %.3f s tokenizing (%.1f MB/s, one thread), %.2f s in all",
            texts, Double(bytes) / 1e6, pieces, seconds, Double(bytes) / 1e6 / max(seconds, 1e-9), total))
    }
}

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode texts as inference-free sparse vectors: Seismic JSONL {\"id\", \"content\", \"vector\"}, one line per text, in input order.",
        discussion: "Texts: BEIR corpus.jsonl / queries.jsonl (_id, title + text) or Seismic JSONL (id, content), plain or .zst. Each vector is the distinct tokens of the first 512 wordpieces (no special tokens), weighted by --weights; tokens weighted 0 or missing from it are left out (sentence-transformers' SparseStaticEmbedding).")

    @Option(help: "Texts: .jsonl or .jsonl.zst.")
    var input: String
    @OptionGroup var files: EncoderFiles
    @Option(help: "Write the vectors here (atomically) instead of standard output.")
    var output: String?
    @OptionGroup var threading: ThreadOptions

    func run() throws {
        let encoder = try QueryEncoder(tokenizer: try Tokenizer(contentsOf: files.tokenizer), weightsFile: files.weights)
        let out = try RecordOutput(path: output)
        var texts = 0, empty = 0
        let started = ContinuousClock.now
        let batches = TextBatches(
            reader: TextFileReader(path: input, requireUniqueIDs: false), tokenizer: encoder.tokenizer, tokenLimit: encoder.tokenLimit,
            threads: threading.threads)
        try batches.forEach { records, ids in
            for (record, pieces) in zip(records, ids) {
                let vector = encoder.vector(ids: pieces)
                let entries = zip(vector.tokenIDs, vector.weights).map { "\(JSONText.quoted(encoder.tokenizer.tokens[Int($0)])): \($1)" }
                try out.write(
                    "{\"id\": \(JSONText.quoted(record.id)), \"content\": \(JSONText.quoted(record.text)), \"vector\": {\(entries.joined(separator: ", "))}}\n")
                texts += 1
                if vector.tokenIDs.isEmpty { empty += 1 }
            }
        }
        try out.commit()
        printError(String(format: "encoded %d texts in %.2f s", texts, (ContinuousClock.now - started).seconds)
            + (empty > 0 ? ", \(empty) with no weighted token (empty vectors)" : ""))
    }
}

struct AddEncoderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-encoder",
        abstract: "Store an inference-free text query encoder (tokenizer + token weights) with an existing index, so lsr search takes text.",
        discussion: "The index must be over the tokenizer's vocabulary (e.g. bert-base-uncased wordpieces, as SPLADE and OpenSearch's sparse models use). The encoder is written atomically beside index.lsr, checksummed; lsr index --query-encoder idf does the same at build time.")

    @Option(help: "Index directory.")
    var index: String
    @OptionGroup var files: EncoderFiles
    @Flag(help: "Replace an encoder the index already has.")
    var force = false

    func run() throws {
        let opened = try openOneIndex(index, for: "add-encoder")
        do {
            if let existing = try StoredQueryEncoder.read(indexDirectory: index)?.description.kind {
                guard existing != .bm25 else {
                    throw LSRError(.invalidArgument, "the index holds BM25 impacts: its bm25 query encoder is the one that scores them; keep it", path: index)
                }
                guard force else { throw LSRError(.outputExists, "the index already has an \(existing.rawValue) query encoder; pass --force to replace it", path: index) }
            }
        } catch let error as LSRError where error.code == .corruptIndex || error.code == .unsupportedVersion {
            guard force else { throw LSRError(error.code, error.message + " (or pass --force to replace it)", path: error.path) }
        }
        let stored = try StoredQueryEncoder.idf(tokenizerPath: files.tokenizer, weightsPath: files.weights)
        do { _ = try opened.textEncoder(stored) } catch let error as LSRError { throw error.at(path: files.tokenizer) }
        try stored.write(indexDirectory: index)
        print("stored an idf query encoder in \(index)")
    }
}
