import Foundation
import LSRFormats
import LSRText
import LSRVectors

/// Builds a sharded collection (``CollectionManifest``): N ordinary indexes over a round-robin
/// partition of the documents, and the manifest that makes them one collection.
///
/// ``build(input:outputPath:overwrite:queryEncoder:progress:)`` builds every shard on this
/// machine, one after another, each with the configuration's threads, reading the input once per
/// shard. For a build spread over machines, each builds its shards with
/// ``buildShard(_:input:outputPath:overwrite:queryEncoder:progress:)`` into one directory, and
/// ``assemble(shardsIn:into:shardCount:overwrite:)`` checks them and writes the manifest.
///
/// Every shard is built with the same configuration, and decides what depends on the collection
/// (automatic pruning's postings per list, clusters) from its own documents.
public struct ShardedIndexBuilder: Sendable {
    /// The build parameters of every shard, validated when a build starts.
    public var configuration: BuildConfiguration
    /// Shards the documents are partitioned into.
    public var shardCount: Int

    /// The most shards a collection may have (``CollectionManifest/maximumShards``).
    public static let maximumShards = CollectionManifest.maximumShards

    /// A builder of `shardCount` shards with `configuration` (lsr's defaults when omitted).
    public init(configuration: BuildConfiguration = BuildConfiguration(), shardCount: Int) {
        self.configuration = configuration
        self.shardCount = shardCount
    }

    /// Throws `LSRError.invalidArgument` when the shard count or the configuration is out of range.
    public func validate() throws {
        guard shardCount >= 1, shardCount <= Self.maximumShards else {
            throw LSRError(.invalidArgument, "shards must be in 1 … \(Self.maximumShards), got \(shardCount)", field: "shards")
        }
        try configuration.validate()
    }

    /// Builds the collection of the vectors in `input` at `outputPath`: every shard, then the
    /// manifest, in a temporary directory renamed into place when all is done.
    /// - Parameters:
    ///   - overwrite: replace an existing index or collection at `outputPath` (never anything else).
    ///   - queryEncoder: a text query encoder stored with every shard.
    ///   - progress: called with the shard being built and its build's progress.
    /// - Returns: each shard's build statistics, in shard order.
    /// - Throws: `LSRError`: `.outputExists` before reading anything, input errors naming the
    ///   file and line, `.invalidInput` when the input holds fewer documents than shards or an
    ///   id twice. On any error the output path is left as it was.
    @discardableResult
    public func build(
        input: any VectorSource, outputPath: String, overwrite: Bool = false, queryEncoder: StoredQueryEncoder? = nil,
        progress: (@Sendable (_ shard: Int, BuildProgress) -> Void)? = nil
    ) throws -> [BuildStatistics] {
        try validate()
        let directory = try IndexDirectory(target: outputPath, overwrite: overwrite)
        do {
            var statistics: [BuildStatistics] = []
            var sourceDocuments: Int? = nil
            for shard in 0 ..< shardCount {
                var shardProgress: (@Sendable (BuildProgress) -> Void)? = nil
                if let progress { shardProgress = { step in progress(shard, step) } }
                let documents = ShardDocuments(input, shard: shard, of: shardCount, expectedSourceDocuments: sourceDocuments)
                statistics.append(try IndexBuilder(configuration: configuration).build(
                    input: documents, outputPath: directory.temporary + "/" + CollectionManifest.shardDirectory(shard),
                    queryEncoder: queryEncoder, progress: shardProgress))
                // The first pass counted the input: too few documents fail now, not at the first
                // empty shard, and later passes must see as many.
                if shard == 0 { try documents.checkEveryShardHasDocuments() }
                sourceDocuments = documents.sourceDocuments
            }
            try Self.writeManifest(in: directory.temporary, shardCount: shardCount, checkingIDs: false)
            try directory.commit()
            return statistics
        } catch {
            directory.discard()
            throw error
        }
    }

    /// Builds shard `shard` alone at `outputPath`: an ordinary index of the input's documents
    /// `shard`, `shard` + N, `shard` + 2N, … (N = ``shardCount``).
    /// - Throws: as ``IndexBuilder/build(input:outputPath:overwrite:queryEncoder:dense:progress:)``;
    ///   `.invalidArgument` for a shard number outside 0 ..< N.
    @discardableResult
    public func buildShard(
        _ shard: Int, input: any VectorSource, outputPath: String, overwrite: Bool = false, queryEncoder: StoredQueryEncoder? = nil,
        progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) throws -> BuildStatistics {
        try validate()
        guard shard >= 0, shard < shardCount else {
            throw LSRError(.invalidArgument, "shard must be in 0 ..< \(shardCount), got \(shard)", field: "shard")
        }
        return try IndexBuilder(configuration: configuration).build(
            input: ShardDocuments(input, shard: shard, of: shardCount), outputPath: outputPath, overwrite: overwrite,
            queryEncoder: queryEncoder, progress: progress)
    }

