/// A set of integers in `0 ..< universe` as a bit vector with a rank directory: membership and
/// the member's index (its rank) in constant time.
///
/// Layout: `wordCount(universe:)` words of bits (a multiple of ``wordsPerRankSample``), and one
/// u32 per `wordsPerRankSample` words: the number of members before that group of words.
package enum RankedBitmap {
    public static let wordsPerRankSample = 8

    /// Words of bits for `universe` positions, padded to whole rank samples.
    @inlinable
    public static func wordCount(universe: Int) -> Int {
        let groupBits = 64 * wordsPerRankSample
        return (universe + groupBits - 1) / groupBits * wordsPerRankSample
    }

    /// Bytes of the encoding (bits and rank samples).
    @inlinable
    public static func byteCount(universe: Int) -> Int {
        let words = wordCount(universe: universe)
        return words * 8 + words / wordsPerRankSample * 4
    }

    /// Appends the bitmap of `members` (ascending, each < `universe`) to `words` and its rank
    /// samples to `ranks`.
    public static func encode(_ members: [UInt32], universe: Int, words: inout [UInt64], ranks: inout [UInt32]) {
        var bits = [UInt64](repeating: 0, count: wordCount(universe: universe))
        for member in members {
            precondition(Int(member) < universe, "bitmap member out of range")
            bits[Int(member) >> 6] |= 1 << UInt64(member & 63)
        }
        var count: UInt32 = 0
        for (i, word) in bits.enumerated() {
            if i % wordsPerRankSample == 0 { ranks.append(count) }
            count += UInt32(word.nonzeroBitCount)
        }
        words += bits
    }
}

/// Read access to one bitmap stored by ``RankedBitmap/encode(_:universe:words:ranks:)``.
package struct RankedBitmapReader {
    public let words: UnsafePointer<UInt64>
    public let ranks: UnsafePointer<UInt32>
    public let universe: Int

    /// A reader, or nil when the bitmap starting at `wordStart` does not lie inside `words` and
    /// `ranks` (`wordStart` must be a multiple of ``RankedBitmap/wordsPerRankSample``).
    @inlinable
    public init?(words: UnsafeBufferPointer<UInt64>, ranks: UnsafeBufferPointer<UInt32>, wordStart: Int, universe: Int) {
        let count = RankedBitmap.wordCount(universe: universe)
        guard universe >= 0, wordStart >= 0, wordStart % RankedBitmap.wordsPerRankSample == 0,
              wordStart <= words.count - count,
              wordStart / RankedBitmap.wordsPerRankSample <= ranks.count - count / RankedBitmap.wordsPerRankSample,
              let wordBase = words.baseAddress, let rankBase = ranks.baseAddress else { return nil }
        self.words = wordBase + wordStart
        self.ranks = rankBase + wordStart / RankedBitmap.wordsPerRankSample
        self.universe = universe
    }

    /// The number of members below `value` if `value` is a member, else nil.
    @inlinable @inline(__always)
    public func rank(of value: Int) -> Int? {
        guard value >= 0 && value < universe else { return nil }
        let w = value >> 6
        let word = words[w]
        let bit = UInt64(1) << UInt64(value & 63)
        guard word & bit != 0 else { return nil }
        let group = w / RankedBitmap.wordsPerRankSample
        var rank = Int(ranks[group]) + (word & (bit - 1)).nonzeroBitCount
        for i in group * RankedBitmap.wordsPerRankSample ..< w { rank += words[i].nonzeroBitCount }
        return rank
    }
}
