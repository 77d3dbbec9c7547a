import Foundation
import LSR

// The C ABI of lsr (`liblsr_c`), for bindings such as the Python package in `python/`.
//
// Conventions: every function that can fail takes `char **error` last and returns a status
// (0: success, -1: failure) or a handle (NULL: failure); on failure `*error` is set to a
// malloc'd one-line message (the `LSRError` description), which the caller frees with
// `lsr_free`. Strings are UTF-8 and NUL-terminated. Arrays the library returns are malloc'd
// (free them with `lsr_free`); arrays the caller passes are borrowed for the call only. No
// function traps on bad input, and none prints.
//
// Search results are two caller-allocated arrays of `rows × k`: document positions (int64,
// -1 where a query has fewer than k hits) and scores (float32, -inf there), row by row in query
// order. `lsr_index_document_ids` turns positions into external ids.

/// An open index behind an opaque C handle, with what its calls reuse: idle searchers (making
/// one costs O(documents), too much for a binding that searches batch after batch) and the
/// text query encoder, read on first use.
private final class IndexHandle: @unchecked Sendable {
    // @unchecked Sendable: `idle` and `encoder` are only touched under `lock`.
    let index: Index
    private let lock = NSLock()
    private var idle: [Searcher] = []
    private var encoder: TextQueryEncoder?

    init(_ index: Index) { self.index = index }

    /// Searches a validated batch on `threads` searchers taken from the idle ones (made when
    /// there are too few), which go back afterwards; concurrent calls take different searchers.
    func search(_ queries: [QueryVector], parameters: SearchParameters, method: SearchMethod, threads: Int) throws -> BatchSearchResult {
        let count = max(1, min(threads, queries.count))
        lock.lock()
        let taken = Array(idle.suffix(count))
        idle.removeLast(taken.count)
        lock.unlock()
        let searchers = taken + (taken.count ..< count).map { _ in Searcher(index: index) }
        defer {
            lock.lock()
            idle += searchers
            lock.unlock()
        }
        return try index.search(queries, parameters: parameters, method: method, reusing: searchers)
    }

    /// The index's text query encoder, read once.
    func textEncoder() throws -> TextQueryEncoder {
        lock.lock()
        defer { lock.unlock() }
        if let encoder { return encoder }
        let read = try index.requireTextEncoder()
        encoder = read
        return read
    }
}

/// What a C handle stands for: one index, or a sharded collection (all its shards, or those a
/// server was opened with), each shard behind its own ``IndexHandle``. Positions are the
/// collection's.
private final class OpenedHandle: @unchecked Sendable {
    // @unchecked Sendable: immutable; the shard handles lock what they change.
    let shards: [IndexHandle]
    let collection: ShardedIndex?

    init(index: Index) {
        shards = [IndexHandle(index)]
        collection = nil
    }

    init(collection: ShardedIndex) {
        shards = collection.shards.map(IndexHandle.init)
        self.collection = collection
    }

    /// Documents of the index, or of the whole collection.
    var documentCount: Int { collection?.documentCount ?? shards[0].index.documentCount }

    /// The external id and content of the document at `position`.
    func document(at position: Int) throws -> (id: String, content: String?) {
        if let collection { return try collection.document(at: position) }
        return try shards[0].index.documents.document(at: position)
    }

    /// The position of the document with external id `id`, or nil.
    func position(of id: String) -> Int? { collection?.position(of: id) ?? shards[0].index.documents.position(of: id) }

    /// Searches the queries `makeQueries` encodes for each shard, and merges a collection's.
    func search(
        parameters: SearchParameters, method: SearchMethod, threads: Int, _ makeQueries: (IndexHandle) throws -> [QueryVector]
    ) throws -> BatchSearchResult {
        let results = try shards.map { try $0.search(try makeQueries($0), parameters: parameters, method: method, threads: threads) }
        return collection?.merge(results, k: parameters.k) ?? results[0]
    }
}

/// The index or collection behind a handle; a NULL handle (a closed index) is an error, not a crash.
private func handle(_ pointer: UnsafeMutableRawPointer?) throws -> OpenedHandle {
    guard let pointer else { throw LSRError(.invalidArgument, "the index is closed", field: "index") }
    return Unmanaged<OpenedHandle>.fromOpaque(pointer).takeUnretainedValue()
}

/// A malloc'd copy of `text` (an empty string when memory runs out).
private func duplicate(_ text: String) -> UnsafeMutablePointer<CChar> {
    strdup(text) ?? calloc(1, 1)!.assumingMemoryBound(to: CChar.self)
}

/// A malloc'd array of `count` elements.
/// - Throws: `LSRError.invalidArgument` when the size overflows or memory runs out.
private func allocate<T>(_ type: T.Type, count: Int) throws -> UnsafeMutablePointer<T> {
    let (bytes, overflow) = max(1, count).multipliedReportingOverflow(by: MemoryLayout<T>.stride)
    guard !overflow, let memory = malloc(bytes) else {
        throw LSRError(.invalidArgument, "cannot allocate \(count) results (k too large?)", field: "k")
    }
    return memory.bindMemory(to: T.self, capacity: max(1, count))
}

