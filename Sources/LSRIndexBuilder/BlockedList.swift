import CLSRKernels
import LSRFormats
import LSRVectors

/// One inverted list after blocking: its blocks, their quantized summaries, and the postings
/// pruning left out.
struct BlockedList: Sendable {
    /// Block member documents, block after block, each block in ascending document order.
    var blockDocuments: [UInt32] = []
    /// Values of `blockDocuments` in this list.
    var blockValues: [Float] = []
    /// Number of documents in each block.
    var blockSizes: [Int] = []
    var blockMinimums: [Float] = []
    var blockScales: [Float] = []
    /// Components present in any block summary, ascending.
    var summaryComponents: [UInt32] = []
    /// Entry count of each summary component.
    var summaryEntryCounts: [Int] = []
    var summaryBlocks: [UInt16] = []
    var summaryCodes: [UInt8] = []
    var tailDocuments: [UInt32] = []
    var tailValues: [Float] = []

    /// About the bytes the list's arrays hold.
    var byteCount: Int {
        8 * (blockDocuments.count + tailDocuments.count) + 24 * blockSizes.count + 12 * summaryComponents.count
            + 3 * summaryCodes.count
    }
}

/// Read-only inputs shared by the per-list workers.
struct BlockingContext: @unchecked Sendable {
    // @unchecked Sendable: every buffer is immutable while workers run.
    let forward: BuildForward
    let plan: PruningPlan
    /// The `docCut` heaviest entries of each document (fewer for short documents), heaviest
    /// first (ties: the lower position): document `d`'s are `headOffsets[d] ..< headOffsets[d + 1]`
    /// of `headPositions`, positions within the document's entries in the forward index.
    let headOffsets: [Int]
    let headPositions: HeadPositions
    let dimension: Int
    let configuration: BuildConfiguration

    /// Positions within a document: 2 bytes when component ids are (a document then has at most
    /// 65,536 entries), else 4.
    enum HeadPositions {
        case narrow([UInt16])
        case wide([UInt32])
    }

    /// Computes the document heads with `threads` threads.
    init(forward: BuildForward, plan: PruningPlan, dimension: Int, configuration: BuildConfiguration, threads: Int) {
        self.forward = forward
        self.plan = plan
        self.dimension = dimension
        self.configuration = configuration
        var offsets = [0]
        var narrow: [UInt16] = [], wide: [UInt32] = []
        if plan.summarized, case let .randomCentroids(_, _, docCut) = configuration.blocking {
            offsets.reserveCapacity(forward.count + 1)
            for d in 0 ..< forward.count { offsets.append(offsets[d] + min(docCut, forward.offsets[d + 1] - forward.offsets[d])) }
            let shares = workerCount(forward.count, threads: threads)
            func fill<P: FixedWidthInteger & SendableMetatype>(_ positions: inout [P]) {
                positions = [P](repeating: 0, count: offsets[forward.count])
                positions.withUnsafeMutableBufferPointer { positions in
                    let heads = HeadBuffer(offsets: offsets, positions: positions)
                    parallelForEach(shares, threads: shares) { _, k in
                        BlockingContext.fillHeads(
                            forward.count * k / shares ..< forward.count * (k + 1) / shares, of: forward, docCut: docCut, into: heads)
                    }
                }
            }
            if forward.componentWidth == 2 { fill(&narrow) } else { fill(&wide) }
        }
        headOffsets = offsets
        headPositions = forward.componentWidth == 2 ? .narrow(narrow) : .wide(wide)
    }

    /// The heads of `documents`, in their order, into `heads` (its arrays reused). The documents
    /// are scattered over the forward index, so each one's offsets are fetched 16 documents
    /// ahead and its entries and head positions 8 ahead.
    func gatherHeads(of documents: [UInt32], into heads: inout GatheredHeads) {
        heads.offsets.removeAll(keepingCapacity: true)
        heads.components.removeAll(keepingCapacity: true)
        heads.values.removeAll(keepingCapacity: true)
        heads.offsets.append(0)
        func gather<P: FixedWidthInteger>(_ positions: [P]) {
            forward.offsets.withUnsafeBufferPointer { offsets in
                headOffsets.withUnsafeBufferPointer { headOffsets in
                    positions.withUnsafeBufferPointer { positions in
                        for (i, document) in documents.enumerated() {
                            if i + 16 < documents.count {
                                let e = Int(documents[i + 16])
                                lsr_prefetch_range(offsets.baseAddress! + e, 2 * MemoryLayout<Int>.stride)
                                lsr_prefetch_range(headOffsets.baseAddress! + e, 2 * MemoryLayout<Int>.stride)
                            }
                            if i + 8 < documents.count {
                                let e = Int(documents[i + 8]), h = headOffsets[e]
                                forward.prefetch(e)
                                lsr_prefetch_range(positions.baseAddress! + h, (headOffsets[e + 1] - h) * MemoryLayout<P>.stride)
                            }
                            let d = Int(document), start = offsets[d]
                            for h in headOffsets[d] ..< headOffsets[d + 1] {
                                let j = start + Int(positions[h])
                                heads.components.append(UInt32(forward.component(j)))
                                heads.values.append(forward.value(j))
                            }
                            heads.offsets.append(heads.components.count)
                        }
                    }
                }
            }
        }
        switch headPositions {
        case let .narrow(positions): gather(positions)
        case let .wide(positions): gather(positions)
        }
    }

