import LSRFormats
import LSRSuccinct

/// One list's block summaries, decoded from its `sum.lists` row with every region checked
/// against its section, so a damaged index never reads out of bounds.
struct ListSummaries {
    /// The list's first entry in `summaryCodes`.
    let entryStart: Int
    let entryCount: Int
    /// Bit position of the list's first block index in `summaryBlocks`, and bits per index.
    let blockBitStart: Int
    let blockWidth: Int
    /// The list's components in the sparse id array (when `bitmap` is nil).
    let sparseComponents: Range<Int>
    let bitmap: RankedBitmapReader?
    /// Entry offsets of the summary components: component i's entries are `pair(i)`.
    let offsets: EliasFanoReader

    @inline(__always)
    init?(_ storage: IndexStorage, list t: Int, blockCount: Int) {
        let fieldCount = SummaryListField.count
        let row = storage.summaryLists.baseAddress! + t * fieldCount
        func field(_ f: Int) -> Int? {
            let value = row[f]
            return value <= UInt64(Int32.max) << 24 ? Int(value) : nil
        }
        guard let start = field(SummaryListField.entryStart), let end = Int(exactly: row[fieldCount + SummaryListField.entryStart]),
              start <= end, end <= storage.summaryCodes.count,
              let blockBitStart = field(SummaryListField.blockBitStart),
              let n = field(SummaryListField.componentCount), n < Int(Int32.max),
              let lowStart = field(SummaryListField.offsetLowStart), let highStart = field(SummaryListField.offsetHighStart),
              let lowWidth = field(SummaryListField.offsetLowWidth), let sampleStart = field(SummaryListField.offsetSampleStart)
        else { return nil }
        entryStart = start
        entryCount = end - start
        self.blockBitStart = blockBitStart
        blockWidth = BitPacking.width(forMaximum: UInt64(max(blockCount, 1) - 1))
        // Block indices are read with 8-byte loads from their first byte.
        if entryCount > 0 {
            guard (blockBitStart + (entryCount - 1) * blockWidth) / 8 + 8 <= storage.summaryBlocks.count * 8 else { return nil }
        }
        let location = row[SummaryListField.componentLocation]
        if location & SummaryListField.denseFlag != 0 {
            guard let wordStart = Int(exactly: location & ~SummaryListField.denseFlag),
                  let bitmap = RankedBitmapReader(
                      words: storage.summaryBitmaps, ranks: storage.summaryRanks, wordStart: wordStart, universe: storage.dimension)
            else { return nil }
            self.bitmap = bitmap
            sparseComponents = 0 ..< 0
        } else {
            let componentWidth = storage.narrowComponents ? 2 : 4
            guard let first = Int(exactly: location), first <= storage.summaryComponents.count / componentWidth - n else { return nil }
            bitmap = nil
            sparseComponents = first ..< first + n
        }
        guard let offsets = EliasFanoReader(
            words: storage.summaryOffsets, samples: storage.summarySamples, count: n + 1, universe: UInt64(entryCount),
            lowStart: lowStart, highStart: highStart, lowWidth: lowWidth, sampleStart: sampleStart)
        else { return nil }
        self.offsets = offsets
    }
}
