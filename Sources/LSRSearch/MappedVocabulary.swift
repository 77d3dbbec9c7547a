import Foundation
import LSRFormats
import LSRVectors

/// An index's tokens, read in place from the mapped file: lookups binary-search the tokens, which
/// are stored in ascending UTF-8 byte order, so opening builds nothing.
public struct MappedVocabulary: @unchecked Sendable {
    // @unchecked Sendable: read-only views into a mapping owned by the Index.
    private let bytes: UnsafeRawBufferPointer
    private let offsets: UnsafeBufferPointer<UInt32>

    init(file: IndexFile, count: Int) throws {
        offsets = try file.array(IndexLayout.vocabularyOffsets, of: UInt32.self, count: count + 1)
        bytes = try file.section(IndexLayout.vocabularyBytes)
        guard offsets.last.map({ Int($0) == bytes.count }) ?? false, offsets.first == 0 else {
            throw LSRError(.corruptIndex, "vocabulary offsets do not match its bytes", path: file.path, field: IndexLayout.vocabularyOffsets)
        }
    }

    /// Number of tokens.
    public var count: Int { offsets.count - 1 }

    /// The bytes of token `i`; empty when its offsets are damaged.
    private func utf8(_ i: Int) -> UnsafeRawBufferPointer {
        let start = Int(offsets[i]), end = Int(offsets[i + 1])
        guard start <= end, end <= bytes.count else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(rebasing: bytes[start ..< end])
    }

    /// The token with component id `i`.
    public func token(at i: Int) -> String { String(decoding: utf8(i), as: UTF8.self) }

    /// The component id of `token`, or nil if the index has never seen it.
    /// - Complexity: O(log V) byte-string comparisons.
    public func id(of token: String) -> UInt32? {
        var token = token
        return token.withUTF8 { key -> UInt32? in
            var low = 0, high = count
            while low < high {
                let mid = (low + high) / 2
                if Self.compare(utf8(mid), key) < 0 { low = mid + 1 } else { high = mid }
            }
            guard low < count, Self.compare(utf8(low), key) == 0 else { return nil }
            return UInt32(low)
        }
    }

    /// The byte order of `a` and `b`: negative, zero or positive (memcmp, then the length).
    @inline(__always)
    private static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let x = a.baseAddress, let y = b.baseAddress {
            let order = memcmp(x, y, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}
