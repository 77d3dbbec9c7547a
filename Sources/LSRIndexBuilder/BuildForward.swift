import LSRFormats
import LSRVectors

/// The forward index a build works from: every document's vector in CSR, as stored (weights
/// rounded to the storage precision, zeros dropped). Offsets are in memory; components and
/// values live in mapped scratch files, so reading the input holds no collection-sized arrays.
final class BuildForward: @unchecked Sendable {
    // @unchecked Sendable: mutated only by `renameComponents`, before any worker reads it.
    /// Vector `d` is `offsets[d] ..< offsets[d + 1]` of `components` / `values`.
    let offsets: [Int]
    let components: UnsafeMutableBufferPointer<UInt32>
    let values: UnsafeMutableBufferPointer<Float>
    private let componentFile: ScratchMapping<UInt32>
    private let valueFile: ScratchMapping<Float>

    var count: Int { offsets.count - 1 }
    var nonzeroCount: Int { components.count }

    init(offsets: [Int], components: ScratchMapping<UInt32>, values: ScratchMapping<Float>) {
        precondition(components.buffer.count == offsets.last! && values.buffer.count == offsets.last!)
        self.offsets = offsets
        componentFile = components
        valueFile = values
        self.components = components.buffer
        self.values = values.buffer
    }

    /// Bytes of the forward index resident once every page has been touched.
    static func residentBytes(documents: Int, nonzeros: Int) -> Int {
        (documents + 1) * MemoryLayout<Int>.stride + nonzeros * (MemoryLayout<UInt32>.stride + MemoryLayout<Float>.stride)
    }

    /// Renames every component through `map` (old id → new id) and restores ascending order in
    /// each vector.
    /// - Complexity: O(nnz log d) for vectors of `d` entries.
    func renameComponents(_ map: [UInt32]) {
        var order: [Int] = []
        var scratch: [(UInt32, Float)] = []
        for d in 0 ..< count {
            let range = offsets[d] ..< offsets[d + 1]
            var ascending = true
            var previous: UInt32? = nil
            for j in range {
                let renamed = map[Int(components[j])]
                components[j] = renamed
                if let p = previous, p >= renamed { ascending = false }
                previous = renamed
            }
            if ascending { continue }
            order.removeAll(keepingCapacity: true)
            order.append(contentsOf: range)
            order.sort { components[$0] < components[$1] }
            scratch.removeAll(keepingCapacity: true)
            for j in order { scratch.append((components[j], values[j])) }
            for (i, j) in range.enumerated() { (components[j], values[j]) = scratch[i] }
        }
    }
}

/// What reading the input yields besides the document store: the forward index (source
/// component ids) and the per-component statistics the later stages plan with.
struct ReadCollection {
    let forward: BuildForward
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
            for (c, v) in zip(record.components, record.values) {
                used[Int(c)] = true
                // Summaries, clustering and scores all see the stored (rounded) weights.
                let stored = precision == .f16 ? HalfPrecision.round(v) : v
                guard stored != 0 else { continue }
                components.append(c)
                values.append(stored)
                postingCounts[Int(c)] += 1
                histogram.add(stored)
            }
            try componentSpool.append(contentsOf: components)
            try valueSpool.append(contentsOf: values)
            offsets.append(offsets.last! + components.count)
            try store.add(position: record.position, id: record.id, content: record.content)
            if (offsets.count - 1) % 10_000 == 0 { progress?(BuildProgress(stage: .reading, completed: offsets.count - 1, total: input.declaredCount)) }
        }
        guard offsets.count > 1 else {
            throw LSRError(.invalidInput, "no vectors: the input holds no documents", path: input.path)
        }
        progress?(BuildProgress(stage: .reading, completed: offsets.count - 1, total: offsets.count - 1))
        let forward = BuildForward(
            offsets: offsets, components: try componentSpool.map(as: UInt32.self), values: try valueSpool.map(as: Float.self))
        return ReadCollection(forward: forward, used: used, postingCounts: postingCounts, histogram: histogram)
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
    /// unless there are ties at v); 0 when `keeping` covers every weight. `values` are the same
    /// weights, scanned once more for the low 16 bits within the deciding bucket.
    ///
    /// Positive floats order like their bit patterns, so two 16-bit histograms find it.
    /// - Complexity: O(P).
    func threshold(keeping: Int, values: UnsafeBufferPointer<Float>) -> Float {
        guard keeping < count else { return 0 }
        guard keeping > 0 else { return .infinity }
        var remaining = keeping
        var bucket = high.count - 1
        while high[bucket] < remaining {
            remaining -= high[bucket]
            bucket -= 1
        }
        var low = [Int](repeating: 0, count: 1 << 16)
        for v in values where Int(v.bitPattern >> 16) == bucket { low[Int(v.bitPattern & 0xFFFF)] += 1 }
        var lowBucket = low.count - 1
        while low[lowBucket] < remaining {
            remaining -= low[lowBucket]
            lowBucket -= 1
        }
        return Float(bitPattern: UInt32(bucket) << 16 | UInt32(lowBucket))
    }
}
