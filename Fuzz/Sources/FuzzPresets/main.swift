import FuzzSupport
import LSR

#if canImport(Glibc)
import Glibc
#endif

// Reads fuzzed `presets` files beside an index and beside a sharded collection, and searches
// with every preset they accept.
//
// An input that starts with the side file's magic (`lsr-presets`) is the whole file, as is. Any
// other input is the JSON body, given the header line its checksum and length call for, so it
// reaches the decoder and the binding checks. In a body, `@INDEX@` stands for the index's
// identity, `@COLLECTION@` for the collection's and `@SHARD0@` … `@SHARD2@` for its shards', so
// that bodies the binding accepts are reachable. Presets the readers accept must name the
// preset of each of their targets, and searching with one must return hits in range or throw.

let scratch = ScratchDirectory()
let (index, collection) = try! buildIndexAndCollection(in: scratch)
let substitutions = [("@INDEX@", index.identity), ("@COLLECTION@", collection.identity!)]
    + collection.shards.enumerated().map { ("@SHARD\($0.offset)@", $0.element.identity) }
let queries = try! collection.readQueries(path: Array("{\"id\": \"q\", \"vector\": {\"t1\": 0.5, \"t7\": 1.5, \"t30\": 2.5}}\n".utf8)
    .withUnsafeBytes { scratch.write("query.jsonl", $0) })
let indexQueries = try! index.readQueries(path: scratch.path + "/query.jsonl")

runFuzzer { input in
    var bytes = Array(input)
    if !bytes.starts(with: Array("lsr-presets".utf8)) {
        var body = String(decoding: input, as: UTF8.self)
        for (placeholder, value) in substitutions { body = body.replacingOccurrences(of: placeholder, with: value) }
        let encoded = Array(body.utf8)
        let checksum = encoded.withUnsafeBytes { XXHash64.hash($0) }
        bytes = Array("lsr-presets 1 xxh64 \(XXHash64.hex(checksum)) \(encoded.count)\n".utf8) + encoded
    }
    bytes.withUnsafeBytes {
        _ = scratch.write("index/presets", $0)
        _ = scratch.write("collection/presets", $0)
    }
    if let presets = try? index.presets() {
        for preset in checked(presets) {
            let hits = (try? index.search(indexQueries.vectors, parameters: preset.parameters(k: presets.k), method: preset.searchMethod, threads: 1))?.hits
            check(hits ?? [], k: presets.k, documents: index.documentCount)
        }
    }
    if let presets = try? collection.presets() {
        for preset in checked(presets) {
            let hits = (try? collection.search(queries, parameters: preset.parameters(k: presets.k), method: preset.searchMethod, threads: 1))?.hits
            check(hits ?? [], k: presets.k, documents: collection.documentCount)
        }
    }
}

/// The presets of accepted `presets`, each checked to be the one its own target chooses.
func checked(_ presets: SearchPresets) -> [SearchPreset] {
    precondition(presets.k >= 1)
    for preset in presets.presets {
        precondition(preset.targetRecall > 0 && preset.targetRecall <= 1)
        precondition(presets.preset(forTargetRecall: preset.targetRecall) != nil)
        precondition((try? presets.preset(forTargetRecall: preset.targetRecall, k: presets.k)) != nil)
    }
    return presets.presets
}

func check(_ hits: [[SearchHit]], k: Int, documents: Int) {
    for row in hits {
        precondition(row.count <= k)
        for hit in row { precondition(hit.document >= 0 && hit.document < documents) }
    }
}

/// A pruned index with blocks, and a collection of three shards, over 300 fixed documents.
func buildIndexAndCollection(in scratch: ScratchDirectory) throws -> (Index, ShardedIndex) {
    let lines = fixedCollectionJSONL(seed: 5, documents: 300, termsPerDocument: 12, vocabulary: 80, content: false)
    let input = Array(lines.utf8).withUnsafeBytes { scratch.write("documents.jsonl", $0) }
    let configuration = BuildConfiguration(pruning: .globalThreshold(nPostings: 40, maxFraction: 1.5), threads: 1)
    try IndexBuilder(configuration: configuration).build(input: try VectorFileReader(path: input), outputPath: scratch.path + "/index")
    try ShardedIndexBuilder(configuration: configuration, shardCount: 3)
        .build(input: try VectorFileReader(path: input), outputPath: scratch.path + "/collection")
    return (try Index(path: scratch.path + "/index"), try ShardedIndex(path: scratch.path + "/collection"))
}