/// Runs `body`, turning a thrown error into `*error` and `failure`.
private func guarded<T>(_ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, failure: T, _ body: () throws -> T) -> T {
    do {
        return try body()
    } catch let thrown {
        error?.pointee = duplicate((thrown as? LSRError)?.description ?? "\(thrown)")
        return failure
    }
}

private func invalid(_ message: String, field: String) -> LSRError { LSRError(.invalidArgument, message, field: field) }

/// Frees a string or array the library returned.
@_cdecl("lsr_free")
public func lsr_free(_ pointer: UnsafeMutableRawPointer?) { free(pointer) }

/// The library's version (static storage: do not free).
@_cdecl("lsr_version")
public func lsr_version() -> UnsafePointer<CChar> {
    UnsafePointer(versionString)
}
nonisolated(unsafe) private let versionString = duplicate(lsrVersion)  // written once, never freed

/// Opens the index or sharded collection directory at `path` (mapped, milliseconds); NULL on
/// failure.
@_cdecl("lsr_index_open")
public func lsr_index_open(_ path: UnsafePointer<CChar>?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
    guarded(error, failure: nil) {
        guard let path else { throw invalid("no index path", field: "path") }
        let directory = String(cString: path)
        let opened = CollectionManifest.isCollection(at: directory)
            ? OpenedHandle(collection: try ShardedIndex(path: directory)) : OpenedHandle(index: try Index(path: directory))
        return Unmanaged.passRetained(opened).toOpaque()
    }
}

/// Opens `count` shards (`shards`, shard numbers) of the collection at `path`, to serve them:
/// searches cover these shards only, with the collection's positions. NULL on failure.
@_cdecl("lsr_collection_open_shards")
public func lsr_collection_open_shards(
    _ path: UnsafePointer<CChar>?, _ shards: UnsafePointer<Int64>?, _ count: Int64, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> UnsafeMutableRawPointer? {
    guarded(error, failure: nil) {
        guard let path else { throw invalid("no collection path", field: "path") }
        guard count >= 1, let shards else { throw invalid("no shards to serve", field: "shards") }
        let numbers = try (0 ..< Int(count)).map { i -> Int in
            guard shards[i] >= 0, shards[i] < Int64(ShardedIndexBuilder.maximumShards) else { throw invalid("shard \(shards[i]) is out of range", field: "shards") }
            return Int(shards[i])
        }
        let collection = try ShardedIndex(path: String(cString: path), serving: numbers)
        return Unmanaged.passRetained(OpenedHandle(collection: collection)).toOpaque()
    }
}

/// Reads and checks the manifest of the collection at `path` (no shard is opened): `*json` is
/// set to a malloc'd JSON object `{"shards": N, "documents": D}`.
@_cdecl("lsr_collection_manifest")
public func lsr_collection_manifest(
    _ path: UnsafePointer<CChar>?, _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard let path else { throw invalid("no collection path", field: "path") }
        let directory = String(cString: path)
        guard CollectionManifest.isCollection(at: directory) else {
            throw LSRError(.invalidArgument, "not a sharded collection (no \(CollectionManifest.fileName) file)", path: directory)
        }
        let manifest = try CollectionManifest.read(collection: directory)
        let object = ["shards": manifest.shards.count, "documents": manifest.documentCount]
        json.pointee = duplicate(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        return 0
    }
}

/// Closes an index opened by `lsr_index_open` or `lsr_collection_open_shards`.
@_cdecl("lsr_index_close")
public func lsr_index_close(_ index: UnsafeMutableRawPointer?) {
    guard let index else { return }
    Unmanaged<OpenedHandle>.fromOpaque(index).release()
}

/// Number of documents of the index (of the whole collection).
@_cdecl("lsr_index_document_count")
public func lsr_index_document_count(_ index: UnsafeMutableRawPointer?) -> Int64 { Int64((try? handle(index).documentCount) ?? 0) }

/// Number of shards of a collection (`*count`), and the numbers of those open (`shards`, room
/// for `capacity`); an index counts as 0 shards.
@_cdecl("lsr_index_shards")
public func lsr_index_shards(
    _ index: UnsafeMutableRawPointer?, _ shards: UnsafeMutablePointer<Int64>?, _ capacity: Int64, _ count: UnsafeMutablePointer<Int64>,
    _ opened: UnsafeMutablePointer<Int64>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let collection = try handle(index).collection
        count.pointee = Int64(collection?.manifest.shards.count ?? 0)
        let numbers = collection?.shardNumbers ?? []
        opened.pointee = Int64(numbers.count)
        for (i, number) in numbers.enumerated() where i < capacity { shards?[i] = Int64(number) }
        return 0
    }
}

