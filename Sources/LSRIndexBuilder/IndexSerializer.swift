import Foundation
import LSRFormats
import LSRVectors

/// Writes `index.lsr` (the sections of ``IndexLayout``) in two steps around the blocking of the
/// lists, so that its bulk reaches the disk while the lists are clustered rather than after:
/// - ``init(path:forward:vocabulary:sourceIDs:configuration:plan:)`` (once pruning is planned)
///   writes the vocabulary and the forward offsets, reserves the forward vectors and the
///   postings, whose lengths are known by then, and starts writing the forward vectors on a
///   thread of its own; the blocking writes each list's tail postings straight to their place
///   (``tailRegions()``);
/// - ``finish(postings:progress:)`` writes the blocked postings in front of the tails, checksums
///   the posting sections, appends the blocks, the summaries and the metadata (last: its counts
///   are known only now), then the table, and syncs.
final class IndexSerializer {
    let forward: BuildForward
    let vocabulary: Vocabulary
    let configuration: BuildConfiguration
    let plan: PruningPlan
    let path: String
    private let writer: IndexFileWriter
    private let forwardVectors: BatchWorker<Range<Int>>
    private let forwardJob: ForwardVectorsJob
    /// File offsets of the `post.docs` and `post.values` sections.
    private let postingDocumentsStart: Int
    private let postingValuesStart: Int
    private let valueWidth: Int
    private let hasSourceIDs: Bool
    /// Recorded in the metadata's build parameters besides the configuration's (a shard's place).
    private let extraParameters: [String: String]

    init(
        path: String, forward: BuildForward, vocabulary: Vocabulary, sourceIDs: [UInt32]?, configuration: BuildConfiguration,
        plan: PruningPlan, extraParameters: [String: String] = [:]
    ) throws {
        self.path = path
        self.extraParameters = extraParameters
        self.forward = forward
        self.vocabulary = vocabulary
        self.configuration = configuration
        self.plan = plan
        valueWidth = configuration.valuePrecision.byteWidth
        hasSourceIDs = sourceIDs != nil
        writer = try IndexFileWriter(path: path)

        var tokenBytes: [UInt8] = []
        var tokenOffsets: [UInt32] = [0]
        for token in vocabulary.tokens {
            tokenBytes += token.utf8
            tokenOffsets.append(UInt32(tokenBytes.count))
        }
        try writer.addSection(IndexLayout.vocabularyBytes, array: tokenBytes)
        try writer.addSection(IndexLayout.vocabularyOffsets, array: tokenOffsets)
        if let sourceIDs { try writer.addSection(IndexLayout.vocabularySource, array: sourceIDs) }

        try writer.beginSection(IndexLayout.forwardOffsets)
        if forward.nonzeroCount <= Int(UInt32.max) {
            try IndexSerializer.appendConverted(forward.offsets, to: writer) { UInt32($0) }
        } else {
            try IndexSerializer.appendConverted(forward.offsets, to: writer) { UInt64($0) }
        }
        try writer.endSection()

        let entryBytes = IndexLayout.forwardEntryBytes(componentWidth: forward.componentWidth, valuePrecision: forward.precision)
        let forwardStart = try writer.reserveSection(IndexLayout.forwardVectors, length: forward.nonzeroCount * entryBytes)
        let postingCount = forward.nonzeroCount
        postingDocumentsStart = try writer.reserveSection(IndexLayout.postingDocuments, length: postingCount * MemoryLayout<UInt32>.stride)
        postingValuesStart = try writer.reserveSection(IndexLayout.postingValues, length: postingCount * valueWidth)

        let job = ForwardVectorsJob(forward: forward, region: IndexFileRegion(writer: writer, start: forwardStart, length: forward.nonzeroCount * entryBytes))
        let chunks = job.chunks()
        forwardJob = job
        forwardVectors = BatchWorker(name: "lsr-forward-writer", waiting: max(1, chunks.count), process: { try job.write($0) })
        for chunk in chunks { try forwardVectors.hand(chunk) }
        forwardVectors.close()
    }

    /// Stops writing the forward vectors (after a failure) and waits for the writing thread.
    func abandon() {
        forwardVectors.abandon()
        try? forwardVectors.wait()
    }

