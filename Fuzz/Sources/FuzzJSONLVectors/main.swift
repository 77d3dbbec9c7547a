import FuzzSupport
import LSR

// Reads the input as a Seismic JSONL vector file (documents, then queries), the way
// `lsr index` and `lsr search` do. A zstd frame at the start sends it through the decompressor.
let scratch = ScratchDirectory()
runFuzzer { bytes in
    let path = scratch.write("vectors.jsonl", bytes)
    for unique in [true, false] {
        // Documents: unique ids, components unsorted (`lsr index`); queries: repeats allowed, sorted.
        guard let reader = try? VectorFileReader(path: path, format: .jsonl, requireUniqueIDs: unique) else { continue }
        var total = 0
        try? reader.forEach(sortingComponents: !unique) { record in
            precondition(record.components.count == record.values.count)
            precondition(unique || zip(record.components, record.components.dropFirst()).allSatisfy { $0 < $1 })
            precondition(Set(record.components).count == record.components.count)
            precondition(record.values.allSatisfy { $0.isFinite && $0 > 0 })
            precondition(record.components.allSatisfy { Int($0) < reader.tokens.count })
            total += record.components.count
        }
    }
}
