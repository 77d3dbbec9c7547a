/// Elias–Fano coding of a nondecreasing sequence of n integers in `0 ... u`: about
/// 2 + ⌊log₂(u / n)⌋ bits per value, with constant-time access through a select directory.
///
/// Layout (all bit positions relative to the caller's word array):
/// - low bits: the `lowWidth` low bits of each value, packed from `lowStart`;
/// - high bits: a word-aligned bit vector from word `highStart`, where value i sets bit
///   `(value >> lowWidth) + i`; it has `n + (u >> lowWidth) + 1` bits;
/// - samples: for j ≥ 1, the position in the high bits of the one of value `64 j` (u32).
package enum EliasFano {
    /// Values between two select samples.
    public static let sampleInterval = 64

    /// The low width that minimizes the size for `count` values up to `universe`.
    @inlinable
    public static func lowWidth(count: Int, universe: UInt64) -> Int {
        guard count > 0, universe > UInt64(count) else { return 0 }
        return min(BitPacking.maximumWidth, UInt64.bitWidth - 1 - (universe / UInt64(count)).leadingZeroBitCount)
    }

    /// Words of high bits for `count` values up to `universe` with `lowWidth` low bits.
    @inlinable
    public static func highWordCount(count: Int, universe: UInt64, lowWidth: Int) -> Int {
        (count + Int(universe >> UInt64(lowWidth)) + 1 + 63) / 64
    }

    /// Number of select samples stored for `count` values.
    @inlinable
    public static func sampleCount(count: Int) -> Int { count == 0 ? 0 : (count - 1) / sampleInterval }

    /// Appends the encoding of `values` (nondecreasing, each ≤ `universe`): low bits to `bits`
    /// from its current position, then high bits from the next word boundary, and select samples
    /// to `samples`.
    /// - Returns: where the low and high bits start, and the low width.
    public static func encode(
        _ values: [UInt64], universe: UInt64, into bits: inout BitWriter, samples: inout [UInt32]
    ) -> (lowStart: Int, highStart: Int, lowWidth: Int) {
        let width = lowWidth(count: values.count, universe: universe)
        let lowStart = bits.bitCount
        let mask = (UInt64(1) << UInt64(width)) - 1
        for value in values { bits.append(value & mask, width: width) }
        bits.alignToWord()
        let highStart = bits.wordCount
        var high = [UInt64](repeating: 0, count: highWordCount(count: values.count, universe: universe, lowWidth: width))
        var previous: UInt64 = 0
        for (i, value) in values.enumerated() {
            precondition(value >= previous && value <= universe, "Elias–Fano input must be nondecreasing and ≤ the universe")
            previous = value
            let position = Int(value >> UInt64(width)) + i
            high[position >> 6] |= 1 << UInt64(position & 63)
            if i > 0 && i % sampleInterval == 0 { samples.append(UInt32(position)) }
        }
        bits.append(words: high)
        return (lowStart, highStart, width)
    }
}

/// Read access to one Elias–Fano sequence stored by ``EliasFano/encode(_:universe:into:samples:)``.
/// Every position it follows is checked against the sizes given, so damaged data gives nil,
/// never an out-of-bounds read.
package struct EliasFanoReader {
    public let words: UnsafeBufferPointer<UInt64>
    public let samples: UnsafeBufferPointer<UInt32>
    public let count: Int
    public let lowStart: Int
    public let lowWidth: Int
    public let highStart: Int
    public let highWordCount: Int
    public let sampleStart: Int

    /// A reader, or nil when the sequence's regions do not lie inside `words` and `samples`.
    @inlinable
    public init?(
        words: UnsafeBufferPointer<UInt64>, samples: UnsafeBufferPointer<UInt32>, count: Int, universe: UInt64,
        lowStart: Int, highStart: Int, lowWidth: Int, sampleStart: Int
    ) {
        guard count >= 0, lowWidth >= 0, lowWidth <= BitPacking.maximumWidth, lowStart >= 0, highStart >= 0, sampleStart >= 0,
              universe >> UInt64(lowWidth) < UInt64(Int32.max), count < Int(Int32.max) else { return nil }
        let highWords = EliasFano.highWordCount(count: count, universe: universe, lowWidth: lowWidth)
        // Low bits are read with 8-byte loads from their first byte.
        guard lowStart <= words.count * 64, count * lowWidth <= words.count * 64 - lowStart,
              count == 0 || (lowStart + (count - 1) * lowWidth) / 8 + 8 <= words.count * 8,
              highStart <= words.count - highWords,
              sampleStart <= samples.count - EliasFano.sampleCount(count: count) else { return nil }
        self.words = words
        self.samples = samples
        self.count = count
        self.lowStart = lowStart
        self.lowWidth = lowWidth
        self.highStart = highStart
        self.highWordCount = highWords
        self.sampleStart = sampleStart
    }

    /// Values `i` and `i + 1` (for `i + 1 < count`), or nil when the data is damaged.
    @inlinable
    public func pair(_ i: Int) -> (UInt64, UInt64)? {
        guard i >= 0, i + 1 < count else { return nil }
        // Position of the one of value i: start from the sample at or before it.
        let sample = i / EliasFano.sampleInterval
        var position = sample == 0 ? 0 : Int(samples[sampleStart + sample - 1])
        var remaining = i - sample * EliasFano.sampleInterval
        var w = position >> 6
        guard w < highWordCount else { return nil }
        var word = words[highStart + w] & (~UInt64(0) << UInt64(position & 63))
        while true {
            let ones = word.nonzeroBitCount
            if remaining < ones { break }
            remaining -= ones
            w += 1
            guard w < highWordCount else { return nil }
            word = words[highStart + w]
        }
        for _ in 0 ..< remaining { word &= word - 1 }
        position = w << 6 | word.trailingZeroBitCount
        // The next one, for value i + 1.
        word &= word - 1
        while word == 0 {
            w += 1
            guard w < highWordCount else { return nil }
            word = words[highStart + w]
        }
        let next = w << 6 | word.trailingZeroBitCount
        guard position >= i else { return nil }
        let base = UnsafeRawPointer(words.baseAddress!)
        let first = UInt64(position - i) << UInt64(lowWidth) | readBits(base, at: lowStart + i * lowWidth, width: lowWidth)
        let second = UInt64(next - i - 1) << UInt64(lowWidth) | readBits(base, at: lowStart + (i + 1) * lowWidth, width: lowWidth)
        return (first, second)
    }
}
