import Foundation
import LSRVectors

/// Writes `bytes` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
/// the directory: readers see the old file or the new one, never a part.
/// - Throws: `LSRError.io`; the old file is then untouched.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw LSRError(.io, "cannot write: \(String(cString: strerror(errno)))", path: path) }
    do {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, at: 0, path: path) }
    } catch {
        close(fd)
        unlink(temporary)
        throw error
    }
    let synced = fsync(fd) == 0
    close(fd)
    guard synced, rename(temporary, path) == 0 else {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw LSRError(.io, "cannot write: \(reason)", path: path)
    }
    let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if directory >= 0 {
        fsync(directory)
        close(directory)
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