    /// Where the heads go while threads fill them.
    private struct HeadBuffer<P: FixedWidthInteger>: @unchecked Sendable {
        // @unchecked Sendable: each thread writes the entries of its own documents only.
        let offsets: [Int]
        let positions: UnsafeMutableBufferPointer<P>
    }

    /// Writes the heads of `documents` at their places in `heads`.
    private static func fillHeads<P: FixedWidthInteger>(_ documents: Range<Int>, of forward: BuildForward, docCut: Int, into heads: HeadBuffer<P>) {
        // Sized on the first document longer than docCut (so never beyond the longest document).
        var heap: [UInt64] = [], heaviest: [UInt32] = []
        let width = forward.precision.byteWidth
        for d in documents {
            let start = forward.offsets[d], end = forward.offsets[d + 1]
            var h = heads.offsets[d]
            if end - start <= docCut {
                for position in 0 ..< end - start {
                    heads.positions[h] = P(truncatingIfNeeded: position)
                    h += 1
                }
            } else {
                if heaviest.isEmpty {
                    heap = [UInt64](repeating: 0, count: docCut)
                    heaviest = [UInt32](repeating: 0, count: docCut)
                }
                lsr_heaviest_positions(forward.bytes(of: start ..< end).values.baseAddress, width, end - start, docCut, &heap, &heaviest)
                for position in heaviest {
                    heads.positions[h] = P(truncatingIfNeeded: position)
                    h += 1
                }
            }
        }
    }

    /// Head entries of `documents` documents of `nonzeros` nonzeros in all, at most (every
    /// document keeps at most `docCut` components).
    static func headEntries(documents: Int, nonzeros: Int, docCut: Int) -> Int {
        min(nonzeros, documents.multipliedReportingOverflow(by: docCut).partialValue)
    }

    /// Bytes the document heads take for `documents` documents of `nonzeros` nonzeros in all
    /// (an upper bound: every document keeps at most `docCut` components).
    static func headBytes(documents: Int, nonzeros: Int, componentWidth: Int, configuration: BuildConfiguration) -> Int {
        guard case let .randomCentroids(_, _, docCut) = configuration.blocking else { return 0 }
        let entries = headEntries(documents: documents, nonzeros: nonzeros, docCut: docCut)
        return (documents + 1) * MemoryLayout<Int>.stride + entries * componentWidth
    }
}

/// Per-thread scratch for blocking lists; sized once for the vocabulary.
final class BlockingWorkspace: @unchecked Sendable {
    // @unchecked Sendable: each workspace is used by one worker at a time.
    /// Dense per-component scratch, all zero between uses. Raw buffers, not arrays: the inner
    /// loops index them per nonzero, and a class's array property costs an exclusivity check
    /// and a uniqueness check on every write.
    let componentMaximum: UnsafeMutableBufferPointer<Float>
    let componentCount: UnsafeMutableBufferPointer<Int32>
    var touched: [UInt32] = []
    /// Which postings of the list at hand pruning keeps, and the selection scratch deciding it.
    var kept: [Bool] = []
    var keys: [UInt64] = []
    /// The heads of the list's kept documents while they are clustered.
    var heads = GatheredHeads()

    init(dimension: Int) {
        componentMaximum = .allocate(capacity: dimension)
        componentMaximum.initialize(repeating: 0)
        componentCount = .allocate(capacity: dimension + 1)
        componentCount.initialize(repeating: 0)
    }

    deinit {
        componentMaximum.deallocate()
        componentCount.deallocate()
    }
}

/// Documents' heads gathered in a row: document i's are `offsets[i] ..< offsets[i + 1]` of
/// `components` and `values`.
struct GatheredHeads {
    var offsets: [Int] = [0]
    var components: [UInt32] = []
    var values: [Float] = []
}
