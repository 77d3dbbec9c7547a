import LSRFormats
import LSRVectors

/// A read-only, memory-mapped lsr index: open it once, search it from any number of threads.
///
/// Opening maps `index.lsr`, checks its header, section table and the structure of every offset
/// array (so that no corrupt offset can send a search out of bounds), and opens the document store.
/// It reads no posting or vector data: opening takes milliseconds whatever the index size.
/// `lsr check` (``verify()``) compares every section with its checksum.
public final class Index: @unchecked Sendable {
    // @unchecked Sendable: all state is immutable after init; the document store serializes itself.
    public let path: String
    public let metadata: IndexMetadata
    public let vocabulary: Vocabulary
    public let documents: DocumentStoreReader
    let file: IndexFile
    let storage: IndexStorage
    /// Binary input component id → index component id, when the index was built from binary input.
    let sourceComponents: [UInt32: UInt32]?

    /// Opens the index directory at `path`.
    /// - Throws: `LSRError` (`.io`, `.corruptIndex`, `.unsupportedVersion`, `.documentStore`).
    public init(path: String) throws {
        self.path = path
        let indexPath = path + "/" + IndexLayout.indexFileName
        file = try IndexFile(path: indexPath)
        metadata = try IndexMetadata.decode(try file.section(IndexLayout.metadata), path: indexPath)
        storage = try IndexStorage(file: file, metadata: metadata)
        vocabulary = try Index.readVocabulary(file, count: metadata.vocabularySize)
        if metadata.hasSourceComponentIDs {
            let source = try file.array(IndexLayout.vocabularySource, of: UInt32.self, count: metadata.vocabularySize)
            var map = [UInt32: UInt32](minimumCapacity: source.count)
            for (i, s) in source.enumerated() { map[s] = UInt32(i) }
            sourceComponents = map
        } else {
            sourceComponents = nil
        }
        documents = try DocumentStoreReader(path: path + "/" + DocumentStoreSchema.fileName)
        guard documents.count == metadata.documentCount else {
            throw LSRError(
                .corruptIndex, "the document store holds \(documents.count) documents, the index \(metadata.documentCount)",
                path: documents.path)
        }
    }

    /// Number of documents.
    public var documentCount: Int { metadata.documentCount }

    /// Bytes of `index.lsr` per section name.
    public var sectionSizes: [(name: String, bytes: Int)] { file.entries.map { ($0.name, $0.length) } }

    /// Total bytes on disk: the index file and the document store.
    public var fileBytes: Int { file.byteCount }

    /// Recomputes every section checksum.
    /// - Returns: the names of damaged sections (empty when the index is intact).
    public func verify() -> [String] { file.verifyChecksums() }

    private static func readVocabulary(_ file: IndexFile, count: Int) throws -> Vocabulary {
        let offsets = try file.array(IndexLayout.vocabularyOffsets, of: UInt32.self, count: count + 1)
        let bytes = try file.section(IndexLayout.vocabularyBytes)
        try checkOffsets(offsets, end: bytes.count, name: IndexLayout.vocabularyOffsets, path: file.path)
        var tokens: [String] = []
        tokens.reserveCapacity(count)
        for i in 0 ..< count {
            tokens.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[Int(offsets[i]) ..< Int(offsets[i + 1])]), as: UTF8.self))
        }
        return Vocabulary(canonicallyOrdered: tokens)
    }

    /// Maps a record read from a query file to index components, dropping tokens the index has
    /// never seen.
    /// - Parameters:
    ///   - tokens: the reader's token table (``VectorFileReader/tokens``).
    ///   - binaryComponentIDs: the record's components are binary component ids without a vocabulary.
    /// - Returns: the query and the number of its tokens the index does not know.
    public func query(
        components: [UInt32], values: [Float], tokens: [String], binaryComponentIDs: Bool = false
    ) -> (query: QueryVector, unknownTokens: Int) {
        var pairs: [(UInt32, Float)] = []
        pairs.reserveCapacity(components.count)
        var unknown = 0
        for (c, v) in zip(components, values) {
            let id: UInt32?
            if binaryComponentIDs, let sourceComponents {
                id = sourceComponents[c]
            } else {
                id = vocabulary.id(of: tokens[Int(c)])
            }
            if let id { pairs.append((id, v)) } else { unknown += 1 }
        }
        pairs.sort { $0.0 < $1.0 }
        return (QueryVector(components: pairs.map(\.0), values: pairs.map(\.1)), unknown)
    }
}

/// A query over an index's components: ascending component ids and positive weights.
public struct QueryVector: Sendable, Equatable {
    public var components: [UInt32]
    public var values: [Float]
    public init(components: [UInt32], values: [Float]) {
        self.components = components
        self.values = values
    }
}

/// Throws unless `offsets` is non-decreasing, starts at or after 0 and ends at most at `end`.
func checkOffsets<T: BinaryInteger>(_ offsets: UnsafeBufferPointer<T>, end: Int, name: String, path: String, exactEnd: Bool = false) throws {
    var previous: T = 0
    for o in offsets {
        guard o >= previous else {
            throw LSRError(.corruptIndex, "section '\(name)' is not ascending", path: path, field: name)
        }
        previous = o
    }
    guard Int(previous) <= end, !exactEnd || Int(previous) == end else {
        throw LSRError(.corruptIndex, "section '\(name)' points past its data (\(previous) > \(end))", path: path, field: name)
    }
}
