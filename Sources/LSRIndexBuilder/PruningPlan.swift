import LSRVectors

/// Which postings of each inverted list static pruning keeps (``PruningStrategy``), decided for
/// the whole collection before any list is built: a list keeps at most `cap` postings, those of
/// weight ≥ `threshold`, the largest first (ties: lower document id). The kept postings get
/// blocks and summaries; the rest go to the exact-only tail.
struct PruningPlan {
    /// The global strategies' n_postings (chosen from the collection by the scaled one).
    let nPostings: Int?
    let threshold: Float
    let cap: Int
    /// Σ L² / Σ L·K over the lists (L a list's length, K its kept postings): how much longer,
    /// weighted by length, the complete lists are than the kept ones (1: nothing pruned).
    let pruningRatio: Double
    /// Whether the index gets blocks and summaries (``SummaryPolicy``); without them every
    /// posting goes to the tail, which exact search reads.
    let summarized: Bool
    /// How many postings the lists keep in all (the blocked region's length): each list keeps
    /// min(postings of weight ≥ `threshold`, `cap`), none when the index is not summarized.
    let blockedPostings: Int

    /// - Parameters:
    ///   - listLengths: postings per list (canonical component order).
    ///   - histogram: the stored weights' histogram.
    init(_ configuration: BuildConfiguration, forward: BuildForward, listLengths: [Int], histogram: ValueHistogram) {
        let nonEmpty = listLengths.filter { $0 > 0 }.count
        func global(_ n: Int, _ maxFraction: Double) -> (threshold: Float, cap: Int) {
            let budget = n.multipliedReportingOverflow(by: nonEmpty)
            return (
                budget.overflow ? 0 : histogram.threshold(keeping: budget.partialValue, forward: forward),
                max(1, Int(min(Double(Int.max / 2), (Double(n) * maxFraction).rounded(.down))))
            )
        }
        switch configuration.pruning {
        case .none:
            (nPostings, threshold, cap) = (nil, 0, .max)
        case let .fixedSize(n):
            (nPostings, threshold, cap) = (nil, 0, n)
        case let .globalThreshold(n, maxFraction):
            nPostings = n
            (threshold, cap) = global(n, maxFraction)
        case let .scaledGlobalThreshold(minimum, listFraction, maxFraction):
            let n = PruningStrategy.automaticPostings(
                minimum: minimum, listFraction: listFraction, meanListLength: Double(forward.nonzeroCount) / Double(max(1, nonEmpty)))
            nPostings = n
            (threshold, cap) = global(n, maxFraction)
        }
        // Postings at or above the threshold per list (every posting when the threshold is 0).
        var eligible = listLengths
        if threshold > 0 {
            let threshold = threshold
            eligible = forward.tally(size: listLengths.count) { entries, counts in
                for j in entries where forward.value(j) >= threshold { counts[forward.component(j)] += 1 }
            }
        }
        var squares = 0.0, products = 0.0, kept = 0
        for (length, candidates) in zip(listLengths, eligible) {
            let l = Double(length)
            squares += l * l
            products += l * Double(min(candidates, cap))
            kept += min(candidates, cap)
        }
        pruningRatio = products > 0 ? squares / products : .infinity
        switch configuration.summaries {
        case .always: summarized = true
        case .never: summarized = false
        case .automatic: summarized = pruningRatio >= BuildConfiguration.minimumPruningRatio
        }
        blockedPostings = summarized ? kept : 0
    }

    /// Marks the postings list `values` keeps (positions in the list, which is in ascending
    /// document order), reusing `keys` as scratch.
    func keep(_ values: UnsafeBufferPointer<Float>, into kept: inout [Bool], keys: inout [UInt64]) {
        kept.removeAll(keepingCapacity: true)
        kept.append(contentsOf: repeatElement(false, count: values.count))
        guard summarized else { return }
        // Keys of value bits (weights are positive, so their bits order like them) over the
        // inverted position: the largest `cap` keys are the heaviest postings, ties to the
        // lower position. Which ones, not their order, matters: a selection, no sort.
        keys.removeAll(keepingCapacity: true)
        for p in values.indices where values[p] >= threshold {
            keys.append(UInt64(values[p].bitPattern) << 32 | UInt64(~UInt32(truncatingIfNeeded: p)))
        }
        if keys.count > cap {
            keys.withUnsafeMutableBufferPointer { $0.moveLargestToFront(cap) }
            keys.removeSubrange(cap...)
        }
        for key in keys { kept[Int(~UInt32(truncatingIfNeeded: key))] = true }
    }
}
