import CLSRKernels
import LSRFormats
import LSRSuccinct
import LSRVectors

/// The mapped sections of an index, typed, with their structure checked.
struct IndexStorage: @unchecked Sendable {
    // @unchecked Sendable: read-only views into a mapping owned by the Index.
    let documentCount: Int
    let dimension: Int
    let forwardOffsets: MappedOffsets
    /// Per document its components then its weights, `forwardEntryBytes` per entry.
    let forwardVectors: UnsafeRawBufferPointer
    let forwardEntryBytes: Int
    let postingDocuments: UnsafeBufferPointer<UInt32>
    let postingValues: UnsafeRawBufferPointer
    let listBlocks: UnsafeBufferPointer<UInt32>
    let listTail: UnsafeBufferPointer<UInt64>
    /// `list.tailmax`, nil in indexes written before it existed.
    let listTailMaximum: UnsafeBufferPointer<Float>?
    let blockOffsets: MappedOffsets
    let blockMinimum: UnsafeBufferPointer<Float>
    let blockScale: UnsafeBufferPointer<Float>
    let summaryLists: UnsafeBufferPointer<UInt64>
    let summaryCodes: UnsafeBufferPointer<UInt8>
    let summaryBlocks: UnsafeBufferPointer<UInt64>
    let summaryComponents: UnsafeRawBufferPointer
    let summaryBitmaps: UnsafeBufferPointer<UInt64>
    let summaryRanks: UnsafeBufferPointer<UInt32>
    let summaryOffsets: UnsafeBufferPointer<UInt64>
    let summarySamples: UnsafeBufferPointer<UInt32>
    let narrowComponents: Bool
    let halfValues: Bool

    /// An upper bound on every stored weight: for half-precision weights the largest finite
    /// half (65,504), with no pass over the data; for f32 weights the largest finite posting
    /// value (every nonzero has a posting), 0 for an empty index.
    func largestWeightBound() -> Float {
        if halfValues { return Float(Float16.greatestFiniteMagnitude) }
        let values = UnsafeBufferPointer(start: postingValues.baseAddress?.assumingMemoryBound(to: Float.self), count: postingValues.count / 4)
        var largest: Float = 0
        for v in values where v.isFinite && v > largest { largest = v }
        return largest
    }

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
        func sized(_ name: String, _ count: Int, _ width: Int) throws -> UnsafeRawBufferPointer {
            let bytes = try file.section(name)
            let (expected, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow, bytes.count == expected else {
                throw LSRError(.corruptIndex, "section '\(name)' has \(bytes.count) bytes, expected \(count * width)", path: path, field: name)
            }
            return bytes
        }
        let v = m.vocabularySize
        forwardOffsets = try MappedOffsets(file, IndexLayout.forwardOffsets, count: m.documentCount + 1)
        forwardEntryBytes = IndexLayout.forwardEntryBytes(componentWidth: m.componentWidth, valuePrecision: m.valuePrecision)
        forwardVectors = try sized(IndexLayout.forwardVectors, m.nonzeroCount, forwardEntryBytes)
        postingDocuments = try file.array(IndexLayout.postingDocuments, of: UInt32.self, count: m.postingCount)
        postingValues = try sized(IndexLayout.postingValues, m.postingCount, m.valuePrecision.byteWidth)
        listBlocks = try file.array(IndexLayout.listBlocks, of: UInt32.self, count: v + 1)
        listTail = try file.array(IndexLayout.listTail, of: UInt64.self, count: v + 1)
        listTailMaximum = file.entries.contains { $0.name == IndexLayout.listTailMaximum }
            ? try file.array(IndexLayout.listTailMaximum, of: Float.self, count: v) : nil
        blockOffsets = try MappedOffsets(file, IndexLayout.blockOffsets, count: m.blockCount + 1)
        blockMinimum = try file.array(IndexLayout.blockMinimum, of: Float.self, count: m.blockCount)
        blockScale = try file.array(IndexLayout.blockScale, of: Float.self, count: m.blockCount)
        summaryLists = try file.array(IndexLayout.summaryLists, of: UInt64.self, count: (v + 1) * SummaryListField.count)
        summaryCodes = try file.array(IndexLayout.summaryCodes, of: UInt8.self, count: m.summaryEntryCount)
        func words<T: BitwiseCopyable>(_ name: String, of type: T.Type) throws -> UnsafeBufferPointer<T> {
            try file.array(name, of: T.self, count: try file.section(name).count / MemoryLayout<T>.stride)
        }
        summaryBlocks = try words(IndexLayout.summaryBlocks, of: UInt64.self)
        let components = try file.section(IndexLayout.summaryComponents)
        summaryComponents = try sized(IndexLayout.summaryComponents, components.count / m.componentWidth, m.componentWidth)
        summaryBitmaps = try words(IndexLayout.summaryBitmaps, of: UInt64.self)
        summaryRanks = try words(IndexLayout.summaryRanks, of: UInt32.self)
        summaryOffsets = try words(IndexLayout.summaryOffsets, of: UInt64.self)
        summarySamples = try words(IndexLayout.summarySamples, of: UInt32.self)

        nonzeroCount = m.nonzeroCount
        postingCount = m.postingCount
        blockedPostingCount = m.blockedPostingCount
    }

