import LSRVectors

/// BERT's WordPiece tokenizer, token for token what Hugging Face `tokenizers` produces for a
/// `tokenizer.json` of BertNormalizer + BertPreTokenizer + WordPiece (bert-base-uncased and its
/// relatives), with no special tokens added:
/// 1. special tokens written literally in the text (`[SEP]`, `[MASK]`, …: the added tokens that
///    are matched before normalization) become their ids; the text between them goes on;
/// 2. normalization (each step as the tokenizer file configures it): drop U+0000, U+FFFD and
///    control, format and private-use scalars (tab, newline and return kept; so vertical tab,
///    form feed and U+0085 are dropped, not spaces) and map whitespace to a space; surround CJK ideographs with spaces; strip accents (canonical
///    decomposition, nonspacing marks dropped); lowercase;
/// 3. pre-tokenization: split at whitespace, and around every punctuation scalar (ASCII
///    punctuation and Unicode P*);
/// 4. WordPiece: per word, greedy longest-match-first pieces from the vocabulary, pieces after
///    the first with the continuation prefix (`##`); a word with no complete segmentation, or
///    longer than `maxInputCharactersPerWord` scalars, is one unknown token.
///
/// Everything works on Unicode scalars (never `Character`s), with the reference's Unicode
/// tables (`UnicodeProperties`). Immutable and thread-safe.
public struct Tokenizer: Sendable {
    /// The normalizer and model settings of a tokenizer file.
    public struct Configuration: Sendable, Equatable {
        /// Drop U+0000, U+FFFD and control, format and private-use scalars, and map whitespace (tab, newline
        /// and return included) to a space (`clean_text`).
        public var cleanText = true
        /// Surround CJK ideographs with spaces, so that each is a word of its own (`handle_chinese_chars`).
        public var handleChineseCharacters = true
        /// Decompose and drop nonspacing marks (`nil` in the file: the same as `lowercase`).
        public var stripAccents = true
        /// Lowercase the text (`lowercase`).
        public var lowercase = true
        /// The token of a word WordPiece cannot segment (`unk_token`); it must be in the vocabulary.
        public var unknownToken = "[UNK]"
        /// The prefix of a word's pieces after the first (`continuing_subword_prefix`).
        public var continuingSubwordPrefix = "##"
        /// The longest word, in Unicode scalars, that WordPiece segments; a longer word is the unknown token
        /// (`max_input_chars_per_word`).
        public var maxInputCharactersPerWord = 100

        /// The defaults of BertNormalizer and WordPiece: every normalization step on, `[UNK]`, `##`, 100
        /// scalars per word.
        public init() {}
    }

    /// The vocabulary: token strings by id.
    public let tokens: [String]
    /// The normalizer and WordPiece settings.
    public let configuration: Configuration
    /// Tokens matched literally in the raw text before normalization (the special tokens).
    public let literalTokens: [String]
    let unknownID: Int32
    private let initialPieces: TokenTable
    private let continuationPieces: TokenTable
    /// Literal tokens by first UTF-8 byte, longest first: (bytes, id).
    private let literalsByFirstByte: [[([UInt8], Int32)]]
    private let properties = UnicodeProperties.shared

