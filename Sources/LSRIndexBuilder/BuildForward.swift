import CLSRKernels
import LSRFormats
import LSRVectors

/// The forward index a build works from: every document's vector in CSR, as stored. Offsets
/// are in memory; components (canonical ids, 2 bytes each when the vocabulary allows, else 4)
/// in anonymous mapped memory, weights (in the storage precision) in a private mapping of the
/// scratch file reading spooled them to (``ScratchMapping``): 4 bytes per nonzero with the
/// defaults, as in `fwd.vectors`.
final class BuildForward: @unchecked Sendable {
    // @unchecked Sendable: immutable once built; workers only read it.
    /// Vector `d` is `offsets[d] ..< offsets[d + 1]` of the entries.
    let offsets: [Int]
    /// Bytes per component id: 2 or 4.
    let componentWidth: Int
    /// Consecutive ranges of documents, one per thread that renamed them, with their postings
    /// per component: threads invert their own share into disjoint places (``PostingRange``).
    let shares: [Share]
    let precision: ValuePrecision
    private let componentFile: ScratchMapping<UInt8>
    private let valueFile: ScratchMapping<UInt8>
    private let componentBase: UnsafeRawPointer
    private let valueBase: UnsafeRawPointer

    var count: Int { offsets.count - 1 }
    var nonzeroCount: Int { offsets.last! }

    struct Share: Sendable {
        let documents: Range<Int>
        /// Postings per (canonical) component in `documents`.
        let postingCounts: [Int]
    }

    private init(
        offsets: [Int], componentWidth: Int, precision: ValuePrecision, components: ScratchMapping<UInt8>, values: ScratchMapping<UInt8>,
        shares: [Share]
    ) {
        precondition(components.buffer.count == offsets.last! * componentWidth && values.buffer.count == offsets.last! * precision.byteWidth)
        self.offsets = offsets
        self.shares = shares
        self.componentWidth = componentWidth
        self.precision = precision
        componentFile = components
        valueFile = values
        // No entries: any aligned non-null address, never read.
        let none = UnsafeRawPointer(bitPattern: 64)!
        componentBase = UnsafeRawPointer(components.buffer.baseAddress) ?? none
        valueBase = UnsafeRawPointer(values.buffer.baseAddress) ?? none
    }

    /// The component of entry `j`.
    @inline(__always) func component(_ j: Int) -> Int {
        componentWidth == 2
            ? Int(componentBase.load(fromByteOffset: 2 &* j, as: UInt16.self)) : Int(componentBase.load(fromByteOffset: 4 &* j, as: UInt32.self))
    }

    /// The weight of entry `j`.
    @inline(__always) func value(_ j: Int) -> Float {
        precision == .f16
            ? HalfPrecision.decode(valueBase.load(fromByteOffset: 2 &* j, as: UInt16.self)) : valueBase.load(fromByteOffset: 4 &* j, as: Float.self)
    }

    /// The raw bytes of entries `range`: their components and their weights.
    func bytes(of range: Range<Int>) -> (components: UnsafeRawBufferPointer, values: UnsafeRawBufferPointer) {
        (UnsafeRawBufferPointer(start: componentBase + range.lowerBound * componentWidth, count: range.count * componentWidth),
         UnsafeRawBufferPointer(start: valueBase + range.lowerBound * precision.byteWidth, count: range.count * precision.byteWidth))
    }

    /// Asks the CPU to start loading the entries of vector `d`.
    @inline(__always) func prefetch(_ d: Int) {
        let start = offsets[d], n = offsets[d + 1] - start
        lsr_prefetch_range(componentBase + start * componentWidth, n * componentWidth)
        lsr_prefetch_range(valueBase + start * precision.byteWidth, n * precision.byteWidth)
    }

    /// Sums what `body` tallies over the entries, one share of them (``shares``) per thread,
    /// each into its own `size` counters.
    func tally(size: Int, _ body: @Sendable (_ entries: Range<Int>, _ counters: inout [Int]) -> Void) -> [Int] {
        let tallies = ParallelSlots<[Int]>(count: shares.count)
        parallelForEach(shares.count, threads: shares.count) { _, k in
            var counters = [Int](repeating: 0, count: size)
            body(offsets[shares[k].documents.lowerBound] ..< offsets[shares[k].documents.upperBound], &counters)
            tallies[k] = counters
        }
        var total = [Int](repeating: 0, count: size)
        for counters in tallies.collect() {
            for i in 0 ..< size { total[i] += counters[i] }
        }
        return total
    }

