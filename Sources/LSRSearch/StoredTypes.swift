import CLSRKernels
import LSRVectors

/// How a stored weight decodes to `Float`; the search kernels are specialized per storage type.
protocol StoredWeight {
    associatedtype Bits: BitwiseCopyable
    static func decode(_ bits: Bits) -> Float
}

enum HalfWeight: StoredWeight {
    @inline(__always) static func decode(_ bits: UInt16) -> Float { HalfPrecision.decode(bits) }
}

enum SingleWeight: StoredWeight {
    @inline(__always) static func decode(_ bits: Float) -> Float { bits }
}

/// A stored component id (u16 or u32).
protocol StoredComponent: FixedWidthInteger, UnsignedInteger, BitwiseCopyable {}
extension UInt16: StoredComponent {}
extension UInt32: StoredComponent {}

/// A search algorithm written once for every storage combination (see ``IndexStorage/dispatch(_:)``).
protocol TypedIndexVisitor {
    associatedtype Result
    mutating func visit<C: StoredComponent, W: StoredWeight>(_ typed: TypedIndex<C, W>) -> Result
}

extension IndexStorage {
    /// The one dispatch point from the index's stored component and weight types to code
    /// specialized for them.
    @inline(__always)
    func dispatch<V: TypedIndexVisitor>(_ visitor: inout V) -> V.Result {
        switch (narrowComponents, halfValues) {
        case (true, true): return visitor.visit(TypedIndex<UInt16, HalfWeight>(self))
        case (true, false): return visitor.visit(TypedIndex<UInt16, SingleWeight>(self))
        case (false, true): return visitor.visit(TypedIndex<UInt32, HalfWeight>(self))
        case (false, false): return visitor.visit(TypedIndex<UInt32, SingleWeight>(self))
        }
    }
}

/// Typed pointers into the index for one (component, weight) storage combination.
struct TypedIndex<C: StoredComponent, W: StoredWeight> {
    let storage: IndexStorage
    let forwardVectors: UnsafeRawPointer
    let postingValues: UnsafePointer<W.Bits>
    let summaryComponents: UnsafeBufferPointer<C>
    /// Bytes a component or a weight takes in `fwd.vectors` (the wider of the two).
    let fieldBytes: Int

    init(_ storage: IndexStorage) {
        self.storage = storage
        // Sections are 64-byte aligned and sized for exactly these element types (IndexStorage).
        forwardVectors = storage.forwardVectors.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!
        postingValues = storage.postingValues.baseAddress.map { $0.assumingMemoryBound(to: W.Bits.self) } ?? UnsafePointer(bitPattern: 64)!
        summaryComponents = storage.summaryComponents.bindMemory(to: C.self)
        fieldBytes = storage.forwardEntryBytes / 2
    }

    /// Document `d`'s components, its weights right after them, and their count.
    @inline(__always) func vector(_ d: Int) -> (components: UnsafeRawPointer, values: UnsafeRawPointer, count: Int) {
        let entries = storage.forward(ofDocument: d)
        let components = forwardVectors + entries.lowerBound * 2 * fieldBytes
        return (components, components + entries.count * fieldBytes, entries.count)
    }

    /// Starts loading document `d`'s vector into the cache.
    @inline(__always) func prefetch(_ d: Int) {
        let (components, _, count) = vector(d)
        lsr_prefetch_range(components, count * 2 * fieldBytes)
    }

    /// Dot product of document `d` with the dense query `q`: the one scoring function of both
    /// approximate and exact search, so equal documents get bit-identical scores. Runs the C
    /// kernels of CLSRKernels (AVX2 gathers and F16C conversion where the CPU has them).
    @inline(__always) func score(_ d: Int, _ q: UnsafeMutablePointer<Float>) -> Float {
        let (components, values, count) = vector(d)
        let clamp = UInt32(storage.dimension)
        switch (C.bitWidth == 16, W.Bits.self == UInt16.self) {
        case (true, true):
            return lsr_dot_u16_f16(components.assumingMemoryBound(to: UInt16.self), values.assumingMemoryBound(to: UInt16.self), count, q)
        case (true, false):
            return lsr_dot_u16_f32(components.assumingMemoryBound(to: UInt16.self), values.assumingMemoryBound(to: Float.self), count, q)
        case (false, true):
            return lsr_dot_u32_f16(components.assumingMemoryBound(to: UInt32.self), values.assumingMemoryBound(to: UInt16.self), count, q, clamp)
        case (false, false):
            return lsr_dot_u32_f32(components.assumingMemoryBound(to: UInt32.self), values.assumingMemoryBound(to: Float.self), count, q, clamp)
        }
    }

    /// Adds `weight ×` value to the score of every document among postings `range`, and sets
    /// its bit in `seen` (documents ≥ `limit`, only in damaged files, are skipped).
    @inline(__always) func accumulate(
        _ range: Range<Int>, weight: Float, into scores: UnsafeMutablePointer<Float>, seen: UnsafeMutablePointer<UInt64>, limit: UInt32
    ) {
        guard !range.isEmpty, let documents = storage.postingDocuments.baseAddress else { return }
        let values = UnsafeRawPointer(postingValues + range.lowerBound)
        if W.Bits.self == UInt16.self {
            lsr_accumulate_f16(documents + range.lowerBound, values.assumingMemoryBound(to: UInt16.self), range.count, weight, scores, seen, limit)
        } else {
            lsr_accumulate_f32(documents + range.lowerBound, values.assumingMemoryBound(to: Float.self), range.count, weight, scores, seen, limit)
        }
    }
}