    /// Makes the directory `directory`, which holds shards `shard-0000` … built by
    /// ``buildShard(_:input:outputPath:overwrite:queryEncoder:progress:)``, the collection at
    /// `target`: checks the shards, writes the manifest and renames the directory into place
    /// (replacing an index or collection there only with `overwrite`).
    /// - Returns: the manifest written.
    /// - Throws: `LSRError`: `.outputExists`; `.invalidInput` when a shard is missing, their
    ///   document counts are not a round-robin partition, or an id is in two shards; the shards'
    ///   own errors (`.corruptIndex`, `.documentStore`). Nothing is moved then.
    @discardableResult
    public static func assemble(shardsIn directory: String, into target: String, shardCount: Int, overwrite: Bool = false) throws -> CollectionManifest {
        guard shardCount >= 1, shardCount <= maximumShards else {
            throw LSRError(.invalidArgument, "shards must be in 1 … \(maximumShards), got \(shardCount)", field: "shards")
        }
        let destination = try IndexDirectory(target: target, adopting: directory, overwrite: overwrite)
        let manifest = try writeManifest(in: directory, shardCount: shardCount, checkingIDs: true)
        try destination.commit()
        return manifest
    }

    /// Checks the shards in `directory` and writes the collection's manifest there: every
    /// shard is there, was built as that shard of this many, with the same settings, and their
    /// counts form a round-robin partition; with `checkingIDs`, no id is in two shards (a build
    /// from one input has checked that as it read). Leftovers of interrupted shard builds are
    /// removed; anything else in the directory is refused.
    @discardableResult
    private static func writeManifest(in directory: String, shardCount: Int, checkingIDs: Bool) throws -> CollectionManifest {
        let expected = Set((0 ..< shardCount).map(CollectionManifest.shardDirectory))
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where !expected.contains(name) {
            let leftover = expected.contains { name.hasPrefix("." + $0 + ".lsr-build-") || name.hasPrefix("." + $0 + ".lsr-old-") }
            guard leftover else {
                throw LSRError(.invalidInput, "'\(name)' is not a shard of a collection of \(shardCount); the directory must hold only the shards", path: directory)
            }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        var counts: [Int] = []
        var stores: [DocumentStoreReader] = []
        var settings: [String: String]? = nil
        for shard in 0 ..< shardCount {
            let path = directory + "/" + CollectionManifest.shardDirectory(shard)
            let indexPath = path + "/" + IndexLayout.indexFileName
            guard FileManager.default.fileExists(atPath: indexPath) else {
                throw LSRError(.invalidInput, "shard \(shard) of \(shardCount) is missing (no \(IndexLayout.indexFileName))", path: path)
            }
            let file = try IndexFile(path: indexPath)
            let metadata = try IndexMetadata.decode(try file.verifiedSection(IndexLayout.metadata), path: indexPath)
            let label = ShardDocuments.label(shard: shard, of: shardCount)
            guard metadata.buildParameters[ShardDocuments.parameterName] == label else {
                let found = metadata.buildParameters[ShardDocuments.parameterName].map { "as shard \($0)" } ?? "as an index, not a shard"
                throw LSRError(.invalidInput, "built \(found), not as shard \(label)", path: path)
            }
            // Settings every shard shares (what each decides from its own documents aside).
            let shared = metadata.buildParameters.filter { !ShardDocuments.perShardParameters.contains($0.key) }
                .merging(["precision": metadata.valuePrecision.rawValue]) { $1 }
            if let settings, settings != shared {
                let differing = Set(settings.keys).union(shared.keys).sorted().filter { settings[$0] != shared[$0] }
                throw LSRError(
                    .invalidInput, "built with other settings than shard 0 (\(differing.map { "\($0): \(shared[$0] ?? "-") vs \(settings[$0] ?? "-")" }.joined(separator: ", ")))",
                    path: path)
            }
            settings = shared
            let store = try DocumentStoreReader(path: path + "/" + DocumentStoreSchema.fileName)
            guard store.count == metadata.documentCount else {
                throw LSRError(.corruptIndex, "the document store holds \(store.count) documents, the index \(metadata.documentCount)", path: store.path)
            }
            counts.append(metadata.documentCount)
            stores.append(store)
        }
        let manifest = CollectionManifest(documentCount: counts.reduce(0, +), shardCount: shardCount)
        for (shard, expected) in manifest.shards.enumerated() where counts[shard] != expected.documents {
            throw LSRError(
                .invalidInput,
                "shard \(shard) holds \(counts[shard]) documents; a round-robin partition of \(manifest.documentCount) documents into \(shardCount) shards puts \(expected.documents) there (were the shards built from one input?)",
                path: directory + "/" + expected.directory)
        }
        if checkingIDs { try checkDistinctIDs(stores) }
        try writeFileAtomically(try manifest.encoded(), to: CollectionManifest.path(inCollection: directory))
        return manifest
    }

    /// Throws `LSRError.invalidInput` when two shards hold the same external id (each store's
    /// ids are distinct already): a merge of the stores' ids in byte order, in bounded memory and
    /// O(D log N) comparisons.
    private static func checkDistinctIDs(_ stores: [DocumentStoreReader]) throws {
        guard stores.count > 1 else { return }
        let cursors = try stores.map { try $0.idsInByteOrder() }
        // A min-heap of (id, shard): the smallest id on top, ties broken by shard.
        var heap: [(id: [UInt8], shard: Int)] = []
        func less(_ a: Int, _ b: Int) -> Bool {
            heap[a].id.lexicographicallyPrecedes(heap[b].id) || (heap[a].id == heap[b].id && heap[a].shard < heap[b].shard)
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let left = 2 * i + 1, right = left + 1
                var smallest = i
                if left < heap.count && less(left, smallest) { smallest = left }
                if right < heap.count && less(right, smallest) { smallest = right }
                if smallest == i { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        for (shard, cursor) in cursors.enumerated() {
            if let id = try cursor.next() { heap.append((id, shard)) }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        var previous: (id: [UInt8], shard: Int)? = nil
        while let top = heap.first {
            if let previous, previous.id == top.id {
                throw LSRError(
                    .invalidInput, "document id '\(String(decoding: top.id, as: UTF8.self))' is in shards \(previous.shard) and \(top.shard): ids must be distinct",
                    path: stores[top.shard].path)
            }
            previous = top
            if let next = try cursors[top.shard].next() {
                heap[0] = (next, top.shard)
            } else {
                heap[0] = heap[heap.count - 1]
                heap.removeLast()
            }
            if !heap.isEmpty { siftDown(0) }
        }
    }
}

/// The documents of one shard of a round-robin partition of another source: its records number
/// p with p mod N = shard, renumbered p / N; everything else is the source's.
final class ShardDocuments: VectorSource {
    /// The build parameter that records a shard's place, `<shard> of <N>`.
    static let parameterName = "shard"
    /// Build parameters each shard decides for itself, or that differ by shard.
    static let perShardParameters: Set<String> = [parameterName, "n_postings", "pruning_ratio", "summarized"]
    static func label(shard: Int, of count: Int) -> String { "\(shard) of \(count)" }

    private let source: any VectorSource
    private let shard: Int
    private let shardCount: Int
    /// The source's document count when another shard has read it first (a later pass must see
    /// the same input).
    private let expectedSourceDocuments: Int?

    init(_ source: any VectorSource, shard: Int, of shardCount: Int, expectedSourceDocuments: Int? = nil) {
        self.source = source
        self.shard = shard
        self.shardCount = shardCount
        self.expectedSourceDocuments = expectedSourceDocuments
    }

    /// What the shard's metadata records besides the configuration.
    var recordedParameters: [String: String] { [Self.parameterName: Self.label(shard: shard, of: shardCount)] }
    var path: String { source.path }
    var format: VectorFileFormat { source.format }
    var tokens: [String] { source.tokens }
    var declaredCount: Int? { source.declaredCount.map { CollectionManifest.documentCount(ofShard: shard, shards: shardCount, documents: $0) } }
    /// The source's blank lines, counted by shard 0 (the shards' counts add up to the input's).
    var skippedEmptyLines: Int { shard == 0 ? source.skippedEmptyLines : 0 }
    /// Zero weights dropped from this shard's documents.
    private(set) var droppedZeroWeights = 0
    func sourceComponent(of component: UInt32) -> UInt32 { source.sourceComponent(of: component) }
    /// Documents in the source, counted by the last ``forEach(sortingComponents:_:)``.
    private(set) var sourceDocuments = 0

    /// Reads the source's records, handing this shard's to `body`.
    /// - Throws: the source's errors; `.invalidInput` when the shard is empty (the source holds
    ///   fewer documents than shards), or the source holds another number of documents than
    ///   when the first shard read it.
    func forEach(sortingComponents: Bool, _ body: (borrowing VectorRecord) throws -> Void) throws {
        var seen = 0
        droppedZeroWeights = 0
        var droppedBefore = source.droppedZeroWeights
        try source.forEach(sortingComponents: sortingComponents) { record in
            defer { seen += 1 }
            let dropped = source.droppedZeroWeights
            defer { droppedBefore = dropped }
            guard seen % shardCount == shard else { return }
            droppedZeroWeights += max(0, dropped - droppedBefore)
            var renumbered = copy record
            renumbered.position = seen / shardCount
            try body(renumbered)
        }
        sourceDocuments = seen
        if let expectedSourceDocuments, seen != expectedSourceDocuments {
            throw LSRError(
                .invalidInput,
                "the input changed between the shards' passes: \(seen) documents now, \(expectedSourceDocuments) at first (a pipe cannot be read twice: give a file)",
                path: source.path)
        }
        guard seen > shard else { throw tooFewDocuments() }
    }

    /// Throws when the source, as last read, holds fewer documents than shards.
    func checkEveryShardHasDocuments() throws {
        guard sourceDocuments >= shardCount else { throw tooFewDocuments() }
    }

    private func tooFewDocuments() -> LSRError {
        LSRError(.invalidInput, "the input holds \(sourceDocuments) documents, fewer than the \(shardCount) shards: some would be empty", path: source.path)
    }
}
