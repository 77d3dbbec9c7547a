import Foundation
import LSRFormats
import LSRVectors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only scratch file holding one stream a build produces (a section of `index.lsr`,
/// or one region of a section), written through a buffer so that the stream never has to be
/// in memory whole. It is read back in chunks (``copy(into:)``, ``forEachChunk(of:_:)``) or
/// mapped (``ScratchMapping``).
final class SpoolFile {
    let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    /// Bytes appended so far.
    private(set) var byteCount = 0
    private static let bufferCapacity = 1 << 20

    /// Creates (truncating) the file at `path`.
    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LSRError(.io, "cannot create a scratch file: \(String(cString: strerror(errno)))", path: path) }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > SpoolFile.bufferCapacity { try flush() }
        if bytes.count >= SpoolFile.bufferCapacity {
            try writeAll(bytes, at: byteCount)
        } else {
            if buffer.capacity == 0 { buffer.reserveCapacity(SpoolFile.bufferCapacity) }
            buffer.append(contentsOf: bytes)
        }
        byteCount += bytes.count
    }

    func append<T: BitwiseCopyable>(contentsOf elements: [T]) throws {
        try elements.withUnsafeBytes { try append($0) }
    }

    func append<T: BitwiseCopyable>(_ element: T) throws {
        try withUnsafeBytes(of: element) { try append($0) }
    }

    /// Writes out what is buffered; call before reading the file back.
    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0, at: byteCount - buffer.count) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the file's contents as consecutive chunks of `T` (about 8 MiB each).
    func forEachChunk<T: BitwiseCopyable>(of type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> Void) throws {
        try flush()
        precondition(byteCount % MemoryLayout<T>.stride == 0, "scratch file \(path) is not an array of \(T.self)")
        let chunkElements = (8 << 20) / MemoryLayout<T>.stride
        let chunk = UnsafeMutableBufferPointer<T>.allocate(capacity: chunkElements)
        defer { chunk.deallocate() }
        var position = 0
        while position < byteCount {
            let bytes = min(chunkElements * MemoryLayout<T>.stride, byteCount - position)
            try readAll(
                descriptor, UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(chunk.baseAddress!), count: bytes), at: position,
                path: path, what: "a scratch file")
            try body(UnsafeBufferPointer(rebasing: chunk[0 ..< bytes / MemoryLayout<T>.stride]))
            position += bytes
        }
    }

    /// Appends the file's bytes to the section open in `writer`.
    func copy(into writer: IndexFileWriter) throws {
        try forEachChunk(of: UInt8.self) { try writer.append(UnsafeRawBufferPointer($0)) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        try LSRFormats.writeAll(descriptor, bytes, at: position, path: path)
    }

    /// Deletes the file and closes it; a mapping of it stays valid until released, and the
    /// disk space is freed with the mapping.
    func remove() {
        unlink(path)
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        buffer = []
    }

    /// Maps the file's contents (after flushing) privately and writable, as an array of `T`
    /// (see ``ScratchMapping``).
    func map<T: BitwiseCopyable>(as type: T.Type) throws -> ScratchMapping<T> {
        try flush()
        precondition(byteCount % MemoryLayout<T>.stride == 0, "scratch file \(path) is not an array of \(T.self)")
        return try ScratchMapping(descriptor: descriptor, count: byteCount / MemoryLayout<T>.stride, path: path)
    }
}

/// A scratch file mapped writable, or anonymous memory, as an array of `T`.
///
/// Scratch files are mapped privately: pages the build only reads stay clean page-cache pages
/// the kernel can drop and read again under memory pressure, and pages it changes become
/// private memory instead of dirty file pages, which the kernel would write back, throttling
/// the writer to the disk's speed (at 8.8M documents that made renaming take 45 s instead of
/// a few). Changes never reach the file.
final class ScratchMapping<T: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked Sendable: callers coordinate writes (the build mutates it before workers read).
    let buffer: UnsafeMutableBufferPointer<T>
    private let length: Int

    /// Maps `count` elements of the file open at `descriptor` (nil: anonymous zeroed memory).
    fileprivate init(descriptor: Int32?, count: Int, path: String) throws {
        length = count * MemoryLayout<T>.stride
        guard length > 0 else {
            buffer = UnsafeMutableBufferPointer(start: nil, count: 0)
            return
        }
        let flags = descriptor == nil ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_PRIVATE
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, flags, descriptor ?? -1, 0), mapped != MAP_FAILED else {
            throw LSRError(.io, "cannot map \(descriptor == nil ? "\(length) bytes of scratch memory" : "a scratch file"): \(String(cString: strerror(errno)))", path: path)
        }
        buffer = UnsafeMutableBufferPointer(start: mapped.bindMemory(to: T.self, capacity: count), count: count)
    }

    /// `count` zeroed elements of anonymous memory (`name` is for errors).
    static func anonymous(_ name: String, count: Int) throws -> ScratchMapping {
        try ScratchMapping(descriptor: nil, count: count, path: name)
    }

    deinit {
        if let base = buffer.baseAddress { munmap(UnsafeMutableRawPointer(base), length) }
    }

    /// Drops the pages wholly inside elements `range` from this process, so that a sequential
    /// pass does not leave them resident: pages only read fault back in from the file if read
    /// again; changes to them are lost (call it on pages the build has not changed).
    func release(_ range: Range<Int>) {
        guard let base = buffer.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound * MemoryLayout<T>.stride + page - 1) / page * page
        let end = range.upperBound * MemoryLayout<T>.stride / page * page
        if end > start { madvise(UnsafeMutableRawPointer(base) + start, end - start, MADV_DONTNEED) }
    }
}

/// The scratch directory of one build, inside the build's temporary directory: removed with
/// it on failure, and before the finished index is moved into place.
struct ScratchDirectory {
    let path: String

    init(inside directory: String) throws {
        path = directory + "/scratch"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } catch {
            throw LSRError(.io, "cannot create the scratch directory: \(error.localizedDescription)", path: path)
        }
    }

    func spool(_ name: String) throws -> SpoolFile {
        try SpoolFile(path: path + "/" + name)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
