import Foundation
import LSRVectors

/// The manifest of a sharded collection: a directory of N ordinary index directories (the shards,
/// `shard-0000` …) over a round-robin partition of the documents, and this file, `collection`,
/// which says so. `Documentation/IndexFormat.md` describes the bytes.
///
/// Document p of the input (0-based) is document p / N of shard p mod N; a collection's document
/// positions are the input's, so that search over a collection ranks exactly as over one index
/// of the same documents (equal scores break ties by the lower position in both).
///
/// The file is a side file (magic `lsr-collection`, a checksummed header line) whose body is
/// JSON: the partition, the document count, and each shard's directory and document count.
public struct CollectionManifest: Codable, Sendable, Equatable {
    /// The manifest's file name in a collection directory.
    public static let fileName = "collection"
    /// The version of the manifest format this lsr writes and reads.
    public static let formatVersion = 1
    /// The only partition lsr writes: document p goes to shard p mod N.
    public static let roundRobin = "round-robin"
    /// The most shards a collection may have: each open shard holds two files open (its mapped
    /// index and its document store), within the usual limit of 1,024 open files.
    public static let maximumShards = 500

    /// One shard: an index directory inside the collection's.
    public struct Shard: Codable, Sendable, Equatable {
        /// The shard's directory, relative to the collection's.
        public var directory: String
        /// Documents in the shard.
        public var documents: Int
    }

    /// How documents are assigned to shards (``roundRobin``).
    public var partition: String
    /// Documents over all shards.
    public var documentCount: Int
    /// The shards, in partition order: shard s holds the input's documents s, s + N, s + 2N, …
    public var shards: [Shard]
    /// The lsr release that wrote the manifest.
    public var writtenBy: String

    /// The manifest of a round-robin partition of `documentCount` documents into `shardCount`
    /// shards (none when `shardCount` < 1).
    public init(documentCount: Int, shardCount: Int) {
        partition = Self.roundRobin
        self.documentCount = documentCount
        shards = (0 ..< max(0, shardCount)).map {
            Shard(directory: Self.shardDirectory($0), documents: Self.documentCount(ofShard: $0, shards: shardCount, documents: documentCount))
        }
        writtenBy = lsrVersion
    }

    /// The directory name of shard `shard`: `shard-0000`, `shard-0001`, …
    public static func shardDirectory(_ shard: Int) -> String {
        "shard-" + String(repeating: "0", count: max(0, 4 - String(shard).count)) + String(shard)
    }

    /// The number of the `documents` documents that shard `shard` of `shards` holds (0 for a
    /// shard outside 0 ..< `shards`).
    public static func documentCount(ofShard shard: Int, shards: Int, documents: Int) -> Int {
        guard shards >= 1, shard >= 0, shard < shards, documents > shard else { return 0 }
        return documents / shards + (documents % shards > shard ? 1 : 0)
    }

    /// The collection position of the document at `local` in shard `shard`.
    @inline(__always)
    public func position(shard: Int, local: Int) -> Int { local * shards.count + shard }

    /// The shard and the position within it of the collection's document at `position`.
    @inline(__always)
    public func location(of position: Int) -> (shard: Int, local: Int) {
        (position % shards.count, position / shards.count)
    }

    /// The path of `path`'s manifest.
    public static func path(inCollection path: String) -> String { path + "/" + fileName }

    /// Whether `path` is a collection directory (it holds a manifest).
    public static func isCollection(at path: String) -> Bool {
        FileManager.default.fileExists(atPath: self.path(inCollection: path))
    }

    /// The file's bytes: header line, then the JSON body.
    package func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body = Array(try encoder.encode(self)) + Array("\n".utf8)
        return SideFile.encode(magic: "lsr-collection", version: Self.formatVersion, body: body)
    }

    /// Reads and checks the manifest of the collection at `path`.
    /// - Throws: `LSRError.corruptIndex` naming the manifest when its header, checksum or body
    ///   is wrong, or its counts do not describe a round-robin partition; `.unsupportedVersion`
    ///   for another format; `.io` when it cannot be read.
    public static func read(collection path: String) throws -> CollectionManifest {
        let file = self.path(inCollection: path)
        guard let data = FileManager.default.contents(atPath: file) else {
            throw LSRError(.io, "cannot read the collection manifest", path: file)
        }
        let remedy = "rebuild the collection"
        let body = try SideFile.body(of: Array(data), magic: "lsr-collection", version: formatVersion, path: file, remedy: remedy)
        func corrupt(_ message: String) -> LSRError { LSRError(.corruptIndex, message + "; " + remedy, path: file) }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: CollectionManifest
        do {
            manifest = try decoder.decode(CollectionManifest.self, from: Data(body))
        } catch {
            throw corrupt("unreadable body: \(error)")
        }
        guard manifest.partition == roundRobin else { throw corrupt("unknown partition '\(manifest.partition)'") }
        guard !manifest.shards.isEmpty, manifest.shards.count <= maximumShards else {
            throw corrupt("\(manifest.shards.count) shards; a collection has 1 … \(maximumShards)")
        }
        guard manifest.documentCount >= manifest.shards.count, manifest.documentCount / manifest.shards.count < Int(UInt32.max) else {
            throw corrupt("\(manifest.documentCount) documents cannot fill \(manifest.shards.count) shards of at most \(UInt32.max) documents")
        }
        guard manifest == CollectionManifest(documentCount: manifest.documentCount, shardCount: manifest.shards.count).writtenBy(manifest.writtenBy)
        else {
            throw corrupt("the shards' directories or document counts do not form a round-robin partition of \(manifest.documentCount) documents")
        }
        return manifest
    }

    /// This manifest, recorded as written by `release`.
    private func writtenBy(_ release: String) -> CollectionManifest {
        var copy = self
        copy.writtenBy = release
        return copy
    }
}
