import CLSRKernels
import LSRFormats
import LSRVectors

/// The forward index a build works from: every document's vector in CSR, as stored. Offsets
/// are in memory; components (canonical ids, 2 bytes each when the vocabulary allows, else 4)
/// and weights (in the storage precision) live in mapped scratch files: 4 bytes per nonzero
/// with the defaults, as in `fwd.vectors`.
final class BuildForward: @unchecked Sendable {
    // @unchecked Sendable: immutable once built; workers only read it.
    /// Vector `d` is `offsets[d] ..< offsets[d + 1]` of the entries.
    let offsets: [Int]
    /// Bytes per component id: 2 or 4.
    let componentWidth: Int
    let precision: ValuePrecision
    private let componentFile: ScratchMapping<UInt8>
    private let valueFile: ScratchMapping<UInt8>
    private let componentBase: UnsafeRawPointer
    private let valueBase: UnsafeRawPointer

    var count: Int { offsets.count - 1 }
    var nonzeroCount: Int { offsets.last! }

    private init(offsets: [Int], componentWidth: Int, precision: ValuePrecision, components: ScratchMapping<UInt8>, values: ScratchMapping<UInt8>) {
        precondition(components.buffer.count == offsets.last! * componentWidth && values.buffer.count == offsets.last! * precision.byteWidth)
        self.offsets = offsets
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

    /// Bytes of the forward index resident once every page has been touched.
    static func residentBytes(documents: Int, nonzeros: Int, componentWidth: Int, precision: ValuePrecision) -> Int {
        (documents + 1) * MemoryLayout<Int>.stride + nonzeros * (componentWidth + precision.byteWidth)
    }

    /// The canonical forward index of what `read` collected: components renamed through
    /// `rename` (source id → canonical id), each vector's entries in ascending canonical order,
    /// components narrowed to `componentWidth` bytes into a new scratch file.
    ///
    /// One sequential pass; the pages of the source components are released as it goes, so
    /// that they and the result are never resident together.
    static func canonical(from read: ReadCollection, rename: [UInt32], componentWidth: Int, scratch: ScratchDirectory) throws -> BuildForward {
        let source = try read.componentSpool.map(as: UInt32.self)
        let valueFile = try read.valueSpool.map(as: UInt8.self)
        let output = try scratch.spool("forward.canonical")
        let width = read.precision.byteWidth
        let values = valueFile.buffer
        var renamed: [UInt32] = [], keys: [UInt64] = [], permuted: [UInt8] = [], narrow: [UInt16] = []
        var released = 0
        for d in 0 ..< read.offsets.count - 1 {
            let start = read.offsets[d], end = read.offsets[d + 1]
            renamed.removeAll(keepingCapacity: true)
            var ascending = true
            for j in start ..< end {
                let c = rename[Int(source.buffer[j])]
                if let last = renamed.last, last >= c { ascending = false }
                renamed.append(c)
            }
            if !ascending {
                // Keys of the new id over the position (ids are distinct within a vector).
                keys.removeAll(keepingCapacity: true)
                for (i, c) in renamed.enumerated() { keys.append(UInt64(c) << 32 | UInt64(i)) }
                keys.sort()
                permuted.removeAll(keepingCapacity: true)
                for key in keys {
                    let i = start + Int(UInt32(truncatingIfNeeded: key))
                    permuted.append(contentsOf: values[i * width ..< (i + 1) * width])
                }
                for (k, byte) in permuted.enumerated() { values[start * width + k] = byte }
                for (i, key) in keys.enumerated() { renamed[i] = UInt32(key >> 32) }
            }
            if componentWidth == 2 {
                narrow.removeAll(keepingCapacity: true)
                for c in renamed { narrow.append(UInt16(truncatingIfNeeded: c)) }
                try output.append(contentsOf: narrow)
            } else {
                try output.append(contentsOf: renamed)
            }
            if end - released >= 1 << 24 {
                source.release(upTo: end)
                released = end
            }
        }
        read.componentSpool.remove()
        return BuildForward(
            offsets: read.offsets, componentWidth: componentWidth, precision: read.precision,
            components: try output.map(as: UInt8.self), values: valueFile)
    }
}

/// What reading the input yields besides the document store: the forward index (source
/// component ids) and the per-component statistics the later stages plan with.
struct ReadCollection {
    /// Vector `d` is entries `offsets[d] ..< offsets[d + 1]` of the two spools.
    let offsets: [Int]
    /// Source component ids (u32), ascending in each vector.
    let componentSpool: SpoolFile
    /// Weights in the storage precision.
    let valueSpool: SpoolFile
    let precision: ValuePrecision
    /// Per source component: whether any document names it (even with a weight rounding to 0,
    /// which keeps its token in the vocabulary).
    let used: [Bool]
    /// Per source component: stored postings.
    let postingCounts: [Int]
    let histogram: ValueHistogram

