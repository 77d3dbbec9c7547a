/// The k best (score, document) pairs seen so far: a binary min-heap whose root is the worst kept
/// pair. Higher scores are better; among equal scores the lower document id is better, so results
/// are deterministic.
///
/// Storage is reused across queries (no allocation after the first).
struct TopKHeap {
    private(set) var scores: [Float] = []
    private(set) var documents: [UInt32] = []
    private(set) var capacity = 0

    mutating func reset(capacity k: Int) {
        capacity = k
        scores.removeAll(keepingCapacity: true)
        documents.removeAll(keepingCapacity: true)
        scores.reserveCapacity(k)
        documents.reserveCapacity(k)
    }

    var isFull: Bool { scores.count == capacity }
    /// The worst kept score (only meaningful when full).
    var threshold: Float { scores[0] }

    @inline(__always)
    private func worse(_ s1: Float, _ d1: UInt32, than s2: Float, _ d2: UInt32) -> Bool {
        s1 < s2 || (s1 == s2 && d1 > d2)
    }

    /// Offers a pair; keeps it if the heap is not full or it beats the worst kept pair. NaN
    /// scores (possible only from a damaged index) are ignored.
    @inline(__always)
    mutating func offer(_ score: Float, _ document: UInt32) {
        if score.isNaN { return }
        if scores.count < capacity {
            scores.append(score)
            documents.append(document)
            siftUp(scores.count - 1)
        } else if capacity > 0 && worse(scores[0], documents[0], than: score, document) {
            scores[0] = score
            documents[0] = document
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(scores[i], documents[i], than: scores[parent], documents[parent]) else { return }
            scores.swapAt(i, parent)
            documents.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = scores.count
        while true {
            let left = 2 * i + 1
            if left >= n { return }
            var child = left
            let right = left + 1
            if right < n && worse(scores[right], documents[right], than: scores[left], documents[left]) { child = right }
            guard worse(scores[child], documents[child], than: scores[i], documents[i]) else { return }
            scores.swapAt(i, child)
            documents.swapAt(i, child)
            i = child
        }
    }

    /// The kept pairs, best first.
    func sortedHits() -> [SearchHit] {
        var hits = (0 ..< scores.count).map { SearchHit(document: Int(documents[$0]), score: scores[$0]) }
        hits.sort { $0.score != $1.score ? $0.score > $1.score : $0.document < $1.document }
        return hits
    }
}