    /// Where the blocking writes the tail postings, list after list: the documents and the
    /// weights after the blocked region of their sections (``PruningPlan/blockedPostings``).
    func tailRegions() -> (documents: IndexFileRegion, values: IndexFileRegion) {
        let blocked = plan.blockedPostings, tail = forward.nonzeroCount - blocked
        return (
            IndexFileRegion(writer: writer, start: postingDocumentsStart + blocked * MemoryLayout<UInt32>.stride, length: tail * MemoryLayout<UInt32>.stride),
            IndexFileRegion(writer: writer, start: postingValuesStart + blocked * valueWidth, length: tail * valueWidth)
        )
    }

    func finish(postings: PostingSpools, progress: (@Sendable (BuildProgress) -> Void)?) throws -> BuildStatistics {
        let componentWidth = forward.componentWidth
        let summaries = postings.summaries
        let postingCount = postings.blockedCount + postings.tailCount
        precondition(postings.blockedCount == plan.blockedPostings, "blocked postings differ from the plan's count")
        precondition(postingCount == forward.nonzeroCount, "postings differ from the forward index's nonzeros")
        // Progress by group: forward index, postings, values, blocks, summaries and metadata.
        let groups = 5
        var written = 0
        func report() {
            written += 1
            progress?(BuildProgress(stage: .writing, completed: written, total: groups))
        }

        try forwardVectors.wait()
        writer.completeSection(IndexLayout.forwardVectors, checksum: try forwardJob.finish())
        report()
        for (name, start, width, spool) in [
            (IndexLayout.postingDocuments, postingDocumentsStart, MemoryLayout<UInt32>.stride, postings.blockDocuments),
            (IndexLayout.postingValues, postingValuesStart, valueWidth, postings.blockValues),
        ] {
            let region = IndexFileRegion(writer: writer, start: start, length: plan.blockedPostings * width)
            try spool.forEachChunk(of: UInt8.self) { try region.append(UnsafeRawBufferPointer($0)) }
            try region.finish()
            try writer.completeSectionReadingBack(name)
            report()
        }
        try writer.addSection(IndexLayout.listBlocks, array: postings.listBlocks)
        try writer.addSection(IndexLayout.listTail, array: postings.tailEnds.map { $0 + UInt64(postings.blockedCount) })
        try writer.addSection(IndexLayout.listTailMaximum, array: postings.tailMaximums)
        try writer.beginSection(IndexLayout.blockOffsets)
        if postings.blockedCount <= Int(UInt32.max) {
            try postings.blockOffsets.forEachChunk(of: UInt64.self) { chunk in try writer.append(contentsOf: chunk.map { UInt32($0) }) }
        } else {
            try postings.blockOffsets.copy(into: writer)
        }
        try writer.endSection()
        for (name, spool) in [(IndexLayout.blockMinimum, postings.blockMinimum), (IndexLayout.blockScale, postings.blockScale)] {
            try writer.beginSection(name)
            try spool.copy(into: writer)
            try writer.endSection()
        }
        report()
        try summaries.write(to: writer)

        var buildParameters = configuration.recorded.merging(extraParameters) { $1 }
        buildParameters["pruning_ratio"] = String(format: "%.3f", plan.pruningRatio)
        buildParameters["summarized"] = plan.summarized ? "yes" : "no"
        if let n = plan.nPostings { buildParameters["n_postings"] = "\(n)" }
        let metadata = IndexMetadata(
            formatVersion: Int(IndexFileFormat.version), documentCount: forward.count, vocabularySize: vocabulary.count,
            nonzeroCount: forward.nonzeroCount, componentWidth: componentWidth, valuePrecision: configuration.valuePrecision,
            postingCount: postingCount, blockedPostingCount: postings.blockedCount, blockCount: postings.blockCount,
            summaryComponentCount: summaries.componentCount, summaryEntryCount: summaries.entryCount,
            hasSourceComponentIDs: hasSourceIDs,
            buildParameters: buildParameters)
        try writer.addSection(IndexLayout.metadata, array: try metadata.encoded())
        try writer.finish()
        report()

        return BuildStatistics(
            documents: forward.count, nonzeros: forward.nonzeroCount, vocabularySize: vocabulary.count,
            postings: postingCount, blockedPostings: postings.blockedCount, blocks: postings.blockCount,
            summaryEntries: summaries.entryCount, indexBytes: fileSize(path), documentStoreBytes: 0, seconds: 0,
            skippedEmptyLines: 0, droppedZeroWeights: 0, listRanges: 0, memoryBudget: 0)
    }