/// Maps every page of the index (of each open shard of a collection) into this process before
/// searching (`Index.preload()`), reading what the page cache does not hold, so that no query
/// waits on a page fault or a disk read: worth it before batches over an index that fits in
/// memory. `*mapped` is 1 when every page was mapped, 0 when not (Linux before 5.14, other
/// systems, or the kernel refused: searches then map pages as they touch them).
@_cdecl("lsr_index_preload")
public func lsr_index_preload(
    _ index: UnsafeMutableRawPointer?, _ mapped: UnsafeMutablePointer<Int32>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let shards = try handle(index).shards
        var all = true
        for shard in shards { all = shard.index.preload() && all }
        mapped.pointee = all ? 1 : 0
        return 0
    }
}

/// The preset `lsr tune` stored in the index's or collection's directory for recall@`k`
/// `target` (the lowest tuned target at or above it): `method` 0 (approximate search at
/// `query_cut` and `heap_factor`, cost-based planning) or 1 (exact search; `query_cut` and
/// `heap_factor` 0). Returns 0, or -1 with `error` set when there are no presets, they are
/// damaged or were tuned on another index, for another k, or for lower targets only.
@_cdecl("lsr_index_preset")
public func lsr_index_preset(
    _ index: UnsafeMutableRawPointer?, _ target: Double, _ k: Int64, _ method: UnsafeMutablePointer<Int32>,
    _ queryCut: UnsafeMutablePointer<Int64>, _ heapFactor: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let opened = try handle(index)
        guard target > 0 && target <= 1 else { throw invalid("target recall must be in (0, 1], got \(target)", field: "target_recall") }
        guard k >= 1, k <= Int64(Int32.max) else { throw invalid("k must be in 1 … \(Int32.max), got \(k)", field: "k") }
        let stored: SearchPresets?
        if let collection = opened.collection {
            stored = try collection.presets()
        } else {
            stored = try opened.shards[0].index.presets()
        }
        guard let presets = stored else {
            throw invalid("no presets: run `lsr tune --index DIR --queries QUERIES` on this \(opened.collection == nil ? "index" : "collection") first", field: "target_recall")
        }
        let preset = try presets.preset(forTargetRecall: target, k: Int(k))
        method.pointee = preset.method == .exact ? 1 : 0
        queryCut.pointee = Int64(preset.queryCut)
        heapFactor.pointee = preset.heapFactor
        return 0
    }
}

/// The search settings of one call.
private func searchSettings(k: Int64, queryCut: Int64, heapFactor: Float, method: Int32, threads: Int64) throws -> (SearchParameters, SearchMethod, Int) {
    let methods: [SearchMethod] = [.approximate, .exact, .bruteForce]
    guard method >= 0, Int(method) < methods.count else { throw invalid("method must be 0 (approximate), 1 (exact) or 2 (brute force), got \(method)", field: "method") }
    guard k >= 1, k <= Int64(Int32.max) else { throw invalid("k must be in 1 … \(Int32.max), got \(k)", field: "k") }
    guard queryCut >= 0 else { throw invalid("query_cut must be ≥ 1 (or 0 for the default), got \(queryCut)", field: "query_cut") }
    guard threads >= 0 else { throw invalid("threads must be ≥ 1 (or 0 for every core), got \(threads)", field: "threads") }
    var parameters = SearchParameters(k: Int(k))
    if queryCut > 0 { parameters.queryCut = Int(queryCut) }
    if heapFactor != 0 { parameters.heapFactor = heapFactor }  // out-of-range values are refused by the search
    return (parameters, methods[Int(method)], threads > 0 ? Int(threads) : availableCores)
}

/// Writes a batch's hits into the caller's `rows × k` arrays, padded with -1 / -inf.
private func write(_ hits: [[SearchHit]], k: Int, _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>) {
    for (q, row) in hits.enumerated() {
        for i in 0 ..< k {
            documents[q * k + i] = i < row.count ? Int64(row[i].document) : -1
            scores[q * k + i] = i < row.count ? row[i].score : -.infinity
        }
    }
}

