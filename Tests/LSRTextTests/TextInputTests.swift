import Foundation
import LSRFormats
import LSRTestSupport
import LSRText
import LSRVectors
import XCTest

/// Text files in, and the query encoder stored with an index.
final class TextInputTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func read(_ path: String, unique: Bool = true) throws -> [TextRecord] {
        var records: [TextRecord] = []
        try TextFileReader(path: path, requireUniqueIDs: unique).forEach { records.append($0) }
        return records
    }

    func testReadsBEIRAndSeismicRecordsInOrder() throws {
        let path = directory.write(
            """
            {"_id": "d1", "title": "T", "text": "body", "metadata": {}}

            {"_id": 2, "text": "only"}
            {"id": "s", "content": "seismic text", "extra": [1, {"x": null}]}
            {"_id": "t", "title": "just a title", "text": null}
            {"id": "e"}

            """, to: "c.jsonl")
        let records = try read(path)
        XCTAssertEqual(records.map(\.id), ["d1", "2", "s", "t", "e"])
        XCTAssertEqual(records.map(\.text), ["T body", "only", "seismic text", "just a title", ""])
        XCTAssertEqual(records.map(\.line), [1, 3, 4, 5, 6])
        XCTAssertEqual(records.map(\.position), [0, 1, 2, 3, 4])
        XCTAssertTrue(try TextFileReader.holdsText(path: path))
        let compressed = directory.write(try ZstdCompression.compress(Array(try String(contentsOfFile: path, encoding: .utf8).utf8)), to: "c.jsonl.zst")
        XCTAssertEqual(try read(compressed).map(\.text), records.map(\.text))
        let vectors = directory.write("{\"id\": \"q\", \"content\": \"x\", \"vector\": {\"a\": 1}}\n", to: "v.jsonl")
        XCTAssertFalse(try TextFileReader.holdsText(path: vectors))
        XCTAssertFalse(try TextFileReader.holdsText(path: directory.write("", to: "empty.jsonl")))
    }

    func testBadRecordsNameFileLineAndField() throws {
        let cases: [(String, Int, String?, String)] = [
            ("{\"_id\": \"a\", \"text\": \"x\"}\n{\"text\": \"y\"}\n", 2, "_id", "missing"),
            ("{\"_id\": \"a\", \"text\": 3}\n", 1, "text", "string"),
            ("{\"_id\": \"a\"}\n{\"_id\": \"a\"}\n", 2, "_id", "duplicate id"),
            ("{\"id\": \"a\", \"vector\": {\"x\": 1}}\n", 1, "vector", "vector record"),
            ("{\"_id\": \"a\", \"id\": \"b\"}\n", 1, "id", "both"),
            ("{\"_id\": \"a\", \"content\": \"c\", \"text\": \"t\"}\n", 1, "content", "both content"),
            ("[1, 2]\n", 1, nil, "JSON object"),
            ("{\"_id\": \"a\", \"text\": \"x\"\n", 1, nil, "JSON"),
        ]
        for (i, (content, line, field, fragment)) in cases.enumerated() {
            let path = directory.write(content, to: "bad\(i).jsonl")
            XCTAssertThrowsError(try read(path), "case \(i)") { error in
                guard let error = error as? LSRError else { return XCTFail("case \(i): \(error)") }
                XCTAssertEqual(error.code, .invalidInput, "case \(i)")
                XCTAssertEqual(error.path, path, "case \(i)")
                XCTAssertEqual(error.line, line, "case \(i)")
                if let field { XCTAssertEqual(error.field, field, "case \(i): \(error)") }
                XCTAssertTrue(error.description.contains(fragment), "case \(i): \(error)")
            }
        }
        // Query files may repeat an id.
        let repeated = directory.write("{\"_id\": \"a\"}\n{\"_id\": \"a\"}\n", to: "q.jsonl")
        XCTAssertEqual(try read(repeated, unique: false).count, 2)
    }

    func testStoredEncoderRoundTripsAndDetectsDamage() throws {
        let tokenizerPath = directory.write("[UNK]\nhello\nworld\n##s\n", to: "vocab.txt")
        let weightsPath = directory.write("{\"hello\": 2.5, \"world\": 0.5, \"##s\": 0}", to: "idf.json")
        let stored = try StoredQueryEncoder.idf(tokenizerPath: tokenizerPath, weightsPath: weightsPath)
        XCTAssertEqual(stored.description.kind, .idf)
        XCTAssertEqual(stored.description.tokenizerFile, "vocab.txt")
        let bytes = try stored.encoded()
        let decoded = try StoredQueryEncoder.decode(bytes, path: "x")
        XCTAssertEqual(decoded, stored)
        let encoder = try decoded.queryEncoder()
        XCTAssertEqual(encoder.encode("Worlds hello HELLO"), TokenVector(tokenIDs: [1, 2], weights: [2.5, 0.5]))

        let bm25 = try StoredQueryEncoder.bm25(tokenizerPath: tokenizerPath, parameters: BM25Parameters(queryTermFrequency: true))
        let counting = try StoredQueryEncoder.decode(try bm25.encoded(), path: "x").queryEncoder()
        XCTAssertEqual(counting.encode("hello world hello"), TokenVector(tokenIDs: [1, 2], weights: [2, 1]))
        XCTAssertEqual(counting.tokenLimit, .max)

        // Any changed byte, a truncation or a bad header is detected.
        let header = bytes.firstIndex(of: UInt8(ascii: "\n"))!
        for position in [header + 3, header + 40, bytes.count - 2] {
            var damaged = bytes
            damaged[position] ^= 0x20
            XCTAssertThrowsError(try StoredQueryEncoder.decode(damaged, path: "enc")) { error in
                XCTAssertEqual((error as? LSRError)?.code, .corruptIndex)
                XCTAssertEqual((error as? LSRError)?.path, "enc")
            }
        }
        XCTAssertThrowsError(try StoredQueryEncoder.decode(Array(bytes.dropLast(5)), path: "enc"))
        XCTAssertThrowsError(try StoredQueryEncoder.decode(Array("lsr-query-encoder 9 xxh64 0 0\n".utf8), path: "enc")) { error in
            XCTAssertEqual((error as? LSRError)?.code, .unsupportedVersion)
        }
        XCTAssertThrowsError(try StoredQueryEncoder.decode([], path: "enc"))

        // Bad source files: one error naming the file.
        let notJSON = directory.write("{not json", to: "bad.json")
        XCTAssertThrowsError(try StoredQueryEncoder.idf(tokenizerPath: tokenizerPath, weightsPath: notJSON)) { error in
            XCTAssertEqual((error as? LSRError)?.path, notJSON)
        }
        let negative = directory.write("{\"hello\": -1}", to: "neg.json")
        XCTAssertThrowsError(try StoredQueryEncoder.idf(tokenizerPath: tokenizerPath, weightsPath: negative)) { error in
            XCTAssertEqual((error as? LSRError)?.path, negative)
            XCTAssertEqual((error as? LSRError)?.field, "hello")
        }
        XCTAssertThrowsError(try StoredQueryEncoder.idf(tokenizerPath: directory.file("missing"), weightsPath: weightsPath)) { error in
            XCTAssertEqual((error as? LSRError)?.code, .io)
        }
    }
}
