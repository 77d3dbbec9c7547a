import Foundation
import LSRFormats
import LSRVectors

/// Lays the built structures out as the sections of `index.lsr` (see ``IndexLayout``).
struct IndexSerializer {
    let forward: SparseDataset
    let vocabulary: Vocabulary
    let sourceIDs: [UInt32]?
    let lists: [BlockedList]
    let configuration: BuildConfiguration
    let pruningRatio: Double
    let summarized: Bool

    func write(to path: String) throws -> BuildStatistics {
        let writer = try IndexFileWriter(path: path)
        let narrow = vocabulary.count <= 1 << 16

        // Postings: blocked region, then tail region.
        var documents: [UInt32] = []
        var values: [Float] = []
        var listBlocks: [UInt32] = [0]
        var blockOffsets: [UInt64] = [0]
        var blockMinimum: [Float] = []
        var blockScale: [Float] = []
        var summaries = SummarySections(dimension: vocabulary.count, componentWidth: narrow ? 2 : 4)
        let blockedCount = lists.reduce(0) { $0 + $1.blockDocuments.count }
        let tailCount = lists.reduce(0) { $0 + $1.tailDocuments.count }
        documents.reserveCapacity(blockedCount + tailCount)
        values.reserveCapacity(blockedCount + tailCount)
        for list in lists {
            documents += list.blockDocuments
            values += list.blockValues
            for size in list.blockSizes { blockOffsets.append(blockOffsets.last! + UInt64(size)) }
            listBlocks.append(UInt32(blockOffsets.count - 1))
            blockMinimum += list.blockMinimums
            blockScale += list.blockScales
            summaries.append(list)
        }
        summaries.finish()
        var listTail: [UInt64] = [UInt64(documents.count)]
        for list in lists {
            documents += list.tailDocuments
            values += list.tailValues
            listTail.append(UInt64(documents.count))
        }

        let metadata = IndexMetadata(
            formatVersion: Int(IndexFileFormat.version), documentCount: forward.count, vocabularySize: vocabulary.count,
            nonzeroCount: forward.nonzeroCount, componentWidth: narrow ? 2 : 4, valuePrecision: configuration.valuePrecision,
            postingCount: documents.count, blockedPostingCount: blockedCount, blockCount: blockMinimum.count,
            summaryComponentCount: summaries.componentCount, summaryEntryCount: summaries.codes.count,
            hasSourceComponentIDs: sourceIDs != nil,
            buildParameters: configuration.recorded.merging([
                "pruning_ratio": String(format: "%.3f", pruningRatio), "summarized": summarized ? "yes" : "no",
            ]) { $1 })
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

        if forward.nonzeroCount <= Int(UInt32.max) {
            try writer.addSection(IndexLayout.forwardOffsets, array: forward.offsets.map { UInt32($0) })
        } else {
            try writer.addSection(IndexLayout.forwardOffsets, array: forward.offsets.map { UInt64($0) })
        }
        try writer.addSection(IndexLayout.forwardVectors, array: forwardVectors(componentWidth: narrow ? 2 : 4))
        try writer.addSection(IndexLayout.postingDocuments, array: documents)
        try writeValues(IndexLayout.postingValues, values, writer)
        try writer.addSection(IndexLayout.listBlocks, array: listBlocks)
        try writer.addSection(IndexLayout.listTail, array: listTail)
        if blockOffsets.last! <= UInt64(UInt32.max) {
            try writer.addSection(IndexLayout.blockOffsets, array: blockOffsets.map { UInt32($0) })
        } else {
            try writer.addSection(IndexLayout.blockOffsets, array: blockOffsets)
        }
        try writer.addSection(IndexLayout.blockMinimum, array: blockMinimum)
        try writer.addSection(IndexLayout.blockScale, array: blockScale)
        try summaries.write(to: writer)
        try writer.finish()

        return BuildStatistics(
            documents: forward.count, nonzeros: forward.nonzeroCount, vocabularySize: vocabulary.count,
            postings: documents.count, blockedPostings: blockedCount, blocks: blockMinimum.count,
            summaryEntries: summaries.codes.count, indexBytes: fileSize(path), documentStoreBytes: 0, seconds: 0,
            skippedEmptyLines: 0, droppedZeroWeights: 0)
    }

    /// The `fwd.vectors` bytes: per document its components, then its weights (see ``IndexLayout``).
    private func forwardVectors(componentWidth: Int) -> [UInt8] {
        let precision = configuration.valuePrecision
        let slot = IndexLayout.forwardEntryBytes(componentWidth: componentWidth, valuePrecision: precision) / 2
        var bytes = [UInt8](repeating: 0, count: forward.nonzeroCount * 2 * slot)
        bytes.withUnsafeMutableBytes { raw in
            for d in 0 ..< forward.count {
                let start = forward.offsets[d], n = forward.offsets[d + 1] - start
                let componentBase = start * 2 * slot, valueBase = componentBase + n * slot
                for j in 0 ..< n {
                    let c = forward.components[start + j], v = forward.values[start + j]
                    if componentWidth == 2 {
                        raw.storeBytes(of: UInt16(truncatingIfNeeded: c).littleEndian, toByteOffset: componentBase + 2 * j, as: UInt16.self)
                    } else {
                        raw.storeBytes(of: c.littleEndian, toByteOffset: componentBase + 4 * j, as: UInt32.self)
                    }
                    switch precision {
                    case .f16: raw.storeBytes(of: HalfPrecision.encode(v).littleEndian, toByteOffset: valueBase + 2 * j, as: UInt16.self)
                    case .f32: raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: valueBase + 4 * j, as: UInt32.self)
                    }
                }
            }
        }
        return bytes
    }

    private func writeValues(_ name: String, _ values: [Float], _ writer: IndexFileWriter) throws {
        switch configuration.valuePrecision {
        case .f16: try writer.addSection(name, array: values.map(HalfPrecision.encode))
        case .f32: try writer.addSection(name, array: values)
        }
    }
}

extension IndexFileWriter {
    /// Appends component ids as u16 when `narrow` (every id < 2¹⁶), else as u32.
    func addComponentSection(_ name: String, _ components: [UInt32], narrow: Bool) throws {
        if narrow {
            try addSection(name, array: components.map { UInt16(truncatingIfNeeded: $0) })
        } else {
            try addSection(name, array: components)
        }
    }
}