/// Searches `rows` queries given as a CSR matrix of `nnz` entries over the caller's vocabulary:
/// row q's entries are `indices[indptr[q] ..< indptr[q+1]]` (positions in `vocabulary`, distinct
/// within a row) with weights `data[…]`. Tokens the index does not know are dropped, as are zero
/// weights. `query_cut` 0 and `heap_factor` 0 mean the defaults; `method`: 0 approximate,
/// 1 exact, 2 brute force; `threads` 0: every core.
@_cdecl("lsr_index_search_csr")
public func lsr_index_search_csr(
    _ index: UnsafeMutableRawPointer?, _ indptr: UnsafePointer<Int64>?, _ rows: Int64, _ nnz: Int64, _ indices: UnsafePointer<Int32>?,
    _ data: UnsafePointer<Float>?, _ vocabulary: UnsafePointer<UnsafePointer<CChar>?>?, _ vocabularyCount: Int64,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    search(index, k, queryCut, heapFactor, method, threads, documents, scores, error) { shard in
        let index = shard.index
        let indptr = try checkedRowPointers(
            indptr, rows: rows, nnz: nnz, indices: indices, data: data, vocabularyCount: vocabularyCount, vocabulary: vocabulary, field: "queries")
        let components: [UInt32?] = (0 ..< Int(vocabularyCount)).map { i in
            vocabulary?[i].map { index.vocabulary.id(of: String(cString: $0)) } ?? nil
        }
        var queries: [QueryVector] = []
        queries.reserveCapacity(Int(rows))
        for q in 0 ..< Int(rows) {
            var pairs: [(UInt32, Float)] = []
            for e in Int(indptr[q]) ..< Int(indptr[q + 1]) {
                let position = Int(indices.unsafelyUnwrapped[e])
                guard position >= 0, position < components.count else {
                    throw invalid("row \(q): column \(position) outside the vocabulary of \(components.count) tokens", field: "indices")
                }
                let weight = data.unsafelyUnwrapped[e]
                guard let c = components[position], weight != 0 else { continue }
                pairs.append((c, weight))
            }
            pairs.sort { $0.0 < $1.0 }
            for (a, b) in zip(pairs, pairs.dropFirst()) where a.0 == b.0 {
                throw invalid("row \(q): token '\(index.vocabulary.token(at: Int(a.0)))' appears twice", field: "indices")
            }
            queries.append(QueryVector(components: pairs.map(\.0), values: pairs.map(\.1)))
        }
        return queries
    }
}

/// The row pointers of a CSR matrix the caller passed, checked: counts not negative, the arrays
/// there when needed, and `indptr` ascending from 0 to `nnz` (so every row's range is in bounds).
private func checkedRowPointers(
    _ indptr: UnsafePointer<Int64>?, rows: Int64, nnz: Int64, indices: UnsafePointer<Int32>?, data: UnsafePointer<Float>?,
    vocabularyCount: Int64, vocabulary: UnsafePointer<UnsafePointer<CChar>?>?, field: String
) throws -> UnsafePointer<Int64> {
    guard rows >= 0, nnz >= 0, vocabularyCount >= 0 else { throw invalid("negative row, entry or vocabulary count", field: field) }
    guard let indptr, nnz == 0 || (indices != nil && data != nil), vocabularyCount == 0 || vocabulary != nil else {
        throw invalid("missing CSR arrays", field: field)
    }
    guard indptr[0] == 0, indptr[Int(rows)] == nnz else { throw invalid("indptr must run from 0 to nnz (\(nnz))", field: "indptr") }
    for r in 0 ..< Int(rows) where indptr[r] > indptr[r + 1] { throw invalid("indptr is not ascending at row \(r)", field: "indptr") }
    return indptr
}

/// Searches the queries `makeQueries` encodes for each shard (the index, or each shard of a
/// collection) with the settings of one call into the caller's result arrays
/// (`lsr_index_search_csr`'s conventions).
private func search(
    _ handlePointer: UnsafeMutableRawPointer?, _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ makeQueries: (IndexHandle) throws -> [QueryVector]
) -> Int32 {
    guarded(error, failure: -1) {
        let opened = try handle(handlePointer)
        let (parameters, searchMethod, workers) = try searchSettings(k: k, queryCut: queryCut, heapFactor: heapFactor, method: method, threads: threads)
        let result = try opened.search(parameters: parameters, method: searchMethod, threads: workers, makeQueries)
        write(result.hits, k: parameters.k, documents, scores)
        return 0
    }
}

/// Searches the queries of a file (every format `lsr search --queries` reads; binary queries
/// name their components with `vocabulary_path`, ids with `ids_path`, both optional). Sets
/// `*query_ids` to the queries' ids, NUL-separated (`*count` of them), and `*documents`,
/// `*scores` to malloc'd `count × k` result arrays.
@_cdecl("lsr_index_search_file")
public func lsr_index_search_file(
    _ index: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?, _ idsPath: UnsafePointer<CChar>?, _ vocabularyPath: UnsafePointer<CChar>?,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ queryIDs: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ queryIDBytes: UnsafeMutablePointer<Int64>, _ count: UnsafeMutablePointer<Int64>,
    _ documents: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>, _ scores: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let opened = try handle(index)
        let (parameters, searchMethod, workers) = try searchSettings(k: k, queryCut: queryCut, heapFactor: heapFactor, method: method, threads: threads)
        guard let path else { throw invalid("no query file", field: "queries") }
        let sets = try opened.shards.map {
            try $0.index.readQueries(
                path: String(cString: path), idsPath: idsPath.map { String(cString: $0) }, vocabularyPath: vocabularyPath.map { String(cString: $0) })
        }
        let set = sets[0]
        let (cells, overflow) = set.vectors.count.multipliedReportingOverflow(by: parameters.k)
        guard !overflow else { throw invalid("\(set.vectors.count) queries × k \(parameters.k) results overflow", field: "k") }
        let documentArray = try allocate(Int64.self, count: cells)
        let scoreArray: UnsafeMutablePointer<Float>
        do {
            scoreArray = try allocate(Float.self, count: cells)
        } catch {
            free(documentArray)
            throw error
        }
        let result: BatchSearchResult
        do {
            result = try opened.search(parameters: parameters, method: searchMethod, threads: workers) { shard in
                sets[opened.shards.firstIndex { $0 === shard } ?? 0].vectors
            }
        } catch {
            free(documentArray)
            free(scoreArray)
            throw error
        }
        write(result.hits, k: parameters.k, documentArray, scoreArray)
        (queryIDs.pointee, queryIDBytes.pointee) = joined(set.ids)
        count.pointee = Int64(set.ids.count)
        documents.pointee = documentArray
        scores.pointee = scoreArray
        return 0
    }
}

