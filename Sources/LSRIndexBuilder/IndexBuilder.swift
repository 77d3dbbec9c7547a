import Foundation
import LSRFormats
import LSRVectors

/// Builds a Seismic-layout index directory from a file of sparse vectors.
///
/// The pipeline (Bruch, Nardini, Rulli, Venturini, "Efficient Inverted Indexes for Approximate
/// Retrieval over Learned Sparse Representations", SIGIR 2024):
/// 1. stream the vectors into a CSR forward index and the document store;
/// 2. number tokens canonically (ascending bytes) and round weights to the storage precision;
/// 3. invert, and statically prune each list (``PruningStrategy``);
/// 4. split each pruned list into blocks (``BlockingStrategy``) and summarize each block;
/// 5. write `index.lsr` and `documents.sqlite` into a temporary directory, sync, rename.
public struct IndexBuilder: Sendable {
    public var configuration: BuildConfiguration

    public init(configuration: BuildConfiguration = BuildConfiguration()) {
        self.configuration = configuration
    }

    /// Builds the index of the vectors in `input` at `outputPath`.
    /// - Parameters:
    ///   - overwrite: replace an existing index at `outputPath` (never anything else).
    ///   - progress: called with the stage and how far it is; may be called from worker threads.
    /// - Throws: `LSRError`: `.outputExists` before reading anything, input errors naming the
    ///   file and line, I/O errors. On any error the output path is left as it was.
    @discardableResult
    public func build(
        input: VectorFileReader, outputPath: String, overwrite: Bool = false,
        progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) throws -> BuildStatistics {
        try configuration.validate()
        let started = ContinuousClock.now
        let directory = try IndexDirectory(target: outputPath, overwrite: overwrite)
        do {
            var statistics = try write(input: input, into: directory.temporary, progress: progress)
            try directory.commit()
            statistics.seconds = (ContinuousClock.now - started).seconds
            return statistics
        } catch {
            directory.discard()
            throw error
        }
    }

    private func write(input: VectorFileReader, into directory: String, progress: (@Sendable (BuildProgress) -> Void)?) throws -> BuildStatistics {
        let storePath = directory + "/" + DocumentStoreSchema.fileName
        let store = try DocumentStoreWriter(path: storePath)
        var dataset = SparseDataset()
        let storesHalves = configuration.valuePrecision == .f16
        try input.forEach { record in
            if storesHalves, let j = record.values.firstIndex(where: { $0 > HalfPrecision.greatestFiniteMagnitude }) {
                throw LSRError(
                    .invalidInput,
                    "document '\(record.id)' has weight \(record.values[j]), beyond half precision's 65504; rebuild with --precision f32",
                    path: input.path, line: record.line, field: "vector." + input.tokens[Int(record.components[j])])
            }
            dataset.append(components: record.components, values: record.values)
            try store.add(position: record.position, id: record.id, content: record.content)
            if dataset.count % 10_000 == 0 { progress?(BuildProgress(stage: .reading, completed: dataset.count, total: nil)) }
        }
        try store.finish()
        guard dataset.count > 0 else {
            throw LSRError(.invalidInput, "no vectors: the input holds no documents", path: input.path)
        }
        progress?(BuildProgress(stage: .reading, completed: dataset.count, total: dataset.count))

        let (vocabulary, sourceIDs) = canonicalizeVocabulary(&dataset, reader: input)
        // Summaries, clustering and scores all see the stored (rounded) weights.
        if storesHalves { dataset.transformValues(HalfPrecision.round) }

        progress?(BuildProgress(stage: .inverting, completed: 0, total: 1))
        let lists = InvertedLists(forward: dataset, dimension: vocabulary.count)
        var kept = lists.keptPostings(configuration.pruning)
        let pruningRatio = lists.pruningRatio(kept: kept)
        let summarized: Bool
        switch configuration.summaries {
        case .always: summarized = true
        case .never: summarized = false
        case .automatic: summarized = pruningRatio >= BuildConfiguration.minimumPruningRatio
        }
        // Without summaries every posting goes to the tail region, which exact search reads.
        if !summarized { kept = [Bool](repeating: false, count: kept.count) }
        progress?(BuildProgress(stage: .inverting, completed: 1, total: 1))

        let context = BlockingContext(forward: dataset, lists: lists, kept: kept, dimension: vocabulary.count, configuration: configuration)
        let blocked = blockAllLists(context, progress: progress)

        progress?(BuildProgress(stage: .writing, completed: 0, total: 1))
        let indexPath = directory + "/" + IndexLayout.indexFileName
        var statistics = try IndexSerializer(
            forward: dataset, vocabulary: vocabulary, sourceIDs: sourceIDs, lists: blocked,
            configuration: configuration, pruningRatio: pruningRatio, summarized: summarized
        ).write(to: indexPath)
        progress?(BuildProgress(stage: .writing, completed: 1, total: 1))
        statistics.documentStoreBytes = fileSize(storePath)
        statistics.skippedEmptyLines = input.skippedEmptyLines
        statistics.droppedZeroWeights = input.droppedZeroWeights
        return statistics
    }

    /// Keeps the tokens that occur, numbers them in ascending byte order and renames the
    /// dataset's components accordingly.
    private func canonicalizeVocabulary(_ dataset: inout SparseDataset, reader: VectorFileReader) -> (Vocabulary, [UInt32]?) {
        var used = [Bool](repeating: false, count: reader.tokens.count)
        for c in dataset.components { used[Int(c)] = true }
        let usedIDs = used.indices.filter { used[$0] }
        let (vocabulary, newIDs) = Vocabulary.canonicalizing(usedIDs.map { reader.tokens[$0] })
        var rename = [UInt32](repeating: 0, count: reader.tokens.count)
        var sourceIDs = [UInt32](repeating: 0, count: usedIDs.count)
        for (i, old) in usedIDs.enumerated() {
            rename[old] = newIDs[i]
            sourceIDs[Int(newIDs[i])] = reader.sourceComponent(of: UInt32(old))
        }
        dataset.renameComponents(rename)
        return (vocabulary, reader.format == .binary ? sourceIDs : nil)
    }

    private func blockAllLists(_ context: BlockingContext, progress: (@Sendable (BuildProgress) -> Void)?) -> [BlockedList] {
        let listCount = context.lists.listCount
        let order = (0 ..< listCount).sorted {
            let a = context.lists.starts[$0 + 1] - context.lists.starts[$0]
            let b = context.lists.starts[$1 + 1] - context.lists.starts[$1]
            return a != b ? a > b : $0 < $1
        }
        let workers = workerCount(listCount, threads: configuration.threads)
        let workspaces = (0 ..< workers).map { _ in BlockingWorkspace(dimension: context.dimension) }
        let slots = ParallelSlots<BlockedList>(count: listCount)
        let done = IndexDispenser()
        parallelForEach(listCount, threads: workers) { worker, i in
            let t = order[i]
            slots[t] = context.blockList(t, workspace: workspaces[worker])
            let finished = done.take() + 1
            if finished % 256 == 0 || finished == listCount {
                progress?(BuildProgress(stage: .blocking, completed: finished, total: listCount))
            }
        }
        return slots.collect()
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
