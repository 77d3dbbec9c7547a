import LSRFormats
import LSRSuccinct

/// Encodes the lists' block summaries into the `sum.*` sections (see ``IndexLayout``), list by
/// list, in list order, streaming each section to a scratch file as it grows.
final class SummarySections {
    let dimension: Int
    let componentWidth: Int
    private let directory: SpoolFile
    private let codes: SpoolFile
    private let blockSpool: SpoolFile
    private let componentSpool: SpoolFile
    private let bitmapSpool: SpoolFile
    private let rankSpool: SpoolFile
    private let offsetSpool: SpoolFile
    private let sampleSpool: SpoolFile
    private var blocks = BitWriter()
    private var offsets = BitWriter()
    /// Entries (codes) over all lists.
    private(set) var entryCount = 0
    /// Summary components over all lists.
    private(set) var componentCount = 0
    private var sparseComponentCount = 0
    private var bitmapWordCount = 0
    private var sampleCount = 0

    init(dimension: Int, componentWidth: Int, scratch: ScratchDirectory) throws {
        self.dimension = dimension
        self.componentWidth = componentWidth
        directory = try scratch.spool("sum.lists")
        codes = try scratch.spool("sum.codes")
        blockSpool = try scratch.spool("sum.blocks")
        componentSpool = try scratch.spool("sum.components")
        bitmapSpool = try scratch.spool("sum.bitmaps")
        rankSpool = try scratch.spool("sum.ranks")
        offsetSpool = try scratch.spool("sum.offsets")
        sampleSpool = try scratch.spool("sum.samples")
    }

    /// Appends the next list's summaries.
    func append(_ list: BlockedList) throws {
        let n = list.summaryComponents.count
        var row = [UInt64](repeating: 0, count: SummaryListField.count)
        row[SummaryListField.entryStart] = UInt64(entryCount)
        row[SummaryListField.blockBitStart] = UInt64(blocks.bitCount)
        row[SummaryListField.componentCount] = UInt64(n)

        if n > 0 && RankedBitmap.byteCount(universe: dimension) < n * componentWidth {
            row[SummaryListField.componentLocation] = UInt64(bitmapWordCount) | SummaryListField.denseFlag
            var words: [UInt64] = [], ranks: [UInt32] = []
            RankedBitmap.encode(list.summaryComponents, universe: dimension, words: &words, ranks: &ranks)
            try bitmapSpool.append(contentsOf: words)
            try rankSpool.append(contentsOf: ranks)
            bitmapWordCount += words.count
        } else {
            row[SummaryListField.componentLocation] = UInt64(sparseComponentCount)
            if componentWidth == 2 {
                try componentSpool.append(contentsOf: list.summaryComponents.map { UInt16(truncatingIfNeeded: $0) })
            } else {
                try componentSpool.append(contentsOf: list.summaryComponents)
            }
            sparseComponentCount += n
        }
        componentCount += n

        var entryOffsets: [UInt64] = [0]
        entryOffsets.reserveCapacity(n + 1)
        for count in list.summaryEntryCounts { entryOffsets.append(entryOffsets.last! + UInt64(count)) }
        row[SummaryListField.offsetSampleStart] = UInt64(sampleCount)
        var samples: [UInt32] = []
        let (lowStart, highStart, lowWidth) = EliasFano.encode(
            entryOffsets, universe: entryOffsets.last!, into: &offsets, samples: &samples)
        try sampleSpool.append(contentsOf: samples)
        sampleCount += samples.count
        row[SummaryListField.offsetLowStart] = UInt64(lowStart)
        row[SummaryListField.offsetHighStart] = UInt64(highStart)
        row[SummaryListField.offsetLowWidth] = UInt64(lowWidth)

        let width = BitPacking.width(forMaximum: UInt64(max(list.blockSizes.count, 1) - 1))
        for block in list.summaryBlocks { blocks.append(UInt64(block), width: width) }
        try blockSpool.append(contentsOf: blocks.drainCompleteWords())
        try offsetSpool.append(contentsOf: offsets.drainCompleteWords())
        try codes.append(contentsOf: list.summaryCodes)
        entryCount += list.summaryCodes.count
        try directory.append(contentsOf: row)
    }

    /// Appends the closing row and the bit streams' last words; call once, after the last list.
    func finish() throws {
        var row = [UInt64](repeating: 0, count: SummaryListField.count)
        row[SummaryListField.entryStart] = UInt64(entryCount)
        try directory.append(contentsOf: row)
        try blockSpool.append(contentsOf: blocks.drainFinishedWords())
        try offsetSpool.append(contentsOf: offsets.drainFinishedWords())
    }

    /// Writes the sections, in their order in the file.
    func write(to writer: IndexFileWriter) throws {
        for (name, spool) in [
            (IndexLayout.summaryLists, directory), (IndexLayout.summaryCodes, codes), (IndexLayout.summaryBlocks, blockSpool),
            (IndexLayout.summaryComponents, componentSpool), (IndexLayout.summaryBitmaps, bitmapSpool),
            (IndexLayout.summaryRanks, rankSpool), (IndexLayout.summaryOffsets, offsetSpool), (IndexLayout.summarySamples, sampleSpool),
        ] {
            try writer.beginSection(name)
            try spool.copy(into: writer)
            try writer.endSection()
        }
    }
}
