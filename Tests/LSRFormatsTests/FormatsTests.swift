import LSRFormats
import LSRTestSupport
import LSRVectors
import XCTest

final class XXHash64Tests: XCTestCase {
    func testKnownVectors() {
        func hash(_ s: String) -> UInt64 { Array(s.utf8).withUnsafeBytes { XXHash64.hash($0) } }
        XCTAssertEqual(hash(""), 0xEF46_DB37_51D8_E999)
        XCTAssertEqual(hash("a"), 0xD24E_C4F1_A98C_6E5B)
        XCTAssertEqual(hash("abc"), 0x44BC_2CF5_AD77_0999)
        XCTAssertEqual(hash("Nobody inspects the spammish repetition"), 0xFBCE_A83C_8A37_8BF1)
    }

    /// Fed in arbitrary pieces, the streaming hasher gives the one-shot hash of the whole.
    func testStreamingMatchesOneShot() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 4099] {
            let bytes = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            let expected = bytes.withUnsafeBytes { XXHash64.hash($0) }
            for _ in 0 ..< 20 {
                var hasher = XXHash64.Hasher()
                var at = 0
                while at < length {
                    let piece = Int.random(in: 0 ... min(70, length - at), using: &generator)
                    bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[at ..< at + piece])) }
                    at += piece
                }
                XCTAssertEqual(hasher.byteCount, length)
                XCTAssertEqual(hasher.finalize(), expected, "length \(length)")
            }
        }
    }
}

final class VectorFileReaderTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func read(_ path: String) throws -> [VectorRecord] {
        let reader = try VectorFileReader(path: path)
        var records: [VectorRecord] = []
        try reader.forEach { records.append(copy $0) }
        return records
    }

    private func assertError(_ text: String, line: Int, contains fragment: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        let path = directory.write(text, to: "bad-\(UInt32.random(in: 0 ... .max)).jsonl")
        XCTAssertThrowsError(try read(path), file: file, line: lineNumber) { error in
            guard let error = error as? LSRError else { return XCTFail("not an LSRError: \(error)", file: file, line: lineNumber) }
            XCTAssertEqual(error.path, path, file: file, line: lineNumber)
            XCTAssertEqual(error.line, line, file: file, line: lineNumber)
            XCTAssertTrue(error.description.contains(fragment), "\(error)", file: file, line: lineNumber)
        }
    }

    func testReadsIdsContentTokensAndDropsZeroWeights() throws {
        let path = directory.write(
            "\u{FEFF}{\"id\": \"a\", \"content\": \"x\\n\\u00e9\", \"vector\": {\"b\": 1.5, \"a\": 2, \"z\": 0}}\r\n\n{\"id\": 7, \"vector\": {\"a\": 1e-1}}",
            to: "ok.jsonl")
        let reader = try VectorFileReader(path: path)
        var records: [VectorRecord] = []
        try reader.forEach { records.append(copy $0) }
        XCTAssertEqual(records.map(\.id), ["a", "7"])
        XCTAssertEqual(records[0].content, "x\né")
        XCTAssertEqual(records[0].components.map { reader.tokens[Int($0)] }, ["b", "a"])
        XCTAssertEqual(records[0].values, [1.5, 2])
        XCTAssertEqual(records[1].line, 3)
        XCTAssertEqual(reader.skippedEmptyLines, 1)
        XCTAssertEqual(reader.droppedZeroWeights, 1)
    }

    func testRejectsBadRecordsNamingLineAndField() {
        let good = "{\"id\": \"ok\", \"vector\": {\"a\": 1}}\n"
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": -1}}\n", line: 2, contains: "negative")
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": \"1\"}}\n", line: 2, contains: "string")
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": NaN}}\n", line: 2, contains: "NaN")
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": 1e39}}\n", line: 2, contains: "too large")
        assertError(good + "{\"id\": \"x\", \"vector\": [1]}\n", line: 2, contains: "field 'vector'")
        assertError(good + "{\"vector\": {\"a\": 1}}\n", line: 2, contains: "field 'id': missing")
        assertError(good + "{\"id\": \"ok\", \"vector\": {\"a\": 1}}\n", line: 2, contains: "duplicate id 'ok'")
        assertError(good + "[1, 2]\n", line: 2, contains: "must be a JSON object")
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": 1}\n", line: 2, contains: "invalid JSON")
        assertError(good + "{\"id\": \"x\", \"vector\": {\"a\": 1, \"a\": 2}}\n", line: 2, contains: "twice")
    }

    func testRejectsInvalidUTF8() {
        let path = directory.write(Array("{\"id\": \"".utf8) + [0xFF] + Array("\", \"vector\": {}}\n".utf8), to: "utf8.jsonl")
        XCTAssertThrowsError(try read(path)) { XCTAssertTrue("\($0)".contains("UTF-8"), "\($0)") }
    }

    func testCompressedInputReadsTheSameAndTruncationIsReported() throws {
        let collection = SyntheticCollection(seed: 1, count: 50, dimension: 40, meanLength: 6)
        let plain = directory.write(collection.jsonl(), to: "c.jsonl")
        let compressed = try ZstdCompression.compress(Array(collection.jsonl().utf8))
        let zst = directory.write(compressed, to: "c.jsonl.zst")
        XCTAssertEqual(try read(plain).map(\.values), try read(zst).map(\.values))
        let truncated = directory.write(Array(compressed.dropLast(7)), to: "t.jsonl.zst")
        XCTAssertThrowsError(try read(truncated)) { error in
            XCTAssertEqual((error as? LSRError)?.code, .compression, "\(error)")
        }
    }

    func testBinaryReaderChecksStructure() throws {
        func bin(_ words: [UInt32]) -> String {
            var bytes: [UInt8] = []
            for w in words { withUnsafeBytes(of: w.littleEndian) { bytes += $0 } }
            return directory.write(bytes, to: "v\(UInt32.random(in: 0 ... .max)).bin")
        }
        let one = Float(1).bitPattern
        XCTAssertEqual(try read(bin([1, 2, 3, 5, one, one])).first?.components.count, 2)
        XCTAssertThrowsError(try read(bin([1, 2, 5, 3, one, one]))) { XCTAssertTrue("\($0)".contains("not ascending"), "\($0)") }
        XCTAssertThrowsError(try read(bin([1, 2, 3, 3, one, one]))) { XCTAssertTrue("\($0)".contains("duplicate component"), "\($0)") }
        XCTAssertThrowsError(try read(bin([2, 1, 3, one]))) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        XCTAssertThrowsError(try read(bin([1, 1000, 3, one]))) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        XCTAssertThrowsError(try read(bin([1, 1, 3, Float.nan.bitPattern]))) { XCTAssertTrue("\($0)".contains("not finite"), "\($0)") }
    }

    /// Without a vocabulary, binary components are numbered in order of first appearance; zero
    /// weights are dropped before numbering, so a component only ever seen at zero gets no token.
    func testBinaryReaderNumbersComponentsAndDropsZeroWeights() throws {
        var bytes: [UInt8] = []
        let zero = Float(0).bitPattern
        for w: UInt32 in [3, 3, 5, 9, 12, Float(1).bitPattern, zero, Float(2).bitPattern, 2, 9, 40, zero, Float(3).bitPattern, 1, 12, zero] {
            withUnsafeBytes(of: w.littleEndian) { bytes += $0 }
        }
        let reader = try VectorFileReader(path: directory.write(bytes, to: "numbered.bin"))
        var records: [VectorRecord] = []
        try reader.forEach { records.append(copy $0) }
        XCTAssertEqual(records.map { $0.components.map { reader.tokens[Int($0)] } }, [["5", "12"], ["40"], []])
        XCTAssertEqual(records.map(\.values), [[1, 2], [3], []])
        XCTAssertEqual(reader.tokens, ["5", "12", "40"])
        XCTAssertEqual((0 ..< 3).map { reader.sourceComponent(of: UInt32($0)) }, [5, 12, 40])
        XCTAssertEqual(reader.droppedZeroWeights, 3)
    }
}

