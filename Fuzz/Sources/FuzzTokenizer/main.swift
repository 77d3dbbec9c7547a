import FuzzSupport
import Foundation
import LSR

// Tokenizes arbitrary bytes (decoded as UTF-8, invalid sequences replaced as Swift does) with
// bert-base-uncased's tokenizer when ../shared/data is beside the repository, else with a small
// vocabulary of wordpieces, accents, CJK and special tokens; and reads the bytes as a text JSONL
// file, tokenizing each record. Checks: ids are in the vocabulary, a limit gives a prefix, query
// vectors are ascending and positive. Throwing is fine; crashing or hanging is the finding.
let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../shared/data/inference-free/tokenizer.json").standardizedFileURL.path
let tokenizer = try! (FileManager.default.fileExists(atPath: shared)
    ? Tokenizer(contentsOf: shared)
    : Tokenizer(
        tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "ab", "##a", "##b", "##ab", "e", "cafe", "中", "##中", ".", "!", "x"],
        literalTokens: ["[CLS]", "[SEP]", "[MASK]"]))
let encoder = QueryEncoder.uniform(tokenizer: tokenizer, countingRepeats: true)
let scratch = ScratchDirectory()
runFuzzer { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let ids = tokenizer.ids(text)
    precondition(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.tokens.count })
    let limit = ids.count / 2
    precondition(tokenizer.ids(text, limit: limit) == Array(ids.prefix(limit)))
    let vector = encoder.encode(text)
    precondition(zip(vector.tokenIDs, vector.tokenIDs.dropFirst()).allSatisfy { $0 < $1 } && vector.weights.allSatisfy { $0 >= 1 })
    precondition(Int(vector.weights.reduce(0, +)) == ids.count)
    let path = scratch.write("texts.jsonl", bytes)
    try? TextFileReader(path: path, requireUniqueIDs: false).forEach { record in
        precondition(tokenizer.ids(record.text).allSatisfy { Int($0) < tokenizer.tokens.count })
    }
}
