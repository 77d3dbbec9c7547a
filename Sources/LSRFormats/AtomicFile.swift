import Foundation
import LSRVectors

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
/// the directory: readers see the old file or the new one, never a part.
/// - Throws: `LSRError.io`; the old file is then untouched.
package func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let output = try AtomicOutputFile(path: path)
    do {
        try output.write(bytes)
        try output.commit()
    } catch {
        output.discard()
        throw error
    }
}

/// A file written as a stream and published at once: bytes go to a temporary file beside
/// `path`; ``commit()`` syncs it and renames it over `path` (readers see the old file or the
/// whole new one), ``discard()`` deletes it and leaves `path` as it was.
package final class AtomicOutputFile {
    public let path: String
    private let temporary: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private var position = 0
    private static let bufferBytes = 1 << 20

    /// - Throws: `LSRError.io` when the temporary file cannot be created.
    public init(path: String) throws {
        self.path = path
        temporary = path + ".tmp-\(getpid())"
        descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LSRError(.io, "cannot write: \(String(cString: strerror(errno)))", path: path) }
        buffer.reserveCapacity(AtomicOutputFile.bufferBytes)
    }

    deinit { discard() }

    /// Appends `bytes`.
    public func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= AtomicOutputFile.bufferBytes { try flush() }
    }

    /// Appends the UTF-8 bytes of `text`.
    public func write(_ text: String) throws { try write(text.utf8) }

    private func flush() throws {
        try buffer.withUnsafeBytes { try writeAll(descriptor, $0, at: position, path: path) }
        position += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, syncs, and renames the file into place.
    /// - Throws: `LSRError.io`; the file is then discarded and `path` untouched.
    public func commit() throws {
        guard descriptor >= 0 else { throw LSRError(.io, "already committed or discarded", path: path) }
        do {
            try flush()
        } catch {
            discard()
            throw error
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        descriptor = -1
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw LSRError(.io, "cannot write: \(reason)", path: path)
        }
        let directory = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// Deletes the temporary file (nothing happens after a commit).
    public func discard() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
        unlink(temporary)
    }
}

/// Writes all of `bytes` to `descriptor` at byte `position`, retrying short and interrupted
/// writes.
/// - Throws: `LSRError.io` naming `path` (a full disk, a file size limit, …).
package func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at position: Int, path: String) throws {
    var written = 0
    while written < bytes.count {
        let n = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(position + written))
        if n < 0 {
            if errno == EINTR { continue }
            throw LSRError(.io, "write failed: \(String(cString: strerror(errno)))", path: path)
        }
        written += n
    }
}

/// Fills `buffer` from `descriptor` at byte `position`, retrying short and interrupted reads.
/// - Throws: `LSRError.io` naming `path` and `what` was read, also when the file ends early.
package func readAll(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, at position: Int, path: String, what: String) throws {
    var read = 0
    while read < buffer.count {
        let n = pread(descriptor, buffer.baseAddress! + read, buffer.count - read, off_t(position + read))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
            throw LSRError(.io, "cannot read \(what) back: \(n < 0 ? String(cString: strerror(errno)) : "the file is shorter than written")", path: path)
        }
        read += n
    }
}