    /// A tokenizer over `tokens` (ids are positions).
    /// - Throws: `LSRError.invalidInput` when the unknown token is not in the vocabulary, a
    ///   token repeats, or a literal token is missing from it.
    public init(tokens: [String], configuration: Configuration = Configuration(), literalTokens: [String] = []) throws {
        guard !tokens.isEmpty else { throw LSRError(.invalidInput, "the vocabulary is empty", field: "vocab") }
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            guard ids.updateValue(Int32(id), forKey: token) == nil else {
                throw LSRError(.invalidInput, "token '\(token)' appears twice in the vocabulary", field: "vocab")
            }
        }
        guard let unknown = ids[configuration.unknownToken] else {
            throw LSRError(.invalidInput, "the unknown token '\(configuration.unknownToken)' is not in the vocabulary", field: "unk_token")
        }
        let prefix = configuration.continuingSubwordPrefix
        var initial = TokenTable(capacity: tokens.count), continuation = TokenTable(capacity: tokens.count)
        for (id, token) in tokens.enumerated() {
            if !prefix.isEmpty, token.hasPrefix(prefix) {
                continuation.insert(token.dropFirst(prefix.count).utf8, id: Int32(id))
            }
            initial.insert(Substring(token).utf8, id: Int32(id))
        }
        if prefix.isEmpty { continuation = initial }
        var literals = [[([UInt8], Int32)]](repeating: [], count: 256)
        for token in literalTokens {
            guard let id = ids[token], let first = token.utf8.first else {
                throw LSRError(.invalidInput, "added token '\(token)' is not in the vocabulary", field: "added_tokens")
            }
            literals[Int(first)].append((Array(token.utf8), id))
        }
        for i in literals.indices { literals[i].sort { $0.0.count > $1.0.count } }
        self.tokens = tokens
        self.configuration = configuration
        self.literalTokens = literalTokens
        unknownID = unknown
        initialPieces = initial
        continuationPieces = continuation
        literalsByFirstByte = literals
    }

    /// The token ids of `text`, at most `limit` of them (the first ones).
    /// - Complexity: O(n · w) for n bytes and words of w scalars (longest-match lookups).
    public func ids(_ text: String, limit: Int = .max) -> [Int32] {
        var output: [Int32] = []
        guard limit > 0 else { return output }
        var text = text
        text.withUTF8 { bytes in
            var state = EncodingState()
            var segmentStart = 0, i = 0
            while i < bytes.count, output.count < limit {
                if let (length, id) = literal(at: i, in: bytes) {
                    encodeSegment(bytes, segmentStart ..< i, into: &output, state: &state, limit: limit)
                    if output.count < limit { output.append(id) }
                    i += length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
            if output.count < limit { encodeSegment(bytes, segmentStart ..< bytes.count, into: &output, state: &state, limit: limit) }
        }
        if output.count > limit { output.removeSubrange(limit...) }
        return output
    }

    /// The id of `token` in the vocabulary.
    public func id(of token: String) -> Int32? {
        var token = token
        let id = token.withUTF8 { $0.isEmpty ? -1 : initialPieces.lookup($0.baseAddress!, $0.count) }
        return id >= 0 ? id : nil
    }

    /// The token strings of `ids`.
    public func tokens(of ids: [Int32]) -> [String] { ids.map { tokens[Int($0)] } }

    /// The longest literal token starting at byte `i`: its length and id.
    @inline(__always)
    private func literal(at i: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int32)? {
        let candidates = literalsByFirstByte[Int(bytes[i])]
        if candidates.isEmpty { return nil }
        for (token, id) in candidates where i + token.count <= bytes.count {
            var equal = true
            for j in 1 ..< token.count where bytes[i + j] != token[j] {
                equal = false
                break
            }
            if equal { return (token.count, id) }
        }
        return nil
    }

    /// Scratch reused across the segments of one text.
    private struct EncodingState {
        /// The segment after cleaning, CJK padding and decomposition.
        var normalized: [UInt32] = []
        var lowered: [UInt32] = []
        /// The current word's UTF-8 bytes and the byte offset of each of its scalars (plus the end).
        var word: [UInt8] = []
        var offsets: [Int] = []
    }

    private func encodeSegment(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into output: inout [Int32], state: inout EncodingState, limit: Int
    ) {
        guard !range.isEmpty else { return }
        normalize(bytes, range, into: &state.normalized)
        state.word.removeAll(keepingCapacity: true)
        state.offsets.removeAll(keepingCapacity: true)
        state.offsets.append(0)
        for v in state.normalized {
            if configuration.stripAccents && v >= 0x80 && properties.flags(v).contains(.nonspacingMark) { continue }
            if configuration.lowercase {
                if v < 0x80 {
                    addToWord(v &- 0x41 < 26 ? v + 0x20 : v, &state, &output)
                } else if properties.flags(v).contains(.changesWhenLowercased) {
                    state.lowered.removeAll(keepingCapacity: true)
                    properties.appendLowercase(of: v, to: &state.lowered)
                    for l in state.lowered { addToWord(l, &state, &output) }
                } else {
                    addToWord(v, &state, &output)
                }
            } else {
                addToWord(v, &state, &output)
            }
            if output.count >= limit { return }
        }
        endWord(&state, &output)
    }

    /// Pre-tokenization: whitespace ends the word, punctuation is a word of its own.
    @inline(__always)
    private func addToWord(_ v: UInt32, _ state: inout EncodingState, _ output: inout [Int32]) {
        let flags = properties.flags(v)
        if flags.contains(.whitespace) {
            endWord(&state, &output)
        } else if flags.contains(.punctuation) {
            endWord(&state, &output)
            appendScalar(v, to: &state)
            endWord(&state, &output)
        } else {
            appendScalar(v, to: &state)
        }
    }

    @inline(__always)
    private func appendScalar(_ v: UInt32, to state: inout EncodingState) {
        if v < 0x80 {
            state.word.append(UInt8(v))
        } else if v < 0x800 {
            state.word.append(UInt8(0xC0 | v >> 6))
            state.word.append(UInt8(0x80 | v & 0x3F))
        } else if v < 0x10000 {
            state.word.append(UInt8(0xE0 | v >> 12))
            state.word.append(UInt8(0x80 | v >> 6 & 0x3F))
            state.word.append(UInt8(0x80 | v & 0x3F))
        } else {
            state.word.append(UInt8(0xF0 | v >> 18))
            state.word.append(UInt8(0x80 | v >> 12 & 0x3F))
            state.word.append(UInt8(0x80 | v >> 6 & 0x3F))
            state.word.append(UInt8(0x80 | v & 0x3F))
        }
        state.offsets.append(state.word.count)
    }

    private func endWord(_ state: inout EncodingState, _ output: inout [Int32]) {
        let scalars = state.offsets.count - 1
        guard scalars > 0 else { return }
        wordPiece(state.word, state.offsets, into: &output)
        state.word.removeAll(keepingCapacity: true)
        state.offsets.removeAll(keepingCapacity: true)
        state.offsets.append(0)
    }

    /// Greedy longest-match-first WordPiece over one word.
    private func wordPiece(_ word: [UInt8], _ offsets: [Int], into output: inout [Int32]) {
        let count = offsets.count - 1
        guard count <= configuration.maxInputCharactersPerWord else {
            output.append(unknownID)
            return
        }
        let mark = output.count
        word.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress!
            var start = 0
            while start < count {
                let table = start == 0 ? initialPieces : continuationPieces
                var end = min(count, start + table.longestKeyScalars)
                var found: Int32 = -1
                while end > start {
                    found = table.lookup(base + offsets[start], offsets[end] - offsets[start])
                    if found >= 0 { break }
                    end -= 1
                }
                guard found >= 0 else {
                    output.removeSubrange(mark...)
                    output.append(unknownID)
                    return
                }
                output.append(found)
                start = end
            }
        }
    }

    /// Cleaning, CJK padding and canonical decomposition (with canonical ordering) of the
    /// scalars of `bytes[range]` (valid UTF-8).
    private func normalize(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into output: inout [UInt32]) {
        output.removeAll(keepingCapacity: true)
        let configuration = configuration
        var i = range.lowerBound
        while i < range.upperBound {
            var v = UInt32(bytes[i])
            if v < 0x80 {
                i += 1
                // ASCII: only controls and whitespace need care.
                if v < 0x20 || v == 0x7F {
                    if configuration.cleanText {
                        if v == 0x09 || v == 0x0A || v == 0x0D { output.append(0x20) }
                        continue
                    }
                }
                output.append(v)
                continue
            }
            // Multi-byte UTF-8 (the string is valid).
            if v < 0xE0 {
                v = (v & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
                i += 2
            } else if v < 0xF0 {
                v = (v & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
                i += 3
            } else {
                v = (v & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F)
                i += 4
            }
            let flags = properties.flags(v)
            if configuration.cleanText {
                if v == 0xFFFD || flags.contains(.other) { continue }
                if flags.contains(.whitespace) {
                    output.append(0x20)
                    continue
                }
            }
            if configuration.handleChineseCharacters && flags.contains(.chineseCharacter) {
                output.append(0x20)
                appendDecomposed(v, flags, to: &output)
                output.append(0x20)
                continue
            }
            appendDecomposed(v, flags, to: &output)
        }
    }

    @inline(__always)
    private func appendDecomposed(_ v: UInt32, _ flags: UnicodeProperties.Flags, to output: inout [UInt32]) {
        guard configuration.stripAccents, flags.contains(.decomposes) || flags.contains(.combining) else {
            output.append(v)
            return
        }
        let start = output.count
        properties.appendDecomposition(of: v, to: &output)
        // Canonical ordering: each scalar with a nonzero combining class moves before the
        // preceding ones of a higher class (a stable insertion sort of each run).
        for j in start ..< output.count {
            let c = properties.combiningClass(output[j])
            guard c != 0 else { continue }
            var k = j
            while k > 0 {
                let previous = properties.combiningClass(output[k - 1])
                guard previous > c else { break }
                output.swapAt(k, k - 1)
                k -= 1
            }
        }
    }
}
