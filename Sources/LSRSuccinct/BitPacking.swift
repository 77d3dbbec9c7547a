/// Fixed-width unsigned integers packed back to back, least significant bit first, in 64-bit
/// little-endian words.
///
/// Readers use ``readBits(_:at:width:)``, an unaligned 8-byte load, so every packed array ends
/// with one spare zero word (``BitWriter/drainFinishedWords()`` adds it).
///
/// A long stream can be written out as it grows: ``drainCompleteWords()`` hands over the words
/// no later append changes, while bit and word positions keep counting from the stream's start.
package struct BitWriter: Sendable {
    /// The words not drained yet.
    public private(set) var words: [UInt64] = []
    /// Bits written so far, drained or not.
    public private(set) var bitCount = 0
    /// Words handed over by ``drainCompleteWords()``.
    public private(set) var drainedWordCount = 0
    /// Words written so far, drained or not.
    public var wordCount: Int { drainedWordCount + words.count }

    public init() {}

    /// Appends the low `width` bits of `value` (`width` in 0 ... 56; higher bits must be zero).
    public mutating func append(_ value: UInt64, width: Int) {
        precondition(width >= 0 && width <= BitPacking.maximumWidth && value >> UInt64(width) == 0,
                     "value \(value) does not fit in \(width) bits")
        guard width > 0 else { return }
        let shift = bitCount & 63
        if shift == 0 { words.append(0) }
        words[words.count - 1] |= value << UInt64(shift)
        if shift + width > 64 { words.append(value >> UInt64(64 - shift)) }
        bitCount += width
    }

    /// Appends whole words (the writer must be at a word boundary).
    public mutating func append(words more: [UInt64]) {
        precondition(bitCount == wordCount * 64, "appending words off a word boundary")
        words += more
        bitCount = wordCount * 64
    }

    /// Appends zero bits up to the next multiple of 64.
    public mutating func alignToWord() {
        bitCount = wordCount * 64
    }

    /// Removes and returns the words no later append changes: all of them but a partly filled
    /// last one.
    public mutating func drainCompleteWords() -> [UInt64] {
        let complete = bitCount & 63 == 0 ? words.count : words.count - 1
        let drained = Array(words[0 ..< complete])
        words.removeSubrange(0 ..< complete)
        drainedWordCount += complete
        return drained
    }

    /// Ends the stream: removes and returns every word not drained yet, the partly filled last
    /// one included, plus the spare zero word readers may touch.
    public mutating func drainFinishedWords() -> [UInt64] {
        let finished = words + [0]
        drainedWordCount += words.count
        words.removeAll()
        bitCount = drainedWordCount * 64
        return finished
    }
}

package enum BitPacking {
    /// The widest value ``BitWriter`` and ``readBits(_:at:width:)`` handle: an 8-byte load
    /// starting at the value's byte holds 57 of its bits whatever the bit offset.
    public static let maximumWidth = 56

    /// Bits needed to store every value in `0 ... maximum` (0 for 0).
    @inlinable
    public static func width(forMaximum maximum: UInt64) -> Int { UInt64.bitWidth - maximum.leadingZeroBitCount }
}

/// The `width`-bit value starting at bit `position` of the packed words at `base` (width ≤ 56).
/// The caller guarantees bytes `position / 8 ..< position / 8 + 8` are readable.
@inlinable @inline(__always)
package func readBits(_ base: UnsafeRawPointer, at position: Int, width: Int) -> UInt64 {
    let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position >> 3, as: UInt64.self))
    return (word >> UInt64(position & 7)) & ((1 << UInt64(width)) &- 1)
}
