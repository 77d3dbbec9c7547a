import FuzzSupport
import LSR

#if canImport(Glibc)
import Glibc
#endif

// Opens a sharded collection of three valid shards under fuzzed manifests, and searches it.
//
// An input that starts with the side file's magic (`lsr-collection`) is the whole manifest, as
// is. Any other input is the JSON body, given the header line its checksum and length call for,
// so it gets past the framing to the decoder and the partition checks. An accepted manifest
// must describe the shards as they are; search and document lookups must stay in range.

let scratch = ScratchDirectory()
let collection = try! buildCollection(in: scratch)
// One query over tokens some shards may lack, as a vector file (each shard encodes it its own way).
let queryFile = Array("{\"id\": \"q\", \"vector\": {\"t1\": 0.5, \"t7\": 1.5, \"t30\": 2.5, \"t55\": 3.5, \"unknown\": 4.5}}\n".utf8)
    .withUnsafeBytes { scratch.write("query.jsonl", $0) }

runFuzzer { input in
    var bytes = Array(input)
    if !bytes.starts(with: Array("lsr-collection".utf8)) {
        let checksum = XXHash64.hash(input)
        bytes = Array("lsr-collection 1 xxh64 \(String(checksum, radix: 16).leftPadded(16)) \(bytes.count)\n".utf8) + bytes
    }
    bytes.withUnsafeBytes { _ = scratch.write("collection/collection", $0) }
    guard let opened = try? ShardedIndex(path: collection) else { return }
    precondition(opened.shards.map(\.documentCount) == opened.manifest.shards.map(\.documents))
    precondition(opened.documentCount == opened.shards.reduce(0) { $0 + $1.documentCount })
    guard let queries = try? opened.readQueries(path: queryFile) else { return }
    for method in [SearchMethod.exact, .approximate] {
        guard let result = try? opened.search(queries, parameters: SearchParameters(k: 20), method: method, threads: 1) else { continue }
        for hits in result.hits {
            precondition(hits.count <= 20)
            for hit in hits {
                precondition(hit.document >= 0 && hit.document < opened.documentCount)
                precondition((try? opened.document(at: hit.document)) != nil)
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// Three shards of 301 fixed documents, as `lsr index --shards 3` writes them.
func buildCollection(in scratch: ScratchDirectory) throws -> String {
    let lines = fixedCollectionJSONL(seed: 11, documents: 301, termsPerDocument: 10, vocabulary: 60, content: false)
    let input = Array(lines.utf8).withUnsafeBytes { scratch.write("documents.jsonl", $0) }
    let directory = scratch.path + "/collection"
    try ShardedIndexBuilder(configuration: BuildConfiguration(threads: 1), shardCount: 3)
        .build(input: try VectorFileReader(path: input), outputPath: directory)
    return directory
}
