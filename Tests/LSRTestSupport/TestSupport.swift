import Foundation
import LSR
import XCTest

/// A synthetic collection of sparse vectors with string tokens, reproducible from a seed.
public struct SyntheticCollection {
    public var ids: [String]
    /// Per vector: (token, weight), tokens distinct, in no particular order.
    public var vectors: [[(token: String, weight: Float)]]
    /// The token of each binary component id.
    public var vocabulary: [String]

    /// `count` vectors over `dimension` tokens named `t0`, `t1`, …, with positive weights and token
    /// popularity skewed towards low ids by `skew` (1: uniform).
    public init(seed: UInt64, count: Int, dimension: Int, meanLength: Int, idPrefix: String = "doc", skew: Double = 2.5) {
        var rng = SplitMix64(seed: seed)
        vocabulary = (0 ..< dimension).map { "t\($0)" }
        ids = (0 ..< count).map { "\(idPrefix)\($0)" }
        vectors = (0 ..< count).map { _ in
            let length = Int.random(in: 1 ... max(1, 2 * meanLength), using: &rng)
            var chosen = Set<Int>()
            while chosen.count < min(length, dimension) {
                let u = Double.random(in: 0 ..< 1, using: &rng)
                chosen.insert(min(dimension - 1, Int(pow(u, skew) * Double(dimension))))
            }
            return chosen.sorted().map { (token: "t\($0)", weight: Float.random(in: 0.01 ... 3, using: &rng)) }
        }
    }

    /// Seismic JSONL text, one record per line.
    public func jsonl(withContent: Bool = true) -> String {
        var text = ""
        for (id, vector) in zip(ids, vectors) {
            let entries = vector.map { "\"\($0.token)\": \($0.weight)" }.joined(separator: ", ")
            text += "{\"id\": \"\(id)\"" + (withContent ? ", \"content\": \"text of \(id)\"" : "") + ", \"vector\": {\(entries)}}\n"
        }
        return text
    }

    /// Seismic binary bytes (components are positions in `vocabulary`).
    public func binary() -> [UInt8] {
        var bytes: [UInt8] = []
        func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        put(UInt32(vectors.count))
        for vector in vectors {
            let sorted = vector.map { (Int($0.token.dropFirst())!, $0.weight) }.sorted { $0.0 < $1.0 }
            put(UInt32(sorted.count))
            for (c, _) in sorted { put(UInt32(c)) }
            for (_, w) in sorted { put(w.bitPattern) }
        }
        return bytes
    }

    /// Exact dot products of `query` with every vector, in Double.
    public func bruteForce(_ query: [(token: String, weight: Float)], transform: (Float) -> Float = { $0 }) -> [Double] {
        let q = Dictionary(uniqueKeysWithValues: query.map { ($0.token, Double($0.weight)) })
        return vectors.map { vector in
            vector.reduce(0.0) { $0 + (q[$1.token] ?? 0) * Double(transform($1.weight)) }
        }
    }
}

/// A fresh temporary directory, removed by `cleanUp()`.
public final class TemporaryDirectory {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "lsr-test-\(getpid())-\(UInt64.random(in: 0 ... .max))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func file(_ name: String) -> String { path + "/" + name }
    /// Builds an index of `collection` (written as JSONL) in this directory and opens it.
    public func buildIndex(_ collection: SyntheticCollection, _ configuration: BuildConfiguration, name: String) throws -> Index {
        let input = write(collection.jsonl(), to: name + ".jsonl")
        try IndexBuilder(configuration: configuration).build(input: try VectorFileReader(path: input), outputPath: file(name))
        return try Index(path: file(name))
    }
    /// Reads `collection` (written as JSONL) as queries for `index`.
    public func queries(_ collection: SyntheticCollection, for index: Index, name: String) throws -> QuerySet {
        try index.readQueries(path: write(collection.jsonl(), to: name + ".jsonl"))
    }
    public func write(_ text: String, to name: String) -> String {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(text.utf8))
        return file(name)
    }
    public func write(_ bytes: [UInt8], to name: String) -> String {
        _ = FileManager.default.createFile(atPath: file(name), contents: Data(bytes))
        return file(name)
    }
    public func cleanUp() { try? FileManager.default.removeItem(atPath: path) }
}

/// Every line of a JSONL file (plain or zstd), parsed as a JSON object.
public func jsonObjects(_ path: String) throws -> [[String: Any]] {
    var lines = LineReader(stream: try openByteStream(path))
    var records: [[String: Any]] = []
    while try lines.nextLine({ bytes, _ in
        records.append(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:])
    }) != nil {}
    return records
}

/// Paths of the team's shared data (`../shared/data` beside the repository).
public enum SharedData {
    public static let root: String = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()
    public static var available: Bool { FileManager.default.fileExists(atPath: root + "/README.md") }
    public static func path(_ relative: String) -> String { root + "/" + relative }
}

/// The repository's root directory.
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The built `lsr` executable, next to the test bundle.
public var lsrExecutable: URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let beside = directory.appendingPathComponent("lsr")
    return FileManager.default.fileExists(atPath: beside.path) ? beside : directory.deletingLastPathComponent().appendingPathComponent("lsr")
}

/// Starts `lsr` with its output discarded and returns the running process.
public func startLSR(_ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = lsrExecutable
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs the built `lsr` executable and captures its output.
/// - Parameter fileSizeLimit: a file size limit in bytes (`ulimit -f`), to simulate a full disk.
public func runLSR(
    _ arguments: [String], environment: [String: String] = [:], fileSizeLimit: Int? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    if let fileSizeLimit {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f \(fileSizeLimit / 512) && exec \"$0\" \"$@\"", lsrExecutable.path] + arguments
    } else {
        process.executableURL = lsrExecutable
        process.arguments = arguments
    }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// A NumPy `.npy` file (format 1.0) holding `rows`: float32 (`<f4`) or float16 (`<f2`) values;
/// `descr`, `fortranOrder` and `shape` override the header, to make bad files.
public func npyBytes(_ rows: [[Float]], descr: String = "<f4", fortranOrder: Bool = false, shape: String? = nil) -> [UInt8] {
    let columns = rows.first?.count ?? 0
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shape ?? "(\(rows.count), \(columns))"), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
    for row in rows {
        for v in row {
            if descr == "<f2" {
                withUnsafeBytes(of: HalfPrecision.encode(v).littleEndian) { bytes += $0 }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
            }
        }
    }
    return bytes
}

/// An `.fvecs` file holding `rows` (each row's own length is written).
public func fvecsBytes(_ rows: [[Float]]) -> [UInt8] {
    var bytes: [UInt8] = []
    for row in rows {
        withUnsafeBytes(of: Int32(row.count).littleEndian) { bytes += $0 }
        for v in row { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
    }
    return bytes
}

/// Runs `lsr` expecting it to fail with a one-line error on standard error that contains every
/// fragment.
public func assertLSRFails(_ arguments: [String], mentions fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try runLSR(arguments)
    XCTAssertNotEqual(result.status, 0, file: file, line: line)
    XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
    for fragment in fragments { XCTAssertTrue(result.stderr.contains(fragment), "\(fragment) in: \(result.stderr)", file: file, line: line) }
}
