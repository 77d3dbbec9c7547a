import LSRVectors

/// Buffered little-endian reads from a byte stream, tracking the byte offset for errors.
struct BinaryInput {
    private let stream: any ByteStream
    private var buffer: [UInt8] = []
    private var start = 0
    private(set) var offset = 0

    init(stream: any ByteStream) {
        self.stream = stream
        buffer.reserveCapacity(1 << 20)
    }

    /// Makes at least `count` bytes available unless the stream ends; returns how many are.
    private mutating func fill(_ count: Int) throws -> Int {
        if buffer.count - start >= count { return buffer.count - start }
        buffer.removeSubrange(0 ..< start)
        start = 0
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1 << 20, count), alignment: 16)
        defer { chunk.deallocate() }
        while buffer.count < count {
            let n = try stream.read(into: chunk)
            if n == 0 { break }
            buffer.append(contentsOf: chunk[0 ..< n])
        }
        return buffer.count
    }

    mutating func readUInt32() throws -> UInt32? {
        guard try fill(4) >= 4 else { return nil }
        let value = UInt32(buffer[start]) | UInt32(buffer[start + 1]) << 8 | UInt32(buffer[start + 2]) << 16 | UInt32(buffer[start + 3]) << 24
        start += 4
        offset += 4
        return value
    }

    /// Appends `count` little-endian u32s, reading in bounded chunks so that a corrupt huge count
    /// fails at the end of the file instead of allocating it up front.
    /// `what` names the words in the error (built only then).
    mutating func readUInt32s(_ count: Int, into output: inout [UInt32], what: @autoclosure () -> String) throws {
        try readWords(count, into: &output, what: what())
    }

    mutating func readFloat32s(_ count: Int, into output: inout [Float], what: @autoclosure () -> String) throws {
        try readWords(count, into: &output, what: what())
    }

    /// Appends `count` little-endian 4-byte words as `T` (UInt32 or Float).
    private mutating func readWords<T: BitwiseCopyable>(_ count: Int, into output: inout [T], what: @autoclosure () -> String) throws {
        precondition(MemoryLayout<T>.size == 4)
        var remaining = count
        let chunkWords = 1 << 16
        while remaining > 0 {
            let words = min(remaining, chunkWords)
            let available = try fill(words * 4)
            guard available >= words * 4 else {
                throw LSRError(
                    .invalidInput, "truncated: \(what()) need \(count * 4) bytes, the file ends first",
                    byteOffset: offset + available)
            }
            buffer.withUnsafeBytes { raw in
                let source = raw.baseAddress! + start
                #if _endian(little)
                if Int(bitPattern: source) % 4 == 0 {
                    // Aligned little-endian words are the values: one copy.
                    source.withMemoryRebound(to: T.self, capacity: words) { output.append(contentsOf: UnsafeBufferPointer(start: $0, count: words)) }
                    return
                }
                #endif
                output.reserveCapacity(output.count + words)
                for i in 0 ..< words {
                    let word = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    output.append(unsafeBitCast(word, to: T.self))
                }
            }
            start += words * 4
            offset += words * 4
            remaining -= words
        }
    }

    mutating func hasMoreBytes() throws -> Bool {
        try fill(1) > 0
    }
}
