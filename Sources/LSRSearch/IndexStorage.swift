import LSRFormats
import LSRVectors

/// The mapped sections of an index, typed, with their structure checked.
struct IndexStorage: @unchecked Sendable {
    // @unchecked Sendable: read-only views into a mapping owned by the Index.
    let documentCount: Int
    let dimension: Int
    let forwardOffsets: UnsafeBufferPointer<UInt64>
    let forwardComponents: UnsafeRawBufferPointer
    let forwardValues: UnsafeRawBufferPointer
    let postingDocuments: UnsafeBufferPointer<UInt32>
    let postingValues: UnsafeRawBufferPointer
    let listBlocks: UnsafeBufferPointer<UInt32>
    let listTail: UnsafeBufferPointer<UInt64>
    let blockOffsets: UnsafeBufferPointer<UInt64>
    let blockMinimum: UnsafeBufferPointer<Float>
    let blockScale: UnsafeBufferPointer<Float>
    let listSummary: UnsafeBufferPointer<UInt64>
    let summaryComponents: UnsafeRawBufferPointer
    let summaryOffsets: UnsafeBufferPointer<UInt64>
    let summaryBlocks: UnsafeBufferPointer<UInt16>
    let summaryCodes: UnsafeBufferPointer<UInt8>
    let narrowComponents: Bool
    let halfValues: Bool

    init(file: IndexFile, metadata m: IndexMetadata) throws {
        let path = file.path
        guard m.componentWidth == 2 || m.componentWidth == 4, m.documentCount >= 0, m.vocabularySize >= 0,
              m.componentWidth == 4 || m.vocabularySize <= 1 << 16 else {
            throw LSRError(.corruptIndex, "inconsistent metadata", path: path, field: IndexLayout.metadata)
        }
        documentCount = m.documentCount
        dimension = m.vocabularySize
        narrowComponents = m.componentWidth == 2
        halfValues = m.valuePrecision == .f16
        let valueWidth = halfValues ? 2 : 4
        func sized(_ name: String, _ count: Int, _ width: Int) throws -> UnsafeRawBufferPointer {
            let bytes = try file.section(name)
            guard bytes.count == count * width else {
                throw LSRError(.corruptIndex, "section '\(name)' has \(bytes.count) bytes, expected \(count * width)", path: path, field: name)
            }
            return bytes
        }
        let v = m.vocabularySize
        forwardOffsets = try file.array(IndexLayout.forwardOffsets, of: UInt64.self, count: m.documentCount + 1)
        forwardComponents = try sized(IndexLayout.forwardComponents, m.nonzeroCount, m.componentWidth)
        forwardValues = try sized(IndexLayout.forwardValues, m.nonzeroCount, valueWidth)
        postingDocuments = try file.array(IndexLayout.postingDocuments, of: UInt32.self, count: m.postingCount)
        postingValues = try sized(IndexLayout.postingValues, m.postingCount, valueWidth)
        listBlocks = try file.array(IndexLayout.listBlocks, of: UInt32.self, count: v + 1)
        listTail = try file.array(IndexLayout.listTail, of: UInt64.self, count: v + 1)
        blockOffsets = try file.array(IndexLayout.blockOffsets, of: UInt64.self, count: m.blockCount + 1)
        blockMinimum = try file.array(IndexLayout.blockMinimum, of: Float.self, count: m.blockCount)
        blockScale = try file.array(IndexLayout.blockScale, of: Float.self, count: m.blockCount)
        listSummary = try file.array(IndexLayout.listSummary, of: UInt64.self, count: v + 1)
        summaryComponents = try sized(IndexLayout.summaryComponents, m.summaryComponentCount, m.componentWidth)
        summaryOffsets = try file.array(IndexLayout.summaryOffsets, of: UInt64.self, count: m.summaryComponentCount + 1)
        summaryBlocks = try file.array(IndexLayout.summaryBlocks, of: UInt16.self, count: m.summaryEntryCount)
        summaryCodes = try file.array(IndexLayout.summaryCodes, of: UInt8.self, count: m.summaryEntryCount)

        try checkOffsets(forwardOffsets, end: m.nonzeroCount, name: IndexLayout.forwardOffsets, path: path, exactEnd: true)
        try checkOffsets(blockOffsets, end: m.blockedPostingCount, name: IndexLayout.blockOffsets, path: path, exactEnd: true)
        try checkOffsets(listBlocks, end: m.blockCount, name: IndexLayout.listBlocks, path: path, exactEnd: true)
        try checkOffsets(listSummary, end: m.summaryComponentCount, name: IndexLayout.listSummary, path: path, exactEnd: true)
        try checkOffsets(summaryOffsets, end: m.summaryEntryCount, name: IndexLayout.summaryOffsets, path: path, exactEnd: true)
        try checkOffsets(listTail, end: m.postingCount, name: IndexLayout.listTail, path: path, exactEnd: true)
        guard listTail.first.map({ Int($0) == m.blockedPostingCount }) ?? true else {
            throw LSRError(.corruptIndex, "the tail region does not follow the blocked region", path: path, field: IndexLayout.listTail)
        }
        for t in 0 ..< v where listBlocks[t + 1] - listBlocks[t] > UInt32(IndexLayout.maximumBlocksPerList) {
            throw LSRError(.corruptIndex, "list \(t) has more than \(IndexLayout.maximumBlocksPerList) blocks", path: path, field: IndexLayout.listBlocks)
        }
    }
}
