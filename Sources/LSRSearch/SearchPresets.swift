import Foundation
import LSRFormats
import LSRVectors

/// The search settings `lsr tune` chose for an index or a sharded collection, one per recall
/// target, stored in its directory as `presets` (`SearchPresets.fileName`).
///
/// The file is a `SideFile` (magic `lsr-presets`) whose body is JSON: a damaged or truncated
/// file is detected, never half read. Tuning replaces the file atomically (temporary file, fsync, rename). The body names the
/// index it was tuned on (its section-table checksum), or the collection and each of its shards,
/// so presets never apply to another index or collection.
public struct SearchPresets: Codable, Sendable, Equatable {
    /// The file name inside the index directory.
    package static let fileName = "presets"
    /// The format version this build reads and writes.
    package static let formatVersion = 1

    /// The number of results the presets were tuned for (recall@k).
    public var k: Int
    /// ``Index/identity`` of the index they were tuned on, or ``ShardedIndex/identity`` of the collection.
    public var index: String
    /// For a collection, ``Index/identity`` of each of its shards, in shard order (so that a
    /// server of some shards can check its own); nil for an index.
    public var shards: [String]?
    /// How many queries tuning used, and the file they came from.
    public var queries: Int
    /// The query file tuning read, as given to it (nil or empty when none was recorded).
    public var queriesFile: String?
    /// Seed of the cross-validation folds.
    public var seed: UInt64
    /// How each preset's recall was made to hold for unseen queries (human-readable).
    public var method: String
    /// When and by which lsr the presets were made.
    public var created: String
    /// The version of the lsr that made them (`lsrVersion`).
    public var lsrVersion: String
    /// The version of the search planner they were tuned with: it decides which queries are
    /// answered exactly, so presets of another version may miss their targets.
    public var plannerVersion: Int
    /// One preset per target, ascending.
    public var presets: [SearchPreset]

    package init(
        k: Int, index: String, shards: [String]? = nil, queries: Int, queriesFile: String?, seed: UInt64, method: String, created: String,
        lsrVersion: String, plannerVersion: Int, presets: [SearchPreset]
    ) {
        self.k = k
        self.index = index
        self.shards = shards
        self.queries = queries
        self.queriesFile = queriesFile
        self.seed = seed
        self.method = method
        self.created = created
        self.lsrVersion = lsrVersion
        self.plannerVersion = plannerVersion
        self.presets = presets.sorted { $0.targetRecall < $1.targetRecall }
    }

    /// The preset for `target`: the one tuned for the lowest target at or above it, or nil when
    /// every stored target is lower. Targets within 1e-6 count as equal (a single-precision
    /// 0.8 is 0.80000001).
    public func preset(forTargetRecall target: Double) -> SearchPreset? {
        presets.first { $0.targetRecall >= target - 1e-6 }
    }

    /// The preset to search for `k` results at recall@k `target`: ``preset(forTargetRecall:)``.
    /// - Throws: `LSRError.invalidArgument` (field `target-recall`) when the presets were tuned for
    ///   another k or every stored target is lower than `target`.
    public func preset(forTargetRecall target: Double, k: Int) throws -> SearchPreset {
        guard self.k == k else {
            throw LSRError(.invalidArgument, "the presets were tuned for k=\(self.k), not \(k); run `lsr tune --k \(k)`", field: "target-recall")
        }
        guard let preset = preset(forTargetRecall: target) else {
            let tuned = presets.map { String(format: "%g", $0.targetRecall) }.joined(separator: ", ")
            throw LSRError(
                .invalidArgument, "no preset reaches recall \(target) (tuned: \(tuned)); run `lsr tune --target-recall \(target)`",
                field: "target-recall")
        }
        return preset
    }

