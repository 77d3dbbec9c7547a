import CLSRKernels
import LSRFormats
import LSRVectors

/// What reading the input yields besides the document store: the forward index (source
/// component ids) and the per-component statistics the later stages plan with.
struct ReadCollection {
    /// Vector `d` is entries `offsets[d] ..< offsets[d + 1]` of the two spools.
    let offsets: [Int]
    /// Reader component ids (u32), distinct within each vector, in no particular order.
    let componentSpool: SpoolFile
    /// Weights in the storage precision.
    let valueSpool: SpoolFile
    let precision: ValuePrecision
    /// Per reader component: whether any document names it (even with a weight rounding to 0,
    /// which keeps its token in the vocabulary).
    let used: [Bool]
    /// Per reader component: stored postings.
    let postingCounts: [Int]
    let histogram: ValueHistogram

    /// Batches waiting for the collecting thread. With the one being collected and the one
    /// being filled, reading holds at most six batches: each about 4096 records, 2^19 entries
    /// or 4 MiB of text, or a single longer record.
    static let waitingBatches = 4

    /// Streams `input` into the document store and into scratch files in `scratch`. With
    /// `threads` > 1 the input is parsed and checked on the calling thread while another one
    /// rounds, counts and spools what was read (``RecordBatch``); the files are the same.
    /// - Throws: input errors naming file, line and field; `.invalidInput` for an empty input.
    static func read(
        _ input: any VectorSource, store: BackgroundDocumentStore, scratch: ScratchDirectory, precision: ValuePrecision,
        threads: Int, progress: (@Sendable (BuildProgress) -> Void)?
    ) throws -> ReadCollection {
        let spooler = try CollectionSpooler(scratch: scratch, precision: precision, store: store, progress: progress)
        let worker = threads > 1 ? BatchWorker<RecordBatch>(name: "lsr reading", waiting: waitingBatches, process: spooler.add) : nil
        var batch = RecordBatch()
        var documents = 0
        func handBatch() throws {
            guard batch.count > 0 else { return }
            if let worker {
                try worker.hand(batch)
                batch = RecordBatch()
            } else {
                try spooler.add(batch)
                batch.removeAll()
            }
        }
        do {
            // Unsorted: `canonical` renames the components and sorts each vector then.
            try input.forEach(sortingComponents: false) { record in
                if precision == .f16, let j = record.values.firstIndex(where: { $0 > HalfPrecision.greatestFiniteMagnitude }) {
                    throw LSRError(
                        .invalidInput,
                        "document '\(record.id)' has weight \(record.values[j]), beyond half precision's 65504; rebuild with --precision f32",
                        path: input.path, line: record.line, field: "vector." + input.tokens[Int(record.components[j])])
                }
                guard documents < Int(UInt32.max) else {
                    throw LSRError(.invalidInput, "more than \(UInt32.max) documents: document numbers are 32-bit", path: input.path, line: record.line)
                }
                documents += 1
                if !batch.canTake(record) { try handBatch() }
                batch.append(record, tokenCount: input.tokens.count, declaredCount: input.declaredCount)
            }
            try handBatch()
            worker?.close()
            try worker?.wait()
        } catch {
            // The collecting thread finishes the batches handed before the bad record (at most
            // five) and stops: a failure there came first in the input, as with one thread.
            worker?.close()
            try worker?.wait()
            throw error
        }
        guard documents > 0 else {
            throw LSRError(.invalidInput, "no vectors: the input holds no documents", path: input.path)
        }
        progress?(BuildProgress(stage: .reading, completed: documents, total: documents))
        return ReadCollection(
            offsets: spooler.offsets, componentSpool: spooler.componentSpool, valueSpool: spooler.valueSpool, precision: precision,
            used: spooler.collector.used, postingCounts: spooler.collector.postingCounts, histogram: spooler.collector.histogram)
    }
}

