import Foundation
import LSRFormats
import LSRVectors

/// A read-only, memory-mapped lsr index: open it once, search it from any number of threads.
///
/// Opening maps `index.lsr`, checks its header, section table and section sizes, and opens the
/// document store; it reads no posting, vector or vocabulary data, so it takes milliseconds
/// whatever the index size. Search checks every offset it follows before using it, so a damaged
/// file gives wrong results at worst, never a crash; `lsr check` (``verify()``) compares every
/// section with its checksum.
public final class Index: @unchecked Sendable {
    // @unchecked Sendable: all state is immutable after init; the document store serializes itself.
    /// The index directory, as given.
    public let path: String
    /// What `index.lsr` records about itself: counts, storage choices, build parameters.
    public let metadata: IndexMetadata
    /// The index's tokens, by component id (ascending byte order).
    public let vocabulary: MappedVocabulary
    /// The document store: external id and text of each document, by position.
    public let documents: DocumentStoreReader
    let file: IndexFile
    let storage: IndexStorage
    /// The binary input's component id of each token, when the index was built from binary input.
    let sourceComponentIDs: UnsafeBufferPointer<UInt32>?

    /// Opens the index directory at `path`.
    /// - Throws: `LSRError` (`.io`, `.corruptIndex`, `.unsupportedVersion`, `.documentStore`).
    public init(path: String) throws {
        self.path = path
        let indexPath = path + "/" + IndexLayout.indexFileName
        file = try IndexFile(path: indexPath)
        metadata = try IndexMetadata.decode(try file.verifiedSection(IndexLayout.metadata), path: indexPath)
        storage = try IndexStorage(file: file, metadata: metadata)
        vocabulary = try MappedVocabulary(file: file, count: metadata.vocabularySize)
        sourceComponentIDs = metadata.hasSourceComponentIDs
            ? try file.array(IndexLayout.vocabularySource, of: UInt32.self, count: metadata.vocabularySize) : nil
        for section in PageAdvice.randomSections { file.advise(random: true, section: section) }
        documents = try DocumentStoreReader(path: path + "/" + DocumentStoreSchema.fileName)
        guard documents.count == metadata.documentCount else {
            throw LSRError(
                .corruptIndex, "the document store holds \(documents.count) documents, the index \(metadata.documentCount)",
                path: documents.path)
        }
    }

    /// Number of documents.
    public var documentCount: Int { metadata.documentCount }

    /// Bytes of `index.lsr` per section name.
    public var sectionSizes: [(name: String, bytes: Int)] { file.entries.map { ($0.name, $0.length) } }

    /// An upper bound on every stored document weight, which bounds scores (see
    /// ``Searcher/validate(_:)``): 65,504, the largest half-precision value, for f16 indexes; for
    /// f32 indexes the largest posting value, found by one pass over the postings on first use
    /// (about a millisecond per million nonzeros) and kept.
    public var largestWeight: Float {
        largestWeightMemo.value { storage.largestWeightBound() }
    }
    private let largestWeightMemo = Memo<Float>()

    /// Bytes of `index.lsr` (the document store is separate).
    public var fileBytes: Int { file.byteCount }

    /// Maps the whole index file into this process before searching, reading whatever the page
    /// cache does not hold in large sequential requests (into 2 MiB pages where the system gives
    /// them), so that no query waits on a page fault. A fresh process otherwise faults pages in as its first queries touch them (for
    /// the forward index one 4 KiB page at a time: it is mapped for random access), and a page
    /// cache that dropped the index (memory pressure, or a kernel that pages out files left
    /// idle) turns those faults into random disk reads. Every page is then read once, since in
    /// a virtual machine the first read of a page just read from disk can exit to the
    /// hypervisor. Worth it before a batch of queries over an index that fits in memory; not
    /// before one query.
    /// - Returns: whether every page was mapped (false on Linux before 5.14, on other systems,
    ///   and when the kernel refused; searches then map pages as they touch them, as without
    ///   this call).
    @discardableResult
    public func preload() -> Bool { file.preload() }

    /// Recomputes every section checksum.
    /// - Returns: the names of damaged sections (empty when the index is intact).
    public func verify() -> [String] { file.verifyChecksums() }

    /// The dense document vectors stored beside the index (`dense.lsr`), opened on each call;
    /// nil when there are none. A damaged file does not stop sparse search, only what needs it.
    /// - Throws: `LSRError.corruptIndex` (or `.io`, `.unsupportedVersion`) naming `dense.lsr`.
    public func denseVectors() throws -> DenseVectors? {
        let densePath = path + "/" + DenseLayout.fileName
        guard FileManager.default.fileExists(atPath: densePath) else { return nil }
        return try DenseVectors(path: densePath, documentCount: metadata.documentCount)
    }

    /// Encodes a query given as token strings, dropping tokens the index has never seen.
    /// - Returns: the query and the number of its tokens the index does not know.
    public func query(tokens: [String], values: [Float]) -> (query: QueryVector, unknownTokens: Int) {
        encode(zip(tokens, values).map { (vocabulary.id(of: $0.0), $0.1) })
    }

