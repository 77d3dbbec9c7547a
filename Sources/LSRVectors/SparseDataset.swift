/// A growable collection of sparse vectors stored as flat CSR buffers.
///
/// Vector `i` owns the entries `offsets[i] ..< offsets[i + 1]` of `components` and `values`.
/// Components are strictly ascending within a vector and values are finite and positive; the
/// appending methods check both as preconditions, so readers validate input first and throw.
public struct SparseDataset: Sendable, Equatable {
    /// Start of each vector in `components`/`values`, plus one past the end.
    public private(set) var offsets: [Int] = [0]
    /// Component ids of all vectors, concatenated.
    public private(set) var components: [UInt32] = []
    /// Weights of all vectors, concatenated, parallel to `components`.
    public private(set) var values: [Float] = []

    public init() {}

    /// Number of vectors.
    public var count: Int { offsets.count - 1 }
    /// Number of stored (component, value) pairs over all vectors.
    public var nonzeroCount: Int { components.count }

    /// Appends one vector.
    /// - Precondition: `components` strictly ascending and parallel to positive finite `values`.
    public mutating func append(components newComponents: some Collection<UInt32>, values newValues: some Collection<Float>) {
        precondition(newComponents.count == newValues.count, "components and values differ in length")
        components.append(contentsOf: newComponents)
        values.append(contentsOf: newValues)
        offsets.append(components.count)
    }

    /// The entries of vector `i`.
    public func vector(at i: Int) -> (components: ArraySlice<UInt32>, values: ArraySlice<Float>) {
        let range = offsets[i] ..< offsets[i + 1]
        return (components[range], values[range])
    }

    /// Reserves room for `vectors` vectors with `nonzeros` entries in all.
    public mutating func reserveCapacity(vectors: Int, nonzeros: Int) {
        offsets.reserveCapacity(vectors + 1)
        components.reserveCapacity(nonzeros)
        values.reserveCapacity(nonzeros)
    }

    /// Renames every component through `map` (old id → new id) and restores ascending order in
    /// each vector.
    /// - Complexity: O(nnz log d) for vectors of `d` entries.
    public mutating func renameComponents(_ map: [UInt32]) {
        var order: [Int] = []
        var scratchComponents: [UInt32] = []
        var scratchValues: [Float] = []
        for i in 0 ..< count {
            let range = offsets[i] ..< offsets[i + 1]
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
            scratchComponents.removeAll(keepingCapacity: true)
            scratchValues.removeAll(keepingCapacity: true)
            for j in order {
                scratchComponents.append(components[j])
                scratchValues.append(values[j])
            }
            components.replaceSubrange(range, with: scratchComponents)
            values.replaceSubrange(range, with: scratchValues)
        }
    }

    /// Replaces every value by `transform(value)`, dropping entries that become zero.
    public mutating func transformValues(_ transform: (Float) -> Float) {
        var write = 0
        var newOffsets = [0]
        newOffsets.reserveCapacity(offsets.count)
        for i in 0 ..< count {
            for j in offsets[i] ..< offsets[i + 1] {
                let value = transform(values[j])
                if value != 0 {
                    components[write] = components[j]
                    values[write] = value
                    write += 1
                }
            }
            newOffsets.append(write)
        }
        components.removeSubrange(write...)
        values.removeSubrange(write...)
        offsets = newOffsets
    }
}
