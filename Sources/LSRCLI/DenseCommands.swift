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
        let opened = try Index(path: index)
        let existing = index + "/" + DenseLayout.fileName
        if FileManager.default.fileExists(atPath: existing) && !force {
            throw LSRError(.outputExists, "the index already has dense vectors; pass --force to replace them", path: existing)
        }
        try dense.input!.write(indexDirectory: index, documentCount: opened.documentCount) { opened.documents.position(of: $0) }
        let stored = try DenseVectors(path: existing, documentCount: opened.documentCount)
        print("stored \(stored.metadata.rows) × \(stored.dimension) dense vectors (\(stored.metadata.precision.rawValue), \(formatBytes(stored.fileBytes))) in \(index)")
    }
}
