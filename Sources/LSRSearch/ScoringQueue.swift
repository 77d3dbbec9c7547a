/// Documents waiting to be scored, oldest first. Scoring trails queueing by a few documents so
/// each vector is prefetched before it is scored, across block boundaries.
struct ScoringQueue {
    private let documents: UnsafeMutablePointer<UInt32>
    private var count = 0
    /// documents[..<head] are scored.
    private var head = 0
    /// documents[..<prefetched] have had their vectors prefetched.
    private var prefetched = 0

    init(storage: UnsafeMutablePointer<UInt32>) { documents = storage }

    /// Documents scored so far.
    var scoredCount: Int { head }

    /// Every document queued so far, scored or not.
    var queued: UnsafeBufferPointer<UInt32> { UnsafeBufferPointer(start: documents, count: count) }

    @inline(__always) mutating func append(_ d: UInt32) {
        documents[count] = d
        count += 1
    }

    /// Scores queued documents into `heap`, oldest first, until `lookahead` remain; the vector
    /// `lookahead` places behind the one being scored is prefetched.
    @inline(__always) mutating func score<C, W, Work: SearchWork>(
        keeping lookahead: Int, _ typed: TypedIndex<C, W>, _ query: UnsafeMutablePointer<Float>, into heap: inout TopKHeap,
        _ work: inout Work
    ) {
        while prefetched < min(count, head + lookahead) {
            typed.prefetch(Int(documents[prefetched]))
            prefetched += 1
        }
        while count - head > lookahead {
            let d = documents[head]
            head += 1
            if prefetched < count {
                typed.prefetch(Int(documents[prefetched]))
                prefetched += 1
            }
            work.scoreDocument(nonzeros: typed.storage.forward(ofDocument: Int(d)).count)
            heap.offer(typed.score(Int(d), query), d)
        }
    }
}