/// Encodes `count` texts with the index's text query encoder and searches them; results as
/// `lsr_index_search_csr`.
@_cdecl("lsr_index_search_text")
public func lsr_index_search_text(
    _ index: UnsafeMutableRawPointer?, _ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int64,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    search(index, k, queryCut, heapFactor, method, threads, documents, scores, error) { shard in
        guard count >= 0, count == 0 || texts != nil else { throw invalid("negative text count or no texts", field: "texts") }
        let encoder = try shard.textEncoder()
        return (0 ..< Int(count)).map { encoder.encode(texts.unsafelyUnwrapped[$0].map { String(cString: $0) } ?? "").query }
    }
}

/// Strings joined by NUL into one malloc'd buffer (each followed by its NUL), and its length.
private func joined(_ strings: [String]) -> (UnsafeMutablePointer<CChar>, Int64) {
    var bytes: [UInt8] = []
    for s in strings { bytes += Array(s.utf8) + [0] }
    let buffer = malloc(max(1, bytes.count))!.bindMemory(to: CChar.self, capacity: max(1, bytes.count))
    bytes.withUnsafeBytes { raw in if !raw.isEmpty { memcpy(buffer, raw.baseAddress!, raw.count) } }
    return (buffer, Int64(bytes.count))
}

/// The external ids of `count` document positions (-1: the empty string), NUL-separated in one
/// malloc'd buffer of `*bytes` bytes.
@_cdecl("lsr_index_document_ids")
public func lsr_index_document_ids(
    _ index: UnsafeMutableRawPointer?, _ positions: UnsafePointer<Int64>?, _ count: Int64,
    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ bytes: UnsafeMutablePointer<Int64>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let opened = try handle(index)
        guard count >= 0, count == 0 || positions != nil else { throw invalid("negative count or no positions", field: "positions") }
        var ids: [String] = []
        ids.reserveCapacity(Int(count))
        for i in 0 ..< Int(count) {
            let p = positions.unsafelyUnwrapped[i]
            guard p >= -1, p < Int64(opened.documentCount) else { throw invalid("document position \(p) outside 0 ..< \(opened.documentCount)", field: "positions") }
            ids.append(p < 0 ? "" : try opened.document(at: Int(p)).id)
        }
        (out.pointee, bytes.pointee) = joined(ids)
        return 0
    }
}

/// The stored content of the document with external id `id`: `*found` is 0 when the index has
/// no such document, and `*content` NULL when the document has no content.
@_cdecl("lsr_index_document")
public func lsr_index_document(
    _ index: UnsafeMutableRawPointer?, _ id: UnsafePointer<CChar>?, _ content: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ found: UnsafeMutablePointer<Int32>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let opened = try handle(index)
        content.pointee = nil
        guard let id else { throw invalid("no document id", field: "id") }
        guard let position = opened.position(of: String(cString: id)) else {
            found.pointee = 0
            return 0
        }
        found.pointee = 1
        content.pointee = try opened.document(at: position).content.map(duplicate)
        return 0
    }
}

/// Builds an index of the vector file `input` (every format `lsr index --input` reads) at
/// `output`. `options` is a JSON object of build settings: `n_postings`, `max_fraction`,
/// `centroid_fraction`, `min_cluster_size`, `doc_cut`, `summary_energy`, `precision`
/// ("f16"/"f32"), `summaries` ("auto"/"always"/"never"), `seed`, `threads`, `overwrite`,
/// `shards` (N > 1: a sharded collection), `shard` (with `shards`: build only that shard, an
/// index at `output`, for `lsr_collection_assemble`); any other key is an error. `progress`,
/// when given, is called with a stage name, the units done and the total (-1: unknown), from
/// any thread.
@_cdecl("lsr_build")
public func lsr_build(
    _ input: UnsafePointer<CChar>?, _ idsPath: UnsafePointer<CChar>?, _ vocabularyPath: UnsafePointer<CChar>?,
    _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
    _ progress: (@convention(c) (UnsafePointer<CChar>, Int64, Int64) -> Void)?,
    _ statistics: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard let input, let output else { throw invalid("an input and an output path are needed", field: "output") }
        let reader = try VectorFileReader(
            path: String(cString: input), idsPath: idsPath.map { String(cString: $0) }, vocabularyPath: vocabularyPath.map { String(cString: $0) })
        let summary = try buildIndex(reader, output: String(cString: output), options: options.map { String(cString: $0) } ?? "{}", progress: progress)
        statistics?.pointee = duplicate(summary)
        return 0
    }
}

