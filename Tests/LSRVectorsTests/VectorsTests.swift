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

final class HeaviestSelectionTests: XCTestCase {
    func testMoveHeaviestToFrontKeepsTheShortestHeaviestPrefix() {
        var generator = SplitMix64(seed: 5)
        for trial in 0 ..< 400 {
            let count = Int.random(in: 0 ... 300, using: &generator)
            let distinct = trial % 3 == 0 ? 5 : 1_000  // many ties in a third of the trials
            var values = (0 ..< count).map { _ in Int.random(in: 1 ... distinct, using: &generator) }
            let total = values.reduce(0, +)
            let target = Double(Int.random(in: 0 ... total + 3, using: &generator))
            let descending = values.sorted(by: >)
            var expected = 0, sum = 0.0
            while expected < count && sum < target {
                sum += Double(descending[expected])
                expected += 1
            }
            let kept = values.withUnsafeMutableBufferPointer { $0.moveHeaviestToFront(reaching: target, weight: Double.init) }
            XCTAssertEqual(kept, expected, "trial \(trial): target \(target) of \(total)")
            XCTAssertEqual(values[..<kept].sorted(by: >), Array(descending[..<kept]), "trial \(trial)")
            XCTAssertEqual(values.sorted(), descending.reversed(), "trial \(trial): not a permutation")
        }
    }
}

final class SortedSearchTests: XCTestCase {
    /// Agrees with a linear scan on random ascending arrays (dense, sparse, clustered), for every
    /// target around each element and sub-ranges, and stays in range on unsorted input.
    func testInterpolatedLowerBoundAgreesWithLinearScan() {
        var random = SplitMix64(seed: 5)
        for trial in 0 ..< 400 {
            let length = Int(random.next() % 300)
            let gap = [UInt64(1), 3, 250, 5000][trial % 4]
            var value: UInt64 = random.next() % 100
            var elements: [UInt16] = []
            for _ in 0 ..< length {
                // Clustered trials: long runs of small gaps, then a jump.
                value += trial % 8 == 7 && random.next() % 10 != 0 ? 1 : 1 + random.next() % gap
                guard value <= UInt64(UInt16.max) else { break }
                elements.append(UInt16(value))
            }
            elements.withUnsafeBufferPointer { buffer in
                let start = buffer.isEmpty ? 0 : Int(random.next() % UInt64(buffer.count))
                for range in [0 ..< buffer.count, start ..< buffer.count] {
                    var targets: [UInt32] = [0, UInt32(UInt16.max), 70_000]
                    for e in buffer[range] { targets += [UInt32(e) - (e > 0 ? 1 : 0), UInt32(e), UInt32(e) + 1] }
                    for target in targets {
                        let expected = range.first { UInt32(buffer[$0]) >= target } ?? range.upperBound
                        XCTAssertEqual(buffer.interpolatedLowerBound(of: target, in: range), expected,
                                       "trial \(trial), range \(range), target \(target)")
                    }
                }
            }
        }
        let unsorted: [UInt16] = (0 ..< 100).map { UInt16(($0 * 7919) % 1000) }
        unsorted.withUnsafeBufferPointer { buffer in
            for target in stride(from: UInt32(0), through: 1000, by: 37) {
                XCTAssert((0 ... 100).contains(buffer.interpolatedLowerBound(of: target, in: 0 ..< 100)))
            }
        }
    }
}
