import CLSRKernels
import LSRVectors

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The container layout of `index.lsr` and `dense.lsr`: a header, named sections, and a
/// section table. `Documentation/IndexFormat.md` describes every byte; this is a summary.
///
/// ```
/// 0   magic "LSRINDEX"      8 bytes
/// 8   format version        u32 (little-endian, as every field)
/// 12  section count         u32
/// 16  table offset          u64
/// 24  file length           u64
/// 32  table checksum        u64  xxHash64 of the table bytes
/// 40  header checksum       u64  xxHash64 of bytes 0 ..< 40
/// 48  reserved              16 bytes, zero
/// 64  sections, each starting on a 64-byte boundary (zero padding between them)
/// …   table, at the next 8-byte boundary after the last section, ending the file: per section
///     48 bytes: name (UTF-8, at most 16 bytes, NUL-padded), offset u64, length u64,
///     checksum u64 (xxHash64 of the section bytes), reserved u64
/// ```
/// The header's first 48 bytes keep this layout in every format version, so that a reader can
/// tell a damaged file from one of another version. Sections are raw arrays in the host's byte
/// order (lsr runs on little-endian machines) that search maps directly; their meaning is
/// defined by ``IndexLayout`` and ``DenseLayout`` (IndexLayout.swift).
package enum IndexFileFormat {
    public static let magic: [UInt8] = Array("LSRINDEX".utf8)
    /// The format version this build writes and reads.
    public static let version: UInt32 = 2
    static let headerSize = 64
    static let tableEntrySize = 48
    static let alignment = 64
    static let maximumNameLength = 16
    /// Writers issue their writes in pieces that end on multiples of this many file bytes
    /// (2 MiB, x86-64's huge page): a write that covers such a window whole can put it in the
    /// page cache as one 2 MiB page, which a search's mapping maps whole (fewer TLB misses). Not
    /// part of the format: any write pattern gives the same file.
    public static let writeWindow = 2 << 20
}

/// Bytes bound for consecutive file offsets, written in pieces that end on
/// ``IndexFileFormat/writeWindow`` boundaries (but for what ``flush(_:)`` writes): bytes up to
/// the next boundary are copied and written when it is reached; whole windows from a boundary
/// are written directly. Holds less than one window.
package struct WindowedBuffer: ~Copyable {
    private let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: IndexFileFormat.writeWindow, alignment: 64)
    /// The file offset of the first buffered byte.
    public private(set) var start: Int
    /// Bytes buffered.
    public private(set) var count = 0
    /// The file offset of the next byte.
    public var end: Int { start + count }

    /// A buffer whose first byte goes to file offset `start`.
    public init(start: Int) { self.start = start }

    deinit { storage.deallocate() }

    /// Appends `bytes`, writing them with `write(bytes, fileOffset)` as they reach boundaries.
    public mutating func append(_ bytes: UnsafeRawBufferPointer, _ write: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        let window = IndexFileFormat.writeWindow
        var rest = bytes[...]
        while !rest.isEmpty {
            if count == 0 && start % window == 0 && rest.count >= window {
                let whole = rest.count / window * window
                try write(UnsafeRawBufferPointer(rebasing: rest.prefix(whole)), start)
                start += whole
                rest = rest.dropFirst(whole)
                continue
            }
            let n = min(rest.count, window - end % window)
            UnsafeMutableRawBufferPointer(rebasing: storage[count ..< count + n]).copyMemory(from: UnsafeRawBufferPointer(rebasing: rest.prefix(n)))
            count += n
            rest = rest.dropFirst(n)
            if end % window == 0 { try flush(write) }
        }
    }

    /// Appends `n` zero bytes.
    public mutating func appendZeros(_ n: Int, _ write: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        let zeros = [UInt8](repeating: 0, count: min(n, IndexFileFormat.writeWindow))
        var left = n
        while left > 0 {
            let part = min(left, zeros.count)
            try zeros.withUnsafeBytes { try append(UnsafeRawBufferPointer(rebasing: $0[..<part]), write) }
            left -= part
        }
    }

    /// Writes every buffered byte.
    public mutating func flush(_ write: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        guard count > 0 else { return }
        try write(UnsafeRawBufferPointer(rebasing: storage[..<count]), start)
        start += count
        count = 0
    }

    /// Skips `n` file bytes that others write: the next byte goes to `end + n`. Nothing may be buffered.
    public mutating func skip(_ n: Int) {
        precondition(count == 0, "skipping over buffered bytes")
        start += n
    }
}

