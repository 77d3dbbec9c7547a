extension UnsafeBufferPointer where Element: FixedWidthInteger & UnsignedInteger {
    /// The first position in `range` whose element is ≥ `value`, or `range.upperBound` if none,
    /// for elements ascending within `range`.
    ///
    /// Made for component ids, which spread roughly evenly over the vocabulary: one
    /// interpolation probe lands near the answer, galloping brackets it, and a binary search
    /// finishes inside a cache line or two, where a plain binary search would take a dependent,
    /// cache-missing probe per halving. Any input (even unsorted) gives a position within
    /// `range`; only sorted input gives the lower bound.
    @inlinable
    package func interpolatedLowerBound(of value: UInt32, in range: Range<Int>) -> Int {
        var low = range.lowerBound, high = range.upperBound
        if high - low > 16 {
            let first = UInt32(truncatingIfNeeded: self[low]), last = UInt32(truncatingIfNeeded: self[high - 1])
            if value <= first { return low }
            if value > last { return high }
            // first < value ≤ last, so the guess lies in low ..< high.
            let guess = low + Int(UInt64(value - first) * UInt64(high - 1 - low) / UInt64(last - first))
            var step = 1
            if UInt32(truncatingIfNeeded: self[guess]) < value {
                low = guess + 1
                var probe = low
                while probe < high && UInt32(truncatingIfNeeded: self[probe]) < value {
                    low = probe + 1
                    probe = low + step
                    step *= 2
                }
                high = Swift.min(probe, high)
            } else {
                high = guess
                var probe = high - 1
                while probe >= low && UInt32(truncatingIfNeeded: self[probe]) >= value {
                    high = probe
                    probe = high - 1 - step
                    step *= 2
                }
                low = Swift.max(probe + 1, low)
            }
        }
        while low < high {
            let middle = (low + high) / 2
            if UInt32(truncatingIfNeeded: self[middle]) < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
