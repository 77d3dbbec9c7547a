import Foundation
import LSRFormats
import LSRVectors

/// A sparse vector over a tokenizer's vocabulary: token ids ascending, one weight each.
public struct TokenVector: Sendable, Equatable {
    /// Token ids in the tokenizer's vocabulary, strictly ascending.
    public var tokenIDs: [Int32]
    /// Weights parallel to ``tokenIDs``.
    public var weights: [Float]

    /// A vector from parallel arrays, not checked here.
    public init(tokenIDs: [Int32], weights: [Float]) {
        self.tokenIDs = tokenIDs
        self.weights = weights
    }
}

/// Inference-free query encoding (OpenSearch's `…-doc-v2-distill` / `-v3-distill` models, as
/// sentence-transformers' `SparseStaticEmbedding` computes it): the query vector is the distinct
/// tokens among the first ``maximumTokens`` wordpieces of the text (no special tokens added),
/// each weighted by a fixed table; tokens the table lacks or weights 0 are left out.
///
/// OpenSearch's own encoder for these models (ml-commons `SparseTokenizerModel`) starts from
/// the same tokenizer and table but encodes through DJL with its default settings: special
/// tokens added and truncation to 512 including them (so texts longer than 510 wordpieces keep
/// two fewer), special tokens then dropped, and a token missing from the table weighted 1
/// instead of left out (with `idf.json`, which covers the whole vocabulary, that never happens).
/// Scores agree whenever the text is shorter than 511 wordpieces.
///
/// ``uniform(tokenizer:countingRepeats:)`` makes the query side of a BM25 index instead: every
/// token weight 1 (or its count in the query), no length limit.
public struct QueryEncoder: Sendable {
    /// The inference-free models' query length limit, in wordpieces.
    public static let maximumTokens = 512

    /// The tokenizer that splits query text into wordpieces; ``weights`` is indexed by its token ids.
    public let tokenizer: Tokenizer
    /// Weight by token id (0: left out).
    public let weights: [Float]
    /// Wordpieces of a text that count (the first ones).
    public let tokenLimit: Int
    /// Multiply a token's weight by its count in the text instead of counting it once.
    public let countsRepeats: Bool

    /// - Throws: `LSRError.invalidInput` for a token the tokenizer's vocabulary lacks, or a weight
    ///   that is not finite or is negative.
    public init(tokenizer: Tokenizer, weights: [String: Float]) throws {
        var table = [Float](repeating: 0, count: tokenizer.tokens.count)
        for (token, weight) in weights {
            guard let id = tokenizer.id(of: token).map(Int.init) else {
                throw LSRError(.invalidInput, "token '\(token)' is not in the tokenizer's vocabulary (a weights file for another model?)", field: token)
            }
            guard weight.isFinite, weight >= 0 else {
                throw LSRError(.invalidInput, "weight \(weight): weights must be finite and ≥ 0", field: token)
            }
            table[id] = weight
        }
        guard table.contains(where: { $0 > 0 }) else {
            throw LSRError(.invalidInput, "no token has a positive weight")
        }
        self.init(tokenizer: tokenizer, table: table, tokenLimit: QueryEncoder.maximumTokens, countsRepeats: false)
    }

    private init(tokenizer: Tokenizer, table: [Float], tokenLimit: Int, countsRepeats: Bool) {
        self.tokenizer = tokenizer
        weights = table
        self.tokenLimit = tokenLimit
        self.countsRepeats = countsRepeats
    }

    /// Every token weighted 1, or by its count in the text with `countingRepeats`, with no
    /// length limit: the query vector whose dot product with BM25 document impacts is the BM25
    /// score.
    public static func uniform(tokenizer: Tokenizer, countingRepeats: Bool = false) -> QueryEncoder {
        QueryEncoder(
            tokenizer: tokenizer, table: [Float](repeating: 1, count: tokenizer.tokens.count), tokenLimit: .max,
            countsRepeats: countingRepeats)
    }

    /// Loads the weights from a JSON object `{token: weight}` (OpenSearch's `idf.json`), plain or
    /// zstd-compressed.
    /// - Throws: `LSRError` naming the file and the token at fault.
    public init(tokenizer: Tokenizer, weightsFile path: String) throws {
        let data: Data
        do { data = Data(try readFileBytes(path)) } catch let error as LSRError {
            throw LSRError(error.code, "cannot read the weights: \(error.message)", path: path)
        }
        do { try self.init(tokenizer: tokenizer, weightsJSON: data) } catch let error as LSRError { throw error.at(path: path) }
    }

    /// Reads the weights from the bytes of a JSON object `{token: weight}`.
    /// - Throws: `LSRError.invalidInput` naming the token at fault.
    public init(tokenizer: Tokenizer, weightsJSON data: Data) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LSRError(.invalidInput, "not JSON: \(error.localizedDescription)")
        }
        guard let entries = object as? [String: Any] else {
            throw LSRError(.invalidInput, "expected a JSON object {token: weight}")
        }
        var weights: [String: Float] = [:]
        for (token, value) in entries {
            guard let number = value as? NSNumber else {
                throw LSRError(.invalidInput, "expected a number", field: token)
            }
            weights[token] = Float(number.doubleValue)
        }
        try self.init(tokenizer: tokenizer, weights: weights)
    }

    /// The query vector of `text` (empty when no token has a weight).
    public func encode(_ text: String) -> TokenVector {
        vector(ids: tokenizer.ids(text, limit: tokenLimit))
    }

    /// The query vector of a text already tokenized (its first ``tokenLimit`` ids count; ids
    /// outside the vocabulary are left out).
    public func vector(ids: [Int32]) -> TokenVector {
        var vector = TokenVector(tokenIDs: [], weights: [])
        forEachDistinct(ids.prefix(tokenLimit), below: weights.count) { id, count in
            let weight = weights[Int(id)] * (countsRepeats ? Float(count) : 1)
            if weight > 0 {
                vector.tokenIDs.append(id)
                vector.weights.append(weight)
            }
        }
        return vector
    }
}

/// Calls `body` with each distinct id in `0 ..< limit` among `ids`, ascending, and its count.
func forEachDistinct(_ ids: some Collection<Int32>, below limit: Int, _ body: (Int32, Int) -> Void) {
    let sorted = ids.sorted()
    var start = 0
    while start < sorted.count {
        let id = sorted[start]
        var end = start + 1
        while end < sorted.count && sorted[end] == id { end += 1 }
        if id >= 0 && Int(id) < limit { body(id, end - start) }
        start = end
    }
}
