import Foundation
import LSRFormats
import LSRText
import LSRVectors

/// Builds a Seismic-layout index directory from a file of sparse vectors.
///
/// The pipeline (Bruch, Nardini, Rulli, Venturini, "Efficient Inverted Indexes for Approximate
/// Retrieval over Learned Sparse Representations", SIGIR 2024):
/// 1. stream the vectors, weights rounded to the storage precision, into the document store and
///    a forward index in scratch files (`ReadCollection`);
/// 2. number tokens canonically (ascending bytes);
/// 3. decide static pruning for the whole collection (`PruningPlan`);
/// 4. per range of lists that fits the memory budget (`BuildMemory`): invert with one pass
///    over the forward index, prune, split each list into blocks (``BlockingStrategy``),
///    summarize each block, and stream the results in list order (`PostingSpools`);
/// 5. write `index.lsr` (its bulk, the forward vectors and the tail postings, while step 4 runs:
///    `IndexSerializer`) and `documents.sqlite` into a temporary directory, sync, rename.
///
/// The index bytes depend on the input, the configuration and the lsr release (which the
/// metadata records) only, not on the memory budget or the thread count.
public struct IndexBuilder: Sendable {
    /// The build parameters, validated when a build starts.
    public var configuration: BuildConfiguration

    /// A builder with `configuration` (lsr's defaults when omitted).
    public init(configuration: BuildConfiguration = BuildConfiguration()) {
        self.configuration = configuration
    }

    /// Builds the index of the vectors in `input` at `outputPath`.
    /// - Parameters:
    ///   - overwrite: replace an existing index or sharded collection at `outputPath` (never
    ///     anything else).
    ///   - queryEncoder: a text query encoder to store with the index (``StoredQueryEncoder``).
    ///   - dense: dense document vectors to store with the index (``DenseInput``).
    ///   - progress: called with the stage and how far it is; may be called from worker threads.
    /// - Throws: `LSRError`: `.outputExists` before reading anything, input errors naming the
    ///   file and line, I/O errors. On any error the output path is left as it was.
    @discardableResult
    public func build(
        input: any VectorSource, outputPath: String, overwrite: Bool = false, queryEncoder: StoredQueryEncoder? = nil,
        dense: DenseInput? = nil, progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) throws -> BuildStatistics {
        try configuration.validate()
        let started = ContinuousClock.now
        let directory = try IndexDirectory(target: outputPath, overwrite: overwrite)
        do {
            var statistics = try write(input: input, into: directory.temporary, progress: progress)
            try queryEncoder?.write(indexDirectory: directory.temporary)
            if let dense {
                let store = try DocumentStoreReader(path: directory.temporary + "/" + DocumentStoreSchema.fileName)
                try dense.write(indexDirectory: directory.temporary, documentCount: statistics.documents) { store.position(of: $0) }
            }
            try directory.commit()
            statistics.seconds = (ContinuousClock.now - started).seconds
            return statistics
        } catch {
            directory.discard()
            throw error
        }
    }

    /// Checks, before any input is read, that ``build(input:outputPath:overwrite:queryEncoder:dense:progress:)``
    /// may write at `outputPath` (for callers that read their input once before building).
    /// - Throws: `LSRError.outputExists` or `.io`, as `build` would.
    public static func checkOutput(_ outputPath: String, overwrite: Bool) throws {
        try IndexDirectory.check(target: outputPath, overwrite: overwrite)
    }

    private func write(input: any VectorSource, into directory: String, progress: (@Sendable (BuildProgress) -> Void)?) throws -> BuildStatistics {
        let scratch = try ScratchDirectory(inside: directory)
        defer { scratch.remove() }
        var clock = StageClock()
        let storePath = directory + "/" + DocumentStoreSchema.fileName
        let store = try BackgroundDocumentStore(path: storePath)
        // However this returns, the store's thread is done with the directory first (on an error,
        // at once: the store is discarded with the directory).
        defer {
            store.abandon()
            try? store.wait()
        }
        let collection: ReadCollection
        do {
            collection = try ReadCollection.read(
                input, store: store, scratch: scratch, precision: configuration.valuePrecision, threads: configuration.threads,
                progress: progress)
        } catch {
            store.abandon()
            throw error
        }
        try store.close()
        clock.lap("reading")
        let (vocabulary, sourceIDs, rename) = canonicalizeVocabulary(used: collection.used, reader: input)
        let forward = try BuildForward.canonical(
            from: collection, rename: rename, componentWidth: IndexLayout.componentWidth(vocabularySize: vocabulary.count),
            threads: configuration.threads)
        var listLengths = [Int](repeating: 0, count: vocabulary.count)
        for (old, count) in collection.postingCounts.enumerated() where collection.used[old] { listLengths[Int(rename[old])] = count }
        clock.lap("renaming")

        let plan = PruningPlan(configuration, forward: forward, listLengths: listLengths, histogram: collection.histogram)
        let workers = workerCount(vocabulary.count, threads: configuration.threads)
        let (ranges, budget) = try BuildMemory.ranges(
            budget: configuration.memoryBudget, forward: forward, listLengths: listLengths, plan: plan, workers: workers,
            configuration: configuration)
        let context = BlockingContext(forward: forward, plan: plan, dimension: vocabulary.count, configuration: configuration, threads: configuration.threads)
        let serializer = try IndexSerializer(
            path: directory + "/" + IndexLayout.indexFileName, forward: forward, vocabulary: vocabulary, sourceIDs: sourceIDs,
            configuration: configuration, plan: plan, extraParameters: (input as? ShardDocuments)?.recordedParameters ?? [:])
        defer { serializer.abandon() }
        let summaries = try SummarySections(dimension: vocabulary.count, componentWidth: forward.componentWidth, scratch: scratch)
        let postings = try PostingSpools(
            scratch: scratch, precision: configuration.valuePrecision, summaries: summaries, tails: serializer.tailRegions())
        clock.lap("planning")
        let invertingSeconds = try blockAllLists(
            context, ranges: ranges, listLengths: listLengths, workers: workers,
            backlogBytes: BuildMemory.backlogBytes(longestList: listLengths.max() ?? 0, plan: plan), into: postings, progress: progress)
        try postings.finish()
        clock.split(("inverting", invertingSeconds), rest: "clustering")

        var statistics = try serializer.finish(postings: postings, progress: progress)
        clock.lap("writing")
        try store.wait()
        clock.lap("document store")
        statistics.stageSeconds = clock.stages
        statistics.documentStoreBytes = fileSize(storePath)
        statistics.skippedEmptyLines = input.skippedEmptyLines
        statistics.droppedZeroWeights = input.droppedZeroWeights
        statistics.listRanges = ranges.ranges.count
        statistics.memoryBudget = budget
        return statistics
    }

