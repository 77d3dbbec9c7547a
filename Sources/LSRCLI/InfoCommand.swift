import ArgumentParser
import Foundation
import LSR

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe an index: counts, build parameters, bytes per section.")

    @OptionGroup var location: IndexLocation

    func run() throws {
        let directory = location.path
        if CollectionManifest.isCollection(at: directory) { return try describeCollection(directory) }
        let index = try Index(path: directory)
        let m = index.metadata
        var text = """
            index: \(directory) (format version \(m.formatVersion), written by \(m.writtenBy.map { "lsr " + $0 } ?? "an lsr that did not record its release"))
            documents: \(m.documentCount)
            nonzeros: \(m.nonzeroCount) (\(String(format: "%.1f", Double(m.nonzeroCount) / Double(max(1, m.documentCount)))) per document)
            vocabulary: \(m.vocabularySize) tokens, \(m.componentWidth)-byte component ids, \(m.valuePrecision.rawValue) weights
            postings: \(m.postingCount) (\(m.blockedPostingCount) in blocks, \(m.postingCount - m.blockedPostingCount) pruned to the exact-only tail)
            blocks: \(m.blockCount) (\(String(format: "%.1f", Double(m.blockedPostingCount) / Double(max(1, m.blockCount)))) postings per block)
            summaries: \(m.summaryEntryCount) entries over \(m.summaryComponentCount) list components

            """
        text += "build parameters:\n"
        for (name, value) in m.buildParameters.sorted(by: { $0.key < $1.key }) { text += "  \(name): \(value)\n" }
        text += "bytes per section:\n"
        for (name, bytes) in index.sectionSizes { text += "  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(bytes)\n" }
        let storeBytes = (try? FileManager.default.attributesOfItem(atPath: index.documents.path)[.size] as? Int) ?? 0
        text += "  index.lsr total  \(index.fileBytes) (\(formatBytes(index.fileBytes)))\n"
        text += "  documents.sqlite \(storeBytes) (\(formatBytes(storeBytes)))\n"
        text += presetLines { try index.presets() }
        do {
            if let encoder = try StoredQueryEncoder.read(indexDirectory: directory)?.description {
                text += "text query encoder: \(encoder.kind.rawValue), tokenizer \(encoder.tokenizerFile) (\(encoder.tokenizerBytes) bytes)"
                if let weights = encoder.weightsFile { text += ", weights \(weights) (\(encoder.weightsBytes) bytes)" }
                if let k1 = encoder.k1, let b = encoder.b { text += ", BM25 k1 \(k1) b \(b)" }
                if encoder.queryTermFrequency { text += ", query term frequency" }
                text += "\n"
            } else {
                text += "text query encoder: none (lsr add-encoder stores one, for lsr search --query)\n"
            }
        } catch let error as LSRError {
            text += "text query encoder: unusable (\(error.message))\n"
        }
        do {
            if let dense = try index.denseVectors() {
                let d = dense.metadata
                text += "dense vectors: \(d.rows) × \(d.dimension), \(d.precision.rawValue), from \(d.source); "
                    + "\(DenseLayout.fileName) \(dense.fileBytes) (\(formatBytes(dense.fileBytes)))\n"
            } else {
                text += "dense vectors: none (lsr add-dense stores them, for hybrid search)\n"
            }
        } catch let error as LSRError {
            text += "dense vectors: unusable (\(error.message))\n"
        }
        print(text, terminator: "")
    }

    /// `lsr info` of a sharded collection: the manifest, a line per shard, the totals, and the
    /// build parameters (the first shard's; those that differ between shards, per shard).
    private func describeCollection(_ directory: String) throws {
        let collection = try ShardedIndex(path: directory)
        let manifest = collection.manifest
        var text = """
            collection: \(directory) (\(manifest.partition) over \(manifest.shards.count) shards, manifest format \(CollectionManifest.formatVersion), written by lsr \(manifest.writtenBy))
            documents: \(manifest.documentCount)

            """
        let columns = ["shard", "documents", "nonzeros", "postings", "in blocks", "blocks", "index.lsr", "documents.sqlite"]
        var rows: [[String]] = []
        var totals = [Int](repeating: 0, count: columns.count - 1)
        for (shard, index) in zip(manifest.shards, collection.shards) {
            let m = index.metadata
            let storeBytes = (try? FileManager.default.attributesOfItem(atPath: index.documents.path)[.size] as? Int) ?? 0
            let values = [m.documentCount, m.nonzeroCount, m.postingCount, m.blockedPostingCount, m.blockCount, index.fileBytes, storeBytes]
            for (i, value) in values.enumerated() { totals[i] += value }
            rows.append([shard.directory] + values.map(String.init))
        }
        rows.append(["total"] + totals.map(String.init))
        let widths = columns.indices.map { c in ([columns[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            "  " + cells.enumerated().map { c, cell in c == 0 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell }
                .joined(separator: "  ") + "\n"
        }
        text += line(columns) + rows.map(line).joined()
        text += "  bytes: \(formatBytes(totals[5])) of indexes, \(formatBytes(totals[6])) of document stores\n"
        let parameters = collection.shards.map(\.metadata.buildParameters)
        text += "build parameters (\(manifest.shards[0].directory)):\n"
        for (name, value) in parameters[0].sorted(by: { $0.key < $1.key }) {
            let values = parameters.map { $0[name] ?? "-" }
            text += "  \(name): \(value)" + (Set(values).count > 1 ? " (per shard: \(values.joined(separator: ", ")))" : "") + "\n"
        }
        text += presetLines { try collection.presets() }
        do {
            if let encoder = try StoredQueryEncoder.read(indexDirectory: collection.shards[0].path)?.description {
                text += "text query encoder: \(encoder.kind.rawValue), tokenizer \(encoder.tokenizerFile), in every shard\n"
            } else {
                text += "text query encoder: none\n"
            }
        } catch let error as LSRError {
            text += "text query encoder: unusable (\(error.message))\n"
        }
        print(text, terminator: "")
    }
}

/// `lsr info`'s presets lines: the table, that there are none, or why they cannot be used.
private func presetLines(_ read: () throws -> SearchPresets?) -> String {
    do {
        guard let presets = try read() else { return "presets: none (lsr tune stores them, for lsr search --target-recall)\n" }
        return presetTable(presets)
    } catch let error as LSRError {
        return "presets: unusable (\(error.message))\n"
    } catch {
        return "presets: unusable (\(error))\n"
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify every section of an index against its checksum, and the document store's integrity.")

    @OptionGroup var location: IndexLocation

    func run() throws {
        let directory = location.path
        if CollectionManifest.isCollection(at: directory) { return try checkCollection(directory) }
        let index = try Index(path: directory)
        let dense = try index.denseVectors()
        let damaged = index.verify() + (dense?.verify().map { DenseLayout.fileName + ": " + $0 } ?? [])
        guard damaged.isEmpty else {
            throw LSRError(.corruptIndex, "checksum mismatch in section(s) \(damaged.joined(separator: ", ")); rebuild the index", path: directory)
        }
        if let problem = index.documents.integrityProblems().first {
            throw LSRError(.documentStore, "the document store is damaged (\(problem)); rebuild the index", path: index.documents.path)
        }
        var sideFiles = ""
        if try index.presets() != nil { sideFiles += ", presets" }
        if try index.textEncoder() != nil { sideFiles += ", text query encoder" }
        if let dense { sideFiles += ", dense vectors (\(dense.fileBytes) bytes)" }
        print("\(directory): ok (\(index.sectionSizes.count) sections, \(index.fileBytes) bytes and \(index.documentCount) stored documents verified\(sideFiles))")
    }

    /// `lsr check` of a sharded collection: the manifest (read when opening), then every shard
    /// as an index.
    private func checkCollection(_ directory: String) throws {
        let collection = try ShardedIndex(path: directory)
        let damaged = collection.verify()
        guard damaged.isEmpty else {
            throw LSRError(.corruptIndex, "checksum mismatch in section(s) \(damaged.joined(separator: ", ")); rebuild the collection", path: directory)
        }
        for index in collection.shards {
            if let problem = index.documents.integrityProblems().first {
                throw LSRError(.documentStore, "the document store is damaged (\(problem)); rebuild the collection", path: index.documents.path)
            }
            _ = try index.presets()  // side files are decoded, which checks their checksums
            _ = try index.textEncoder()
        }
        let presets = try collection.presets() != nil ? ", presets" : ""
        let bytes = collection.shards.reduce(0) { $0 + $1.fileBytes }
        print("\(directory): ok (collection of \(collection.shards.count) shards: manifest, \(bytes) bytes of indexes and \(collection.documentCount) stored documents verified\(presets))")
    }
}

/// The index directory of `info` and `check`: an argument, or `--index` as `lsr search` takes it.
struct IndexLocation: ParsableArguments {
    @Argument(help: "Index directory.")
    var directory: String?
    @Option(name: .customLong("index"), help: "Index directory (instead of the argument).")
    var indexOption: String?

    func validate() throws {
        guard (directory == nil) != (indexOption == nil) else {
            throw ValidationError("give the index directory once: as an argument or with --index")
        }
    }

    var path: String { directory ?? indexOption ?? "" }
}
