import LSRVectors
import XCTest

final class HalfPrecisionTests: XCTestCase {
    func testDecodeMatchesFloat16ForEveryFiniteHalf() {
        for bits in 0 ... UInt16.max {
            let reference = Float16(bitPattern: bits)
            guard reference.isFinite else { continue }
            XCTAssertEqual(HalfPrecision.decode(bits).bitPattern, Float(reference).bitPattern, "half bits \(bits)")
        }
    }

    func testRoundTripsRepresentableValues() {
        XCTAssertEqual(HalfPrecision.round(1.5), 1.5)
        XCTAssertEqual(HalfPrecision.round(65504), 65504)
        XCTAssertEqual(HalfPrecision.round(0.1), Float(Float16(0.1)))
    }
}

final class VocabularyTests: XCTestCase {
    func testCanonicalOrderIsByUTF8Bytes() {
        let (vocabulary, newIDs) = Vocabulary.canonicalizing(["b", "a", "é", "B", "10", "9"])
        XCTAssertEqual(vocabulary.tokens, ["10", "9", "B", "a", "b", "é"])
        XCTAssertEqual(newIDs, [4, 3, 5, 2, 0, 1])
        XCTAssertEqual(vocabulary.id(of: "é"), 5)
        XCTAssertNil(vocabulary.id(of: "zz"))
    }

    func testRenameComponentsRestoresAscendingOrder() {
        var dataset = SparseDataset()
        dataset.append(components: [0, 1, 2], values: [1, 2, 3])
        dataset.renameComponents([2, 0, 1])
        XCTAssertEqual(Array(dataset.vector(at: 0).components), [0, 1, 2])
        XCTAssertEqual(Array(dataset.vector(at: 0).values), [2, 3, 1])
    }
}

final class SelectionTests: XCTestCase {
    /// The first `count` elements after selection are exactly the `count` largest, for random
    /// arrays with and without repeats and every interesting count.
    func testMoveLargestToFrontAgreesWithSorting() {
        var random = SplitMix64(seed: 11)
        for trial in 0 ..< 300 {
            let length = Int(random.next() % 200) + 1
            let range = trial % 2 == 0 ? UInt64(5) : UInt64.max  // many repeats, or almost none
            var values = (0 ..< length).map { _ in random.next() % range }
            let count = trial % 3 == 0 ? length - 1 : Int(random.next() % UInt64(length + 1))
            let expected = Array(values.sorted(by: >).prefix(count))
            values.withUnsafeMutableBufferPointer { $0.moveLargestToFront(count) }
            XCTAssertEqual(values.prefix(count).sorted(by: >), expected, "length \(length), count \(count)")
            XCTAssertEqual(values.count, length)
        }
    }
}
