import Foundation
import LSRVectors

/// Section names of an index file (format version 2) and the metadata stored in it. The one
/// full description of the bytes, with the version policy, is `Documentation/IndexFormat.md`.
///
/// An index is a directory: `index.lsr` (this layout, in the container of ``IndexFileFormat``),
/// `documents.sqlite` (`DocumentStoreSchema`: external ids and content), once `lsr tune` has
/// run, `presets` (`SearchPresets` in LSRSearch: a checksummed header line and a JSON body,
/// bound to `index.lsr` by its table checksum), with a text query encoder `query-encoder`
/// (`StoredQueryEncoder` in LSRText), and, when dense vectors were given, `dense.lsr`
/// (``DenseLayout``). An index built without summaries (`summarized: no` in the metadata's
/// build parameters) has no blocks: every posting is in the tail region and no list has
/// summary entries.
///
/// Readers find sections by name (the container's table). The builder writes them in the order
/// below, except `meta`, which it writes last: its counts are known only once every list is
/// blocked, while the sections before the blocks have lengths known earlier, so that their bytes
/// can be written in place while the lists are still being built.
///
/// Arrays, by section (V tokens, N documents, P postings, B blocks, E summary entries; C is the
/// component type, u16 when V ≤ 65,536 else u32; W the weight type, f16 bits or f32):
/// - `meta`: ``IndexMetadata`` as JSON.
/// - `vocab.bytes` / `vocab.offsets` (u32, V+1): token strings in ascending byte order.
/// - `vocab.source` (u32, V, optional): the binary input's component id of each token.
/// - `fwd.offsets` (u32 when nnz < 2³², else u64; N+1) and `fwd.vectors`: the forward index.
///   Document d's n = `fwd.offsets[d+1] − fwd.offsets[d]` entries start at byte
///   `fwd.offsets[d] × 2s`, s = max(size of C, size of W): its n components (C), padded to n × s
///   bytes, then its n weights (W), padded likewise. One document's vector is one contiguous run
///   of bytes, which search reads with fewer cache misses than two separate arrays.
/// - `post.docs` (u32, P), `post.values` (W, P): every posting of every list. First the blocked
///   region (list by list, block by block), then the tail region: the postings static pruning
///   left out, list by list in document order. Exact search reads the blocks and the tails it
///   cannot leave out (`list.tailmax`); approximate search only blocks.
/// - `list.blocks` (u32, V+1): the blocks of list t are `list.blocks[t] ..< list.blocks[t+1]`.
/// - `list.tail` (u64, V+1): the tail postings of list t, as absolute positions in `post.docs`.
/// - `list.tailmax` (f32, V; absent in indexes written before 2026-12-03): the largest weight in
///   list t's tail (0 when the tail is empty). Exact search skips the tails whose bounds cannot
///   change the top k; without the section it reads every tail.
/// - `block.offsets` (u32 when the blocked postings number < 2³², else u64; B+1): block b's
///   postings in `post.docs`.
/// - `block.min`, `block.scale` (f32, B): the dequantization of block b's summary codes.
///
/// Block summaries, stored per list transposed: for each component present in any of the list's
/// block summaries (its *summary components*, ascending), the entries (block, u8 code) of the
/// blocks whose summary has it, blocks ascending. Sizes are what Seismic's own layout spends:
/// - `sum.lists` (u64, 8 per row, V+1 rows): row t describes list t, fields ``SummaryListField``;
///   row V holds only the total entry count (as `entryStart`).
/// - `sum.codes` (u8, E): the entries' codes, list after list.
/// - `sum.blocks` (u64 words): the entries' block indices within their list, bit-packed with
///   `BitPacking.width(forMaximum: max(blocks, 1) − 1)` bits per entry, list after list; one spare word.
/// - `sum.components` (C): the summary components of lists stored sparse (ascending ids).
/// - `sum.bitmaps` (u64 words), `sum.ranks` (u32): lists stored dense: a `RankedBitmap` over the
///   vocabulary, used where it is smaller than the id array.
/// - `sum.offsets` (u64 words), `sum.samples` (u32): per list, the Elias–Fano coded entry offsets
///   of its summary components (n + 1 values from 0 to the list's entry count), one spare word.
package enum IndexLayout {
    public static let indexFileName = "index.lsr"
    public static let metadata = "meta"
    public static let vocabularyBytes = "vocab.bytes"
    public static let vocabularyOffsets = "vocab.offsets"
    public static let vocabularySource = "vocab.source"
    public static let forwardOffsets = "fwd.offsets"
    public static let forwardVectors = "fwd.vectors"
    public static let postingDocuments = "post.docs"
    public static let postingValues = "post.values"
    public static let listBlocks = "list.blocks"
    public static let listTail = "list.tail"
    public static let listTailMaximum = "list.tailmax"
    public static let blockOffsets = "block.offsets"
    public static let blockMinimum = "block.min"
    public static let blockScale = "block.scale"
    public static let summaryLists = "sum.lists"
    public static let summaryCodes = "sum.codes"
    public static let summaryBlocks = "sum.blocks"
    public static let summaryComponents = "sum.components"
    public static let summaryBitmaps = "sum.bitmaps"
    public static let summaryRanks = "sum.ranks"
    public static let summaryOffsets = "sum.offsets"
    public static let summarySamples = "sum.samples"
    /// The most blocks one list may have (block indices within a list fit in 16 bits).
    public static let maximumBlocksPerList = 65_535
}

