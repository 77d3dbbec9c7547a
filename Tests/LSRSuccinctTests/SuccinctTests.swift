import LSRSuccinct
import XCTest

/// A small deterministic generator, so failures reproduce.
private struct TestGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class BitPackingTests: XCTestCase {
    func testReadBitsReturnsEveryAppendedValue() {
        var generator = TestGenerator(state: 1)
        var writer = BitWriter()
        var expected: [(position: Int, width: Int, value: UInt64)] = []
        for _ in 0 ..< 5_000 {
            let width = Int.random(in: 0 ... BitPacking.maximumWidth, using: &generator)
            let value = width == 0 ? 0 : UInt64.random(in: 0 ... (UInt64(1) << UInt64(width)) - 1, using: &generator)
            expected.append((writer.bitCount, width, value))
            writer.append(value, width: width)
            if Int.random(in: 0 ..< 50, using: &generator) == 0 { writer.alignToWord() }
        }
        let words = writer.drainFinishedWords()
        XCTAssertEqual(words.count, (writer.bitCount + 63) / 64 + 1)
        words.withUnsafeBytes { raw in
            for (position, width, value) in expected {
                XCTAssertEqual(readBits(raw.baseAddress!, at: position, width: width), value, "at bit \(position), width \(width)")
            }
        }
    }

    /// Draining complete words as the stream grows gives the same words as writing it whole.
    func testDrainedStreamEqualsTheWholeStream() {
        var generator = TestGenerator(state: 7)
        var whole = BitWriter(), drained = BitWriter()
        var collected: [UInt64] = []
        for i in 0 ..< 3_000 {
            let width = Int.random(in: 0 ... BitPacking.maximumWidth, using: &generator)
            let value = width == 0 ? 0 : UInt64.random(in: 0 ... (UInt64(1) << UInt64(width)) - 1, using: &generator)
            whole.append(value, width: width)
            drained.append(value, width: width)
            if i % 97 == 0 {
                whole.alignToWord(); drained.alignToWord()
                whole.append(words: [UInt64(i), 1]); drained.append(words: [UInt64(i), 1])
            }
            if Int.random(in: 0 ..< 10, using: &generator) == 0 { collected += drained.drainCompleteWords() }
            XCTAssertEqual(drained.wordCount, whole.wordCount)
            XCTAssertEqual(drained.bitCount, whole.bitCount)
        }
        collected += drained.drainCompleteWords()
        collected += drained.drainFinishedWords()
        XCTAssertEqual(collected, whole.drainFinishedWords())
    }

    func testWidthForMaximum() {
        XCTAssertEqual(BitPacking.width(forMaximum: 0), 0)
        XCTAssertEqual(BitPacking.width(forMaximum: 1), 1)
        XCTAssertEqual(BitPacking.width(forMaximum: 255), 8)
        XCTAssertEqual(BitPacking.width(forMaximum: 256), 9)
        XCTAssertEqual(BitPacking.width(forMaximum: 65_534), 16)
    }
}

final class EliasFanoTests: XCTestCase {
    /// Sequences of many shapes, stored back to back in one word array like an index stores them.
    func testPairsMatchTheEncodedSequences() {
        var generator = TestGenerator(state: 7)
        var writer = BitWriter()
        var samples: [UInt32] = []
        var stored: [(values: [UInt64], universe: UInt64, lowStart: Int, highStart: Int, lowWidth: Int, sampleStart: Int)] = []
        for count in [1, 2, 3, 63, 64, 65, 66, 129, 500, 4_000] {
            for meanGap in [0, 1, 3, 40, 5_000] {
                var values: [UInt64] = []
                var current: UInt64 = 0
                for _ in 0 ..< count {
                    current += meanGap == 0 ? 0 : UInt64.random(in: 0 ... UInt64(2 * meanGap), using: &generator)
                    values.append(current)
                }
                let universe = current + UInt64.random(in: 0 ... 3, using: &generator)
                let sampleStart = samples.count
                let (lowStart, highStart, lowWidth) = EliasFano.encode(values, universe: universe, into: &writer, samples: &samples)
                XCTAssertEqual(samples.count - sampleStart, EliasFano.sampleCount(count: count))
                stored.append((values, universe, lowStart, highStart, lowWidth, sampleStart))
            }
        }
        let words = writer.drainFinishedWords()
        words.withUnsafeBufferPointer { words in
            samples.withUnsafeBufferPointer { samples in
                for sequence in stored {
                    guard let reader = EliasFanoReader(
                        words: words, samples: samples, count: sequence.values.count, universe: sequence.universe,
                        lowStart: sequence.lowStart, highStart: sequence.highStart, lowWidth: sequence.lowWidth,
                        sampleStart: sequence.sampleStart)
                    else { return XCTFail("reader refused a valid sequence") }
                    let values = sequence.values
                    for i in 0 ..< values.count - 1 {
                        guard let (first, second) = reader.pair(i) else { return XCTFail("no pair at \(i) of \(values.count)") }
                        XCTAssertEqual(first, values[i], "value \(i) of \(values.count), universe \(sequence.universe)")
                        XCTAssertEqual(second, values[i + 1], "value \(i + 1) of \(values.count)")
                    }
                    XCTAssertNil(reader.pair(values.count - 1))
                    XCTAssertNil(reader.pair(-1))
                }
            }
        }
    }