/// One section in an index file's table.
package struct IndexSectionEntry: Sendable, Equatable {
    public var name: String
    public var offset: Int
    public var length: Int
    public var checksum: UInt64
}

/// Writes an index file section by section; ``finish()`` writes the table and header and syncs.
///
/// A section is written whole (``addSection(_:bytes:)``) or streamed in pieces
/// (``beginSection(_:)``, ``append(_:)``, ``endSection()``), its checksum computed on the way,
/// so that a builder never needs a large section in memory. A section whose length is known
/// before its bytes can also be reserved (``reserveSection(_:length:)``) and filled in place
/// (``write(_:at:)``, from any thread, or front to back through an ``IndexFileRegion``) while
/// later sections are appended, then completed with its
/// checksum (``completeSection(_:checksum:)``, ``completeSectionReadingBack(_:)``).
package final class IndexFileWriter: @unchecked Sendable {
    // @unchecked Sendable: only ``write(_:at:)`` (a positioned write, touching no state) may be
    // called from other threads; everything else belongs to the thread that created the writer.
    public let path: String
    private let descriptor: Int32
    public private(set) var entries: [IndexSectionEntry] = []
    private var current: (name: String, start: Int, hasher: XXHash64.Hasher)?
    /// Appended bytes not yet written.
    private var buffered = WindowedBuffer(start: IndexFileFormat.headerSize)
    /// Where the next appended byte goes.
    private var offset: Int { buffered.end }
    /// Reserved sections not completed yet.
    private var reserved: Set<String> = []

    /// Creates (truncating) the file at `path`.
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LSRError(.io, "cannot create: \(String(cString: strerror(errno)))", path: path) }
    }

    deinit { close(descriptor) }

    /// Starts a section named `name` at the next 64-byte boundary.
    public func beginSection(_ name: String) throws {
        precondition(current == nil, "section '\(current?.name ?? "")' is still open")
        precondition(name.utf8.count <= IndexFileFormat.maximumNameLength && !name.isEmpty, "section name '\(name)'")
        precondition(!entries.contains { $0.name == name }, "duplicate section '\(name)'")
        let aligned = (offset + IndexFileFormat.alignment - 1) / IndexFileFormat.alignment * IndexFileFormat.alignment
        try buffered.appendZeros(aligned - offset, writeAll)
        current = (name, offset, XXHash64.Hasher())
    }

    /// Reserves a section of `length` bytes at the next 64-byte boundary: later sections go
    /// after it, and its bytes are written with ``write(_:at:)``.
    /// - Returns: the file offset of its first byte.
    public func reserveSection(_ name: String, length: Int) throws -> Int {
        try beginSection(name)
        let start = offset
        try buffered.flush(writeAll)
        buffered.skip(length)
        entries.append(IndexSectionEntry(name: name, offset: start, length: length, checksum: 0))
        reserved.insert(name)
        current = nil
        return start
    }

    /// Writes `bytes` at file offset `position`, which must lie in a reserved section. Safe to
    /// call from several threads at once for disjoint ranges.
    public func write(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        try writeAll(bytes, at: position)
    }

    /// Records the checksum of reserved section `name`, whose bytes are all written.
    public func completeSection(_ name: String, checksum: UInt64) {
        let removed = reserved.remove(name)
        precondition(removed != nil, "section '\(name)' is not reserved")
        let i = entries.firstIndex { $0.name == name }!
        entries[i].checksum = checksum
    }

    /// Completes reserved section `name` with the checksum of the bytes the file holds there,
    /// read back in chunks.
    public func completeSectionReadingBack(_ name: String) throws {
        let entry = entries.first { $0.name == name }!
        var hasher = XXHash64.Hasher()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 << 20, alignment: 64)
        defer { chunk.deallocate() }
        var position = entry.offset
        while position < entry.offset + entry.length {
            let part = UnsafeMutableRawBufferPointer(rebasing: chunk[0 ..< min(chunk.count, entry.offset + entry.length - position)])
            try readAll(descriptor, part, at: position, path: path, what: "section '\(name)'")
            hasher.update(UnsafeRawBufferPointer(part))
            position += part.count
        }
        completeSection(name, checksum: hasher.finalize())
    }

    /// Appends bytes to the open section.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(current != nil, "no open section")
        current!.hasher.update(bytes)
        try buffered.append(bytes, writeAll)
    }

    /// Appends the raw little-endian elements of `array` to the open section.
    public func append<T: BitwiseCopyable>(contentsOf array: [T]) throws {
        try array.withUnsafeBytes { try append($0) }
    }

    /// Closes the open section and records it in the table.
    public func endSection() throws {
        precondition(current != nil, "no open section")
        let (name, start, hasher) = current!
        entries.append(IndexSectionEntry(name: name, offset: start, length: offset - start, checksum: hasher.finalize()))
        current = nil
    }

    /// Appends a section holding `bytes`.
    public func addSection(_ name: String, bytes: UnsafeRawBufferPointer) throws {
        try beginSection(name)
        try append(bytes)
        try endSection()
    }

    /// Appends a section holding the raw little-endian elements of `array`.
    public func addSection<T: BitwiseCopyable>(_ name: String, array: [T]) throws {
        try array.withUnsafeBytes { (raw) in try addSection(name, bytes: raw) }
    }

    /// Writes the table and header, then fsyncs the file.
    public func finish() throws {
        precondition(current == nil, "section '\(current?.name ?? "")' is still open")
        precondition(reserved.isEmpty, "reserved sections \(reserved.sorted()) are not complete")
        var table: [UInt8] = []
        for entry in entries {
            var name = Array(entry.name.utf8)
            name += [UInt8](repeating: 0, count: IndexFileFormat.maximumNameLength - name.count)
            table += name
            appendLE(UInt64(entry.offset), to: &table)
            appendLE(UInt64(entry.length), to: &table)
            appendLE(entry.checksum, to: &table)
            appendLE(UInt64(0), to: &table)
        }
        let tableOffset = (offset + 7) / 8 * 8
        try buffered.appendZeros(tableOffset - offset, writeAll)
        try table.withUnsafeBytes { try buffered.append($0, writeAll) }
        try buffered.flush(writeAll)
        let fileLength = tableOffset + table.count
        var header = IndexFileFormat.magic
        appendLE(IndexFileFormat.version, to: &header)
        appendLE(UInt32(entries.count), to: &header)
        appendLE(UInt64(tableOffset), to: &header)
        appendLE(UInt64(fileLength), to: &header)
        appendLE(table.withUnsafeBytes { XXHash64.hash($0) }, to: &header)
        appendLE(header.withUnsafeBytes { XXHash64.hash($0) }, to: &header)
        header += [UInt8](repeating: 0, count: IndexFileFormat.headerSize - header.count)
        try header.withUnsafeBytes { (raw) in try writeAll(raw, at: 0) }
        guard fsync(descriptor) == 0 else { throw LSRError(.io, "fsync failed: \(String(cString: strerror(errno)))", path: path) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, at position: Int) throws {
        try LSRFormats.writeAll(descriptor, bytes, at: position, path: path)
    }
}

