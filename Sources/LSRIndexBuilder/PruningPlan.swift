import LSRVectors

/// Which postings of each inverted list static pruning keeps (``PruningStrategy``), decided for
/// the whole collection before any list is built: a list keeps at most `cap` postings, those of
/// weight ≥ `threshold`, the largest first (ties: lower document id). The kept postings get
/// blocks and summaries; the rest go to the exact-only tail.
struct PruningPlan {
    let threshold: Float
    let cap: Int
    /// Σ L² / Σ L·K over the lists (L a list's length, K its kept postings): how much longer,
    /// weighted by length, the complete lists are than the kept ones (1: nothing pruned).
    let pruningRatio: Double
    /// Whether the index gets blocks and summaries (``SummaryPolicy``); without them every
    /// posting goes to the tail, which exact search reads.
    let summarized: Bool

    /// - Parameters:
    ///   - listLengths: postings per list (canonical component order).
    ///   - histogram: the stored weights' histogram.
    init(_ configuration: BuildConfiguration, forward: BuildForward, listLengths: [Int], histogram: ValueHistogram) {
        switch configuration.pruning {
        case .none:
            threshold = 0
            cap = .max
        case let .fixedSize(n):
            threshold = 0
            cap = n
        case let .globalThreshold(n, maxFraction):
            let nonEmpty = listLengths.filter { $0 > 0 }.count
            let budget = n.multipliedReportingOverflow(by: nonEmpty)
            threshold = budget.overflow
                ? 0 : histogram.threshold(keeping: budget.partialValue, forward: forward)
            cap = max(1, Int((Double(n) * maxFraction).rounded(.down)))
        }
        // Postings at or above the threshold per list (every posting when the threshold is 0).
        var eligible = listLengths
        if threshold > 0 {
            eligible = [Int](repeating: 0, count: listLengths.count)
            for j in 0 ..< forward.nonzeroCount where forward.value(j) >= threshold { eligible[forward.component(j)] += 1 }
        }
        var squares = 0.0, products = 0.0
        for (length, candidates) in zip(listLengths, eligible) {
            let l = Double(length)
            squares += l * l
            products += l * Double(min(candidates, cap))
        }
        pruningRatio = products > 0 ? squares / products : .infinity
        switch configuration.summaries {
        case .always: summarized = true
        case .never: summarized = false
        case .automatic: summarized = pruningRatio >= BuildConfiguration.minimumPruningRatio
        }
    }

    /// Marks the postings list `values` keeps (positions in the list, which is in ascending
    /// document order), reusing `order` as scratch.
    func keep(_ values: UnsafeBufferPointer<Float>, into kept: inout [Bool], order: inout [Int]) {
        kept.removeAll(keepingCapacity: true)
        kept.append(contentsOf: repeatElement(false, count: values.count))
        guard summarized else { return }
        order.removeAll(keepingCapacity: true)
        for p in values.indices where values[p] >= threshold { order.append(p) }
        if order.count > cap {
            order.sort { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
            order.removeSubrange(cap...)
        }
        for p in order { kept[p] = true }
    }
}
