import FuzzSupport
import LSR

// Reads the input as a Seismic binary vector file, alone and with an ids file and a vocabulary
// whose sizes the input's first byte chooses; sorted (as queries are) and unsorted (as `lsr
// index` reads).
let scratch = ScratchDirectory()
runFuzzer { bytes in
    let path = scratch.write("vectors.bin", bytes)
    let lines = Int(bytes.first ?? 0) % 8
    let text = Array((0 ..< lines).map { "t\($0)\n" }.joined().utf8)
    let listPath = text.withUnsafeBytes { scratch.write("lines.txt", $0) }
    for (ids, vocabulary) in [(nil, nil), (listPath, nil), (nil, listPath)] as [(String?, String?)] {
        for sorting in [true, false] {
            guard let reader = try? VectorFileReader(path: path, format: .binary, idsPath: ids, vocabularyPath: vocabulary) else { continue }
            try? reader.forEach(sortingComponents: sorting) { record in
                precondition(record.components.count == record.values.count)
                precondition(record.values.allSatisfy { $0.isFinite && $0 > 0 })
                precondition(!sorting || zip(record.components, record.components.dropFirst()).allSatisfy { $0 < $1 })
                precondition(Set(record.components).count == record.components.count)
                precondition(record.components.allSatisfy { Int($0) < reader.tokens.count })
            }
        }
    }
}