/// The fields of a `sum.lists` row (each a u64).
package enum SummaryListField {
    /// First entry of the list in `sum.codes`; the next row's value ends the list.
    public static let entryStart = 0
    /// Bit position of the list's first block index in `sum.blocks`.
    public static let blockBitStart = 1
    /// Number of summary components (n).
    public static let componentCount = 2
    /// Where the components are: an element index into `sum.components`, or, with
    /// ``denseFlag`` set, a word index into `sum.bitmaps` (a multiple of 8).
    public static let componentLocation = 3
    /// Bit position in `sum.offsets` of the Elias–Fano low bits.
    public static let offsetLowStart = 4
    /// Word index in `sum.offsets` of the Elias–Fano high bits.
    public static let offsetHighStart = 5
    /// Elias–Fano low width.
    public static let offsetLowWidth = 6
    /// Index in `sum.samples` of the list's first select sample.
    public static let offsetSampleStart = 7
    /// Fields per row.
    public static let count = 8
    /// Set in ``componentLocation`` when the list's components are a bitmap.
    public static let denseFlag: UInt64 = 1 << 63
}

extension IndexLayout {
    /// Bytes per stored component id for a vocabulary of `vocabularySize` tokens: 2 when every
    /// id fits 16 bits, else 4.
    public static func componentWidth(vocabularySize: Int) -> Int {
        vocabularySize <= 1 << 16 ? 2 : 4
    }

    /// Bytes per forward-index entry: a component and a weight, each padded to the wider of the two.
    public static func forwardEntryBytes(componentWidth: Int, valuePrecision: ValuePrecision) -> Int {
        2 * max(componentWidth, valuePrecision.byteWidth)
    }
}

/// `dense.lsr`, beside `index.lsr`: one dense vector per document, in the container of
/// ``IndexFileFormat`` (so `lsr check` verifies it like the index), with two sections:
/// - `dense.vectors` (written first): N rows of `dimension` values (f16 bits or f32, little endian), row d the
///   vector of document d (the index's document order, whatever the input's row order);
/// - `dense.meta`: ``DenseMetadata`` as JSON (sorted keys).
package enum DenseLayout {
    public static let fileName = "dense.lsr"
    public static let metadata = "dense.meta"
    public static let vectors = "dense.vectors"
}

/// What `dense.lsr` records about its matrix.
public struct DenseMetadata: Codable, Sendable, Equatable {
    /// Rows: the index's document count.
    public var rows: Int
    /// Values per row.
    public var dimension: Int
    /// How values are stored.
    public var precision: ValuePrecision
    /// The file the vectors were read from (its last path component), for `lsr info`.
    public var source: String

