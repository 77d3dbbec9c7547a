import Foundation
import LSRFormats
import LSRVectors

/// Lays the built structures out as the sections of `index.lsr` (see ``IndexLayout``),
/// streaming the large ones from the forward index and the scratch files.
struct IndexSerializer {
    let forward: BuildForward
    let vocabulary: Vocabulary
    let sourceIDs: [UInt32]?
    let postings: PostingSpools
    let configuration: BuildConfiguration
    let plan: PruningPlan

    func write(to path: String, progress: (@Sendable (BuildProgress) -> Void)?) throws -> BuildStatistics {
        let writer = try IndexFileWriter(path: path)
        let componentWidth = forward.componentWidth
        let summaries = postings.summaries
        let postingCount = postings.blockedCount + postings.tailCount
        // Progress by group: vocabulary, forward index, postings, values, blocks; summaries.
        let groups = 6
        var written = 0
        func report() {
            written += 1
            progress?(BuildProgress(stage: .writing, completed: written, total: groups))
        }

        var buildParameters = configuration.recorded
        buildParameters["pruning_ratio"] = String(format: "%.3f", plan.pruningRatio)
        buildParameters["summarized"] = plan.summarized ? "yes" : "no"
        if let n = plan.nPostings { buildParameters["n_postings"] = "\(n)" }
        let metadata = IndexMetadata(
            formatVersion: Int(IndexFileFormat.version), documentCount: forward.count, vocabularySize: vocabulary.count,
            nonzeroCount: forward.nonzeroCount, componentWidth: componentWidth, valuePrecision: configuration.valuePrecision,
            postingCount: postingCount, blockedPostingCount: postings.blockedCount, blockCount: postings.blockCount,
            summaryComponentCount: summaries.componentCount, summaryEntryCount: summaries.entryCount,
            hasSourceComponentIDs: sourceIDs != nil,
            buildParameters: buildParameters)
        try writer.addSection(IndexLayout.metadata, array: try metadata.encoded())

        var tokenBytes: [UInt8] = []
        var tokenOffsets: [UInt32] = [0]
        for token in vocabulary.tokens {
            tokenBytes += token.utf8
            tokenOffsets.append(UInt32(tokenBytes.count))
        }
        try writer.addSection(IndexLayout.vocabularyBytes, array: tokenBytes)
        try writer.addSection(IndexLayout.vocabularyOffsets, array: tokenOffsets)
        if let sourceIDs { try writer.addSection(IndexLayout.vocabularySource, array: sourceIDs) }
        report()

        try writer.beginSection(IndexLayout.forwardOffsets)
        if forward.nonzeroCount <= Int(UInt32.max) {
            try appendConverted(forward.offsets, to: writer) { UInt32($0) }
        } else {
            try appendConverted(forward.offsets, to: writer) { UInt64($0) }
        }
        try writer.endSection()
        try writer.beginSection(IndexLayout.forwardVectors)
        try appendForwardVectors(to: writer)
        try writer.endSection()
        report()

        for (name, regions) in [
            (IndexLayout.postingDocuments, [postings.blockDocuments, postings.tailDocuments]),
            (IndexLayout.postingValues, [postings.blockValues, postings.tailValues]),
        ] {
            try writer.beginSection(name)
            for region in regions { try region.copy(into: writer) }
            try writer.endSection()
            report()
        }
        try writer.addSection(IndexLayout.listBlocks, array: postings.listBlocks)
        try writer.addSection(IndexLayout.listTail, array: postings.tailEnds.map { $0 + UInt64(postings.blockedCount) })
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
        try writer.finish()
        report()

        return BuildStatistics(
            documents: forward.count, nonzeros: forward.nonzeroCount, vocabularySize: vocabulary.count,
            postings: postingCount, blockedPostings: postings.blockedCount, blocks: postings.blockCount,
            summaryEntries: summaries.entryCount, indexBytes: fileSize(path), documentStoreBytes: 0, seconds: 0,
            skippedEmptyLines: 0, droppedZeroWeights: 0, listRanges: 0, memoryBudget: 0)
    }

    /// Appends `values` converted element by element, a chunk at a time.
    private func appendConverted<T: BitwiseCopyable>(_ values: [Int], to writer: IndexFileWriter, _ convert: (Int) -> T) throws {
        let chunk = 1 << 20
        for start in stride(from: 0, to: values.count, by: chunk) {
            try writer.append(contentsOf: values[start ..< min(start + chunk, values.count)].map(convert))
        }
    }

    /// The `fwd.vectors` bytes: per document a region of 2n slots of the wider of the two
    /// widths, its n components packed from the start and its n weights packed from slot n (see
    /// ``IndexLayout``); a straight copy of the build's forward index when both widths agree.
    private func appendForwardVectors(to writer: IndexFileWriter) throws {
        let componentWidth = forward.componentWidth, precision = forward.precision
        let slot = IndexLayout.forwardEntryBytes(componentWidth: componentWidth, valuePrecision: precision) / 2
        var bytes: [UInt8] = []
        let flushAt = 4 << 20
        bytes.reserveCapacity(flushAt + 1 << 16)
        for d in 0 ..< forward.count {
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
            if bytes.count >= flushAt {
                try writer.append(contentsOf: bytes)
                bytes.removeAll(keepingCapacity: true)
            }
        }
        try writer.append(contentsOf: bytes)
    }
}