    let nonzeroCount: Int

    /// Size of a dense query buffer: every u16 component id is in bounds; u32 ids are clamped to
    /// `dimension`, whose slot stays zero.
    var denseQuerySize: Int { narrowComponents ? 1 << 16 : dimension + 1 }
    let postingCount: Int
    let blockedPostingCount: Int

    // Validated ranges: each offset pair is checked where it is used (two compares), so a damaged
    // file never sends search out of bounds and opening needs no pass over the offset arrays.


    /// The global indices of list `t`'s blocks (at most 65,535 of them).
    @inline(__always) func blocks(ofList t: Int) -> Range<Int> {
        let r = checkedRange(listBlocks, t, limit: blockMinimum.count)
        return r.count <= IndexLayout.maximumBlocksPerList ? r : 0 ..< 0
    }
    /// Positions in `postingDocuments` of block `g`'s documents.
    @inline(__always) func postings(ofBlock g: Int) -> Range<Int> { blockOffsets.range(g, limit: blockedPostingCount) }
    /// Positions in `postingDocuments` of all of list `t`'s blocked postings.
    @inline(__always) func blockedPostings(ofList t: Int) -> Range<Int> {
        let blocks = blocks(ofList: t)
        guard !blocks.isEmpty else { return 0 ..< 0 }
        let start = blockOffsets[blocks.lowerBound], end = blockOffsets[blocks.upperBound]
        return 0 <= start && start <= end && end <= blockedPostingCount ? start ..< end : 0 ..< 0
    }
    /// Positions in `postingDocuments` of list `t`'s pruned-away postings.
    @inline(__always) func tail(ofList t: Int) -> Range<Int> {
        let r = checkedRange(listTail, t, limit: postingCount)
        return r.lowerBound >= blockedPostingCount ? r : 0 ..< 0
    }
    /// An upper bound on the weights in list `t`'s tail, nil when the index does not record one
    /// (or records a negative or non-finite value, only in a damaged file).
    @inline(__always) func tailBound(ofList t: Int) -> Float? {
        guard let maximums = listTailMaximum else { return nil }
        let bound = maximums[t]
        return bound >= 0 && bound.isFinite ? bound : nil
    }
    /// The block summaries of list `t`, which has `blockCount` blocks, or nil when its
    /// `sum.lists` row points outside the sections.
    @inline(__always) func summaries(ofList t: Int, blockCount: Int) -> ListSummaries? {
        ListSummaries(self, list: t, blockCount: blockCount)
    }
    /// Positions in the forward arrays of document `d`'s entries.
    @inline(__always) func forward(ofDocument d: Int) -> Range<Int> { forwardOffsets.range(d, limit: nonzeroCount) }
}

/// `offsets[i] ..< offsets[i + 1]`, or empty unless ascending and within `0 ... limit`.
@inline(__always)
func checkedRange<T: BinaryInteger>(_ offsets: UnsafeBufferPointer<T>, _ i: Int, limit: Int) -> Range<Int> {
    let start = Int(truncatingIfNeeded: offsets[i]), end = Int(truncatingIfNeeded: offsets[i + 1])
    return 0 <= start && start <= end && end <= limit ? start ..< end : 0 ..< 0
}

/// An offsets section stored as u32 or u64: the builder writes u32 when every value fits.
struct MappedOffsets: @unchecked Sendable {
    // @unchecked Sendable: read-only views into a mapping owned by the Index.
    private let narrow: UnsafeBufferPointer<UInt32>
    private let wide: UnsafeBufferPointer<UInt64>

    /// Maps section `name` holding `count` offsets of either width.
    init(_ file: IndexFile, _ name: String, count: Int) throws {
        if try file.section(name).count == count * 4 {
            narrow = try file.array(name, of: UInt32.self, count: count)
            wide = UnsafeBufferPointer(start: nil, count: 0)
        } else {
            wide = try file.array(name, of: UInt64.self, count: count)
            narrow = UnsafeBufferPointer(start: nil, count: 0)
        }
    }

    /// Starts loading `offsets[i]` and `offsets[i + 1]` into the cache (`i` in bounds).
    @inline(__always) func prefetch(_ i: Int) {
        if narrow.isEmpty {
            lsr_prefetch_range(wide.baseAddress! + i, 16)
        } else {
            lsr_prefetch_range(narrow.baseAddress! + i, 8)
        }
    }

    /// `offsets[i]`.
    @inline(__always) subscript(i: Int) -> Int {
        narrow.isEmpty ? Int(truncatingIfNeeded: wide[i]) : Int(narrow[i])
    }

    /// `offsets[i] ..< offsets[i + 1]`, or empty unless ascending and within `0 ... limit`.
    @inline(__always) func range(_ i: Int, limit: Int) -> Range<Int> {
        narrow.isEmpty ? checkedRange(wide, i, limit: limit) : checkedRange(narrow, i, limit: limit)
    }
}
