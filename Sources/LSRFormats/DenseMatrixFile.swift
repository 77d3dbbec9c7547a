import Foundation
import LSRVectors

/// A matrix of dense vectors read one row at a time: NumPy `.npy` (2-D, float32 or float16, little
/// endian, C order; format versions 1 to 3) or `.fvecs` (per row a little-endian int32 dimension,
/// then that many float32), either plain or zstd-compressed.
///
/// Memory stays at one row whatever the file size. Every problem is an `LSRError.invalidInput`
/// naming the file and the row (0-based, as NumPy counts): another dtype, Fortran order, not 2-D,
/// a dimension of 0 or above ``maximumDimension``, a row of another length (`.fvecs`), a NaN or
/// infinite value, a file that ends inside a row or holds more rows than its header says.
public final class DenseMatrixReader {
    /// The file formats read.
    public enum Format: String, Sendable {
        /// NumPy `.npy`: 2-D, float32 or float16, little endian, C order, format versions 1–3.
        case npy
        /// `.fvecs`: per row a little-endian int32 dimension, then that many float32 values.
        case fvecs
    }

    /// The largest dimension accepted.
    public static let maximumDimension = 4096

    /// The file being read, as given.
    public let path: String
    /// The file's format, recognized from its content (not its name).
    public let format: Format
    /// Values per row.
    public let dimension: Int
    /// The number of rows when the header says (`.npy`); nil for `.fvecs`, which has no header.
    public let declaredRows: Int?
    /// How values are stored in the file: float16 or float32.
    public let storedPrecision: ValuePrecision
    /// Rows read so far.
    public private(set) var rowsRead = 0

    private let stream: any ByteStream
    private var buffer: [UInt8]
    private var bufferStart = 0, bufferEnd = 0
    /// The `.fvecs` dimension field of the next row, already read when the file was opened.
    private var pendingDimension: Int?

