import Foundation
import LSRFormats
import LSRVectors

/// Dense vectors to store beside an index (`dense.lsr`, `DenseLayout`).
public struct DenseInput: Sendable {
    /// The matrix: `.npy` (float32 or float16, C order) or `.fvecs`, plain or zstd-compressed.
    public var path: String
    /// One document id per line giving each row's document; nil when the rows are in the
    /// documents' order.
    public var idsPath: String?
    /// How the values are stored in the index.
    public var precision: ValuePrecision

    /// The matrix at `path`, rows in document order unless `idsPath` is given, stored as `precision`.
    public init(path: String, idsPath: String? = nil, precision: ValuePrecision = .f16) {
        self.path = path
        self.idsPath = idsPath
        self.precision = precision
    }

    /// Writes `indexDirectory/dense.lsr` from the matrix, row r stored at the position of its
    /// document: the r-th id of `idsPath` looked up with `position`, or r itself.
    ///
    /// The file is written beside its final name and renamed into place at the end: a failure
    /// leaves any earlier `dense.lsr` as it was. Memory: one row.
    /// - Parameters:
    ///   - documentCount: the index's documents; every one needs exactly one row.
    ///   - position: a document id's position in the index, or nil when it has none.
    /// - Throws: `LSRError.invalidInput` naming the file and row (an unknown or repeated id, too
    ///   many or too few rows, and every problem of ``DenseMatrixReader``), `.io`.
    public func write(indexDirectory: String, documentCount: Int, position: (String) -> Int?) throws {
        let reader = try DenseMatrixReader(path: path)
        let ids = try idsPath.map(readIDFile)
        if let ids, let rows = reader.declaredRows, rows != ids.count {
            throw LSRError(.invalidInput, "\(rows) rows, but the ids file \(idsPath!) has \(ids.count) ids", path: path)
        }
        let target = indexDirectory + "/" + DenseLayout.fileName
        let temporary = target + ".tmp-\(getpid())"
        do {
            let writer = try IndexFileWriter(path: temporary)
            let rowBytes = reader.dimension * precision.byteWidth
            let (bytes, overflow) = documentCount.multipliedReportingOverflow(by: rowBytes)
            guard !overflow else { throw LSRError(.invalidArgument, "\(documentCount) rows of \(rowBytes) bytes overflow", path: path) }
            let start = try writer.reserveSection(DenseLayout.vectors, length: bytes)
            var placed = [Bool](repeating: false, count: documentCount)
            let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: reader.dimension)
            defer { row.deallocate() }
            var encoded = [UInt8](repeating: 0, count: rowBytes)
            while try reader.next(into: row) {
                let r = reader.rowsRead - 1
                func invalid(_ message: String) -> LSRError { LSRError(.invalidInput, message, path: path, field: "row \(r)") }
                let d: Int
                if let ids {
                    guard r < ids.count else { throw invalid("more rows than the \(ids.count) ids of \(idsPath!)") }
                    guard let p = position(ids[r]) else { throw invalid("id '\(ids[r])' (line \(r + 1) of \(idsPath!)) is not a document of the index") }
                    d = p
                } else {
                    guard r < documentCount else { throw invalid("more rows than the index's \(documentCount) documents") }
                    d = r
                }
                guard !placed[d] else { throw invalid("a second row for document \(ids?[r] ?? "\(d)")") }
                placed[d] = true
                if precision == .f16, let j = row.firstIndex(where: { abs($0) > HalfPrecision.greatestFiniteMagnitude }) {
                    throw invalid("value \(j) is \(row[j]), beyond float16's range; store with --dense-precision f32")
                }
                encode(row, into: &encoded)
                try encoded.withUnsafeBytes { try writer.write($0, at: start + d * rowBytes) }
            }
            if let missing = placed.firstIndex(of: false) {
                throw LSRError(
                    .invalidInput,
                    "\(reader.rowsRead) rows for \(documentCount) documents: document \(missing) (the \(missing + 1)-th) has no row"
                        + (ids == nil ? "" : " in \(idsPath!)"), path: path)
            }
            try writer.completeSectionReadingBack(DenseLayout.vectors)
            let metadata = DenseMetadata(
                rows: documentCount, dimension: reader.dimension, precision: precision,
                source: URL(fileURLWithPath: path).lastPathComponent)
            try writer.addSection(DenseLayout.metadata, array: try metadata.encoded())
            try writer.finish()
            guard rename(temporary, target) == 0 else {
                throw LSRError(.io, "cannot rename into place: \(String(cString: strerror(errno)))", path: target)
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    private func encode(_ row: UnsafeMutableBufferPointer<Float>, into bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { out in
            for (j, v) in row.enumerated() {
                if precision == .f16 {
                    out.storeBytes(of: HalfPrecision.encode(v).littleEndian, toByteOffset: 2 * j, as: UInt16.self)
                } else {
                    out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * j, as: UInt32.self)
                }
            }
        }
    }
}
