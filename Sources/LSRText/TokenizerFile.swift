import Foundation
import LSRFormats
import LSRVectors

extension Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` (BertNormalizer + BertPreTokenizer + WordPiece) or
    /// a plain `vocab.txt`, either possibly zstd-compressed (one token per line, ids by line; bert-base-uncased's settings, its
    /// bracketed special tokens matched literally).
    /// - Throws: `LSRError` naming the file and what is wrong: unreadable, not JSON, another
    ///   normalizer, pre-tokenizer or model, an added token lsr cannot match as the reference
    ///   does, an empty or inconsistent vocabulary.
    public init(contentsOf path: String) throws {
        let data: Data
        do { data = Data(try readFileBytes(path)) } catch let error as LSRError {
            throw LSRError(error.code, "cannot read the tokenizer: \(error.message)", path: path)
        }
        do { try self.init(tokenizerFile: data) } catch let error as LSRError { throw error.at(path: path) }
    }

    /// Reads the bytes of a `tokenizer.json` or `vocab.txt` (see ``init(contentsOf:)``).
    public init(tokenizerFile data: Data) throws {
        if data.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "{") {
            try self.init(tokenizerJSON: data)
        } else {
            try self.init(vocabularyText: data)
        }
    }

    private init(vocabularyText data: Data) throws {
        guard let text = String(data: data, encoding: .utf8) else {
            throw LSRError(.invalidInput, "the vocabulary is not UTF-8 text")
        }
        var tokens = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        if tokens.last == "" { tokens.removeLast() }
        let special = tokens.filter { $0.hasPrefix("[") && $0.hasSuffix("]") && ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].contains($0) }
        try self.init(tokens: tokens, configuration: Configuration(), literalTokens: special)
    }

    private init(tokenizerJSON data: Data) throws {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LSRError(.invalidInput, "not a JSON object")
            }
            root = object
        } catch let error as LSRError {
            throw error
        } catch {
            throw LSRError(.invalidInput, "not JSON: \(error.localizedDescription)")
        }
        var configuration = Configuration()
        guard let model = root["model"] as? [String: Any] else { throw LSRError(.invalidInput, "missing", field: "model") }
        guard let modelType = model["type"] as? String, modelType == "WordPiece" else {
            throw LSRError(.invalidInput, "only WordPiece models are supported, got \(model["type"].map { "\($0)" } ?? "none")", field: "model.type")
        }
        if let normalizer = root["normalizer"] as? [String: Any] {
            guard normalizer["type"] as? String == "BertNormalizer" else {
                throw LSRError(.invalidInput, "only BertNormalizer is supported, got \(normalizer["type"].map { "\($0)" } ?? "none")", field: "normalizer.type")
            }
            func flag(_ key: String, _ fallback: Bool) throws -> Bool {
                switch normalizer[key] {
                case nil, is NSNull: return fallback
                case let value as Bool: return value
                default: throw LSRError(.invalidInput, "expected true, false or null", field: "normalizer.\(key)")
                }
            }
            configuration.cleanText = try flag("clean_text", true)
            configuration.handleChineseCharacters = try flag("handle_chinese_chars", true)
            configuration.lowercase = try flag("lowercase", true)
            configuration.stripAccents = try flag("strip_accents", configuration.lowercase)
        } else {
            // No normalizer (null or absent): the text goes to the pre-tokenizer as it is.
            configuration.cleanText = false
            configuration.handleChineseCharacters = false
            configuration.stripAccents = false
            configuration.lowercase = false
        }
        guard let preTokenizer = root["pre_tokenizer"] as? [String: Any], preTokenizer["type"] as? String == "BertPreTokenizer" else {
            throw LSRError(.invalidInput, "only BertPreTokenizer is supported", field: "pre_tokenizer.type")
        }
        if let unknown = model["unk_token"] { 
            guard let unknown = unknown as? String else { throw LSRError(.invalidInput, "expected a string", field: "model.unk_token") }
            configuration.unknownToken = unknown
        }
        if let prefix = model["continuing_subword_prefix"] {
            guard let prefix = prefix as? String else { throw LSRError(.invalidInput, "expected a string", field: "model.continuing_subword_prefix") }
            configuration.continuingSubwordPrefix = prefix
        }
        if let limit = model["max_input_chars_per_word"] {
            guard let limit = limit as? Int, limit >= 0 else {
                throw LSRError(.invalidInput, "expected a count ≥ 0", field: "model.max_input_chars_per_word")
            }
            configuration.maxInputCharactersPerWord = limit
        }
        guard let vocabulary = model["vocab"] as? [String: Any], !vocabulary.isEmpty else {
            throw LSRError(.invalidInput, "missing or empty", field: "model.vocab")
        }
        var tokens = [String?](repeating: nil, count: vocabulary.count)
        for (token, value) in vocabulary {
            guard let id = value as? Int, id >= 0, id < vocabulary.count, tokens[id] == nil else {
                throw LSRError(.invalidInput, "token '\(token)' has id \(value): ids must be 0 ..< \(vocabulary.count), each once", field: "model.vocab")
            }
            tokens[id] = token
        }
        var literals: [String] = []
        for (n, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = entry["content"] as? String, !content.isEmpty else {
                throw LSRError(.invalidInput, "entry \(n) has no content", field: "added_tokens")
            }
            for key in ["normalized", "lstrip", "rstrip", "single_word"] where entry[key] as? Bool == true {
                throw LSRError(.invalidInput, "added token '\(content)' has \(key): true, which lsr does not support", field: "added_tokens")
            }
            if let id = entry["id"] as? Int, id < tokens.count, tokens[id] != content {
                throw LSRError(.invalidInput, "added token '\(content)' has id \(id), which the vocabulary gives to another token", field: "added_tokens")
            }
            literals.append(content)
        }
        try self.init(tokens: tokens.map { $0! }, configuration: configuration, literalTokens: literals)
    }
}
