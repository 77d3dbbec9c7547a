extension UnsafeMutableBufferPointer where Element: Comparable {
    /// Reorders the buffer so that its first `count` elements are its `count` largest, in no
    /// particular order (quickselect with a median-of-three pivot: linear on average).
    @inlinable
    package func moveLargestToFront(_ count: Int) {
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

extension UnsafeMutableBufferPointer where Element: Comparable {
    /// Reorders the buffer so that its front holds the fewest largest elements whose weights sum
    /// to at least `target`, in no particular order, and returns how many that is (the whole
    /// buffer when all weights together fall short). `weight` must not decrease as elements
    /// grow. Linear on average: a quickselect that keeps the running sum of the part it keeps.
    @inlinable
    package func moveHeaviestToFront(reaching target: Double, weight: (Element) -> Double) -> Int {
        var low = 0, high = count  // [0, low) is kept; the answer's boundary lies in low ... high
        var needed = target
        while low < high {
            if needed <= 0 { return low }
            let a = self[low], b = self[(low + high - 1) / 2], c = self[high - 1]
            let pivot = Swift.max(Swift.min(a, c), Swift.min(Swift.max(a, c), b))
            // [low, greater) > pivot, then [greater, equal) == pivot, then the rest.
            var greater = low
            var larger = 0.0
            for k in low ..< high where self[k] > pivot {
                larger += weight(self[k])
                swapAt(greater, k)
                greater += 1
            }
            if larger >= needed {
                high = greater  // the pivot is excluded, so the range shrinks
                continue
            }
            needed -= larger
            var equal = greater
            for k in greater ..< high where self[k] == pivot {
                swapAt(equal, k)
                equal += 1
            }
            let pivotWeight = weight(pivot)
            for position in greater ..< equal {
                needed -= pivotWeight
                if needed <= 0 { return position + 1 }
            }
            low = equal
        }
        return low
    }
}
