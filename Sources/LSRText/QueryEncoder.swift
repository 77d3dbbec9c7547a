import Foundation
import LSRVectors

/// A sparse vector over a tokenizer's vocabulary: token ids ascending, one weight each.
public struct TokenVector: Sendable, Equatable {
    public var tokenIDs: [Int32]
    public var weights: [Float]

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
public struct QueryEncoder: Sendable {
    public static let maximumTokens = 512

    public let tokenizer: Tokenizer
    /// Weight by token id (0: left out).
    public let weights: [Float]

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
        self.tokenizer = tokenizer
        self.weights = table
    }

    /// Loads the weights from a JSON object `{token: weight}` (OpenSearch's `idf.json`).
    /// - Throws: `LSRError` naming the file and the token at fault.
    public init(tokenizer: Tokenizer, weightsFile path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LSRError(.io, "cannot read the weights: \(error.localizedDescription)", path: path)
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LSRError(.invalidInput, "not JSON: \(error.localizedDescription)", path: path)
        }
        guard let entries = object as? [String: Any] else {
            throw LSRError(.invalidInput, "expected a JSON object {token: weight}", path: path)
        }
        var weights: [String: Float] = [:]
        for (token, value) in entries {
            guard let number = value as? NSNumber else {
                throw LSRError(.invalidInput, "expected a number", path: path, field: token)
            }
            weights[token] = Float(number.doubleValue)
        }
        do { try self.init(tokenizer: tokenizer, weights: weights) } catch let error as LSRError { throw error.at(path: path) }
    }

    /// The query vector of `text` (empty when no token has a weight).
    public func encode(_ text: String) -> TokenVector {
        var ids = tokenizer.ids(text, limit: QueryEncoder.maximumTokens)
        ids.sort()
        var vector = TokenVector(tokenIDs: [], weights: [])
        var previous: Int32 = -1
        for id in ids where id != previous {
            previous = id
            let weight = weights[Int(id)]
            if weight > 0 {
                vector.tokenIDs.append(id)
                vector.weights.append(weight)
            }
        }
        return vector
    }
}
