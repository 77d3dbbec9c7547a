import CZstd
import LSRVectors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward-only source of bytes: a plain file, or a zstd stream decoded on the fly.
package protocol ByteStream: AnyObject {
    /// Fills the start of `buffer` and returns how many bytes were written; 0 means end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Bytes handed out so far (decompressed bytes for a compressed stream).
    var position: Int { get }
    /// The path the bytes come from, for error messages.
    var path: String { get }
}

/// Opens `path` for streaming, decompressing transparently when the file starts with the zstd
/// frame magic number (whatever its extension).
/// - Throws: `LSRError.io` when the file cannot be opened.
package func openByteStream(_ path: String) throws -> any ByteStream {
    let file = try FileByteStream(path: path)
    if try file.startsWithZstdMagic() {
        return try ZstdByteStream(source: file)
    }
    return file
}

/// The whole content of a small file (a tokenizer, a weights table), decompressed when it is
/// zstd-compressed.
/// - Throws: `LSRError.io` or `.compression`.
package func readFileBytes(_ path: String) throws -> [UInt8] {
    let stream = try openByteStream(path)
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = try chunk.withUnsafeMutableBytes { try stream.read(into: $0) }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[..<n])
    }
}

/// The bytes of a file, read with POSIX `read`.
package final class FileByteStream: ByteStream {
    public let path: String
    public private(set) var position = 0
    private let descriptor: Int32
    private var peeked: [UInt8] = []

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw LSRError(.io, "cannot open: \(String(cString: strerror(errno)))", path: path)
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw LSRError(.io, "is a directory, expected a file", path: path)
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads the first four bytes (kept for later reads) and compares them with zstd's magic.
    fileprivate func startsWithZstdMagic() throws -> Bool {
        var head = [UInt8](repeating: 0, count: 4)
        var filled = 0
        while filled < 4 {
            let n = head.withUnsafeMutableBytes { raw in
                Glibc.read(descriptor, raw.baseAddress! + filled, 4 - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw LSRError(.io, "read failed: \(String(cString: strerror(errno)))", path: path)
            }
            if n == 0 { break }
            filled += n
        }
        peeked = Array(head[0 ..< filled])
        return peeked == [0x28, 0xB5, 0x2F, 0xFD]
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        if !peeked.isEmpty {
            let n = min(peeked.count, buffer.count)
            for i in 0 ..< n { buffer[i] = peeked[i] }
            peeked.removeFirst(n)
            position += n
            return n
        }
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress!, buffer.count)
            if n >= 0 {
                position += n
                return n
            }
            if errno == EINTR { continue }
            throw LSRError(.io, "read failed: \(String(cString: strerror(errno)))", path: path)
        }
    }
}

/// Decompresses a zstd stream (one or more frames) incrementally; never holds the whole output.
package final class ZstdByteStream: ByteStream {
    private let source: any ByteStream
    private let stream: OpaquePointer
    private let inputBuffer: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var sourceFinished = false
    /// Whether the last frame was completely decoded (zstd returned 0).
    private var frameComplete = true
    public private(set) var position = 0
    public var path: String { source.path }

    public init(source: any ByteStream) throws {
        guard let stream = ZSTD_createDStream() else {
            throw LSRError(.compression, "cannot allocate a zstd decoder", path: source.path)
        }
        self.source = source
        self.stream = stream
        ZSTD_initDStream(stream)
        inputBuffer = .allocate(byteCount: ZSTD_DStreamInSize(), alignment: 16)
    }

    deinit {
        ZSTD_freeDStream(stream)
        inputBuffer.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if inputStart == inputEnd && !sourceFinished {
                let n = try source.read(into: inputBuffer)
                inputStart = 0
                inputEnd = n
                if n == 0 { sourceFinished = true }
            }
            if inputStart == inputEnd && sourceFinished {
                if !frameComplete {
                    throw LSRError(
                        .compression, "truncated zstd stream: the file ends inside a frame",
                        path: path, byteOffset: source.position)
                }
                return 0
            }
            var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            var inBuffer = ZSTD_inBuffer(src: UnsafeRawPointer(inputBuffer.baseAddress), size: inputEnd, pos: inputStart)
            let result = ZSTD_decompressStream(stream, &out, &inBuffer)
            inputStart = inBuffer.pos
            if ZSTD_isError(result) != 0 {
                let name = String(cString: ZSTD_getErrorName(result))
                throw LSRError(.compression, "corrupt zstd stream: \(name)", path: path, byteOffset: source.position)
            }
            frameComplete = result == 0
            if out.pos > 0 {
                position += out.pos
                return out.pos
            }
        }
    }
}

/// One-shot zstd compression (for writing compressed files and test fixtures).
package enum ZstdCompression {
    /// `bytes` compressed as a single zstd frame at `level`.
    public static func compress(_ bytes: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
        let written = output.withUnsafeMutableBytes { out in
            bytes.withUnsafeBytes { input in
                ZSTD_compress(out.baseAddress, out.count, input.baseAddress, input.count, level)
            }
        }
        guard ZSTD_isError(written) == 0 else {
            throw LSRError(.compression, "compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        return Array(output[0 ..< written])
    }
}