final class DocumentStoreTests: XCTestCase {
    /// The reader opens stores through an immutable SQLite URI; characters that mean something in
    /// a URI, non-ASCII names and relative paths must still name the file.
    func testStoresAtAwkwardPathsReadBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        for name in ["plain", "per%25cent", "what?mode=rw", "hash#tag", "é dir", "a:b"] {
            let folder = directory.file(name)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = folder + "/" + DocumentStoreSchema.fileName
            let writer = try DocumentStoreWriter(path: path)
            try writer.add(position: 0, id: "d0", content: "zero")
            try writer.add(position: 1, id: "d1", content: nil)
            try writer.finish()
            let reader = try DocumentStoreReader(path: path)
            XCTAssertEqual(reader.count, 2, name)
            XCTAssertEqual(try reader.document(at: 0).id, "d0", name)
            XCTAssertEqual(try reader.document(at: 0).content, "zero", name)
            XCTAssertNil(try reader.document(at: 1).content, name)
            XCTAssertThrowsError(try reader.document(at: 2), name)
        }
        let previous = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(directory.path))
        XCTAssertEqual(try DocumentStoreReader(path: "hash#tag/" + DocumentStoreSchema.fileName).document(at: 1).id, "d1")
    }
}

/// Metadata of version-2 indexes written before `writtenBy` existed still decodes; a version
/// that disagrees with the header's is damage.
final class IndexMetadataTests: XCTestCase {
    func testMetadataWithoutWrittenByAndVersionMismatch() throws {
        let old = #"{"blockCount":0,"blockedPostingCount":0,"buildParameters":{"pruning":"none"},"componentWidth":2,"#
            + #""documentCount":3,"formatVersion":2,"hasSourceComponentIDs":false,"nonzeroCount":5,"postingCount":5,"#
            + #""summaryComponentCount":0,"summaryEntryCount":0,"valuePrecision":"f16","vocabularySize":4}"#
        let decoded = try Array(old.utf8).withUnsafeBytes { try IndexMetadata.decode($0, path: "old/index.lsr") }
        XCTAssertNil(decoded.writtenBy)
        XCTAssertEqual(decoded.documentCount, 3)
        // Re-encoded without writtenBy it is the same bytes: the key is optional.
        XCTAssertEqual(String(decoding: try decoded.encoded(), as: UTF8.self), old)
        let other = old.replacingOccurrences(of: #""formatVersion":2"#, with: #""formatVersion":7"#)
        XCTAssertThrowsError(try Array(other.utf8).withUnsafeBytes { try IndexMetadata.decode($0, path: "x/index.lsr") }) {
            XCTAssertTrue("\($0)".contains("format version 7"), "\($0)")
        }
    }
}

final class WindowedWriteTests: XCTestCase {
    /// Whatever the sizes of the appends (zeros and skips included), the bytes reach the file
    /// offsets they belong at, every write but a flush's ends on a 2 MiB boundary, and the
    /// buffer holds less than one window.
    func testWritesEndOnWindowBoundariesAndKeepTheBytes() throws {
        let window = IndexFileFormat.writeWindow
        var generator = SplitMix64(seed: 11)
        for trial in 0 ..< 12 {
            let origin = Int(generator.next() % UInt64(3 * window))
            var buffer = WindowedBuffer(start: origin)
            var file = [UInt8](repeating: 0xEE, count: origin + 13 * window)
            var expected = file
            var writes: [(start: Int, end: Int, flush: Bool)] = []
            var flushing = false
            func write(_ bytes: UnsafeRawBufferPointer, _ offset: Int) throws {
                file.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
                writes.append((offset, offset + bytes.count, flushing))
            }
            var next = origin
            while next < origin + 9 * window {
                let sizes = [1, 63, 4096, window - 1, window, window + 1, 3 * window + 17]
                let size = sizes[Int(generator.next() % UInt64(sizes.count))]
                switch generator.next() % 8 {
                case 0:
                    try buffer.appendZeros(size, write)
                    expected.replaceSubrange(next ..< next + size, with: repeatElement(0, count: size))
                case 1:
                    flushing = true
                    try buffer.flush(write)
                    flushing = false
                    buffer.skip(size)
                default:
                    let bytes = (0 ..< size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                    try bytes.withUnsafeBytes { try buffer.append($0, write) }
                    expected.replaceSubrange(next ..< next + size, with: bytes)
                }
                next += size
                XCTAssertEqual(buffer.end, next)
                XCTAssertLessThan(buffer.count, window, "trial \(trial)")
            }
            flushing = true
            try buffer.flush(write)
            XCTAssertEqual(buffer.count, 0)
            XCTAssertTrue(file == expected, "trial \(trial): bytes differ")
            for w in writes where !w.flush {
                XCTAssertEqual(w.end % window, 0, "trial \(trial): a write ends at \(w.end)")
            }
            XCTAssertGreaterThan(writes.filter { !$0.flush }.count, 0)
            // Writes never overlap: each byte is written once.
            let sorted = writes.sorted { $0.start < $1.start }
            for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertLessThanOrEqual(a.end, b.start) }
        }
    }