    /// The index component of each binary-input component id (for binary queries without a
    /// vocabulary), or nil when the index was built from JSONL.
    func sourceComponentMap() -> [UInt32: UInt32]? {
        guard let sourceComponentIDs else { return nil }
        var map = [UInt32: UInt32](minimumCapacity: sourceComponentIDs.count)
        for (i, source) in sourceComponentIDs.enumerated() { map[source] = UInt32(i) }
        return map
    }

    /// Sorts known (component, weight) pairs into a query and counts the unknown ones.
    func encode(_ pairs: [(UInt32?, Float)]) -> (query: QueryVector, unknownTokens: Int) {
        var known = pairs.compactMap { pair in pair.0.map { ($0, pair.1) } }
        known.sort { $0.0 < $1.0 }
        return (QueryVector(components: known.map(\.0), values: known.map(\.1)), pairs.count - known.count)
    }
}

/// A query over an index's components: strictly ascending component ids and finite weights that
/// are not negative (``Searcher/validate(_:)`` checks it before every search).
public struct QueryVector: Sendable, Equatable {
    /// Component ids of the index, strictly ascending.
    public var components: [UInt32]
    /// Weights parallel to ``components``: finite and not negative.
    public var values: [Float]
    /// A query from parallel arrays, not checked here (see ``Searcher/validate(_:)``).
    public init(components: [UInt32], values: [Float]) {
        self.components = components
        self.values = values
    }

    /// The sum of the weights, in double precision.
    var weightSum: Double { values.reduce(0) { $0 + Double($1) } }

    /// Throws what is wrong with the query, if anything, for an index whose document weights are
    /// at most `largestDocumentWeight`.
    func validate(largestDocumentWeight: Float) throws {
        guard components.count == values.count else {
            throw LSRError(.invalidArgument, "the query has \(components.count) components but \(values.count) weights", field: "query")
        }
        var previous: UInt32?
        for (c, v) in zip(components, values) {
            if let previous, c <= previous {
                throw LSRError(
                    .invalidArgument, "query components must be strictly ascending: component \(c) follows \(previous)", field: "query")
            }
            guard v.isFinite, v >= 0 else {
                throw LSRError(.invalidArgument, "query weight \(v) of component \(c) must be finite and not negative", field: "query")
            }
            previous = c
        }
        if let problem = Self.overflow(weightSum: weightSum, largestDocumentWeight: largestDocumentWeight) {
            throw LSRError(.invalidArgument, problem, field: "query")
        }
    }

    /// The largest score bound a query may have: half of Float32's maximum, a margin for the
    /// rounding of the float sums (which can round a bound just below the maximum up to infinity).
    static let largestScoreBound = Double(Float.greatestFiniteMagnitude) / 2

    /// Why a query whose weights sum to `weightSum` can make scores overflow Float32 in an index
    /// whose document weights are at most `largestDocumentWeight`, or nil when it cannot.
    static func overflow(weightSum: Double, largestDocumentWeight: Float) -> String? {
        let bound = weightSum * Double(largestDocumentWeight)
        guard bound > largestScoreBound else { return nil }
        return "query weights sum to \(Float(exactly: weightSum) ?? Float(weightSum)); times the index's largest document weight "
            + "(\(largestDocumentWeight)) that is \(bound), beyond \(largestScoreBound) (half of Float32's maximum): scores could overflow"
    }
}

/// A value computed once, on first use, from any thread.
private final class Memo<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched under `lock`.
    private let lock = NSLock()
    private var stored: T?

    func value(_ compute: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let stored { return stored }
        let computed = compute()
        stored = computed
        return computed
    }
}

/// Which sections are mapped with `madvise(MADV_RANDOM)` (no read-ahead or fault-around: a page
/// fault maps that page only): by default the forward index, which search reads a document
/// vector at a time in no order. Measured at 8.8M documents (`Evaluation/scale/page_advice.py`,
/// `Evaluation/reports/page-advice-syn-8.8m-2026-12-02.json`): a fresh process over a cached
/// index searched in 1.3 ms per query instead of 2.5, and over an uncached one in 30 ms instead
/// of 24 (read-ahead fetches neighbours later queries use); on gcide (`page-advice-gcide-…`,
/// 4,994 test queries) 239 µs instead of 266 cached, 470 instead of 367 uncached. The environment variable
/// LSR_PAGE_ADVICE = none | forward | postings | all overrides it, to compare.
enum PageAdvice {
    static let randomSections: [String] = {
        let forward = [IndexLayout.forwardVectors]
        let postings = [IndexLayout.postingDocuments, IndexLayout.postingValues, IndexLayout.summaryCodes, IndexLayout.summaryBlocks]
        switch getenv("LSR_PAGE_ADVICE").map({ String(cString: $0) }) ?? "forward" {
        case "none": return []
        case "postings": return postings
        case "all": return forward + postings
        default: return forward
        }
    }()
}