    /// The file's bytes: header line, then the JSON body.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body = Array(try encoder.encode(self)) + Array("\n".utf8)
        return SideFile.encode(magic: "lsr-presets", version: SearchPresets.formatVersion, body: body)
    }

    /// Decodes a presets file for an index planned by `plannerVersion`.
    /// - Throws: `LSRError.corruptIndex` naming the file when the header, checksum, length or
    ///   body is wrong; `.unsupportedVersion` for any other format version, or presets tuned
    ///   under another search planner version.
    package static func decode(_ bytes: [UInt8], path: String, plannerVersion: Int) throws -> SearchPresets {
        let remedy = "run `lsr tune` again"
        func corrupt(_ message: String) -> LSRError { LSRError(.corruptIndex, message + "; " + remedy, path: path) }
        let body = try SideFile.body(of: bytes, magic: "lsr-presets", version: formatVersion, path: path, remedy: remedy)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var presets: SearchPresets
        do {
            presets = try decoder.decode(SearchPresets.self, from: Data(body))
        } catch {
            throw corrupt("unreadable body: \(error)")
        }
        guard presets.k >= 1 else { throw corrupt("k is \(presets.k)") }
        for preset in presets.presets {
            guard preset.targetRecall > 0 && preset.targetRecall <= 1 else { throw corrupt("target recall \(preset.targetRecall) is outside (0, 1]") }
            if preset.method == .approximate {
                do {
                    try preset.parameters(k: presets.k).validate()
                } catch let error as LSRError {
                    throw corrupt("the preset for recall \(preset.targetRecall): \(error.message)")
                }
            }
        }
        guard presets.plannerVersion == plannerVersion else {
            throw LSRError(
                .unsupportedVersion,
                "the presets were tuned with search planner \(presets.plannerVersion), this lsr plans this index with \(plannerVersion); run `lsr tune` again",
                path: path)
        }
        presets.presets.sort { $0.targetRecall < $1.targetRecall }
        return presets
    }
}

/// The setting `lsr tune` chose for one recall target, with the evidence it chose it on.
public struct SearchPreset: Codable, Sendable, Equatable {
    /// The recall@k (against exact search) the preset is meant to reach on unseen queries.
    public var targetRecall: Double
    /// How a preset searches.
    public enum Method: String, Codable, Sendable {
        /// Approximate search with cost-based planning at `queryCut` and `heapFactor`.
        case approximate
        /// Exact search (cheaper than any approximate setting that reaches the target).
        case exact
    }

    /// Approximate search at ``queryCut`` and ``heapFactor``, or exact search.
    public var method: Method
    /// The approximate search's ``SearchParameters/queryCut``; 0 for an exact preset.
    public var queryCut: Int
    /// The approximate search's ``SearchParameters/heapFactor``; 0 for an exact preset.
    public var heapFactor: Float
    /// Mean recall@k on the tuning queries, and that mean less the safety margin (what cleared
    /// the target).
    public var tuningRecall: Double
    /// ``tuningRecall`` less the safety margin (standard errors of the mean): the value that cleared
    /// ``targetRecall``.
    public var recallLowerBound: Double
    /// Mean recall on held-out folds when each fold's preset was chosen on the other folds.
    public var crossValidatedRecall: Double
    /// Mean single-threaded latency on the tuning queries when chosen, in microseconds.
    public var meanMicroseconds: Double

    /// A preset from its fields (see each property), as `lsr tune` records them.
    public init(
        targetRecall: Double, method: Method, queryCut: Int, heapFactor: Float, tuningRecall: Double, recallLowerBound: Double,
        crossValidatedRecall: Double, meanMicroseconds: Double
    ) {
        self.targetRecall = targetRecall
        self.method = method
        self.queryCut = queryCut
        self.heapFactor = heapFactor
        self.tuningRecall = tuningRecall
        self.recallLowerBound = recallLowerBound
        self.crossValidatedRecall = crossValidatedRecall
        self.meanMicroseconds = meanMicroseconds
    }

    /// How to search with this preset for `k` results.
    public var searchMethod: SearchMethod { method == .exact ? .exact : .approximate }

    /// The search parameters of this preset.
    public func parameters(k: Int) -> SearchParameters {
        SearchParameters(k: k, queryCut: queryCut, heapFactor: heapFactor, planning: .costBased)
    }
}

