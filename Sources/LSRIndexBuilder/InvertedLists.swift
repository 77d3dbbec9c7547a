import LSRFormats
import LSRVectors

/// Every posting of every component, lists in component order, documents ascending in each list.
struct InvertedLists {
    /// List t is `starts[t] ..< starts[t + 1]` of `documents` / `values`.
    var starts: [Int]
    var documents: [UInt32]
    var values: [Float]

    var listCount: Int { starts.count - 1 }

    /// Transposes the forward index with a counting sort.
    /// - Complexity: O(nnz + dimension).
    init(forward: SparseDataset, dimension: Int) {
        var counts = [Int](repeating: 0, count: dimension + 1)
        for c in forward.components { counts[Int(c) + 1] += 1 }
        for t in 0 ..< dimension { counts[t + 1] += counts[t] }
        starts = counts
        var cursor = counts
        documents = [UInt32](repeating: 0, count: forward.nonzeroCount)
        values = [Float](repeating: 0, count: forward.nonzeroCount)
        forward.components.withUnsafeBufferPointer { components in
            forward.values.withUnsafeBufferPointer { weights in
                for d in 0 ..< forward.count {
                    for j in forward.offsets[d] ..< forward.offsets[d + 1] {
                        let t = Int(components[j])
                        documents[cursor[t]] = UInt32(d)
                        values[cursor[t]] = weights[j]
                        cursor[t] += 1
                    }
                }
            }
        }
    }

    /// Marks which postings static pruning keeps.
    /// - Returns: one flag per posting, parallel to `documents`.
    func keptPostings(_ strategy: PruningStrategy) -> [Bool] {
        switch strategy {
        case .none:
            return [Bool](repeating: true, count: documents.count)
        case let .fixedSize(n):
            return keepLargest(perList: { _ in n }, atLeast: 0)
        case let .globalThreshold(n, maxFraction):
            let nonEmpty = (0 ..< listCount).filter { starts[$0 + 1] > starts[$0] }.count
            let budget = n.multipliedReportingOverflow(by: nonEmpty)
            let threshold = budget.overflow ? 0 : largestValueThreshold(keeping: budget.partialValue)
            let cap = max(1, Int((Double(n) * maxFraction).rounded(.down)))
            return keepLargest(perList: { _ in cap }, atLeast: threshold)
        }
    }

    /// Σ L² / Σ L·K over the lists, L a list's length and K its postings in `kept`: how much
    /// longer, weighted by length, the complete lists are than the kept ones (1: nothing pruned).
    func pruningRatio(kept: [Bool]) -> Double {
        var squares = 0.0, products = 0.0
        for t in 0 ..< listCount {
            let length = Double(starts[t + 1] - starts[t])
            var keptCount = 0
            for p in starts[t] ..< starts[t + 1] where kept[p] { keptCount += 1 }
            squares += length * length
            products += length * Double(keptCount)
        }
        return products > 0 ? squares / products : .infinity
    }

    /// Per list, keeps postings whose value is at least `threshold`, at most `limit(t)` of them
    /// (the largest; ties broken by lower document id).
    private func keepLargest(perList limit: (Int) -> Int, atLeast threshold: Float) -> [Bool] {
        var kept = [Bool](repeating: false, count: documents.count)
        var order: [Int] = []
        for t in 0 ..< listCount {
            let range = starts[t] ..< starts[t + 1]
            order.removeAll(keepingCapacity: true)
            for p in range where values[p] >= threshold { order.append(p) }
            let cap = limit(t)
            if order.count > cap {
                order.sort { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
                order.removeSubrange(cap...)
            }
            for p in order { kept[p] = true }
        }
        return kept
    }

    /// The value v such that about `count` postings have a value ≥ v (exactly `count` unless
    /// there are ties at v); 0 when `count` covers every posting.
    ///
    /// Two histogram passes over the bit patterns of the (positive) values, whose order matches
    /// the order of the values.
    /// - Complexity: O(P).
    private func largestValueThreshold(keeping count: Int) -> Float {
        guard count < values.count else { return 0 }
        guard count > 0 else { return .infinity }
        var high = [Int](repeating: 0, count: 1 << 16)
        for v in values { high[Int(v.bitPattern >> 16)] += 1 }
        var remaining = count
        var bucket = high.count - 1
        while high[bucket] < remaining {
            remaining -= high[bucket]
            bucket -= 1
        }
        var low = [Int](repeating: 0, count: 1 << 16)
        for v in values where Int(v.bitPattern >> 16) == bucket { low[Int(v.bitPattern & 0xFFFF)] += 1 }
        var lowBucket = low.count - 1
        while low[lowBucket] < remaining {
            remaining -= low[lowBucket]
            lowBucket -= 1
        }
        return Float(bitPattern: UInt32(bucket) << 16 | UInt32(lowBucket))
    }
}
