extension UnsafeMutableBufferPointer where Element: Comparable {
    /// Reorders the buffer so that its first `count` elements are its `count` largest, in no
    /// particular order (quickselect with a median-of-three pivot: linear on average).
    @inlinable
    public func moveLargestToFront(_ count: Int) {
        guard count > 0, count < self.count else { return }
        var low = 0, high = self.count - 1
        while low < high {
            let a = self[low], b = self[(low + high) / 2], c = self[high]
            let pivot = Swift.max(Swift.min(a, c), Swift.min(Swift.max(a, c), b))
            var i = low, j = high
            while i <= j {
                while self[i] > pivot { i += 1 }
                while self[j] < pivot { j -= 1 }
                if i <= j {
                    swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if count - 1 <= j {
                high = j
            } else if count - 1 >= i {
                low = i
            } else {
                return  // position count - 1 holds the pivot: everything before it is at least as large
            }
        }
    }
}