/// Builds an index (or collection, or shard: `lsr_build`'s options) of `rows` documents given as
/// a CSR matrix in the caller's memory, read in place (no copy, no file): row r's entries are
/// `indices[indptr[r] ..< indptr[r+1]]` (columns, positions in `vocabulary`, distinct within a
/// row) with weights `data[…]` (finite, not negative; zeros are dropped). `ids` names the rows
/// (NULL: "0", "1", …; distinct). The arrays must stay unchanged during the call.
@_cdecl("lsr_build_csr")
public func lsr_build_csr(
    _ indptr: UnsafePointer<Int64>?, _ rows: Int64, _ nnz: Int64, _ indices: UnsafePointer<Int32>?, _ data: UnsafePointer<Float>?,
    _ vocabulary: UnsafePointer<UnsafePointer<CChar>?>?, _ vocabularyCount: Int64, _ ids: UnsafePointer<UnsafePointer<CChar>?>?,
    _ output: UnsafePointer<CChar>?, _ options: UnsafePointer<CChar>?,
    _ progress: (@convention(c) (UnsafePointer<CChar>, Int64, Int64) -> Void)?,
    _ statistics: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard let output else { throw invalid("an output path is needed", field: "output") }
        let indptr = try checkedRowPointers(
            indptr, rows: rows, nnz: nnz, indices: indices, data: data, vocabularyCount: vocabularyCount, vocabulary: vocabulary, field: "documents")
        let tokens = try (0 ..< Int(vocabularyCount)).map { i -> String in
            guard let token = vocabulary?[i] else { throw invalid("vocabulary entry \(i) is missing", field: "vocabulary") }
            return String(cString: token)
        }
        let names = try (0 ..< Int(rows)).map { r -> String in
            guard let ids else { return String(r) }
            guard let id = ids[r] else { throw invalid("id of row \(r) is missing", field: "ids") }
            return String(cString: id)
        }
        let documents = try CSRDocuments(indptr: indptr, indices: indices, data: data, tokens: tokens, ids: names)
        let summary = try buildIndex(documents, output: String(cString: output), options: options.map { String(cString: $0) } ?? "{}", progress: progress)
        statistics?.pointee = duplicate(summary)
        return 0
    }
}

/// Documents given as a CSR matrix in the caller's memory (`lsr_build_csr`), read in place:
/// each pass over them builds one record at a time. Like a binary file with a vocabulary, the
/// columns are the components (the index keeps them, for binary queries without a vocabulary).
private final class CSRDocuments: VectorSource {
    let path = "CSR matrix"
    let format = VectorFileFormat.binary
    let tokens: [String]
    var declaredCount: Int? { ids.count }
    var skippedEmptyLines: Int { 0 }
    private(set) var droppedZeroWeights = 0
    private let indptr: UnsafePointer<Int64>
    private let indices: UnsafePointer<Int32>?
    private let data: UnsafePointer<Float>?
    private let ids: [String]

    /// Documents over row pointers already checked (`checkedRowPointers`, one per id); checks
    /// that the tokens and the ids are distinct.
    init(indptr: UnsafePointer<Int64>, indices: UnsafePointer<Int32>?, data: UnsafePointer<Float>?, tokens: [String], ids: [String]) throws {
        var columns: [String: Int] = [:]
        for (c, token) in tokens.enumerated() {
            if let first = columns.updateValue(c, forKey: token) {
                throw LSRError(.invalidInput, "vocabulary entry \(c) repeats entry \(first) ('\(token)')", path: "CSR matrix", field: "vocabulary")
            }
        }
        var seen = Set<String>(minimumCapacity: ids.count)
        for (r, id) in ids.enumerated() where !seen.insert(id).inserted {
            throw LSRError(.invalidInput, "row \(r): duplicate id '\(id)'", path: path, field: "ids")
        }
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.tokens = tokens
        self.ids = ids
    }

    func sourceComponent(of component: UInt32) -> UInt32 { component }