    /// Opens `path` and reads its header (for `.fvecs`, the first row's dimension). The format
    /// comes from the content: `.npy` files start with `\x93NUMPY`, anything else is `.fvecs`.
    /// - Throws: `LSRError.io`, `.compression` or `.invalidInput`.
    public init(path: String) throws {
        self.path = path
        stream = try openByteStream(path)
        buffer = [UInt8](repeating: 0, count: 1 << 16)
        var magic = [UInt8](repeating: 0, count: 6)
        let got = try Self.fill(&magic, from: stream)
        if got == 6 && magic == [0x93] + Array("NUMPY".utf8) {
            format = .npy
            let header = try Self.readNumpyHeader(stream, path: path)
            dimension = header.columns
            declaredRows = header.rows
            storedPrecision = header.precision
        } else {
            format = .fvecs
            storedPrecision = .f32
            declaredRows = nil
            // The first 4 bytes are row 0's dimension; the other 2 bytes read are row 0's data.
            guard got >= 4 else {
                if got == 0 { throw LSRError(.invalidInput, "empty file: no .npy header and no .fvecs row", path: path) }
                throw LSRError(.invalidInput, "truncated: the file ends inside row 0's dimension field", path: path, byteOffset: 0)
            }
            let d = Int(Int32(littleEndian: magic.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
            try Self.checkDimension(d, path: path, row: 0)
            dimension = d
            buffer.replaceSubrange(0 ..< got - 4, with: magic[4 ..< got])
            bufferEnd = got - 4
            pendingDimension = d
        }
    }

    /// Reads the next row into `row` (at least ``dimension`` floats).
    /// - Returns: false at the end of the matrix.
    /// - Throws: `LSRError.invalidInput` naming the row when it is truncated, of another length,
    ///   or holds a NaN or infinity; when a `.npy` file holds more or fewer rows than its header.
    public func next(into row: UnsafeMutableBufferPointer<Float>) throws -> Bool {
        precondition(row.count >= dimension)
        let r = rowsRead
        switch format {
        case .npy:
            if r == declaredRows {
                if try available(1) { throw invalid("the file holds more data than its header's \(declaredRows!) rows", row: r) }
                return false
            }
            let width = storedPrecision.byteWidth
            guard try available(dimension * width) else {
                throw invalid("truncated: the file ends inside row \(r) (the header says \(declaredRows!) rows)", row: r)
            }
            buffer.withUnsafeBytes { bytes in
                let base = bytes.baseAddress! + bufferStart
                for j in 0 ..< dimension {
                    if width == 2 {
                        let bits = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self))
                        // HalfPrecision.decode is exact for finite halves only: keep infinities and NaNs.
                        row[j] = bits & 0x7c00 != 0x7c00 ? HalfPrecision.decode(bits)
                            : bits & 0x3ff != 0 ? .nan : bits & 0x8000 != 0 ? -.infinity : .infinity
                    } else {
                        row[j] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)))
                    }
                }
            }
            bufferStart += dimension * width
        case .fvecs:
            let d: Int
            if let pending = pendingDimension {
                d = pending
                pendingDimension = nil
            } else {
                guard try available(4) else {
                    if bufferEnd > bufferStart { throw invalid("truncated: the file ends inside row \(r)'s dimension field", row: r) }
                    return false
                }
                d = Int(Int32(littleEndian: buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bufferStart, as: Int32.self) }))
                bufferStart += 4
            }
            guard d == dimension else { throw invalid("row \(r) has dimension \(d), row 0 has \(dimension)", row: r) }
            guard try available(4 * d) else { throw invalid("truncated: the file ends inside row \(r)", row: r) }
            buffer.withUnsafeBytes { bytes in
                let base = bytes.baseAddress! + bufferStart
                for j in 0 ..< d { row[j] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self))) }
            }
            bufferStart += 4 * d
        }
        for j in 0 ..< dimension where !row[j].isFinite {
            throw invalid("row \(r) value \(j) is \(row[j]): dense vectors must be finite", row: r)
        }
        rowsRead += 1
        return true
    }

    private func invalid(_ message: String, row: Int) -> LSRError {
        LSRError(.invalidInput, message, path: path, field: "row \(row)")
    }

    /// Whether `count` more bytes are buffered, reading from the stream as needed (false at the
    /// end of the file).
    private func available(_ count: Int) throws -> Bool {
        if bufferEnd - bufferStart >= count { return true }
        if bufferStart > 0 {
            buffer.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + bufferStart, byteCount: bufferEnd - bufferStart) }
            bufferEnd -= bufferStart
            bufferStart = 0
        }
        if buffer.count < count { buffer += [UInt8](repeating: 0, count: count - buffer.count) }
        while bufferEnd < count {
            let n = try buffer.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[bufferEnd...])) }
            if n == 0 { return false }
            bufferEnd += n
        }
        return true
    }

    private static func fill(_ bytes: inout [UInt8], from stream: any ByteStream) throws -> Int {
        var filled = 0
        while filled < bytes.count {
            let n = try bytes.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    private static func checkDimension(_ d: Int, path: String, row: Int) throws {
        guard d >= 1 && d <= maximumDimension else {
            throw LSRError(.invalidInput, "dimension \(d) is outside 1...\(maximumDimension)", path: path, field: "row \(row)")
        }
    }

    /// Parses the header after the magic: version, header length, and the dictionary
    /// `{'descr': '<f4', 'fortran_order': False, 'shape': (rows, columns), }`.
    private static func readNumpyHeader(_ stream: any ByteStream, path: String) throws -> (rows: Int, columns: Int, precision: ValuePrecision) {
        func bad(_ message: String) -> LSRError { LSRError(.invalidInput, message, path: path, field: "npy header") }
        var version = [UInt8](repeating: 0, count: 2)
        guard try fill(&version, from: stream) == 2 else { throw bad("truncated header") }
        guard (1 ... 3).contains(version[0]) else { throw bad("unsupported .npy format version \(version[0]).\(version[1])") }
        var lengthBytes = [UInt8](repeating: 0, count: version[0] == 1 ? 2 : 4)
        guard try fill(&lengthBytes, from: stream) == lengthBytes.count else { throw bad("truncated header") }
        let length = lengthBytes.reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= 1 << 20 else { throw bad("header of \(length) bytes is implausibly long") }
        var text = [UInt8](repeating: 0, count: length)
        guard try fill(&text, from: stream) == length else { throw bad("truncated header") }
        let header = String(decoding: text, as: UTF8.self)
        func value(of key: String) throws -> Substring {
            guard let keyRange = header.range(of: "'\(key)'"),
                  let colon = header[keyRange.upperBound...].firstIndex(of: ":") else { throw bad("no '\(key)' in \(header.trimmingCharacters(in: .newlines))") }
            let rest = header[header.index(after: colon)...].drop { $0 == " " }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { throw bad("unterminated '\(key)'") }
                return rest[...close]
            }
            return rest.prefix { $0 != "," && $0 != "}" }
        }
        let descr = try value(of: "descr").trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
        let precision: ValuePrecision
        switch descr {
        case "<f4": precision = .f32
        case "<f2": precision = .f16
        case ">f4", ">f2": throw bad("dtype '\(descr)' is big-endian; save the array little-endian (astype('<f4'))")
        default: throw bad("dtype '\(descr)' is not supported: dense vectors must be float32 ('<f4') or float16 ('<f2')")
        }
        guard try value(of: "fortran_order") == "False" else {
            throw bad("the array is in Fortran order; save a C-ordered array (numpy.ascontiguousarray)")
        }
        let shape = try value(of: "shape").dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard shape.count == 2, let rows = Int(shape[0]), let columns = Int(shape[1]), rows >= 0 else {
            throw bad("shape (\(shape.joined(separator: ", "))) is not a 2-D matrix (rows, dimension)")
        }
        guard columns >= 1 && columns <= maximumDimension else { throw bad("dimension \(columns) is outside 1...\(maximumDimension)") }
        return (rows, columns, precision)
    }
}

/// The ids of an ids file: one per line, plain or zstd; a trailing empty line is ignored.
/// - Throws: `LSRError.invalidInput` naming the file and line of an empty id; `.io`, `.compression`.
package func readIDFile(_ path: String) throws -> [String] {
    // "\r\n" is one Character in Swift: both line ends split.
    var lines = String(decoding: try readFileBytes(path), as: UTF8.self)
        .split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    if lines.last == "" { lines.removeLast() }
    return try lines.enumerated().map { i, line in
        let id = String(line)
        guard !id.isEmpty else { throw LSRError(.invalidInput, "empty id", path: path, line: i + 1) }
        return id
    }
}
