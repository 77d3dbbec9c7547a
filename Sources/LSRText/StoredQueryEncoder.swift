import Foundation
import LSRFormats
import LSRVectors

/// The text query encoder an index carries, stored beside it as `query-encoder` (see
/// `fileName`), so that text queries need nothing but the index.
///
/// The file is a `SideFile` (magic `lsr-query-encoder`) whose body is a JSON object on one line (``Description``: the kind,
/// its parameters and the byte counts of the two blobs) and, after its newline, the tokenizer
/// file's bytes followed by the weights file's bytes, both as given (decompressed; so the encoder is
/// rebuilt by the same parsers, and a tokenizer or weights change means a new file). A damaged or
/// truncated file is detected, never half read; it is written atomically.
public struct StoredQueryEncoder: Sendable, Equatable {
    /// The file name inside the index directory.
    package static let fileName = "query-encoder"
    /// The format version this build reads and writes.
    package static let formatVersion = 1

    /// How queries are weighted.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Inference-free: each distinct token of the first 512 wordpieces, weighted by a table
        /// (``QueryEncoder/init(tokenizer:weights:)``).
        case idf
        /// The query side of BM25 document impacts: each distinct token weight 1, or its count
        /// with `queryTermFrequency` (``QueryEncoder/uniform(tokenizer:countingRepeats:)``).
        case bm25
    }

    /// What the file's JSON line says.
    public struct Description: Codable, Sendable, Equatable {
        /// How queries are weighted: by a weights table (`idf`) or as the query side of BM25 (`bm25`).
        public var kind: Kind
        /// The names of the files the encoder was made from (for `lsr info`).
        public var tokenizerFile: String
        /// The name of the weights file (`idf`); nil for `bm25`.
        public var weightsFile: String?
        /// BM25 indexes: the document-side parameters the impacts were computed with.
        public var k1: Double?
        /// BM25 indexes: the b (document-length normalization) of the impacts; nil for `idf`.
        public var b: Double?
        /// `bm25`: weight a query token by its count in the query (``BM25Parameters/queryTermFrequency``); false
        /// for `idf`.
        public var queryTermFrequency: Bool
        /// Length in bytes of the tokenizer file's blob, which follows the JSON line.
        public var tokenizerBytes: Int
        /// Length in bytes of the weights file's blob, which follows the tokenizer's; 0 for `bm25`.
        public var weightsBytes: Int
    }

    /// The file's JSON line: the kind, its parameters and the blobs' byte counts.
    public var description: Description
    /// The tokenizer file's bytes, as read (decompressed).
    public var tokenizer: [UInt8]
    /// The weights file's bytes, as read (decompressed); empty for `bm25`.
    public var weights: [UInt8]

    /// An inference-free encoder from a tokenizer file and a weights file (`idf.json`).
    /// - Throws: `LSRError` naming the file when either cannot be read or does not make an encoder.
    public static func idf(tokenizerPath: String, weightsPath: String) throws -> StoredQueryEncoder {
        let tokenizer = try readBytes(tokenizerPath, what: "tokenizer"), weights = try readBytes(weightsPath, what: "weights")
        let parsed: Tokenizer
        do { parsed = try Tokenizer(tokenizerFile: Data(tokenizer)) } catch let error as LSRError { throw error.at(path: tokenizerPath) }
        do { _ = try QueryEncoder(tokenizer: parsed, weightsJSON: Data(weights)) } catch let error as LSRError { throw error.at(path: weightsPath) }
        return StoredQueryEncoder(
            description: Description(
                kind: .idf, tokenizerFile: URL(fileURLWithPath: tokenizerPath).lastPathComponent,
                weightsFile: URL(fileURLWithPath: weightsPath).lastPathComponent, queryTermFrequency: false, tokenizerBytes: tokenizer.count,
                weightsBytes: weights.count),
            tokenizer: tokenizer, weights: weights)
    }

    /// The query side of a BM25 index built with `parameters` and the tokenizer in `tokenizerPath`
    /// (``queryEncoder()`` gives the tokenizer back from the same bytes).
    public static func bm25(tokenizerPath: String, parameters: BM25Parameters) throws -> StoredQueryEncoder {
        let tokenizer = try readBytes(tokenizerPath, what: "tokenizer")
        do { _ = try Tokenizer(tokenizerFile: Data(tokenizer)) } catch let error as LSRError { throw error.at(path: tokenizerPath) }
        return StoredQueryEncoder(
            description: Description(
                kind: .bm25, tokenizerFile: URL(fileURLWithPath: tokenizerPath).lastPathComponent, weightsFile: nil,
                k1: parameters.k1, b: parameters.b, queryTermFrequency: parameters.queryTermFrequency, tokenizerBytes: tokenizer.count,
                weightsBytes: 0),
            tokenizer: tokenizer, weights: [])
    }

    /// The encoder the file describes.
    /// - Throws: `LSRError` when the stored tokenizer or weights no longer parse.
    public func queryEncoder() throws -> QueryEncoder {
        let tokenizer = try Tokenizer(tokenizerFile: Data(self.tokenizer))
        switch description.kind {
        case .idf: return try QueryEncoder(tokenizer: tokenizer, weightsJSON: Data(weights))
        case .bm25: return QueryEncoder.uniform(tokenizer: tokenizer, countingRepeats: description.queryTermFrequency)
        }
    }

    /// The file's bytes: header line, then the body.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body = Array(try encoder.encode(description)) + Array("\n".utf8) + tokenizer + weights
        return SideFile.encode(magic: "lsr-query-encoder", version: StoredQueryEncoder.formatVersion, body: body)
    }

    /// Decodes a `query-encoder` file.
    /// - Throws: `LSRError.corruptIndex` naming the file when the header, checksum, length or body
    ///   is wrong; `.unsupportedVersion` for another format version.
    package static func decode(_ bytes: [UInt8], path: String) throws -> StoredQueryEncoder {
        let remedy = "store the encoder again (lsr add-encoder --force, or rebuild the index)"
        func corrupt(_ message: String) -> LSRError { LSRError(.corruptIndex, message + "; " + remedy, path: path) }
        let body = try SideFile.body(of: bytes, magic: "lsr-query-encoder", version: formatVersion, path: path, remedy: remedy)
        guard let end = body.firstIndex(of: UInt8(ascii: "\n")) else { throw corrupt("no description line") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let description: Description
        do {
            description = try decoder.decode(Description.self, from: Data(body[..<end]))
        } catch {
            throw corrupt("unreadable description: \(error)")
        }
        let blobs = body[(end + 1)...]
        guard description.tokenizerBytes >= 0, description.weightsBytes >= 0, description.tokenizerBytes <= blobs.count,
              blobs.count - description.tokenizerBytes == description.weightsBytes else {
            throw corrupt("the description's byte counts do not match the file")
        }
        let split = blobs.startIndex + description.tokenizerBytes
        return StoredQueryEncoder(description: description, tokenizer: Array(blobs[..<split]), weights: Array(blobs[split...]))
    }

    /// Reads the `query-encoder` file of the index directory `directory`, or nil when it has none.
    /// - Throws: `LSRError` when the file cannot be read or is damaged.
    package static func read(indexDirectory directory: String) throws -> StoredQueryEncoder? {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw LSRError(.io, "cannot read the query encoder", path: path) }
        return try decode(Array(data), path: path)
    }

    /// Stores the encoder in the index directory `directory`, replacing any earlier one atomically.
    public func write(indexDirectory directory: String) throws {
        try writeFileAtomically(try encoded(), to: directory + "/" + StoredQueryEncoder.fileName)
    }
}

private func readBytes(_ path: String, what: String) throws -> [UInt8] {
    do { return try readFileBytes(path) } catch let error as LSRError {
        throw LSRError(error.code, "cannot read the \(what) file: \(error.message)", path: path)
    }
}