    func forEach(sortingComponents: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        droppedZeroWeights = 0
        for r in ids.indices {
            var record = VectorRecord(id: ids[r], position: r)
            for e in Int(indptr[r]) ..< Int(indptr[r + 1]) {
                let column = Int(indices.unsafelyUnwrapped[e]), weight = data.unsafelyUnwrapped[e]
                guard column >= 0, column < tokens.count else {
                    throw LSRError(.invalidInput, "row \(r): column \(column) outside the vocabulary of \(tokens.count) tokens", path: path, field: "indices")
                }
                guard weight.isFinite, weight >= 0 else {
                    throw LSRError(
                        .invalidInput, "row \(r): weight \(weight) of token '\(tokens[column])' must be finite and not negative", path: path, field: "data")
                }
                if weight == 0 {
                    droppedZeroWeights += 1
                    continue
                }
                record.components.append(UInt32(column))
                record.values.append(weight)
            }
            let order = record.components.indices.sorted { record.components[$0] < record.components[$1] }
            for (a, b) in zip(order, order.dropFirst()) where record.components[a] == record.components[b] {
                throw LSRError(.invalidInput, "row \(r): token '\(tokens[Int(record.components[a])])' appears twice", path: path, field: "indices")
            }
            if sortingComponents {
                record.components = order.map { record.components[$0] }
                record.values = order.map { record.values[$0] }
            }
            try body(record)
        }
    }
}

/// Builds `reader`'s documents as `options` say: the build statistics as JSON.
private func buildIndex(
    _ reader: any VectorSource, output: String, options: String, progress: (@convention(c) (UnsafePointer<CChar>, Int64, Int64) -> Void)?
) throws -> String {
    let settings = try BuildOptions.decode(json: options)
    var report: (@Sendable (BuildProgress) -> Void)? = nil
    if let progress {
        report = { update in
            update.stage.rawValue.withCString { progress($0, Int64(update.completed), Int64(update.total ?? -1)) }
        }
    }
    let configuration = try settings.configuration
    let overwrite = settings.overwrite ?? false
    let started = ContinuousClock.now
    let built: [BuildStatistics]
    switch (settings.shards ?? 1, settings.shard) {
    case (1, nil):
        built = [try IndexBuilder(configuration: configuration).build(input: reader, outputPath: output, overwrite: overwrite, progress: report)]
    case let (count, nil):
        let stepReport = report
        var shardReport: (@Sendable (Int, BuildProgress) -> Void)? = nil
        if let stepReport { shardReport = { _, step in stepReport(step) } }
        built = try ShardedIndexBuilder(configuration: configuration, shardCount: count)
            .build(input: reader, outputPath: output, overwrite: overwrite, progress: shardReport)
    case let (count, shard?):
        built = [try ShardedIndexBuilder(configuration: configuration, shardCount: count)
            .buildShard(shard, input: reader, outputPath: output, overwrite: overwrite, progress: report)]
    }
    let total = { (value: (BuildStatistics) -> Int) in Double(built.map(value).reduce(0, +)) }
    let summary: [String: Double] = [
        "documents": total(\.documents), "nonzeros": total(\.nonzeros), "postings": total(\.postings),
        "blocks": total(\.blocks), "index_bytes": total(\.indexBytes), "seconds": (ContinuousClock.now - started).seconds,
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self)
}

/// Makes `directory` (beside `target`), which holds shards `shard-0000` … of a collection of
/// `shards` shards built with `lsr_build`'s `shard` option, the collection at `target`: checks
/// the shards, writes the manifest, renames the directory (replacing an index or collection at
/// `target` only when `overwrite` is nonzero).
@_cdecl("lsr_collection_assemble")
public func lsr_collection_assemble(
    _ directory: UnsafePointer<CChar>?, _ target: UnsafePointer<CChar>?, _ shards: Int64, _ overwrite: Int32,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard let directory, let target else { throw invalid("a shards directory and a target are needed", field: "output") }
        guard shards >= 1, shards <= Int64(ShardedIndexBuilder.maximumShards) else {
            throw invalid("shards must be in 1 … \(ShardedIndexBuilder.maximumShards), got \(shards)", field: "shards")
        }
        try ShardedIndexBuilder.assemble(
            shardsIn: String(cString: directory), into: String(cString: target), shardCount: Int(shards), overwrite: overwrite != 0)
        return 0
    }
}