    /// Appends `values` converted element by element, a chunk at a time.
    private static func appendConverted<T: BitwiseCopyable>(_ values: [Int], to writer: IndexFileWriter, _ convert: (Int) -> T) throws {
        let chunk = 1 << 20
        for start in stride(from: 0, to: values.count, by: chunk) {
            try writer.append(contentsOf: values[start ..< min(start + chunk, values.count)].map(convert))
        }
    }
}

/// Writes the `fwd.vectors` section, chunk after chunk of documents, checksumming it on the way
/// (on the writer thread of ``IndexSerializer``, which alone touches it until that thread is
/// waited for). Per document a region of 2n slots of the wider of the two widths: its n
/// components packed from the start and its n weights packed from slot n (see ``IndexLayout``).
final class ForwardVectorsJob: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time (the writer thread, then the waiter).
    private let forward: BuildForward
    private let region: IndexFileRegion
    private var hasher = XXHash64.Hasher()
    private var bytes: [UInt8] = []
    /// Bytes per chunk (a chunk holds at least one document).
    static let chunkBytes = 8 << 20

    init(forward: BuildForward, region: IndexFileRegion) {
        self.forward = forward
        self.region = region
    }

    /// Consecutive ranges of documents of about ``chunkBytes`` bytes each.
    func chunks() -> [Range<Int>] {
        let entryBytes = IndexLayout.forwardEntryBytes(componentWidth: forward.componentWidth, valuePrecision: forward.precision)
        var ranges: [Range<Int>] = []
        var start = 0
        for d in 0 ..< forward.count where (forward.offsets[d + 1] - forward.offsets[start]) * entryBytes >= ForwardVectorsJob.chunkBytes {
            ranges.append(start ..< d + 1)
            start = d + 1
        }
        if start < forward.count { ranges.append(start ..< forward.count) }
        return ranges
    }

    /// Writes the vectors of `documents`, which follow those written before.
    func write(_ documents: Range<Int>) throws {
        let componentWidth = forward.componentWidth, precision = forward.precision
        let slot = IndexLayout.forwardEntryBytes(componentWidth: componentWidth, valuePrecision: precision) / 2
        bytes.removeAll(keepingCapacity: true)
        for d in documents {
            let entries = forward.offsets[d] ..< forward.offsets[d + 1]
            if slot == componentWidth && slot == precision.byteWidth {
                let (components, values) = forward.bytes(of: entries)
                bytes.append(contentsOf: components)
                bytes.append(contentsOf: values)
            } else {
                let base = bytes.count, n = entries.count
                bytes.append(contentsOf: repeatElement(0, count: n * 2 * slot))
                bytes.withUnsafeMutableBytes { raw in
                    for (i, j) in entries.enumerated() {
                        let c = forward.component(j), v = forward.value(j)
                        if componentWidth == 2 {
                            raw.storeBytes(of: UInt16(truncatingIfNeeded: c).littleEndian, toByteOffset: base + 2 * i, as: UInt16.self)
                        } else {
                            raw.storeBytes(of: UInt32(truncatingIfNeeded: c).littleEndian, toByteOffset: base + 4 * i, as: UInt32.self)
                        }
                        switch precision {
                        case .f16: raw.storeBytes(of: HalfPrecision.encode(v).littleEndian, toByteOffset: base + n * slot + 2 * i, as: UInt16.self)
                        case .f32: raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: base + n * slot + 4 * i, as: UInt32.self)
                        }
                    }
                }
            }
        }
        try bytes.withUnsafeBytes { raw in
            hasher.update(raw)
            try region.append(raw)
        }
    }

    /// Writes what the region still buffers, once every chunk is written; returns the section's checksum.
    func finish() throws -> UInt64 {
        try region.finish()
        return hasher.finalize()
    }
}
