import Foundation
import LSRVectors

/// Section names of an index file (format version 1) and the metadata stored in it.
///
/// Arrays, by section (V tokens, N documents, P postings, B blocks, S summary components,
/// E summary entries; C is the component type, u16 when V ≤ 65,536 else u32; W the weight type,
/// f16 bits or f32):
/// - `meta`: ``IndexMetadata`` as JSON.
/// - `vocab.bytes` / `vocab.offsets` (u32, V+1): token strings in ascending byte order.
/// - `vocab.source` (u32, V, optional): the binary input's component id of each token.
/// - `fwd.offsets` (u32 when nnz < 2³², else u64; N+1), `fwd.components` (C), `fwd.values` (W):
///   the forward index.
/// - `post.docs` (u32, P), `post.values` (W, P): every posting of every list. First the blocked
///   region (list by list, block by block), then the tail region: the postings static pruning
///   left out, list by list in document order. Exact search reads both; approximate only blocks.
/// - `list.blocks` (u32, V+1): the blocks of list t are `list.blocks[t] ..< list.blocks[t+1]`.
/// - `list.tail` (u64, V+1): the tail postings of list t, as absolute positions in `post.docs`.
/// - `block.offsets` (u64, B+1): block b's postings in `post.docs`.
/// - `block.min`, `block.scale` (f32, B): the dequantization of block b's summary codes.
/// - `list.summary` (u64, V+1): the summary components of list t, positions in `sum.components`.
/// - `sum.components` (C, S), `sum.offsets` (u32 when E < 2³², else u64; S+1): per list, the
///   components present in any of its block summaries (ascending), and where their entries start.
/// - `sum.blocks` (u16, E), `sum.codes` (u8, E): entries: block index within the list, u8 code.
public enum IndexLayout {
    public static let indexFileName = "index.lsr"
    public static let metadata = "meta"
    public static let vocabularyBytes = "vocab.bytes"
    public static let vocabularyOffsets = "vocab.offsets"
    public static let vocabularySource = "vocab.source"
    public static let forwardOffsets = "fwd.offsets"
    public static let forwardComponents = "fwd.components"
    public static let forwardValues = "fwd.values"
    public static let postingDocuments = "post.docs"
    public static let postingValues = "post.values"
    public static let listBlocks = "list.blocks"
    public static let listTail = "list.tail"
    public static let blockOffsets = "block.offsets"
    public static let blockMinimum = "block.min"
    public static let blockScale = "block.scale"
    public static let listSummary = "list.summary"
    public static let summaryComponents = "sum.components"
    public static let summaryOffsets = "sum.offsets"
    public static let summaryBlocks = "sum.blocks"
    public static let summaryCodes = "sum.codes"
    /// The most blocks one list may have (summary entries name blocks with a u16).
    public static let maximumBlocksPerList = 65_535
}

/// How weights are stored in the forward index and postings.
public enum ValuePrecision: String, Codable, Sendable, CaseIterable {
    /// IEEE half precision (2 bytes, relative rounding error ≤ 2⁻¹¹). The default.
    case f16
    /// IEEE single precision (4 bytes): scores identical to the input's float32 dot products.
    case f32
}

/// What an index records about itself: counts, storage choices and the parameters it was built with.
public struct IndexMetadata: Codable, Sendable, Equatable {
    public var formatVersion: Int
    public var documentCount: Int
    public var vocabularySize: Int
    public var nonzeroCount: Int
    /// Bytes per stored component id: 2 or 4.
    public var componentWidth: Int
    public var valuePrecision: ValuePrecision
    public var postingCount: Int
    public var blockedPostingCount: Int
    public var blockCount: Int
    public var summaryComponentCount: Int
    public var summaryEntryCount: Int
    public var hasSourceComponentIDs: Bool
    /// The build parameters, as `name: value` text, in a stable order.
    public var buildParameters: [String: String]

    public init(
        formatVersion: Int, documentCount: Int, vocabularySize: Int, nonzeroCount: Int, componentWidth: Int,
        valuePrecision: ValuePrecision, postingCount: Int, blockedPostingCount: Int, blockCount: Int,
        summaryComponentCount: Int, summaryEntryCount: Int, hasSourceComponentIDs: Bool, buildParameters: [String: String]
    ) {
        self.formatVersion = formatVersion
        self.documentCount = documentCount
        self.vocabularySize = vocabularySize
        self.nonzeroCount = nonzeroCount
        self.componentWidth = componentWidth
        self.valuePrecision = valuePrecision
        self.postingCount = postingCount
        self.blockedPostingCount = blockedPostingCount
        self.blockCount = blockCount
        self.summaryComponentCount = summaryComponentCount
        self.summaryEntryCount = summaryEntryCount
        self.hasSourceComponentIDs = hasSourceComponentIDs
        self.buildParameters = buildParameters
    }

    /// Deterministic JSON (sorted keys).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> IndexMetadata {
        do {
            return try JSONDecoder().decode(IndexMetadata.self, from: Data(bytes))
        } catch {
            throw LSRError(.corruptIndex, "unreadable metadata: \(error)", path: path, field: IndexLayout.metadata)
        }
    }
}
