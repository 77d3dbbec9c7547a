import CLSRKernels
import Foundation
import LSRFormats
import LSRVectors

/// Takes the blocked lists in list order and streams them out: the tail postings straight to
/// their place in `index.lsr` (``IndexSerializer/tailRegions()``), the blocked postings, the
/// per-block sections and the summaries to scratch files (their sizes are known only at the
/// end). What stays in memory is one entry per list (``listBlocks``, ``tailEnds``).
final class PostingSpools {
    let precision: ValuePrecision
    let blockDocuments: SpoolFile
    let blockValues: SpoolFile
    private let tailDocuments: IndexFileRegion
    private let tailValues: IndexFileRegion
    /// Block start offsets into the blocked region as u64, beginning with 0.
    let blockOffsets: SpoolFile
    let blockMinimum: SpoolFile
    let blockScale: SpoolFile
    let summaries: SummarySections
    /// `list.blocks`: list t owns blocks `listBlocks[t] ..< listBlocks[t + 1]`.
    private(set) var listBlocks: [UInt32] = [0]
    /// End of each list's tail, counted from the start of the tail region.
    private(set) var tailEnds: [UInt64] = [0]
    /// `list.tailmax`: each list's largest tail weight as stored (0 for an empty tail).
    private(set) var tailMaximums: [Float] = []
    private(set) var blockedCount = 0
    private(set) var tailCount = 0
    private(set) var blockCount = 0
    /// Scratch for encoding a list's weights.
    private var encodedHalves: [UInt16] = []

    init(
        scratch: ScratchDirectory, precision: ValuePrecision, summaries: SummarySections,
        tails: (documents: IndexFileRegion, values: IndexFileRegion)
    ) throws {
        self.precision = precision
        self.summaries = summaries
        blockDocuments = try scratch.spool("post.docs.blocked")
        blockValues = try scratch.spool("post.values.blocked")
        (tailDocuments, tailValues) = tails
        blockOffsets = try scratch.spool("block.offsets")
        blockMinimum = try scratch.spool("block.min")
        blockScale = try scratch.spool("block.scale")
        try blockOffsets.append(UInt64(0))
    }

    /// Appends the next list.
    func append(_ list: BlockedList) throws {
        try blockDocuments.append(contentsOf: list.blockDocuments)
        try encoded(list.blockValues) { try blockValues.append($0) }
        var end = UInt64(blockedCount)
        for size in list.blockSizes {
            end += UInt64(size)
            try blockOffsets.append(end)
        }
        blockedCount += list.blockDocuments.count
        blockCount += list.blockSizes.count
        listBlocks.append(UInt32(blockCount))
        try blockMinimum.append(contentsOf: list.blockMinimums)
        try blockScale.append(contentsOf: list.blockScales)
        try summaries.append(list)
        try list.tailDocuments.withUnsafeBytes { try tailDocuments.append($0) }
        try encoded(list.tailValues) { try tailValues.append($0) }
        // The values are the stored ones already (rounded to the precision when read, so the
        // rounding here changes nothing; it keeps the bound a stored value whatever the caller).
        let largest = list.tailValues.max() ?? 0
        tailMaximums.append(precision == .f16 ? HalfPrecision.round(largest) : largest)
        tailCount += list.tailDocuments.count
        tailEnds.append(UInt64(tailCount))
    }

    func finish() throws {
        try tailDocuments.finish()
        try tailValues.finish()
        try summaries.finish()
    }

    /// Calls `body` with the bytes of `values` at the storage precision.
    private func encoded(_ values: [Float], _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch precision {
        case .f16:
            encodedHalves.removeAll(keepingCapacity: true)
            encodedHalves.append(contentsOf: repeatElement(0, count: values.count))
            values.withUnsafeBufferPointer { v in encodedHalves.withUnsafeMutableBufferPointer { lsr_encode_f16(v.baseAddress, $0.baseAddress, v.count) } }
            try encodedHalves.withUnsafeBytes(body)
        case .f32: try values.withUnsafeBytes(body)
        }
    }
}

/// Hands results computed out of order by parallel workers to `consume` in index order, as
/// soon as each next one is ready. The results that finished early wait in memory, at most
/// `limit` bytes of them: a worker about to start a later item waits (``waitForTurn(_:)``)
/// while they exceed it; the worker on the next item never waits, so the work always advances.
final class OrderedSink<Result>: @unchecked Sendable {
    // @unchecked Sendable: every field is touched under `condition`'s lock.
    private let condition = NSCondition()
    private var pending: [Int: (result: Result, bytes: Int)] = [:]
    private var pendingBytes = 0
    private var next: Int
    private let limit: Int
    private let consume: (Result) throws -> Void
    private var error: (any Error)?

    /// - Parameters:
    ///   - first: the index of the first result.
    ///   - limit: bytes of early results held before later items wait.
    init(first: Int, limit: Int, consume: @escaping (Result) throws -> Void) {
        next = first
        self.limit = limit
        self.consume = consume
    }

    /// The first error `consume` threw; once set, later results are dropped.
    var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return error
    }

    /// Returns when item `index` may start: at once for the next item, else once the results
    /// waiting for their turn fit the limit.
    func waitForTurn(_ index: Int) {
        condition.lock()
        defer { condition.unlock() }
        while index != next && pendingBytes > limit { condition.wait() }
    }

    /// Takes the result of item `index` (about `bytes` bytes) and consumes every result that is
    /// now next in order.
    func deliver(_ index: Int, _ result: Result, bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        pending[index] = (result, bytes)
        pendingBytes += bytes
        while let ready = pending.removeValue(forKey: next) {
            next += 1
            pendingBytes -= ready.bytes
            guard error == nil else { continue }
            do { try consume(ready.result) } catch { self.error = error }
        }
        condition.broadcast()
    }
}
