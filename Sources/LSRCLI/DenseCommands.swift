import ArgumentParser
import Foundation
import LSR

/// The dense-vector options of `index` and `add-dense`.
struct DenseOptions: ParsableArguments {
    @Option(help: "Dense document vectors to store with the index (for hybrid search): NumPy .npy (2-D float32 or float16, C order) or .fvecs, plain or .zst; dimension up to 4096. Rows in the documents' order, or as --dense-ids says.")
    var dense: String?
    @Option(help: "The document id of each --dense row, one per line (default: rows in the documents' order).")
    var denseIds: String?
    @Option(help: "How dense values are stored: f16 (default, half the bytes) or f32.")
    var densePrecision: ValuePrecision?

    func validate() throws {
        if dense == nil && (denseIds != nil || densePrecision != nil) {
            throw ValidationError("--dense-ids and --dense-precision go with --dense")
        }
    }

    var input: DenseInput? { dense.map { DenseInput(path: $0, idsPath: denseIds, precision: densePrecision ?? .f16) } }
}

struct AddDenseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-dense",
        abstract: "Store dense document vectors with an existing index (dense.lsr beside index.lsr), for hybrid search.",
        discussion: "Every document of the index needs exactly one row. The file is written beside its final name, checksummed, and renamed into place; lsr check verifies it and lsr info describes it.")

    @Option(help: "Index directory.")
    var index: String
    @OptionGroup var dense: DenseOptions
    @Flag(help: "Replace the dense vectors the index already has.")
    var force = false

    func validate() throws {
        guard dense.dense != nil else { throw ValidationError("give the vectors with --dense") }
        try dense.validate()
    }

    func run() throws {
        let opened = try openOneIndex(index, for: "add-dense")
        let existing = index + "/" + DenseLayout.fileName
        if FileManager.default.fileExists(atPath: existing) && !force {
            throw LSRError(.outputExists, "the index already has dense vectors; pass --force to replace them", path: existing)
        }
        try dense.input!.write(indexDirectory: index, documentCount: opened.documentCount) { opened.documents.position(of: $0) }
        let stored = try DenseVectors(path: existing, documentCount: opened.documentCount)
        print("stored \(stored.metadata.rows) × \(stored.dimension) dense vectors (\(stored.metadata.precision.rawValue), \(formatBytes(stored.fileBytes))) in \(index)")
    }
}

/// Hybrid search options of `lsr search`.
struct HybridOptions: ParsableArguments {
    @Option(help: "Dense query vectors (.npy or .fvecs, as --dense): hybrid search, fusing the sparse candidates with their dense scores from the index's dense vectors.")
    var denseQueries: String?
    @Option(help: "The query id of each --dense-queries row, one per line; rows of other ids are skipped (default: rows in the order of the queries).")
    var denseQueryIds: String?
    @Option(help: "interpolate (alpha · min-max normalized sparse + (1 − alpha) · normalized dense, per query over the candidates), rrf (reciprocal rank fusion, k = 60) or rescore (the dense score alone).")
    var fusion: FusionChoice?
    @Option(help: "Weight of the sparse score in --fusion interpolate. (default: 0.5)")
    var alpha: Float?
    @Option(help: "Sparse results per query that dense scoring sees (at least --k). (default: 100)")
    var candidates: Int?
    @Flag(help: "Exact dense search over every document (no sparse search): the dense baseline.")
    var denseOnly = false

    enum FusionChoice: String, ExpressibleByArgument, CaseIterable {
        case interpolate, rrf, rescore

        /// The fusion this choice names (`alpha` weighs interpolation only).
        func fusion(alpha: Float) -> Fusion {
            switch self {
            case .interpolate: .interpolate(alpha: alpha)
            case .rrf: .reciprocalRankFusion
            case .rescore: .rescore
            }
        }
    }

    var isHybrid: Bool { denseQueries != nil }

    var parameters: HybridParameters {
        HybridParameters(fusion: (fusion ?? .interpolate).fusion(alpha: alpha ?? 0.5), candidates: candidates ?? 100)
    }

    func validate() throws {
        guard denseQueries != nil || (denseQueryIds == nil && fusion == nil && alpha == nil && candidates == nil && !denseOnly) else {
            throw ValidationError("--dense-query-ids, --fusion, --alpha, --candidates and --dense-only go with --dense-queries")
        }
        if alpha != nil && (fusion ?? .interpolate) != .interpolate { throw ValidationError("--alpha goes with --fusion interpolate") }
        if denseOnly && (fusion != nil || alpha != nil || candidates != nil) {
            throw ValidationError("--dense-only searches the dense vectors alone: leave out --fusion, --alpha and --candidates")
        }
        do { try parameters.validate() } catch let error as LSRError { throw ValidationError("--\(error.field ?? ""): \(error.message)") }
    }

    /// A short description of the hybrid setting, for the summary line.
    var label: String {
        if denseOnly { return "dense only" }
        switch parameters.fusion {
        case let .interpolate(alpha): return "interpolate alpha \(alpha) over \(parameters.candidates) candidates"
        case .reciprocalRank: return "rrf over \(parameters.candidates) candidates"
        case .rescore: return "dense rescoring of \(parameters.candidates) candidates"
        }
    }
}
