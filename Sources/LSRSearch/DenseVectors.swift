import CLSRKernels
import Foundation
import LSRFormats
import LSRVectors

/// The dense document vectors stored beside an index (`dense.lsr`, `DenseLayout`), mapped.
///
/// Opening checks the header, the section table and that the matrix has one row per document of
/// the index; `lsr check` (``verify()``) compares both sections with their checksums.
public final class DenseVectors: @unchecked Sendable {
    // @unchecked Sendable: read-only views into a mapping this object owns.
    /// The `dense.lsr` file.
    public let path: String
    /// The matrix's rows, dimension, storage precision and source file, from `dense.meta`.
    public let metadata: DenseMetadata
    let file: IndexFile
    /// `rows × dimension` values, f16 bits or f32.
    let values: UnsafeRawBufferPointer

    /// Opens `path`, which must hold one row per document of an index of `documentCount`.
    /// - Throws: `LSRError.corruptIndex` naming the file, `.io`, `.unsupportedVersion`.
    public init(path: String, documentCount: Int) throws {
        self.path = path
        file = try IndexFile(path: path)
        let json = try file.verifiedSection(DenseLayout.metadata)
        do {
            metadata = try JSONDecoder().decode(DenseMetadata.self, from: Data(json))
        } catch {
            throw LSRError(.corruptIndex, "unreadable dense metadata", path: path, field: DenseLayout.metadata)
        }
        guard metadata.rows == documentCount else {
            throw LSRError(.corruptIndex, "\(metadata.rows) dense rows for an index of \(documentCount) documents", path: path)
        }
        guard (1 ... DenseMatrixReader.maximumDimension).contains(metadata.dimension) else {
            throw LSRError(.corruptIndex, "dense dimension \(metadata.dimension)", path: path, field: DenseLayout.metadata)
        }
        values = try file.section(DenseLayout.vectors)
        guard values.count == metadata.rows * metadata.dimension * metadata.precision.byteWidth else {
            throw LSRError(.corruptIndex, "section '\(DenseLayout.vectors)' has \(values.count) bytes, expected "
                           + "\(metadata.rows) × \(metadata.dimension) × \(metadata.precision.byteWidth)", path: path, field: DenseLayout.vectors)
        }
    }

    /// Values per row.
    public var dimension: Int { metadata.dimension }

    /// Bytes of `dense.lsr`.
    public var fileBytes: Int { file.byteCount }

    /// Recomputes both section checksums.
    /// - Returns: the names of damaged sections (empty when intact).
    public func verify() -> [String] { file.verifyChecksums() }

    /// Document `d`'s vector, as floats, into `row` (at least ``dimension`` of them).
    /// - Throws: `LSRError.invalidArgument` when `d` is not a document or `row` is too short.
    public func vector(of d: Int, into row: UnsafeMutableBufferPointer<Float>) throws {
        guard d >= 0 && d < metadata.rows else { throw LSRError(.invalidArgument, "document \(d) is outside 0..<\(metadata.rows)") }
        guard row.count >= dimension else { throw LSRError(.invalidArgument, "a row of \(row.count) floats cannot hold \(dimension)") }
        let n = dimension
        switch metadata.precision {
        case .f16:
            // Rows start at even byte offsets of a 64-byte aligned section: the u16 view is aligned.
            lsr_decode_halves((values.baseAddress! + d * n * 2).assumingMemoryBound(to: UInt16.self), row.baseAddress!, n)
        case .f32:
            let base = values.baseAddress! + d * n * 4
            for j in 0 ..< n { row[j] = base.loadUnaligned(fromByteOffset: 4 * j, as: Float.self) }
        }
    }
}
