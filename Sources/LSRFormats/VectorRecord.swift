/// One sparse vector read from an input file, with its external id and optional text.
public struct VectorRecord: Sendable {
    /// The external id (a JSON string or integer, a line of the ids file, or the position).
    public var id: String
    /// The text stored with the vector, if the input had any.
    public var content: String?
    /// Component ids in the reader's token table (``VectorFileReader/tokens``), distinct;
    /// ascending unless the reader was asked not to sort them.
    public var components: [UInt32] = []
    /// Weights parallel to `components`: finite and positive.
    public var values: [Float] = []
    /// 0-based position of the record in the file.
    public var position: Int
    /// 1-based line number for text inputs.
    public var line: Int?

    /// A record with no entries yet: ``components`` and ``values`` start empty.
    public init(id: String, content: String? = nil, position: Int, line: Int? = nil) {
        self.id = id
        self.content = content
        self.position = position
        self.line = line
    }
}

/// The formats a vector file can be in.
public enum VectorFileFormat: String, Sendable, CaseIterable {
    /// Seismic JSONL: `{"id": …, "content": …, "vector": {token: weight}}` per line.
    case jsonl
    /// Seismic binary: `u32 n`, then per vector `u32 nnz`, `u32 components[nnz]`, `f32 values[nnz]`.
    case binary

    /// The format implied by a file name: `.bin` (optionally followed by `.zst`) is binary,
    /// anything else is JSONL. Compression is detected from the content, not the name.
    public static func detect(path: String) -> VectorFileFormat {
        var name = path.lowercased()
        for suffix in [".zst", ".zstd"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name.hasSuffix(".bin") ? .binary : .jsonl
    }
}

/// Where an index build reads its documents from: a vector file (``VectorFileReader``) or
/// vectors computed from text (BM25 impacts).
public protocol VectorSource: AnyObject {
    /// The input file (for error messages).
    var path: String { get }
    /// `.binary` when components are a binary file's ids (the index then keeps them for
    /// binary queries without a vocabulary), else `.jsonl`: components are named by ``tokens``.
    var format: VectorFileFormat { get }
    /// Token strings by component id.
    var tokens: [String] { get }
    /// How many records the input declares, when it does (for progress).
    var declaredCount: Int? { get }
    /// Number of blank lines skipped and counted so far (JSONL vector input; other sources report 0).
    var skippedEmptyLines: Int { get }
    /// Number of entries dropped so far because their weight was zero.
    var droppedZeroWeights: Int { get }
    /// The binary component id a component stands for (binary input).
    func sourceComponent(of component: UInt32) -> UInt32
    /// Reads every record in order and hands it to `body` (see ``VectorFileReader/forEach(sortingComponents:_:)``).
    func forEach(sortingComponents: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws
}

extension VectorFileReader: VectorSource {}
