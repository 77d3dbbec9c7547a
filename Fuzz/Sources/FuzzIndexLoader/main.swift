import FuzzSupport
import LSR

#if canImport(Glibc)
import Glibc
#endif

// Opens damaged copies of a small valid index and searches them.
//
// An input that starts with the magic number is the whole `index.lsr`, as is. Any other input
// is a list of patches to the valid index — (section selector u8, offset u24, length u8, bytes) —
// after which every checksum is recomputed, so the damage gets past the checksums on open and
// reaches the metadata decoder, the section size checks and search's range checks.

let scratch = ScratchDirectory()
let base = try! buildBaseIndex(in: scratch)
let fuzzedDirectory = scratch.path + "/fuzzed"
mkdir(fuzzedDirectory, 0o700)
_ = link(base.directory + "/documents.sqlite", fuzzedDirectory + "/documents.sqlite")

runFuzzer { input in
    var bytes: [UInt8]
    if input.starts(with: Array("LSRINDEX".utf8)) {
        bytes = Array(input)
    } else {
        bytes = base.indexBytes
        applyPatches(input, to: &bytes)
        resealChecksums(&bytes)
    }
    bytes.withUnsafeBytes { _ = scratch.write("fuzzed/index.lsr", $0) }
    guard let index = try? Index(path: fuzzedDirectory) else { return }
    _ = index.verify()
    let searcher = Searcher(index: index)
    let everyComponent = Array(UInt32(0) ..< UInt32(min(index.vocabulary.count, 64)))
    let queries = [
        QueryVector(components: everyComponent, values: everyComponent.map { Float($0 % 7) + 0.5 }),
        index.query(tokens: ["t1", "t7", "t30", "unknown"], values: [1, 2, 0.5, 3]).query,
        QueryVector(components: [], values: []),
    ]
    for query in queries {
        for parameters in [SearchParameters(k: 10, queryCut: 3, heapFactor: 0.7), SearchParameters(k: 1000, queryCut: 100, heapFactor: 0.1)] {
            check((try? searcher.search(query, parameters: parameters)) ?? [], k: parameters.k, in: index)
        }
        check((try? searcher.search(query, parameters: SearchParameters(k: 10), method: .exact)) ?? [], k: 10, in: index)
    }
}

func check(_ hits: [SearchHit], k: Int, in index: Index) {
    precondition(hits.count <= k)
    for hit in hits {
        precondition(hit.document >= 0 && hit.document < index.documentCount)
        _ = try? index.documents.document(at: hit.document)
    }
}

/// Overwrites bytes of the base index's sections as the input describes.
func applyPatches(_ input: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
    let sections = sectionTable(bytes)
    var at = 0
    while at + 5 <= input.count, !sections.isEmpty {
        let (start, length) = sections[Int(input[at]) % sections.count]
        let offset = Int(input[at + 1]) | Int(input[at + 2]) << 8 | Int(input[at + 3]) << 16
        let count = Int(input[at + 4])
        at += 5
        let patch = input[at ..< min(at + count, input.count)]
        at += patch.count
        guard length > 0 else { continue }
        for (i, byte) in patch.enumerated() {
            bytes[start + (offset + i) % length] = byte
        }
    }
}

/// The (offset, length) of each section of a well-formed index file.
func sectionTable(_ bytes: [UInt8]) -> [(Int, Int)] {
    let count = Int(load32(bytes, 12))
    let table = Int(load64(bytes, 16))
    return (0 ..< count).map { i in (Int(load64(bytes, table + 48 * i + 16)), Int(load64(bytes, table + 48 * i + 24))) }
}

/// Recomputes each section checksum, then the table and header checksums.
func resealChecksums(_ bytes: inout [UInt8]) {
    let table = Int(load64(bytes, 16))
    for (i, (start, length)) in sectionTable(bytes).enumerated() {
        store64(&bytes, table + 48 * i + 32, hash(bytes, start, length))
    }
    store64(&bytes, 32, hash(bytes, table, 48 * Int(load32(bytes, 12))))
    store64(&bytes, 40, hash(bytes, 0, 40))
}

func hash(_ bytes: [UInt8], _ start: Int, _ length: Int) -> UInt64 {
    bytes.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[start ..< start + length])) }
}

func load32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
    bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
}

func load64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
    bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
}

func store64(_ bytes: inout [UInt8], _ at: Int, _ value: UInt64) {
    withUnsafeBytes(of: value.littleEndian) { for i in 0 ..< 8 { bytes[at + i] = $0[i] } }
}

/// Builds a 300-document index over 80 tokens ("t0" …) with small blocks, so that every
/// section is populated.
func buildBaseIndex(in scratch: ScratchDirectory) throws -> (directory: String, indexBytes: [UInt8]) {
    let lines = fixedCollectionJSONL(seed: 7, documents: 300, termsPerDocument: 12, vocabulary: 80, content: true)
    let input = Array(lines.utf8).withUnsafeBytes { scratch.write("base.jsonl", $0) }
    let directory = scratch.path + "/base"
    let configuration = BuildConfiguration(
        pruning: .globalThreshold(nPostings: 40, maxFraction: 1.5),
        blocking: .randomCentroids(centroidFraction: 0.2, minClusterSize: 2, docCut: 8), threads: 1)
    try IndexBuilder(configuration: configuration).build(input: try VectorFileReader(path: input), outputPath: directory)
    let fd = open(directory + "/index.lsr", O_RDONLY)
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: Int(lseek(fd, 0, SEEK_END)))
    _ = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
    return (directory, bytes)
}
