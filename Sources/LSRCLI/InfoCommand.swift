import ArgumentParser
import Foundation
import LSR

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe an index: counts, build parameters, bytes per section.")

    @Argument(help: "Index directory.")
    var directory: String

    func run() throws {
        let index = try Index(path: directory)
        let m = index.metadata
        var text = """
            index: \(directory) (format version \(m.formatVersion))
            documents: \(m.documentCount)
            nonzeros: \(m.nonzeroCount) (\(String(format: "%.1f", Double(m.nonzeroCount) / Double(max(1, m.documentCount)))) per document)
            vocabulary: \(m.vocabularySize) tokens, \(m.componentWidth)-byte component ids, \(m.valuePrecision.rawValue) weights
            postings: \(m.postingCount) (\(m.blockedPostingCount) in blocks, \(m.postingCount - m.blockedPostingCount) pruned to the exact-only tail)
            blocks: \(m.blockCount) (\(String(format: "%.1f", Double(m.blockedPostingCount) / Double(max(1, m.blockCount)))) postings per block)
            summaries: \(m.summaryEntryCount) entries over \(m.summaryComponentCount) list components

            """
        text += "build parameters:\n"
        for (name, value) in m.buildParameters.sorted(by: { $0.key < $1.key }) { text += "  \(name): \(value)\n" }
        text += "bytes per section:\n"
        for (name, bytes) in index.sectionSizes { text += "  \(name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(bytes)\n" }
        let storeBytes = (try? FileManager.default.attributesOfItem(atPath: index.documents.path)[.size] as? Int) ?? 0
        text += "  index.lsr total  \(index.fileBytes) (\(formatBytes(index.fileBytes)))\n"
        text += "  documents.sqlite \(storeBytes) (\(formatBytes(storeBytes)))\n"
        print(text, terminator: "")
    }
}

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Verify every section of an index against its checksum.")

    @Argument(help: "Index directory.")
    var directory: String

    func run() throws {
        let index = try Index(path: directory)
        let damaged = index.verify()
        guard damaged.isEmpty else {
            throw LSRError(.corruptIndex, "checksum mismatch in section(s) \(damaged.joined(separator: ", ")); rebuild the index", path: directory)
        }
        print("\(directory): ok (\(index.sectionSizes.count) sections, \(index.fileBytes) bytes verified)")
    }
}