    func testCompactness() {
        // 10,000 values spread over a universe of 40,000: about 2 + log2(4) = 4 bits each.
        var writer = BitWriter()
        var samples: [UInt32] = []
        let values = (0 ..< 10_000).map { UInt64($0 * 4) }
        _ = EliasFano.encode(values, universe: 40_000, into: &writer, samples: &samples)
        XCTAssertLessThan(writer.bitCount, 10_000 * 4 + 128)
    }

    func testReaderRefusesRegionsOutsideTheArrays() {
        let words = [UInt64](repeating: 0, count: 4), samples = [UInt32]()
        words.withUnsafeBufferPointer { words in
            samples.withUnsafeBufferPointer { samples in
                XCTAssertNil(EliasFanoReader(words: words, samples: samples, count: 100, universe: 100, lowStart: 0, highStart: 0, lowWidth: 0, sampleStart: 0))
                XCTAssertNil(EliasFanoReader(words: words, samples: samples, count: 2, universe: 2, lowStart: 0, highStart: 4, lowWidth: 0, sampleStart: 0))
                XCTAssertNil(EliasFanoReader(words: words, samples: samples, count: 2, universe: 2, lowStart: 1_000, highStart: 0, lowWidth: 3, sampleStart: 0))
                // All-zero high bits: no value can be found, so every pair is nil, not a crash.
                let reader = EliasFanoReader(words: words, samples: samples, count: 3, universe: 3, lowStart: 0, highStart: 2, lowWidth: 0, sampleStart: 0)
                XCTAssertNotNil(reader)
                XCTAssertNil(reader?.pair(0))
            }
        }
    }
}

final class RankedBitmapTests: XCTestCase {
    func testRankIsTheIndexAmongMembers() {
        var generator = TestGenerator(state: 3)
        var words: [UInt64] = []
        var ranks: [UInt32] = []
        var stored: [(members: [UInt32], universe: Int, wordStart: Int)] = []
        for universe in [1, 63, 64, 512, 513, 25_415] {
            for density in [0.0, 0.01, 0.3, 1.0] {
                let members = (0 ..< UInt32(universe)).filter { _ in Double.random(in: 0 ..< 1, using: &generator) < density }
                stored.append((members, universe, words.count))
                RankedBitmap.encode(members, universe: universe, words: &words, ranks: &ranks)
                XCTAssertEqual(words.count, ranks.count * RankedBitmap.wordsPerRankSample)
            }
        }
        words.withUnsafeBufferPointer { words in
            ranks.withUnsafeBufferPointer { ranks in
                for (members, universe, wordStart) in stored {
                    guard let reader = RankedBitmapReader(words: words, ranks: ranks, wordStart: wordStart, universe: universe)
                    else { return XCTFail("reader refused a valid bitmap") }
                    var next = 0
                    for value in 0 ..< universe {
                        if next < members.count && members[next] == UInt32(value) {
                            XCTAssertEqual(reader.rank(of: value), next, "member \(value)")
                            next += 1
                        } else {
                            XCTAssertNil(reader.rank(of: value), "non-member \(value)")
                        }
                    }
                    XCTAssertNil(reader.rank(of: universe))
                    XCTAssertNil(reader.rank(of: -1))
                }
                XCTAssertNil(RankedBitmapReader(words: words, ranks: ranks, wordStart: words.count, universe: 1))
                XCTAssertNil(RankedBitmapReader(words: words, ranks: ranks, wordStart: 1, universe: 1))
            }
        }
    }
}
