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

/// Typed pointers into the index for one (component, weight) storage combination.
struct TypedIndex<C: StoredComponent, W: StoredWeight> {
    let storage: IndexStorage
    let forwardComponents: UnsafePointer<C>
    let forwardValues: UnsafePointer<W.Bits>
    let postingValues: UnsafePointer<W.Bits>
    let summaryComponents: UnsafeBufferPointer<C>
    /// Size of the dense query buffer: every u16 id is in bounds; u32 ids are clamped to
    /// `dimension`, whose slot stays zero.
    let denseSize: Int

    init(_ storage: IndexStorage) {
        self.storage = storage
        // Sections are 64-byte aligned and sized for exactly these element types (IndexStorage).
        forwardComponents = storage.forwardComponents.baseAddress.map { $0.assumingMemoryBound(to: C.self) } ?? UnsafePointer(bitPattern: MemoryLayout<C>.alignment)!
        forwardValues = storage.forwardValues.baseAddress.map { $0.assumingMemoryBound(to: W.Bits.self) } ?? UnsafePointer(bitPattern: 64)!
        postingValues = storage.postingValues.baseAddress.map { $0.assumingMemoryBound(to: W.Bits.self) } ?? UnsafePointer(bitPattern: 64)!
        summaryComponents = storage.summaryComponents.bindMemory(to: C.self)
        denseSize = C.bitWidth == 16 ? 1 << 16 : storage.dimension + 1
    }

    /// The dense-query slot of a stored component.
    @inline(__always) func slot(_ c: C) -> Int {
        C.bitWidth == 16 ? Int(c) : min(Int(c), storage.dimension)
    }

    /// Dot product of document `d` with the dense query `q`: the one scoring function of both
    /// approximate and exact search, so equal documents get bit-identical scores.
    @inline(__always) func score(_ d: Int, _ q: UnsafeMutablePointer<Float>) -> Float {
        var j = Int(storage.forwardOffsets[d])
        let end = Int(storage.forwardOffsets[d + 1])
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        while j + 4 <= end {
            s0 += q[slot(forwardComponents[j])] * W.decode(forwardValues[j])
            s1 += q[slot(forwardComponents[j + 1])] * W.decode(forwardValues[j + 1])
            s2 += q[slot(forwardComponents[j + 2])] * W.decode(forwardValues[j + 2])
            s3 += q[slot(forwardComponents[j + 3])] * W.decode(forwardValues[j + 3])
            j += 4
        }
        while j < end {
            s0 += q[slot(forwardComponents[j])] * W.decode(forwardValues[j])
            j += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