/// Records read, on their way from the reading thread to the collecting one: the vectors one
/// after another, and what the document store keeps of each.
struct RecordBatch: Sendable {
    /// A batch takes no record beyond this many records, entries or bytes of text (unless it is
    /// empty: a longer record travels alone).
    static let maximumRecords = 4096
    static let maximumEntries = 1 << 19
    static let maximumTextBytes = 4 << 20

    /// Record `r`'s entries end at `ends[r]` (and start where the previous record's end).
    private(set) var ends: [Int] = []
    private(set) var components: [UInt32] = []
    private(set) var values: [Float] = []
    private(set) var ids: [String] = []
    private(set) var contents: [String?] = []
    private(set) var positions: [Int] = []
    /// The reader's token count once the batch's last record was read: every component is below it.
    private(set) var tokenCount = 0
    /// The vector count the input declares, if it does.
    private(set) var declaredCount: Int?
    private var textBytes = 0

    var count: Int { ids.count }

    /// Whether `record` fits, or the batch is empty.
    func canTake(_ record: borrowing VectorRecord) -> Bool {
        count == 0
            || count < Self.maximumRecords && components.count + record.components.count <= Self.maximumEntries
                && textBytes + Self.textBytes(record) <= Self.maximumTextBytes
    }

    private static func textBytes(_ record: borrowing VectorRecord) -> Int {
        record.id.utf8.count + (record.content?.utf8.count ?? 0)
    }

    mutating func append(_ record: borrowing VectorRecord, tokenCount: Int, declaredCount: Int?) {
        components += record.components
        values += record.values
        ends.append(components.count)
        ids.append(record.id)
        contents.append(record.content)
        positions.append(record.position)
        textBytes += Self.textBytes(record)
        self.tokenCount = tokenCount
        self.declaredCount = declaredCount
    }

    /// Empties the batch, keeping its capacity.
    mutating func removeAll() {
        ends.removeAll(keepingCapacity: true)
        components.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        ids.removeAll(keepingCapacity: true)
        contents.removeAll(keepingCapacity: true)
        positions.removeAll(keepingCapacity: true)
        textBytes = 0
    }
}

/// Takes the batches read, in order: rounds and counts their vectors (``VectorCollector``),
/// appends them to the forward index's spools and their ids and texts to the document store.
private final class CollectionSpooler {
    let componentSpool: SpoolFile
    let valueSpool: SpoolFile
    private(set) var offsets = [0]
    private(set) var collector: VectorCollector
    private let store: BackgroundDocumentStore
    private let progress: (@Sendable (BuildProgress) -> Void)?

    init(scratch: ScratchDirectory, precision: ValuePrecision, store: BackgroundDocumentStore, progress: (@Sendable (BuildProgress) -> Void)?) throws {
        componentSpool = try scratch.spool("forward.components")
        valueSpool = try scratch.spool("forward.values")
        collector = VectorCollector(precision: precision)
        self.store = store
        self.progress = progress
    }

    func add(_ batch: RecordBatch) throws {
        if offsets.count == 1, let declared = batch.declaredCount { offsets.reserveCapacity(declared + 1) }
        let before = offsets.count - 1
        collector.collect(batch, into: &offsets)
        try componentSpool.append(contentsOf: collector.components)
        switch collector.precision {
        case .f16: try valueSpool.append(contentsOf: collector.halves)
        case .f32: try valueSpool.append(contentsOf: collector.values)
        }
        for r in 0 ..< batch.count { try store.add(position: batch.positions[r], id: batch.ids[r], content: batch.contents[r]) }
        let documents = offsets.count - 1
        if documents / 10_000 > before / 10_000 { progress?(BuildProgress(stage: .reading, completed: documents, total: batch.declaredCount)) }
    }
}

/// Rounds the vectors read to the storage precision, drops the weights that round to zero, and
/// counts what the later stages plan with.
private struct VectorCollector {
    let precision: ValuePrecision
    /// Per reader component: named by any document (even with a weight rounding to 0).
    private(set) var used: [Bool] = []
    /// Per reader component: stored postings.
    private(set) var postingCounts: [Int] = []
    private(set) var histogram = ValueHistogram()
    /// The last batch collected: its stored components, and weights as floats and (f16) as half bits.
    private(set) var components: [UInt32] = []
    private(set) var values: [Float] = []
    private(set) var halves: [UInt16] = []