    /// Keeps the tokens that occur, numbers them in ascending byte order.
    /// - Returns: the vocabulary, the binary component id of each token (binary input), and the
    ///   new id of each used reader component.
    private func canonicalizeVocabulary(used: [Bool], reader: any VectorSource) -> (Vocabulary, [UInt32]?, [UInt32]) {
        let usedIDs = used.indices.filter { used[$0] }
        let (vocabulary, newIDs) = Vocabulary.canonicalizing(usedIDs.map { reader.tokens[$0] })
        var rename = [UInt32](repeating: 0, count: used.count)
        var sourceIDs = [UInt32](repeating: 0, count: usedIDs.count)
        for (i, old) in usedIDs.enumerated() {
            rename[old] = newIDs[i]
            sourceIDs[Int(newIDs[i])] = reader.sourceComponent(of: UInt32(old))
        }
        return (vocabulary, reader.format == .binary ? sourceIDs : nil, rename)
    }

    /// Inverts, prunes, blocks and summarizes every list, one range of lists at a time, and
    /// streams them in list order into `postings`.
    /// - Returns: the seconds spent inverting (collecting the ranges' postings).
    private func blockAllLists(
        _ context: BlockingContext, ranges: ListRanges, listLengths: [Int], workers: Int, backlogBytes: Int, into postings: PostingSpools,
        progress: (@Sendable (BuildProgress) -> Void)?
    ) throws -> Double {
        var invertingSeconds = 0.0
        let listCount = listLengths.count
        let workspaces = (0 ..< workers).map { _ in BlockingWorkspace(dimension: context.dimension) }
        let range = PostingRange(capacity: ranges.largestRange, documentCount: context.forward.count)
        let done = IndexDispenser()
        for (r, lists) in ranges.ranges.enumerated() {
            progress?(BuildProgress(stage: .inverting, completed: r, total: ranges.ranges.count))
            let filling = ContinuousClock.now
            range.fill(lists, lengths: listLengths, forward: context.forward)
            invertingSeconds += (ContinuousClock.now - filling).seconds
            let sink = OrderedSink<BlockedList>(first: lists.lowerBound, limit: backlogBytes) { try postings.append($0) }
            parallelForEach(lists.count, threads: workers) { worker, i in
                let t = lists.lowerBound + i
                sink.waitForTurn(t)
                guard sink.failure == nil else { return sink.deliver(t, BlockedList(), bytes: 0) }
                let (documents, values) = range.postings(of: t)
                let list = context.blockList(t, documents: documents, values: values, workspace: workspaces[worker])
                sink.deliver(t, list, bytes: list.byteCount)
                let finished = done.take() + 1
                if finished % 256 == 0 || finished == listCount {
                    progress?(BuildProgress(stage: .blocking, completed: finished, total: listCount))
                }
            }
            if let failure = sink.failure { throw failure }
        }
        return invertingSeconds
    }
}

/// Times a build's stages.
private struct StageClock {
    private var last = ContinuousClock.now
    private(set) var stages: [BuildStatistics.StageTime] = []

    /// Ends the stage that ran since the previous lap.
    mutating func lap(_ stage: String) {
        let now = ContinuousClock.now
        stages.append(.init(stage: stage, seconds: (now - last).seconds))
        last = now
    }

    /// Ends a stage of which `part` (seconds) is reported as its own stage and the rest as `rest`.
    mutating func split(_ part: (String, Double), rest: String) {
        lap(rest)
        stages[stages.count - 1].seconds -= part.1
        stages.insert(.init(stage: part.0, seconds: part.1), at: stages.count - 1)
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}