/// Merges results found by different servers of one collection: row q of `positions` and
/// `scores` (`rows × width`, row by row; collection positions, -1 for padding) holds the
/// candidates of query q; `columns` (`rows × k`) receives the columns of its best k in rank order
/// (higher score first, equal scores by lower position, as one index ranks them), -1 past the
/// candidates.
@_cdecl("lsr_merge_top_k")
public func lsr_merge_top_k(
    _ rows: Int64, _ width: Int64, _ k: Int64, _ positions: UnsafePointer<Int64>?, _ scores: UnsafePointer<Float>?,
    _ columns: UnsafeMutablePointer<Int64>?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard rows >= 0, width >= 0, k >= 1 else { throw invalid("rows and width must be ≥ 0 and k ≥ 1", field: "k") }
        guard rows == 0 || width == 0 || (positions != nil && scores != nil), rows == 0 || columns != nil else {
            throw invalid("missing arrays", field: "positions")
        }
        for q in 0 ..< Int(rows) {
            var candidates: [SearchHit] = []
            var column: [Int: Int64] = [:]
            for c in 0 ..< Int(width) {
                let cell = q * Int(width) + c
                let position = positions.unsafelyUnwrapped[cell]
                guard position >= 0 else { continue }
                guard column.updateValue(Int64(c), forKey: Int(position)) == nil else {
                    throw invalid("row \(q): document position \(position) appears twice", field: "positions")
                }
                candidates.append(SearchHit(document: Int(position), score: scores.unsafelyUnwrapped[cell]))
            }
            let best = ShardedIndex.best(candidates, k: Int(k))
            for i in 0 ..< Int(k) { columns.unsafelyUnwrapped[q * Int(k) + i] = i < best.count ? column[best[i].document]! : -1 }
        }
        return 0
    }
}

/// The settings `lsr_build` takes as JSON (every key optional; an unknown key is an error).
private struct BuildOptions: Decodable {
    var nPostings: Int?
    var maxFraction: Double?
    var centroidFraction: Double?
    var minClusterSize: Int?
    var docCut: Int?
    var summaryEnergy: Double?
    var precision: ValuePrecision?
    var summaries: String?
    var seed: UInt64?
    var threads: Int?
    var overwrite: Bool?
    var shards: Int?
    var shard: Int?

    /// The JSON keys, one per setting.
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case nPostings = "n_postings", maxFraction = "max_fraction", centroidFraction = "centroid_fraction"
        case minClusterSize = "min_cluster_size", docCut = "doc_cut", summaryEnergy = "summary_energy"
        case precision, summaries, seed, threads, overwrite, shards, shard
    }
    private static let keys = CodingKeys.allCases.map(\.rawValue)

    static func decode(json: String) throws -> BuildOptions {
        let data = Data(json.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw invalid("build options must be a JSON object", field: "options")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw invalid("unknown build option '\(unknown)'; known: \(keys.sorted().joined(separator: ", "))", field: unknown)
        }
        do {
            let options = try JSONDecoder().decode(BuildOptions.self, from: data)
            if options.shard != nil && options.shards == nil { throw invalid("build option 'shard' goes with 'shards'", field: "shard") }
            return options
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw invalid("build option '\(key)' has the wrong type or value: \(context.debugDescription)", field: key)
        }
    }

    /// The build configuration: lsr's defaults, with these settings.
    var configuration: BuildConfiguration {
        get throws {
            var configuration = BuildConfiguration()
            if let nPostings {
                configuration.pruning = .globalThreshold(nPostings: nPostings, maxFraction: maxFraction ?? 1.5)
            } else if let maxFraction {
                configuration.pruning = .automatic(maxFraction: maxFraction)
            }
            if case let .randomCentroids(fraction, minSize, cut) = configuration.blocking {
                configuration.blocking = .randomCentroids(
                    centroidFraction: centroidFraction ?? fraction, minClusterSize: minClusterSize ?? minSize, docCut: docCut ?? cut)
            }
            if let summaryEnergy { configuration.summaryEnergy = summaryEnergy }
            if let precision { configuration.valuePrecision = precision }
            if let summaries {
                guard let policy = SummaryPolicy(rawValue: summaries) else {
                    throw invalid("summaries must be \"auto\", \"always\" or \"never\", got \"\(summaries)\"", field: "summaries")
                }
                configuration.summaries = policy
            }
            if let seed { configuration.seed = seed }
            if let threads { configuration.threads = threads }
            try configuration.validate()
            return configuration
        }
    }
}

/// Evaluates the TREC run at `run` against the qrels at `qrels` (BEIR TSV or TREC) with the
/// comma-separated `metrics` (as `lsr eval --metrics`); `*json` is set to a malloc'd JSON object
/// `{"queries": n, "metrics": {name: mean}, "per_query": {qid: {name: value}}}`, the numbers of
/// `lsr eval`.
@_cdecl("lsr_evaluate")
public func lsr_evaluate(
    _ run: UnsafePointer<CChar>?, _ qrels: UnsafePointer<CChar>?, _ metrics: UnsafePointer<CChar>?, _ complete: Int32,
    _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        guard let run, let qrels, let metrics else { throw invalid("a run, qrels and metrics are needed", field: "run") }
        let names = String(cString: metrics).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw invalid("no metrics", field: "metrics") }
        let evaluator = Evaluator(metrics: try names.map { try Metric(parsing: $0) }, complete: complete != 0)
        let result = evaluator.evaluate(try Run.read(path: String(cString: run)), qrels: try Qrels.read(path: String(cString: qrels)))
        let object: [String: Any] = ["queries": result.queries, "metrics": result.metrics, "per_query": result.perQuery]
        json.pointee = duplicate(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        return 0
    }
}
