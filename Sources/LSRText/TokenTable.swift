/// Token strings → ids, looked up by UTF-8 bytes without building a `String`: open addressing
/// over a byte pool (what WordPiece's longest-match loop needs, a lookup per candidate piece).
struct TokenTable: Sendable {
    private var pool: [UInt8] = []
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private var ids: [Int32] = []
    private var slots: [Int32]
    private let mask: Int
    /// The longest key, in Unicode scalars (no piece longer than this can match).
    private(set) var longestKeyScalars = 0

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    /// Adds `key` → `id`; an existing key keeps its first id.
    mutating func insert(_ key: Substring.UTF8View, id: Int32) {
        let bytes = Array(key)
        let found = bytes.withUnsafeBufferPointer { lookup($0.baseAddress!, $0.count) }
        guard found < 0 else { return }
        var slot = bytes.withUnsafeBufferPointer { Int(truncatingIfNeeded: Self.hash($0.baseAddress!, $0.count)) & mask }
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(ids.count)
        starts.append(Int32(pool.count))
        lengths.append(Int32(bytes.count))
        ids.append(id)
        pool += bytes
        longestKeyScalars = max(longestKeyScalars, bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) })
    }

    /// The id of the `count` bytes at `bytes`, or -1.
    @inline(__always)
    func lookup(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int32 {
        var slot = Int(truncatingIfNeeded: Self.hash(bytes, count)) & mask
        return pool.withUnsafeBufferPointer { pool in
            while true {
                let entry = Int(slots[slot])
                if entry < 0 { return -1 }
                if Int(lengths[entry]) == count && memoryEqual(pool.baseAddress! + Int(starts[entry]), bytes, count) { return ids[entry] }
                slot = (slot + 1) & mask
            }
        }
    }

    /// FNV-1a, 64 bits.
    @inline(__always)
    private static func hash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in 0 ..< count { h = (h ^ UInt64(bytes[i])) &* 0x100_0000_01B3 }
        return h ^ (h >> 29)
    }
}

@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for i in 0 ..< count where a[i] != b[i] { return false }
    return true
}