    init(precision: ValuePrecision) {
        self.precision = precision
    }

    /// Collects `batch`, appending the end of each of its vectors (in stored entries) to `offsets`.
    mutating func collect(_ batch: RecordBatch, into offsets: inout [Int]) {
        if used.count < batch.tokenCount {
            used += repeatElement(false, count: batch.tokenCount - used.count)
            postingCounts += repeatElement(0, count: batch.tokenCount - postingCounts.count)
        }
        let n = batch.components.count
        components.removeAll(keepingCapacity: true)
        components.append(contentsOf: repeatElement(0, count: n))
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(0, count: n))
        halves.removeAll(keepingCapacity: true)
        halves.append(contentsOf: repeatElement(0, count: n))
        var stored = 0
        let precision = precision
        let base = offsets.last!
        batch.components.withUnsafeBufferPointer { source in
            batch.values.withUnsafeBufferPointer { weights in
                if precision == .f16 { halves.withUnsafeMutableBufferPointer { lsr_encode_f16(weights.baseAddress, $0.baseAddress, n) } }
                used.withUnsafeMutableBufferPointer { used in
                    postingCounts.withUnsafeMutableBufferPointer { counts in
                        components.withUnsafeMutableBufferPointer { components in
                            values.withUnsafeMutableBufferPointer { values in
                                halves.withUnsafeMutableBufferPointer { halves in
                                    var j = 0
                                    for end in batch.ends {
                                        while j < end {
                                            let c = Int(source[j])
                                            used[c] = true
                                            // Summaries, clustering and scores all see the stored (rounded) weights.
                                            let value = precision == .f16 ? HalfPrecision.decode(halves[j]) : weights[j]
                                            if value != 0 {
                                                components[stored] = UInt32(truncatingIfNeeded: c)
                                                values[stored] = value
                                                halves[stored] = halves[j]
                                                counts[c] += 1
                                                stored += 1
                                            }
                                            j += 1
                                        }
                                        offsets.append(base + stored)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        histogram.add(values.prefix(stored))
        components.removeLast(n - stored)
        values.removeLast(n - stored)
        halves.removeLast(n - stored)
    }
}

/// A histogram of the stored weights by their upper 16 bits, from which the global pruning
/// threshold is found with one more pass over the weights.
struct ValueHistogram {
    private var high = [Int](repeating: 0, count: 1 << 16)
    private(set) var count = 0

    /// Counts (positive) weights.
    mutating func add(_ values: ArraySlice<Float>) {
        high.withUnsafeMutableBufferPointer { high in
            for value in values { high[Int(value.bitPattern >> 16)] += 1 }
        }
        count += values.count
    }

    /// The value v such that about `keeping` of the counted weights are ≥ v (exactly that many
    /// unless there are ties at v); 0 when `keeping` covers every weight. `forward` holds the
    /// same weights, scanned once more for the low 16 bits within the deciding bucket.
    ///
    /// Positive floats order like their bit patterns, so two 16-bit histograms find it.
    /// - Complexity: O(P).
    func threshold(keeping: Int, forward: BuildForward) -> Float {
        guard keeping < count else { return 0 }
        guard keeping > 0 else { return .infinity }
        var remaining = keeping
        var bucket = high.count - 1
        while high[bucket] < remaining {
            remaining -= high[bucket]
            bucket -= 1
        }
        let highBits = bucket
        let low = forward.tally(size: 1 << 16) { entries, low in
            for j in entries {
                let bits = forward.value(j).bitPattern
                if Int(bits >> 16) == highBits { low[Int(bits & 0xFFFF)] += 1 }
            }
        }
        var lowBucket = low.count - 1
        while low[lowBucket] < remaining {
            remaining -= low[lowBucket]
            lowBucket -= 1
        }
        return Float(bitPattern: UInt32(bucket) << 16 | UInt32(lowBucket))
    }
}