    /// Streams `input` into the document store and into scratch files in `scratch`.
    /// - Throws: input errors naming file, line and field; `.invalidInput` for an empty input.
    static func read(
        _ input: VectorFileReader, store: DocumentStoreWriter, scratch: ScratchDirectory, precision: ValuePrecision,
        progress: (@Sendable (BuildProgress) -> Void)?
    ) throws -> ReadCollection {
        let componentSpool = try scratch.spool("forward.components")
        let valueSpool = try scratch.spool("forward.values")
        var offsets = [0]
        var used: [Bool] = []
        var postingCounts: [Int] = []
        var histogram = ValueHistogram()
        var components: [UInt32] = []
        var values: [Float] = []
        var halves: [UInt16] = []
        try input.forEach { record in
            if precision == .f16, let j = record.values.firstIndex(where: { $0 > HalfPrecision.greatestFiniteMagnitude }) {
                throw LSRError(
                    .invalidInput,
                    "document '\(record.id)' has weight \(record.values[j]), beyond half precision's 65504; rebuild with --precision f32",
                    path: input.path, line: record.line, field: "vector." + input.tokens[Int(record.components[j])])
            }
            if used.count < input.tokens.count {
                used += repeatElement(false, count: input.tokens.count - used.count)
                postingCounts += repeatElement(0, count: input.tokens.count - postingCounts.count)
            }
            components.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            halves.removeAll(keepingCapacity: true)
            for (c, v) in zip(record.components, record.values) {
                used[Int(c)] = true
                // Summaries, clustering and scores all see the stored (rounded) weights.
                let half = precision == .f16 ? HalfPrecision.encode(v) : 0
                let stored = precision == .f16 ? HalfPrecision.decode(half) : v
                guard stored != 0 else { continue }
                components.append(c)
                values.append(stored)
                if precision == .f16 { halves.append(half) }
                postingCounts[Int(c)] += 1
                histogram.add(stored)
            }
            guard offsets.count <= Int(UInt32.max) else {
                throw LSRError(.invalidInput, "more than \(UInt32.max) documents: document numbers are 32-bit", path: input.path, line: record.line)
            }
            if offsets.count == 1, let declared = input.declaredCount { offsets.reserveCapacity(declared + 1) }
            try componentSpool.append(contentsOf: components)
            switch precision {
            case .f16: try valueSpool.append(contentsOf: halves)
            case .f32: try valueSpool.append(contentsOf: values)
            }
            offsets.append(offsets.last! + components.count)
            try store.add(position: record.position, id: record.id, content: record.content)
            if (offsets.count - 1) % 10_000 == 0 { progress?(BuildProgress(stage: .reading, completed: offsets.count - 1, total: input.declaredCount)) }
        }
        guard offsets.count > 1 else {
            throw LSRError(.invalidInput, "no vectors: the input holds no documents", path: input.path)
        }
        progress?(BuildProgress(stage: .reading, completed: offsets.count - 1, total: offsets.count - 1))
        return ReadCollection(
            offsets: offsets, componentSpool: componentSpool, valueSpool: valueSpool, precision: precision, used: used,
            postingCounts: postingCounts, histogram: histogram)
    }
}

/// A histogram of the stored weights by their upper 16 bits, from which the global pruning
/// threshold is found with one more pass over the weights.
struct ValueHistogram {
    private var high = [Int](repeating: 0, count: 1 << 16)
    private(set) var count = 0

    /// Counts one (positive) weight.
    mutating func add(_ value: Float) {
        high[Int(value.bitPattern >> 16)] += 1
        count += 1
    }

    /// The value v such that about `keeping` of the counted weights are ≥ v (exactly that many
    /// unless there are ties at v); 0 when `keeping` covers every weight. `forward` holds the
    /// same weights, scanned once more for the low 16 bits within the deciding bucket.
    ///
    /// Positive floats order like their bit patterns, so two 16-bit histograms find it.
    /// - Complexity: O(P).
    func threshold(keeping: Int, forward: BuildForward) -> Float {
        guard keeping < count else { return 0 }
        guard keeping > 0 else { return .infinity }
        var remaining = keeping
        var bucket = high.count - 1
        while high[bucket] < remaining {
            remaining -= high[bucket]
            bucket -= 1
        }
        var low = [Int](repeating: 0, count: 1 << 16)
        for j in 0 ..< forward.nonzeroCount {
            let bits = forward.value(j).bitPattern
            if Int(bits >> 16) == bucket { low[Int(bits & 0xFFFF)] += 1 }
        }
        var lowBucket = low.count - 1
        while low[lowBucket] < remaining {
            remaining -= low[lowBucket]
            lowBucket -= 1
        }
        return Float(bitPattern: UInt32(bucket) << 16 | UInt32(lowBucket))
    }
}
