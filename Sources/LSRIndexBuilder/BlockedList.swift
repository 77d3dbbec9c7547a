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
    /// The `docCut` heaviest components of each document (fewer for short documents), with values.
    let headOffsets: [Int]
    let headComponents: [UInt32]
    let headValues: [Float]
    let dimension: Int
    let configuration: BuildConfiguration

    /// Computes the document heads with `threads` threads.
    init(forward: BuildForward, plan: PruningPlan, dimension: Int, configuration: BuildConfiguration, threads: Int) {
        self.forward = forward
        self.plan = plan
        self.dimension = dimension
        self.configuration = configuration
        var offsets = [0]
        var components: [UInt32] = []
        var values: [Float] = []
        if plan.summarized, case let .randomCentroids(_, _, docCut) = configuration.blocking {
            offsets.reserveCapacity(forward.count + 1)
            for d in 0 ..< forward.count { offsets.append(offsets[d] + min(docCut, forward.offsets[d + 1] - forward.offsets[d])) }
            components = [UInt32](repeating: 0, count: offsets[forward.count])
            values = [Float](repeating: 0, count: offsets[forward.count])
            let shares = workerCount(forward.count, threads: threads)
            components.withUnsafeMutableBufferPointer { components in
                values.withUnsafeMutableBufferPointer { values in
                    let heads = HeadBuffers(offsets: offsets, components: components, values: values)
                    parallelForEach(shares, threads: shares) { _, k in
                        BlockingContext.fillHeads(
                            forward.count * k / shares ..< forward.count * (k + 1) / shares, of: forward, docCut: docCut, into: heads)
                    }
                }
            }
        }
        headOffsets = offsets
        headComponents = components
        headValues = values
    }

    /// Where the heads go while threads fill them.
    private struct HeadBuffers: @unchecked Sendable {
        // @unchecked Sendable: each thread writes the entries of its own documents only.
        let offsets: [Int]
        let components: UnsafeMutableBufferPointer<UInt32>
        let values: UnsafeMutableBufferPointer<Float>
    }

    /// Writes the heads of `documents` at their places in `heads`.
    private static func fillHeads(
        _ documents: Range<Int>, of forward: BuildForward, docCut: Int,
        into heads: HeadBuffers
    ) {
        // Keys of value bits (positive floats order like their bits) over the inverted
        // position: descending keys are heaviest first, ties to the lower position.
        var keys: [UInt64] = []
        for d in documents {
            let start = forward.offsets[d], end = forward.offsets[d + 1]
            var h = heads.offsets[d]
            if end - start <= docCut {
                for j in start ..< end {
                    heads.components[h] = UInt32(forward.component(j))
                    heads.values[h] = forward.value(j)
                    h += 1
                }
            } else {
                keys.removeAll(keepingCapacity: true)
                for j in start ..< end { keys.append(UInt64(forward.value(j).bitPattern) << 32 | UInt64(~UInt32(j - start))) }
                keys.withUnsafeMutableBufferPointer { $0.moveLargestToFront(docCut) }
                keys[0 ..< docCut].sort(by: >)
                for key in keys[0 ..< docCut] {
                    let j = start + Int(~UInt32(truncatingIfNeeded: key))
                    heads.components[h] = UInt32(forward.component(j))
                    heads.values[h] = forward.value(j)
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
    static func headBytes(documents: Int, nonzeros: Int, configuration: BuildConfiguration) -> Int {
        guard case let .randomCentroids(_, _, docCut) = configuration.blocking else { return 0 }
        let entries = headEntries(documents: documents, nonzeros: nonzeros, docCut: docCut)
        return (documents + 1) * MemoryLayout<Int>.stride + entries * (MemoryLayout<UInt32>.stride + MemoryLayout<Float>.stride)
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
    /// Which postings of the list at hand pruning keeps, and the sort scratch deciding it.
    var kept: [Bool] = []
    var order: [Int] = []

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
