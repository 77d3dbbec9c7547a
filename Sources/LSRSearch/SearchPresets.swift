import Foundation
import LSRFormats
import LSRVectors

/// The search settings `lsr tune` chose for an index, one per recall target, stored beside the
/// index as `presets` (`SearchPresets.fileName`).
///
/// The file is a `SideFile` (magic `lsr-presets`) whose body is JSON: a damaged or truncated
/// file is detected, never half read. Tuning replaces the file atomically (temporary file, fsync, rename). The body names the
/// index it was tuned on (its section-table checksum), so presets never apply to another index.
public struct SearchPresets: Codable, Sendable, Equatable {
    /// The file name inside the index directory.
    package static let fileName = "presets"
    /// The format version this build reads and writes.
    package static let formatVersion = 1

    /// The number of results the presets were tuned for (recall@k).
    public var k: Int
    /// ``Index/identity`` of the index they were tuned on.
    public var index: String
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
        k: Int, index: String, queries: Int, queriesFile: String?, seed: UInt64, method: String, created: String,
        lsrVersion: String, plannerVersion: Int, presets: [SearchPreset]
    ) {
        self.k = k
        self.index = index
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
    /// every stored target is lower.
    public func preset(forTargetRecall target: Double) -> SearchPreset? {
        presets.first { $0.targetRecall >= target - 1e-9 }
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
        let path = self.path + "/" + SearchPresets.fileName
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LSRError(.io, "cannot read the presets file", path: path)
        }
        let presets = try SearchPresets.decode(Array(data), path: path, plannerVersion: plannerVersion)
        guard presets.index == identity else {
            throw LSRError(.corruptIndex, "the presets were tuned on another index (rebuilt since?); run `lsr tune` again", path: path)
        }
        return presets
    }

    /// Stores `presets` beside the index, replacing any earlier ones atomically.
    /// - Throws: `LSRError.io` when the file cannot be written; the old presets then stay.
    public func store(_ presets: SearchPresets) throws {
        try writeFileAtomically(try presets.encoded(), to: path + "/" + SearchPresets.fileName)
    }
}
