import LSRFormats
import LSRSuccinct

/// Encodes the lists' block summaries into the `sum.*` sections (see ``IndexLayout``), list by
/// list, in list order.
struct SummarySections {
    let dimension: Int
    let componentWidth: Int
    private(set) var directory: [UInt64] = []
    private(set) var codes: [UInt8] = []
    private(set) var blocks = BitWriter()
    private(set) var components: [UInt32] = []
    private(set) var bitmaps: [UInt64] = []
    private(set) var ranks: [UInt32] = []
    private(set) var offsets = BitWriter()
    private(set) var samples: [UInt32] = []
    /// Summary components over all lists.
    private(set) var componentCount = 0

    init(dimension: Int, componentWidth: Int) {
        self.dimension = dimension
        self.componentWidth = componentWidth
    }

    /// Appends the next list's summaries.
    mutating func append(_ list: BlockedList) {
        let n = list.summaryComponents.count
        var row = [UInt64](repeating: 0, count: SummaryListField.count)
        row[SummaryListField.entryStart] = UInt64(codes.count)
        row[SummaryListField.blockBitStart] = UInt64(blocks.bitCount)
        row[SummaryListField.componentCount] = UInt64(n)

        if n > 0 && RankedBitmap.byteCount(universe: dimension) < n * componentWidth {
            row[SummaryListField.componentLocation] = UInt64(bitmaps.count) | SummaryListField.denseFlag
            RankedBitmap.encode(list.summaryComponents, universe: dimension, words: &bitmaps, ranks: &ranks)
        } else {
            row[SummaryListField.componentLocation] = UInt64(components.count)
            components += list.summaryComponents
        }
        componentCount += n

        var entryOffsets: [UInt64] = [0]
        entryOffsets.reserveCapacity(n + 1)
        for count in list.summaryEntryCounts { entryOffsets.append(entryOffsets.last! + UInt64(count)) }
        row[SummaryListField.offsetSampleStart] = UInt64(samples.count)
        let (lowStart, highStart, lowWidth) = EliasFano.encode(
            entryOffsets, universe: entryOffsets.last!, into: &offsets, samples: &samples)
        row[SummaryListField.offsetLowStart] = UInt64(lowStart)
        row[SummaryListField.offsetHighStart] = UInt64(highStart)
        row[SummaryListField.offsetLowWidth] = UInt64(lowWidth)

        let width = BitPacking.width(forMaximum: UInt64(max(list.blockSizes.count, 1) - 1))
        for block in list.summaryBlocks { blocks.append(UInt64(block), width: width) }
        codes += list.summaryCodes
        directory += row
    }

    /// Appends the closing row; call once, after the last list.
    mutating func finish() {
        var row = [UInt64](repeating: 0, count: SummaryListField.count)
        row[SummaryListField.entryStart] = UInt64(codes.count)
        directory += row
    }

    /// Writes the sections (components as u16 when `componentWidth` is 2).
    func write(to writer: IndexFileWriter) throws {
        try writer.addSection(IndexLayout.summaryLists, array: directory)
        try writer.addSection(IndexLayout.summaryCodes, array: codes)
        try writer.addSection(IndexLayout.summaryBlocks, array: blocks.finishedWords())
        try writer.addComponentSection(IndexLayout.summaryComponents, components, narrow: componentWidth == 2)
        try writer.addSection(IndexLayout.summaryBitmaps, array: bitmaps)
        try writer.addSection(IndexLayout.summaryRanks, array: ranks)
        try writer.addSection(IndexLayout.summaryOffsets, array: offsets.finishedWords())
        try writer.addSection(IndexLayout.summarySamples, array: samples)
    }
}