    /// Metadata from its fields (see each property).
    public init(rows: Int, dimension: Int, precision: ValuePrecision, source: String) {
        self.rows = rows
        self.dimension = dimension
        self.precision = precision
        self.source = source
    }

    /// Deterministic JSON (sorted keys).
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}

/// How weights are stored in the forward index and postings.
public enum ValuePrecision: String, Codable, Sendable, CaseIterable {
    /// IEEE half precision (2 bytes, relative rounding error ≤ 2⁻¹¹). The default.
    case f16
    /// IEEE single precision (4 bytes): scores identical to the input's float32 dot products.
    case f32

    /// Bytes per stored weight.
    public var byteWidth: Int { self == .f16 ? 2 : 4 }
}

/// What an index records about itself: counts, storage choices and the parameters it was built with.
public struct IndexMetadata: Codable, Sendable, Equatable {
    /// The version of the index file format the index was written in (2 for this layout).
    public var formatVersion: Int
    /// Number of documents.
    public var documentCount: Int
    /// Number of tokens in the vocabulary: those that occur in at least one document.
    public var vocabularySize: Int
    /// Nonzero entries over all document vectors (the forward index; zero weights are dropped).
    public var nonzeroCount: Int
    /// Bytes per stored component id: 2 or 4.
    public var componentWidth: Int
    /// How weights are stored in the forward index and postings.
    public var valuePrecision: ValuePrecision
    /// Postings over all lists, blocked and tail: one per nonzero, so equal to ``nonzeroCount``.
    public var postingCount: Int
    /// Postings in blocks, the ones approximate search reads; the other `postingCount − blockedPostingCount`
    /// were left to the exact-only tail by static pruning.
    public var blockedPostingCount: Int
    /// Blocks over all lists; 0 for an index built without summaries.
    public var blockCount: Int
    /// Summary components over all lists: the components of each list's block summaries, counted per list.
    public var summaryComponentCount: Int
    /// Summary entries over all lists: one (block, code) pair per component of a block summary.
    public var summaryEntryCount: Int
    /// Whether the index keeps the binary input's component id of each token (`vocab.source`): true
    /// for an index built from binary vectors, so that binary queries need no vocabulary.
    public var hasSourceComponentIDs: Bool
    /// The build parameters, as `name: value` text, in a stable order.
    public var buildParameters: [String: String]
    /// The lsr release that wrote the index (``lsrVersion``); nil for indexes written before
    /// releases recorded it.
    public var writtenBy: String?

    package init(
        formatVersion: Int, documentCount: Int, vocabularySize: Int, nonzeroCount: Int, componentWidth: Int,
        valuePrecision: ValuePrecision, postingCount: Int, blockedPostingCount: Int, blockCount: Int,
        summaryComponentCount: Int, summaryEntryCount: Int, hasSourceComponentIDs: Bool, buildParameters: [String: String],
        writtenBy: String? = lsrVersion
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
        self.writtenBy = writtenBy
    }

    /// Deterministic JSON (sorted keys).
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    /// Decodes the `meta` section of a file whose container is of this lsr's format version.
    /// - Throws: `LSRError.corruptIndex` for unreadable JSON or a format version other than the
    ///   container's.
    package static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> IndexMetadata {
        let metadata: IndexMetadata
        do {
            metadata = try JSONDecoder().decode(IndexMetadata.self, from: Data(bytes))
        } catch {
            throw LSRError(.corruptIndex, "unreadable metadata: \(error)", path: path, field: IndexLayout.metadata)
        }
        guard metadata.formatVersion == Int(IndexFileFormat.version) else {
            throw LSRError(
                .corruptIndex, "the metadata says format version \(metadata.formatVersion), the file's header \(IndexFileFormat.version)",
                path: path, field: IndexLayout.metadata)
        }
        return metadata
    }
}