    /// Bytes of the forward index resident once every page has been touched.
    static func residentBytes(documents: Int, nonzeros: Int, componentWidth: Int, precision: ValuePrecision) -> Int {
        (documents + 1) * MemoryLayout<Int>.stride + nonzeros * (componentWidth + precision.byteWidth)
    }

    /// The canonical forward index of what `read` collected: components renamed through
    /// `rename` (reader id → canonical id), each vector's entries in ascending canonical order,
    /// components narrowed to `componentWidth` bytes into anonymous memory.
    ///
    /// One sequential pass per thread over its share of the documents; each releases the pages
    /// of the reader's components behind it (every 64 MiB), so that they and the result are
    /// never resident whole together.
    static func canonical(
        from read: ReadCollection, rename: [UInt32], componentWidth: Int, threads: Int
    ) throws -> BuildForward {
        let source = try read.componentSpool.map(as: UInt32.self)
        let valueFile = try read.valueSpool.map(as: UInt8.self)
        let nonzeros = read.offsets.last!
        let output = try ScratchMapping<UInt8>.anonymous("canonical forward components", count: nonzeros * componentWidth)
        let documents = read.offsets.count - 1
        let shareCount = workerCount(documents, threads: threads)
        let offsets = read.offsets, width = read.precision.byteWidth
        let dimension = (rename.max() ?? 0) + 1
        let shares = ParallelSlots<Share>(count: shareCount)
        parallelForEach(shareCount, threads: shareCount) { _, k in
            let range = documents * k / shareCount ..< documents * (k + 1) / shareCount
            shares[k] = Share(
                documents: range,
                postingCounts: renameVectors(
                    range, offsets: offsets, rename: rename, dimension: Int(dimension), source: source, values: valueFile.buffer,
                    valueWidth: width, output: output.buffer, componentWidth: componentWidth))
        }
        read.componentSpool.remove()
        return BuildForward(
            offsets: read.offsets, componentWidth: componentWidth, precision: read.precision, components: output, values: valueFile,
            shares: shares.collect())
    }

    /// Renames and sorts vectors `documents` (see ``canonical(from:rename:componentWidth:threads:)``).
    /// - Returns: the postings per canonical component (of `dimension`) in `documents`.
    private static func renameVectors(
        _ documents: Range<Int>, offsets: [Int], rename: [UInt32], dimension: Int, source: ScratchMapping<UInt32>,
        values: UnsafeMutableBufferPointer<UInt8>, valueWidth width: Int, output: UnsafeMutableBufferPointer<UInt8>, componentWidth: Int
    ) -> [Int] {
        var counts = [Int](repeating: 0, count: dimension)
        var bitmap = [UInt64](repeating: 0, count: (dimension + 63) / 64), position = [UInt32](repeating: 0, count: dimension)
        // Per-vector scratch, grown to the longest vector met.
        var renamed: [UInt32] = [], order: [UInt32] = [], keys: [UInt64] = [], permuted: [UInt32] = []
        let out = UnsafeMutableRawPointer(output.baseAddress)
        let weights = UnsafeMutableRawPointer(values.baseAddress)
        var released = offsets[documents.lowerBound]
        for d in documents {
            let start = offsets[d], end = offsets[d + 1], n = end - start
            if renamed.count < n {
                renamed = [UInt32](repeating: 0, count: n)
                order = renamed
                keys = [UInt64](repeating: 0, count: n)
                permuted = renamed
            }
            lsr_rename_vector(
                source.buffer.baseAddress.map { $0 + start }, n, rename, weights.map { $0 + start * width }, width,
                out.map { $0 + start * componentWidth }, componentWidth, &counts, &bitmap, &position, &keys, &order, &renamed, &permuted)
            if end - released >= 1 << 24 {
                source.release(released ..< end)
                released = end
            }
        }
        return counts
    }
}
