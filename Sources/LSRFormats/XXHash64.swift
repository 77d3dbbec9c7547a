/// xxHash64 (Yann Collet's XXH64, seed 0 by default), used as the section checksum of index files.
///
/// - Complexity: O(n), about one 8-byte load, multiply and rotate per 8 bytes.
public enum XXHash64 {
    private static let p1: UInt64 = 11_400_714_785_074_694_791
    private static let p2: UInt64 = 14_029_467_366_897_019_727
    private static let p3: UInt64 = 1_609_587_929_392_839_161
    private static let p4: UInt64 = 9_650_029_242_287_828_579
    private static let p5: UInt64 = 2_870_177_450_012_600_261

    @inline(__always) private static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inline(__always) private static func round(_ acc: UInt64, _ lane: UInt64) -> UInt64 {
        rotl(acc &+ lane &* p2, 31) &* p1
    }
    @inline(__always) private static func merge(_ acc: UInt64, _ v: UInt64) -> UInt64 {
        (acc ^ round(0, v)) &* p1 &+ p4
    }

    /// `value` as 16 lowercase hex digits (how side files write checksums).
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The hash of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var hasher = Hasher(seed: seed)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The hash of bytes given in pieces: the same value as ``hash(_:seed:)`` of their
    /// concatenation, for sections written in chunks without holding them whole.
    public struct Hasher: Sendable {
        private let seed: UInt64
        private var v1, v2, v3, v4: UInt64
        /// Bytes seen so far.
        public private(set) var byteCount = 0
        /// The last `byteCount % 32` bytes, not yet folded into the lanes.
        private var pending: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        /// A hasher that has seen no bytes yet; `seed` is as for ``XXHash64/hash(_:seed:)``.
        public init(seed: UInt64 = 0) {
            self.seed = seed
            v1 = seed &+ p1 &+ p2
            v2 = seed &+ p2
            v3 = seed
            v4 = seed &- p1
        }

        /// Feeds the next bytes.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            let n = bytes.count
            guard n > 0 else { return }
            var i = 0
            var filled = byteCount & 31
            byteCount += n
            if filled > 0 {
                let take = min(32 - filled, n)
                withUnsafeMutableBytes(of: &pending) { stripe in
                    stripe.baseAddress!.advanced(by: filled).copyMemory(from: bytes.baseAddress!, byteCount: take)
                }
                i = take
                filled += take
                guard filled == 32 else { return }
                withUnsafeBytes(of: pending) { consume(stripeAt: $0.baseAddress!) }
            }
            while i + 32 <= n {
                consume(stripeAt: bytes.baseAddress! + i)
                i += 32
            }
            if i < n {
                withUnsafeMutableBytes(of: &pending) { stripe in
                    stripe.baseAddress!.copyMemory(from: bytes.baseAddress! + i, byteCount: n - i)
                }
            }
        }

        @inline(__always) private mutating func consume(stripeAt p: UnsafeRawPointer) {
            @inline(__always) func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            v1 = XXHash64.round(v1, u64(0)); v2 = XXHash64.round(v2, u64(8))
            v3 = XXHash64.round(v3, u64(16)); v4 = XXHash64.round(v4, u64(24))
        }

        /// The hash of every byte fed so far.
        public func finalize() -> UInt64 {
            var h: UInt64
            if byteCount >= 32 {
                h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
                h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
            } else {
                h = seed &+ p5
            }
            h = h &+ UInt64(byteCount)
            return withUnsafeBytes(of: pending) { tail in finish(h, tail: UnsafeRawBufferPointer(rebasing: tail[0 ..< byteCount & 31])) }
        }
    }

    /// Folds the last `bytes.count` (< 32) bytes into `h` and avalanches.
    private static func finish(_ h: UInt64, tail bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h = h
        let n = bytes.count
        var i = 0
        @inline(__always) func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        while i + 8 <= n {
            h ^= round(0, u64(i))
            h = rotl(h, 27) &* p1 &+ p4
            i += 8
        }
        if i + 4 <= n {
            h ^= UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1
            h = rotl(h, 23) &* p2 &+ p3
            i += 4
        }
        while i < n {
            h ^= UInt64(bytes[i]) &* p5
            h = rotl(h, 11) &* p1
            i += 1
        }
        h ^= h >> 33; h = h &* p2
        h ^= h >> 29; h = h &* p3
        h ^= h >> 32
        return h
    }
}