    /// An index file written through regions in awkward pieces reads back with every section's
    /// bytes and checksum.
    func testRegionsAndSectionsReadBack() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/regions.lsr"
        var generator = SplitMix64(seed: 12)
        func bytes(_ n: Int) -> [UInt8] { (0 ..< n).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
        let first = bytes(3 * IndexFileFormat.writeWindow + 5), reservedA = bytes(5 * IndexFileFormat.writeWindow / 2 + 3), reservedB = bytes(777), last = bytes(100)
        let writer = try IndexFileWriter(path: path)
        try writer.addSection("first", array: first)
        let a = try writer.reserveSection("a", length: reservedA.count)
        let b = try writer.reserveSection("b", length: reservedB.count)
        try writer.addSection("last", array: last)
        for (start, content) in [(a, reservedA), (b, reservedB)] {
            let region = IndexFileRegion(writer: writer, start: start, length: content.count)
            var at = 0
            while at < content.count {
                let n = min(content.count - at, [1, 1000, IndexFileFormat.writeWindow + 3][Int(generator.next() % 3)])
                try content.withUnsafeBytes { try region.append(UnsafeRawBufferPointer(rebasing: $0[at ..< at + n])) }
                at += n
            }
            try region.finish()
        }
        writer.completeSection("a", checksum: reservedA.withUnsafeBytes { XXHash64.hash($0) })
        try writer.completeSectionReadingBack("b")
        try writer.finish()
        let file = try IndexFile(path: path)
        XCTAssertEqual(file.verifyChecksums(), [])
        for (name, content) in [("first", first), ("a", reservedA), ("b", reservedB), ("last", last)] {
            XCTAssertEqual(Array(try file.verifiedSection(name)), content, name)
        }
    }
}
