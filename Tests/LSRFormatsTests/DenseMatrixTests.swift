import LSRFormats
import LSRTestSupport
import LSRVectors
import XCTest

final class DenseMatrixReaderTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private let rows: [[Float]] = [[0.5, -1.25, 3], [0, 2, -0.125], [1e-3, 7, 65504]]

    private func readAll(_ path: String) throws -> (DenseMatrixReader, [[Float]]) {
        let reader = try DenseMatrixReader(path: path)
        let row = UnsafeMutableBufferPointer<Float>.allocate(capacity: reader.dimension)
        defer { row.deallocate() }
        var read: [[Float]] = []
        while try reader.next(into: row) { read.append(Array(row)) }
        return (reader, read)
    }

    private func assertInvalid(_ bytes: [UInt8], _ expected: String, field: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let path = directory.write(bytes, to: "bad-\(UInt32.random(in: 0 ... .max)).npy")
        XCTAssertThrowsError(try readAll(path), file: file, line: line) { error in
            guard let error = error as? LSRError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.code, .invalidInput, file: file, line: line)
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssert(error.description.contains(expected), error.description, file: file, line: line)
            if let field { XCTAssertEqual(error.field, field, file: file, line: line) }
        }
    }

    func testRoundTrips() throws {
        let (f32, read32) = try readAll(directory.write(npyBytes(rows), to: "m.npy"))
        XCTAssertEqual(f32.format, .npy)
        XCTAssertEqual(f32.storedPrecision, .f32)
        XCTAssertEqual(f32.declaredRows, 3)
        XCTAssertEqual(read32, rows)
        let (f16, read16) = try readAll(directory.write(npyBytes(rows, descr: "<f2"), to: "h.npy"))
        XCTAssertEqual(f16.storedPrecision, .f16)
        XCTAssertEqual(read16, rows.map { $0.map(HalfPrecision.round) })
        let (fvecs, readF) = try readAll(directory.write(fvecsBytes(rows), to: "m.fvecs"))
        XCTAssertEqual(fvecs.format, .fvecs)
        XCTAssertEqual(fvecs.dimension, 3)
        XCTAssertEqual(readF, rows)
        // Zero rows is a matrix too; one row of one value as well.
        XCTAssertEqual(try readAll(directory.write(npyBytes([], shape: "(0, 4)"), to: "empty.npy")).1, [])
        XCTAssertEqual(try readAll(directory.write(npyBytes([[2]]), to: "one.npy")).1, [[2]])
    }

    func testRejectsBadHeaders() {
        assertInvalid(npyBytes(rows, descr: ">f4"), "big-endian")
        assertInvalid(npyBytes(rows, descr: "<f8"), "'<f8' is not supported")
        assertInvalid(npyBytes(rows, descr: "<i4"), "not supported")
        assertInvalid(npyBytes(rows, fortranOrder: true), "Fortran order")
        assertInvalid(npyBytes(rows, shape: "(9,)"), "not a 2-D matrix")
        assertInvalid(npyBytes(rows, shape: "(1, 3, 3)"), "not a 2-D matrix")
        assertInvalid(npyBytes([], shape: "(0, 0)"), "dimension 0")
        assertInvalid(npyBytes([], shape: "(1, 5000)"), "dimension 5000")
        assertInvalid(Array(npyBytes(rows)[..<20]), "truncated header")
        assertInvalid([], "empty file")
        assertInvalid(fvecsBytes([[Float](repeating: 1, count: 5000)]), "dimension 5000", field: "row 0")
    }

    func testRejectsBadRowsNamingTheRow() {
        var nan = rows
        nan[1][2] = .nan
        assertInvalid(npyBytes(nan), "row 1 value 2 is nan", field: "row 1")
        var infinite = rows
        infinite[2][0] = -.infinity
        assertInvalid(fvecsBytes(infinite), "row 2 value 0 is -inf", field: "row 2")
        // A float16 infinity (bits 0x7c00) in row 0's last value.
        var half = npyBytes([[1, 1]], descr: "<f2")
        half[half.count - 2 ..< half.count] = [0x00, 0x7c]
        assertInvalid(half, "row 0 value 1 is inf", field: "row 0")
        let whole = npyBytes(rows)
        assertInvalid(Array(whole.dropLast(5)), "ends inside row 2", field: "row 2")
        assertInvalid(whole + [0, 0, 0, 0], "more data than its header's 3 rows", field: "row 3")
        assertInvalid(npyBytes(rows, shape: "(4, 3)"), "ends inside row 3", field: "row 3")
        assertInvalid(fvecsBytes([[1, 2, 3], [1, 2]]), "row 1 has dimension 2, row 0 has 3", field: "row 1")
        assertInvalid(Array(fvecsBytes(rows).dropLast(2)), "ends inside row 2", field: "row 2")
        assertInvalid(fvecsBytes(rows) + [1, 0], "ends inside row 3's dimension field", field: "row 3")
    }
}
