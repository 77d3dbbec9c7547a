import Foundation
import LSRFormats
import LSRTestSupport
import LSRText
import XCTest

/// The tokenizer and the query encoder against the reference implementation's output (Hugging
/// Face `tokenizers` 0.23.3 and sentence-transformers' `SparseStaticEmbedding`, in
/// `../shared/data/inference-free/`).
final class TokenizerTests: XCTestCase {
    static let directory = SharedData.path("inference-free")

    private func referenceTokenizer() throws -> Tokenizer {
        try XCTSkipUnless(SharedData.available, "needs ../shared/data")
        return try Tokenizer(contentsOf: Self.directory + "/tokenizer.json")
    }

    func testEveryGoldenTextTokenizesAsTheReference() throws {
        let tokenizer = try referenceTokenizer()
        let golden = try jsonObjects(Self.directory + "/golden-dev.tokens.jsonl.zst")
        XCTAssertGreaterThan(golden.count, 12_000)
        var mismatches: [String] = []
        for record in golden {
            let text = record["text"] as! String, expected = (record["ids"] as! [NSNumber]).map(\.int32Value)
            let ids = tokenizer.ids(text)
            if ids != expected {
                mismatches.append("\(record["id"]!): \(text.debugDescription.prefix(120))\n  expected \(tokenizer.tokens(of: expected).prefix(40))\n  got      \(tokenizer.tokens(of: ids).prefix(40))")
            }
        }
        XCTAssertEqual(mismatches.count, 0, "\(mismatches.count) of \(golden.count) differ; first:\n" + mismatches.prefix(8).joined(separator: "\n"))
    }

    func testEveryGoldenQueryVectorMatchesTheReference() throws {
        let tokenizer = try referenceTokenizer()
        let encoder = try QueryEncoder(tokenizer: tokenizer, weightsFile: Self.directory + "/idf.json")
        let golden = try jsonObjects(Self.directory + "/golden-dev.queries.jsonl.zst")
        XCTAssertGreaterThan(golden.count, 12_000)
        var mismatches: [String] = []
        for record in golden {
            let expected = (record["vector"] as! [String: NSNumber]).mapValues(\.floatValue)
            let vector = encoder.encode(record["content"] as! String)
            let got = Dictionary(uniqueKeysWithValues: zip(tokenizer.tokens(of: vector.tokenIDs), vector.weights))
            let same = got.count == expected.count && got.allSatisfy { token, weight in expected[token].map { abs($0 - weight) <= 1e-6 } ?? false }
            if !same { mismatches.append("\(record["id"]!): expected \(expected.count) tokens, got \(got.count)") }
        }
        XCTAssertEqual(mismatches.count, 0, "\(mismatches.count) differ; first: \(mismatches.prefix(5))")
    }

    /// Hand-checked cases of the rules that hand-written tokenizers get wrong.
    func testNormalizationRules() throws {
        let tokenizer = try referenceTokenizer()
        func tokens(_ text: String) -> [String] { tokenizer.tokens(of: tokenizer.ids(text)) }
        XCTAssertEqual(tokens("Héllo, WORLD!"), ["hello", ",", "world", "!"])
        // Literal special tokens are matched case-sensitively in the raw text, even inside words.
        XCTAssertEqual(tokens("a[SEP]b [sep]"), ["a", "[SEP]", "b", "[", "sep", "]"])
        // Vertical tab and form feed are controls (removed), not whitespace: the words join.
        XCTAssertEqual(tokens("ab\u{0B}cd"), tokens("abcd"))
        XCTAssertEqual(tokens("ab\tcd"), ["ab", "cd"])
        // Zero-width space (Cf) is removed; CJK ideographs are words of their own.
        XCTAssertEqual(tokens("ab\u{200B}cd"), tokens("abcd"))
        XCTAssertEqual(tokenizer.ids("中文").count, 2)
        // 100 scalars is a word, 101 is unknown.
        XCTAssertNotEqual(tokens(String(repeating: "a", count: 100)), ["[UNK]"])
        XCTAssertEqual(tokens(String(repeating: "a", count: 101)), ["[UNK]"])
        XCTAssertEqual(tokenizer.ids(""), [])
        XCTAssertEqual(tokenizer.ids("a b c d", limit: 2).count, 2)
    }

    func testBadTokenizerFilesAreClearErrors() throws {
        let scratch = TemporaryDirectory()
        defer { scratch.cleanUp() }
        func error(_ content: String) -> String {
            let path = scratch.write(content, to: "tokenizer.json")
            do {
                _ = try Tokenizer(contentsOf: path)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(error("{not json").contains("not JSON"))
        XCTAssertTrue(error(#"{"model": {"type": "BPE", "vocab": {}}}"#).contains("model.type"))
        XCTAssertTrue(error(#"{"model": {"type": "WordPiece", "vocab": {}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#).contains("model.vocab"))
        XCTAssertTrue(error(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#).contains("[UNK]"))
        XCTAssertTrue(error("").contains("vocabulary is empty"), error(""))
        XCTAssertThrowsError(try Tokenizer(contentsOf: scratch.file("missing.json")))
    }

    func testBadWeightsAreClearErrors() throws {
        let tokenizer = try Tokenizer(tokens: ["[UNK]", "a", "b"])
        XCTAssertThrowsError(try QueryEncoder(tokenizer: tokenizer, weights: ["c": 1]))
        XCTAssertThrowsError(try QueryEncoder(tokenizer: tokenizer, weights: ["a": -1]))
        XCTAssertThrowsError(try QueryEncoder(tokenizer: tokenizer, weights: ["a": .infinity]))
        XCTAssertThrowsError(try QueryEncoder(tokenizer: tokenizer, weights: ["a": 0]))
        let encoder = try QueryEncoder(tokenizer: tokenizer, weights: ["a": 2, "b": 0])
        XCTAssertEqual(encoder.encode("b a a b"), TokenVector(tokenIDs: [1], weights: [2]))
        XCTAssertEqual(encoder.encode(""), TokenVector(tokenIDs: [], weights: []))
    }
}
