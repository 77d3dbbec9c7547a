import LSRVectors

/// Splits a byte stream into lines without copying them into Strings.
///
/// Accepts `\n` and `\r\n` line ends, a final line without a newline, and skips a UTF-8 byte-order
/// mark at the start. Lines may be arbitrarily long (the buffer grows).
package struct LineReader: ~Copyable {
    private let stream: any ByteStream
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var finished = false
    /// 1-based number of the line most recently returned.
    public private(set) var lineNumber = 0

    public init(stream: any ByteStream, initialCapacity: Int = 1 << 20) {
        self.stream = stream
        buffer = .allocate(byteCount: max(initialCapacity, 16), alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Calls `body` with the next line's bytes (without its line end) and 1-based line number;
    /// returns nil at the end of the stream.
    /// The bytes are valid only inside `body`.
    public mutating func nextLine<R>(_ body: (UnsafeRawBufferPointer, Int) throws -> R) throws -> R? {
        while true {
            if let newline = findNewline() {
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start ..< lineEnd])
                start = newline + 1
                return try deliver(line, body)
            }
            if finished {
                if start == end { return nil }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = UnsafeRawBufferPointer(rebasing: buffer[start ..< lineEnd])
                start = end
                return try deliver(line, body)
            }
            try refill()
        }
    }

    private mutating func deliver<R>(
        _ line: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, Int) throws -> R
    ) throws -> R {
        lineNumber += 1
        var bytes = line
        if lineNumber == 1, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
        }
        return try body(bytes, lineNumber)
    }

    private func findNewline() -> Int? {
        guard start < end else { return nil }
        let base = buffer.baseAddress! + start
        guard let hit = memchr(base, 0x0A, end - start) else { return nil }
        return start + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
    }

    private mutating func refill() throws {
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + start, pending) }
            start = 0
            end = pending
        }
        if end == buffer.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0 ..< end]))
            buffer.deallocate()
            buffer = grown
        }
        let n = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if n == 0 { finished = true }
        end += n
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
