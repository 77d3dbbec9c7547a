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

/// An open index and the text encoder it may carry, behind an opaque C handle.
private final class IndexHandle {
    let index: Index
    init(_ index: Index) { self.index = index }
}

private func handle(_ pointer: UnsafeMutableRawPointer) -> IndexHandle {
    Unmanaged<IndexHandle>.fromOpaque(pointer).takeUnretainedValue()
}

private func duplicate(_ text: String) -> UnsafeMutablePointer<CChar> {
    strdup(text) ?? UnsafeMutablePointer<CChar>.allocate(capacity: 1)
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

/// Opens the index directory at `path` (mapped, milliseconds); NULL on failure.
@_cdecl("lsr_index_open")
public func lsr_index_open(_ path: UnsafePointer<CChar>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> UnsafeMutableRawPointer? {
    guarded(error, failure: nil) {
        Unmanaged.passRetained(IndexHandle(try Index(path: String(cString: path)))).toOpaque()
    }
}

/// Closes an index opened by `lsr_index_open`.
@_cdecl("lsr_index_close")
public func lsr_index_close(_ index: UnsafeMutableRawPointer?) {
    guard let index else { return }
    Unmanaged<IndexHandle>.fromOpaque(index).release()
}

/// Number of documents of the index.
@_cdecl("lsr_index_document_count")
public func lsr_index_document_count(_ index: UnsafeMutableRawPointer) -> Int64 { Int64(handle(index).index.documentCount) }

/// The search settings of one call.
private func searchSettings(k: Int64, queryCut: Int64, heapFactor: Float, method: Int32, threads: Int64) throws -> (SearchParameters, SearchMethod, Int) {
    let methods: [SearchMethod] = [.approximate, .exact, .bruteForce]
    guard method >= 0, Int(method) < methods.count else { throw invalid("method must be 0 (approximate), 1 (exact) or 2 (brute force), got \(method)", field: "method") }
    guard k >= 1, k <= Int64(Int32.max) else { throw invalid("k must be in 1 … \(Int32.max), got \(k)", field: "k") }
    guard queryCut >= 0 else { throw invalid("query_cut must be ≥ 1, got \(queryCut)", field: "query_cut") }
    guard threads >= 0 else { throw invalid("threads must be ≥ 1, got \(threads)", field: "threads") }
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

/// Searches `rows` queries given as a CSR matrix over the caller's vocabulary: row q's entries
/// are `indices[indptr[q] ..< indptr[q+1]]` (positions in `vocabulary`, distinct within a row)
/// with weights `data[…]`. Tokens the index does not know are dropped, as are zero weights.
/// `query_cut` ≤ 0 and `heap_factor` 0 mean the defaults; `method`: 0 approximate, 1 exact,
/// 2 brute force; `threads` 0: every core.
@_cdecl("lsr_index_search_csr")
public func lsr_index_search_csr(
    _ index: UnsafeMutableRawPointer, _ indptr: UnsafePointer<Int64>, _ rows: Int64, _ indices: UnsafePointer<Int32>?,
    _ data: UnsafePointer<Float>?, _ vocabulary: UnsafePointer<UnsafePointer<CChar>?>?, _ vocabularyCount: Int64,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    search(index, k, queryCut, heapFactor, method, threads, documents, scores, error) { index in
        guard rows >= 0, vocabularyCount >= 0 else { throw invalid("negative row or vocabulary count", field: "queries") }
        let components: [UInt32?] = (0 ..< Int(vocabularyCount)).map { i in
            vocabulary?[i].map { index.vocabulary.id(of: String(cString: $0)) } ?? nil
        }
        var queries: [QueryVector] = []
        queries.reserveCapacity(Int(rows))
        for q in 0 ..< Int(rows) {
            let (start, end) = (indptr[q], indptr[q + 1])
            guard start >= 0, start <= end else { throw invalid("indptr is not ascending at row \(q)", field: "indptr") }
            var pairs: [(UInt32, Float)] = []
            for e in Int(start) ..< Int(end) {
                let position = Int(indices![e])
                guard position >= 0, position < components.count else {
                    throw invalid("row \(q): column \(position) outside the vocabulary of \(components.count) tokens", field: "indices")
                }
                guard let c = components[position], data![e] != 0 else { continue }
                pairs.append((c, data![e]))
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

/// Searches the queries `makeQueries` gives with the settings of one call into the caller's
/// result arrays (`lsr_index_search_csr`'s conventions).
private func search(
    _ handlePointer: UnsafeMutableRawPointer, _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ makeQueries: (Index) throws -> [QueryVector]
) -> Int32 {
    guarded(error, failure: -1) {
        let index = handle(handlePointer).index
        let (parameters, searchMethod, workers) = try searchSettings(k: k, queryCut: queryCut, heapFactor: heapFactor, method: method, threads: threads)
        let result = try index.search(try makeQueries(index), parameters: parameters, method: searchMethod, threads: workers)
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
    _ index: UnsafeMutableRawPointer, _ path: UnsafePointer<CChar>, _ idsPath: UnsafePointer<CChar>?, _ vocabularyPath: UnsafePointer<CChar>?,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ queryIDs: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ queryIDBytes: UnsafeMutablePointer<Int64>, _ count: UnsafeMutablePointer<Int64>,
    _ documents: UnsafeMutablePointer<UnsafeMutablePointer<Int64>?>, _ scores: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let index = handle(index).index
        let (parameters, searchMethod, workers) = try searchSettings(k: k, queryCut: queryCut, heapFactor: heapFactor, method: method, threads: threads)
        let set = try index.readQueries(
            path: String(cString: path), idsPath: idsPath.map { String(cString: $0) }, vocabularyPath: vocabularyPath.map { String(cString: $0) })
        let result = try index.search(set.vectors, parameters: parameters, method: searchMethod, threads: workers)
        let cells = max(1, set.vectors.count * parameters.k)
        let documentArray = malloc(cells * MemoryLayout<Int64>.stride)!.bindMemory(to: Int64.self, capacity: cells)
        let scoreArray = malloc(cells * MemoryLayout<Float>.stride)!.bindMemory(to: Float.self, capacity: cells)
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
    _ index: UnsafeMutableRawPointer, _ texts: UnsafePointer<UnsafePointer<CChar>?>, _ count: Int64,
    _ k: Int64, _ queryCut: Int64, _ heapFactor: Float, _ method: Int32, _ threads: Int64,
    _ documents: UnsafeMutablePointer<Int64>, _ scores: UnsafeMutablePointer<Float>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    search(index, k, queryCut, heapFactor, method, threads, documents, scores, error) { index in
        guard count >= 0 else { throw invalid("negative text count", field: "texts") }
        let encoder = try index.requireTextEncoder()
        return (0 ..< Int(count)).map { encoder.encode(texts[$0].map { String(cString: $0) } ?? "").query }
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
    _ index: UnsafeMutableRawPointer, _ positions: UnsafePointer<Int64>, _ count: Int64,
    _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ bytes: UnsafeMutablePointer<Int64>,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let index = handle(index).index
        var ids: [String] = []
        ids.reserveCapacity(max(0, Int(count)))
        for i in 0 ..< Int(max(0, count)) {
            let p = positions[i]
            guard p >= -1, p < Int64(index.documentCount) else { throw invalid("document position \(p) outside 0 ..< \(index.documentCount)", field: "positions") }
            ids.append(p < 0 ? "" : try index.documents.document(at: Int(p)).id)
        }
        (out.pointee, bytes.pointee) = joined(ids)
        return 0
    }
}

/// The stored content of the document with external id `id`: `*found` is 0 when the index has
/// no such document, and `*content` NULL when the document has no content.
@_cdecl("lsr_index_document")
public func lsr_index_document(
    _ index: UnsafeMutableRawPointer, _ id: UnsafePointer<CChar>, _ content: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ found: UnsafeMutablePointer<Int32>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let index = handle(index).index
        content.pointee = nil
        guard let position = index.documents.position(of: String(cString: id)) else {
            found.pointee = 0
            return 0
        }
        found.pointee = 1
        content.pointee = try index.documents.document(at: position).content.map(duplicate)
        return 0
    }
}

/// Builds an index of the vector file `input` (every format `lsr index --input` reads) at
/// `output`. `options` is a JSON object of build settings: `n_postings`, `max_fraction`,
/// `centroid_fraction`, `min_cluster_size`, `doc_cut`, `summary_energy`, `precision`
/// ("f16"/"f32"), `summaries` ("auto"/"always"/"never"), `seed`, `threads`, `overwrite`; any
/// other key is an error. `progress`, when given, is called with a stage name, the units done
/// and the total (-1: unknown), from any thread.
@_cdecl("lsr_build")
public func lsr_build(
    _ input: UnsafePointer<CChar>, _ idsPath: UnsafePointer<CChar>?, _ vocabularyPath: UnsafePointer<CChar>?,
    _ output: UnsafePointer<CChar>, _ options: UnsafePointer<CChar>?,
    _ progress: (@convention(c) (UnsafePointer<CChar>, Int64, Int64) -> Void)?,
    _ statistics: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let summary = try buildIndex(
            input: String(cString: input), idsPath: idsPath.map { String(cString: $0) },
            vocabularyPath: vocabularyPath.map { String(cString: $0) }, output: String(cString: output),
            options: options.map { String(cString: $0) } ?? "{}", progress: progress)
        statistics?.pointee = duplicate(summary)
        return 0
    }
}

/// `lsr_build`'s work: the build statistics as JSON.
private func buildIndex(
    input: String, idsPath: String?, vocabularyPath: String?, output: String, options: String,
    progress: (@convention(c) (UnsafePointer<CChar>, Int64, Int64) -> Void)?
) throws -> String {
    let settings = try BuildOptions(json: options)
    let reader = try VectorFileReader(path: input, idsPath: idsPath, vocabularyPath: vocabularyPath)
    var report: (@Sendable (BuildProgress) -> Void)? = nil
    if let progress {
        report = { update in
            update.stage.rawValue.withCString { progress($0, Int64(update.completed), Int64(update.total ?? -1)) }
        }
    }
    let built = try IndexBuilder(configuration: settings.configuration)
        .build(input: reader, outputPath: output, overwrite: settings.overwrite, progress: report)
    let summary: [String: Double] = [
        "documents": Double(built.documents), "nonzeros": Double(built.nonzeros), "postings": Double(built.postings),
        "blocks": Double(built.blocks), "index_bytes": Double(built.indexBytes), "seconds": built.seconds,
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self)
}

/// The settings `lsr_build` takes as JSON.
private struct BuildOptions {
    var configuration = BuildConfiguration()
    var overwrite = false

    init(json: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw invalid("build options must be a JSON object", field: "options")
        }
        func number(_ key: String) throws -> Double? {
            guard let value = object[key] else { return nil }
            guard let n = value as? NSNumber, !(value is Bool) else { throw invalid("\(key) must be a number", field: key) }
            return n.doubleValue
        }
        func integer(_ key: String) throws -> Int? {
            guard let n = try number(key) else { return nil }
            guard n.rounded() == n, abs(n) < 1e15 else { throw invalid("\(key) must be an integer, got \(n)", field: key) }
            return Int(n)
        }
        let known: Set<String> = [
            "n_postings", "max_fraction", "centroid_fraction", "min_cluster_size", "doc_cut", "summary_energy", "precision",
            "summaries", "seed", "threads", "overwrite",
        ]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown build option '\(unknown)'; known: \(known.sorted().joined(separator: ", "))", field: unknown)
        }
        let maxFraction = try number("max_fraction") ?? 1.5
        if let n = try integer("n_postings") {
            configuration.pruning = .globalThreshold(nPostings: n, maxFraction: maxFraction)
        } else if object["max_fraction"] != nil {
            configuration.pruning = .automatic(maxFraction: maxFraction)
        }
        if case let .randomCentroids(fraction, minSize, docCut) = configuration.blocking {
            configuration.blocking = .randomCentroids(
                centroidFraction: try number("centroid_fraction") ?? fraction, minClusterSize: try integer("min_cluster_size") ?? minSize,
                docCut: try integer("doc_cut") ?? docCut)
        }
        if let energy = try number("summary_energy") { configuration.summaryEnergy = energy }
        if let precision = object["precision"] {
            guard let name = precision as? String, let value = ValuePrecision(rawValue: name) else { throw invalid("precision must be \"f16\" or \"f32\"", field: "precision") }
            configuration.valuePrecision = value
        }
        if let summaries = object["summaries"] {
            guard let name = summaries as? String, let value = SummaryPolicy(rawValue: name) else {
                throw invalid("summaries must be \"auto\", \"always\" or \"never\"", field: "summaries")
            }
            configuration.summaries = value
        }
        if let seed = try integer("seed") {
            guard seed >= 0 else { throw invalid("seed must be ≥ 0", field: "seed") }
            configuration.seed = UInt64(seed)
        }
        if let threads = try integer("threads") { configuration.threads = threads }
        if let overwrite = object["overwrite"] {
            guard let flag = overwrite as? Bool else { throw invalid("overwrite must be true or false", field: "overwrite") }
            self.overwrite = flag
        }
        try configuration.validate()
    }
}

/// Evaluates the TREC run at `run` against the qrels at `qrels` (BEIR TSV or TREC) with the
/// comma-separated `metrics` (as `lsr eval --metrics`); `*json` is set to a malloc'd JSON object
/// `{"queries": n, "metrics": {name: mean}, "per_query": {qid: {name: value}}}`, the numbers of
/// `lsr eval`.
@_cdecl("lsr_evaluate")
public func lsr_evaluate(
    _ run: UnsafePointer<CChar>, _ qrels: UnsafePointer<CChar>, _ metrics: UnsafePointer<CChar>, _ complete: Int32,
    _ json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    guarded(error, failure: -1) {
        let names = String(cString: metrics).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw invalid("no metrics", field: "metrics") }
        let evaluator = Evaluator(metrics: try names.map { try Metric(parsing: $0) }, complete: complete != 0)
        let result = evaluator.evaluate(try Run.read(path: String(cString: run)), qrels: try Qrels.read(path: String(cString: qrels)))
        let object: [String: Any] = ["queries": result.queries, "metrics": result.metrics, "per_query": result.perQuery]
        json.pointee = duplicate(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        return 0
    }
}
