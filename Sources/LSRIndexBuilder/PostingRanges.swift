import LSRFormats
import LSRVectors

/// Consecutive ranges of inverted lists whose complete postings fit the memory a build has left
/// for them: the builder inverts one range at a time, with one pass over the forward index each,
/// so that the inverted index is never in memory whole.
struct ListRanges {
    /// Bytes one posting takes while its range is in memory (document id and weight).
    static let bytesPerPosting = MemoryLayout<UInt32>.stride + MemoryLayout<Float>.stride

    let ranges: [Range<Int>]
    /// Postings of the largest range.
    let largestRange: Int

    /// Greedy: each range takes lists while their postings fit in `bytes`.
    /// - Precondition: the longest list fits in `bytes`.
    init(listLengths: [Int], bytes: Int) {
        let capacity = bytes / ListRanges.bytesPerPosting
        var ranges: [Range<Int>] = []
        var start = 0, postings = 0, largest = 0
        for (t, length) in listLengths.enumerated() {
            precondition(length <= capacity, "list \(t) does not fit a range")
            if postings + length > capacity {
                ranges.append(start ..< t)
                largest = max(largest, postings)
                start = t
                postings = 0
            }
            postings += length
        }
        ranges.append(start ..< listLengths.count)
        self.ranges = ranges
        largestRange = max(largest, postings)
    }
}

/// The complete inverted lists of one range of components (postings in ascending document
/// order), in buffers reused from range to range.
final class PostingRange: @unchecked Sendable {
    // @unchecked Sendable: filled by one thread per document share at disjoint places, then
    // only read by the workers.
    private(set) var lists: Range<Int> = 0 ..< 0
    /// List `lists.lowerBound + i` is `starts[i] ..< starts[i + 1]` of the buffers.
    private var starts: [Int] = [0]
    private let documents: UnsafeMutableBufferPointer<UInt32>
    private let values: UnsafeMutableBufferPointer<Float>
    /// Per forward document: how many of its entries earlier ranges took. Ranges are filled in
    /// order and a document's components ascend, so its entries in the next range start there:
    /// every pass reads only the entries it collects (plus one per document).
    private let resume: UnsafeMutableBufferPointer<UInt32>

    /// Bytes per forward document the range keeps whatever its capacity (`resume`).
    static let bytesPerDocument = MemoryLayout<UInt32>.stride

    /// Buffers for `capacity` postings of a forward index of `documentCount` documents.
    init(capacity: Int, documentCount: Int) {
        documents = .allocate(capacity: max(1, capacity))
        values = .allocate(capacity: max(1, capacity))
        resume = .allocate(capacity: max(1, documentCount))
        resume.initialize(repeating: 0)
    }

    deinit {
        documents.deallocate()
        values.deallocate()
        resume.deallocate()
    }

    /// Collects the postings of `lists` with one pass over `forward`, a thread per share of
    /// its documents (``BuildForward/shares``), each writing its documents' postings after those
    /// of the shares before it.
    /// - Precondition: `lists` starts where the previous range ended (the first at 0), and
    ///   `forward`'s vectors are in ascending component order.
    /// - Complexity: O(documents + postings in range), the postings' writes scattered.
    func fill(_ lists: Range<Int>, lengths: [Int], forward: BuildForward) {
        precondition(lists.lowerBound == self.lists.upperBound, "ranges are filled in order")
        precondition(forward.count <= resume.count, "forward index larger than the range was made for")
        self.lists = lists
        starts = [0]
        starts.reserveCapacity(lists.count + 1)
        for t in lists { starts.append(starts.last! + lengths[t]) }
        precondition(starts.last! <= documents.count, "range exceeds its buffers")
        var cursors: [[Int]] = []
        var cursor = Array(starts.dropLast())
        for share in forward.shares {
            cursors.append(cursor)
            for (i, t) in lists.enumerated() { cursor[i] += share.postingCounts[t] }
        }
        // The shares' counts add up to the lengths, so no thread writes into the next list.
        precondition(cursor == Array(starts.dropFirst()), "share posting counts disagree with the list lengths")
        let low = lists.lowerBound, high = lists.upperBound
        let shareCursors = cursors
        parallelForEach(shareCursors.count, threads: shareCursors.count) { _, k in
            var cursor = shareCursors[k]
            cursor.withUnsafeMutableBufferPointer { cursor in
                for d in forward.shares[k].documents {
                    let document = UInt32(truncatingIfNeeded: d)
                    let start = forward.offsets[d], end = forward.offsets[d + 1]
                    var j = start + Int(self.resume[d])
                    while j < end {
                        let c = forward.component(j)
                        if c >= high { break }
                        let p = cursor[c - low]
                        self.documents[p] = document
                        self.values[p] = forward.value(j)
                        cursor[c - low] = p + 1
                        j += 1
                    }
                    self.resume[d] = UInt32(truncatingIfNeeded: j - start)
                }
            }
        }
    }

    /// The postings of list `t` (in `lists`).
    func postings(of t: Int) -> (documents: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Float>) {
        let i = t - lists.lowerBound
        let range = starts[i] ..< starts[i + 1]
        return (UnsafeBufferPointer(rebasing: documents[range]), UnsafeBufferPointer(rebasing: values[range]))
    }
}