/// A range of a reserved section (``IndexFileWriter/reserveSection(_:length:)``) written front to
/// back through a buffer of one 2 MiB window, whose writes end on window boundaries of the file
/// (``IndexFileFormat/writeWindow``). One thread at a time; several regions may be written at once.
package final class IndexFileRegion {
    private let writer: IndexFileWriter
    private var buffered: WindowedBuffer
    private let end: Int

    /// The region of `length` bytes from file offset `start`.
    public init(writer: IndexFileWriter, start: Int, length: Int) {
        self.writer = writer
        buffered = WindowedBuffer(start: start)
        end = start + length
    }

    /// Appends bytes after those appended before.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(buffered.end + bytes.count <= end, "a region of \(writer.path) overflows")
        try buffered.append(bytes, writer.write)
    }

    /// Writes what is buffered; the region must now be full.
    public func finish() throws {
        try buffered.flush(writer.write)
        precondition(buffered.end == end, "a region of \(writer.path) is not full")
    }
}

func appendLE<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// A read-only, memory-mapped index file whose header and section table have been checked.
///
/// Opening maps the file and checks the magic number, the header checksum, the version, the
/// file length, the table checksum and that every section starts on a 64-byte boundary before
/// the table: O(sections), whatever the file size. Section contents are checked against their
/// checksums only by ``verifyChecksums()`` (and ``verifiedSection(_:)``).
package final class IndexFile: @unchecked Sendable {
    // @unchecked Sendable: the mapping is read-only and immutable for the object's lifetime.
    public let path: String
    public let entries: [IndexSectionEntry]
    /// The header's checksum of the section table: a fingerprint of the whole file, since the
    /// table holds every section's checksum.
    public let tableChecksum: UInt64
    private let base: UnsafeRawPointer
    private let length: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LSRError(.io, "cannot open: \(String(cString: strerror(errno)))", path: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw LSRError(.io, "cannot stat: \(String(cString: strerror(errno)))", path: path) }
        let length = Int(info.st_size)
        guard length >= IndexFileFormat.headerSize else {
            throw LSRError(.corruptIndex, "truncated index file: \(length) bytes, shorter than the \(IndexFileFormat.headerSize)-byte header", path: path)
        }
        guard let mapped = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw LSRError(.io, "cannot map: \(String(cString: strerror(errno)))", path: path)
        }
        let base = UnsafeRawPointer(mapped)
        do {
            entries = try IndexFile.readTable(UnsafeRawBufferPointer(start: base, count: length), path: path)
        } catch {
            munmap(mapped, length)
            throw error
        }
        self.base = base
        self.length = length
        tableChecksum = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    /// The file's size in bytes.
    public var byteCount: Int { length }

    /// Tells the kernel how the pages of section `name` will be read (`madvise`): `random` turns
    /// off read-ahead, so that a page fault reads that page only. A hint: errors are ignored.
    public func advise(random: Bool, section name: String) {
        guard let entry = entries.first(where: { $0.name == name }), entry.length > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = entry.offset / page * page
        madvise(UnsafeMutableRawPointer(mutating: base) + start, entry.offset + entry.length - start, random ? MADV_RANDOM : MADV_NORMAL)
    }

    /// Maps every page of the file into this process ahead of use, so that no search waits on a
    /// page fault: first `MADV_HUGEPAGE`, so that what the page cache lacks is read into 2 MiB
    /// pages, which the mapping then maps whole (512 times fewer TLB entries; pages the cache
    /// already holds keep their size), then `MADV_WILLNEED`, which starts reading what the cache
    /// lacks in large sequential requests (whatever a section's random-access advice says), then
    /// `MADV_POPULATE_READ` (Linux 5.14), which waits for those reads and maps every page; then
    /// one byte of every page is read. That last step matters in a virtual machine: a page the
    /// guest has never read (just read from disk, say) can still cost an exit to the hypervisor
    /// on its first read, and searches right after a cold preload ran about twice as slow as
    /// warm ones until they had touched the whole index (Evaluation/preload.py, `--evict`).
    /// The 2 MiB advice stays on the mapping: should the kernel drop pages of a preloaded index,
    /// a fault reads their whole 2 MiB block back (sequential reads that restore 2 MiB pages),
    /// where the random-access advice of ``advise(random:section:)`` would read one page.
    /// Returns whether every page was mapped: false on Linux before 5.14, on other systems, and
    /// when the kernel refused (say out of memory, or a read error); pages are then not read
    /// either, and searches map them as they touch them, as without this call. A hint: never an
    /// error.
    @discardableResult
    public func preload() -> Bool {
        #if os(Linux)
        let start = UnsafeMutableRawPointer(mutating: base)
        _ = madvise(start, length, MADV_HUGEPAGE)
        _ = madvise(start, length, MADV_WILLNEED)
        guard madvise(start, length, Self.populateRead) == 0 else { return false }
        _ = lsr_touch_pages(base, length, Int(sysconf(Int32(_SC_PAGESIZE))))
        return true
        #else
        return false
        #endif
    }

    /// `MADV_POPULATE_READ` (Linux 5.14), which Glibc's headers name only from 2.35 on.
    private static let populateRead: Int32 = 22

    private static func readTable(_ file: UnsafeRawBufferPointer, path: String) throws -> [IndexSectionEntry] {
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
        guard Array(file[0 ..< 8]) == IndexFileFormat.magic else {
            throw LSRError(.corruptIndex, "not an lsr index file (wrong magic number)", path: path, byteOffset: 0)
        }
        // The checksum first: a damaged version field is damage, not another version.
        guard XXHash64.hash(UnsafeRawBufferPointer(rebasing: file[0 ..< 40])) == u64(40) else {
            throw LSRError(.corruptIndex, "header checksum mismatch: the file is damaged", path: path, byteOffset: 0)
        }
        let version = u32(8)
        guard version == IndexFileFormat.version else {
            throw LSRError(
                .unsupportedVersion,
                "format version \(version) is not supported by this lsr (\(lsrVersion)), which reads version \(IndexFileFormat.version); "
                    + "rebuild with `lsr index` (the index's metadata names the lsr release that wrote it)",
                path: path, byteOffset: 8)
        }
        let count = Int(u32(12))
        let tableOffset = u64(16)
        let fileLength = u64(24)
        guard fileLength == UInt64(file.count) else {
            throw LSRError(.corruptIndex, "truncated or extended index file: header says \(fileLength) bytes, file has \(file.count)", path: path)
        }
        let tableBytes = count * IndexFileFormat.tableEntrySize
        guard tableOffset <= UInt64(file.count), UInt64(file.count) - tableOffset >= UInt64(tableBytes) else {
            throw LSRError(.corruptIndex, "section table lies outside the file", path: path, byteOffset: 16)
        }
        let tableStart = Int(tableOffset)
        let table = UnsafeRawBufferPointer(rebasing: file[tableStart ..< tableStart + tableBytes])
        guard XXHash64.hash(table) == u64(32) else {
            throw LSRError(.corruptIndex, "section table checksum mismatch: the file is damaged", path: path, byteOffset: tableStart)
        }
        var entries: [IndexSectionEntry] = []
        for i in 0 ..< count {
            let at = tableStart + i * IndexFileFormat.tableEntrySize
            let nameBytes = file[at ..< at + IndexFileFormat.maximumNameLength].prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let offset = u64(at + 16), sectionLength = u64(at + 24)
            guard offset <= UInt64(tableStart), sectionLength <= UInt64(tableStart) - offset, offset % UInt64(IndexFileFormat.alignment) == 0 else {
                throw LSRError(.corruptIndex, "section '\(name)' lies outside the file", path: path, byteOffset: at)
            }
            entries.append(IndexSectionEntry(name: name, offset: Int(offset), length: Int(sectionLength), checksum: u64(at + 32)))
        }
        return entries
    }

    /// The bytes of section `name`.
    /// - Throws: `LSRError.corruptIndex` when the section is missing.
    public func section(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw LSRError(.corruptIndex, "missing section '\(name)'", path: path)
        }
        return UnsafeRawBufferPointer(start: base + entry.offset, count: entry.length)
    }

    /// The bytes of section `name`, after checking them against their checksum (for small
    /// sections read at open, such as the metadata).
    public func verifiedSection(_ name: String) throws -> UnsafeRawBufferPointer {
        let bytes = try section(name)
        guard let entry = entries.first(where: { $0.name == name }), XXHash64.hash(bytes) == entry.checksum else {
            throw LSRError(.corruptIndex, "section '\(name)' fails its checksum: the file is damaged", path: path, field: name)
        }
        return bytes
    }

    /// Section `name` as an array of `T`, checking that its length is a multiple of `T`'s size
    /// and, when given, equals `count` elements.
    public func array<T: BitwiseCopyable>(_ name: String, of type: T.Type, count: Int? = nil) throws -> UnsafeBufferPointer<T> {
        let bytes = try section(name)
        let stride = MemoryLayout<T>.stride
        guard bytes.count % stride == 0, count.map({ $0 >= 0 && $0 <= bytes.count / stride && $0 * stride == bytes.count }) ?? true else {
            let expected = count.map { "\($0 * stride) bytes" } ?? "a multiple of \(stride) bytes"
            throw LSRError(.corruptIndex, "section '\(name)' has \(bytes.count) bytes, expected \(expected)", path: path)
        }
        // Sections start on 64-byte boundaries of a page-aligned mapping, so any T is aligned.
        return bytes.bindMemory(to: T.self)
    }

    /// Recomputes every section's checksum.
    /// - Returns: the names of sections whose bytes do not match their checksum.
    public func verifyChecksums() -> [String] {
        entries.filter { entry in
            XXHash64.hash(UnsafeRawBufferPointer(start: base + entry.offset, count: entry.length)) != entry.checksum
        }.map(\.name)
    }
}