extension Index {
    /// A fingerprint of `index.lsr` (its section-table checksum): presets and other side files
    /// record it to refuse an index they were not made for.
    public var identity: String { XXHash64.hex(file.tableChecksum) }

    /// The version of the search planner for this index (``SearchPresets/plannerVersion``).
    package var plannerVersion: Int { SearchCostModel.version(of: storage) }

    /// The stored presets, or nil when the index has none.
    /// - Throws: `LSRError` when the file is damaged or was tuned on another index.
    public func presets() throws -> SearchPresets? {
        try SearchPresets.read(directory: path, plannerVersion: plannerVersion) {
            $0.shards != nil ? "the presets are a sharded collection's, not an index's"
                : $0.index != identity ? "the presets were tuned on another index (rebuilt since?)" : nil
        }
    }

    /// Stores `presets` beside the index, replacing any earlier ones atomically.
    /// - Throws: `LSRError.io` when the file cannot be written; the old presets then stay.
    public func store(_ presets: SearchPresets) throws { try presets.store(in: path) }
}

extension ShardedIndex {
    /// A fingerprint of the whole collection: of every shard's ``Index/identity``, in shard order.
    /// Defined only when every shard is opened (nil for a server of some of them).
    public var identity: String? {
        guard shards.count == manifest.shards.count else { return nil }
        return Self.identity(ofShards: shards.map(\.identity))
    }

    /// The fingerprint of a collection whose shards have these identities, in shard order.
    static func identity(ofShards identities: [String]) -> String {
        let text = Array(identities.joined(separator: "\n").utf8)
        return XXHash64.hex(text.withUnsafeBytes { XXHash64.hash($0) })
    }

    /// The version of the search planner for the collection: its shards' (the highest, were
    /// they ever to differ).
    package var plannerVersion: Int { shards.map(\.plannerVersion).max() ?? 1 }

    /// The presets stored in the collection's directory, or nil when it has none. A server of
    /// some shards uses the whole collection's presets once each of its shards is the one they
    /// were tuned on (every shard searches with the same settings, so the merged results are
    /// the collection's).
    /// - Throws: `LSRError` when the file is damaged or was tuned on another collection (or
    ///   shards rebuilt since).
    public func presets() throws -> SearchPresets? {
        try SearchPresets.read(directory: path, plannerVersion: plannerVersion) { presets in
            let tunedShards = presets.shards ?? []
            let matches = tunedShards.count == manifest.shards.count
                && presets.index == Self.identity(ofShards: tunedShards)
                && zip(shardNumbers, shards).allSatisfy { number, index in tunedShards[number] == index.identity }
            return matches ? nil : "the presets were tuned on another collection (shards rebuilt since?)"
        }
    }

    /// Stores `presets` in the collection's directory, replacing any earlier ones atomically.
    /// - Throws: `LSRError.io` when the file cannot be written; the old presets then stay.
    public func store(_ presets: SearchPresets) throws { try presets.store(in: path) }
}

extension SearchPresets {
    /// The presets file in `directory`, decoded for `plannerVersion`, or nil when there is none.
    /// - Parameter mismatch: why the presets were not tuned on what the directory holds now, or
    ///   nil when they were.
    /// - Throws: as ``decode(_:path:plannerVersion:)``; `LSRError.io` when the file cannot be
    ///   read; `.corruptIndex` with `mismatch`'s reason.
    static func read(directory: String, plannerVersion: Int, mismatch: (SearchPresets) -> String?) throws -> SearchPresets? {
        let path = directory + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LSRError(.io, "cannot read the presets file", path: path)
        }
        let presets = try decode(Array(data), path: path, plannerVersion: plannerVersion)
        if let reason = mismatch(presets) {
            throw LSRError(.corruptIndex, reason + "; run `lsr tune` again", path: path)
        }
        return presets
    }

    /// Writes the presets file into `directory`, replacing any earlier one atomically.
    func store(in directory: String) throws {
        try writeFileAtomically(try encoded(), to: directory + "/" + Self.fileName)
    }
}
