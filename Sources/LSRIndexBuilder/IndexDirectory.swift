import Foundation
import LSRFormats
import LSRVectors

/// Builds an index directory atomically: everything is written into a hidden temporary directory
/// beside the target, synced, and only then renamed into place.
///
/// An existing index at the target is replaced only when overwriting was asked for, and only
/// after the new one is complete; a failed or interrupted build leaves it untouched. Temporary
/// directories left by crashed builds (their process is gone) are removed by the next build.
struct IndexDirectory {
    let target: String
    let temporary: String
    private let parent: String
    private let baseName: String

    init(target path: String, overwrite: Bool) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        target = url.path
        parent = url.deletingLastPathComponent().path
        baseName = url.lastPathComponent
        try IndexDirectory.check(target: path, overwrite: overwrite)
        temporary = parent + "/.\(baseName).lsr-build-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        IndexDirectory.removeAbandoned(in: parent, baseName: baseName)
        do {
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        } catch {
            throw LSRError(.io, "cannot create a temporary directory: \(error.localizedDescription)", path: temporary)
        }
    }

    /// Adopts `temporary`, a directory filled by others (a collection's shards built elsewhere),
    /// to be renamed to `path` by ``commit()``. It must be in the target's parent directory, so
    /// that the rename is atomic.
    init(target path: String, adopting temporary: String, overwrite: Bool) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        target = url.path
        parent = url.deletingLastPathComponent().path
        baseName = url.lastPathComponent
        self.temporary = URL(fileURLWithPath: temporary).standardizedFileURL.path
        try IndexDirectory.check(target: path, overwrite: overwrite)
        guard URL(fileURLWithPath: self.temporary).deletingLastPathComponent().path == parent else {
            throw LSRError(.invalidArgument, "the shards' directory must be beside the target, in \(parent)", path: temporary)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: self.temporary, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LSRError(.io, "no such directory", path: temporary)
        }
    }

    /// Whether an index or collection may be built at `path`: nothing there, or an index or
    /// collection and `overwrite`; and the parent directory exists.
    /// - Throws: `LSRError.outputExists` or `.io` saying why not.
    static func check(target path: String, overwrite: Bool) throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let target = url.path, parent = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) {
            guard overwrite else {
                throw LSRError(.outputExists, "already exists; pass --force to replace it", path: path)
            }
            guard isDirectory.boolValue,
                  FileManager.default.fileExists(atPath: target + "/" + IndexLayout.indexFileName) || CollectionManifest.isCollection(at: target)
            else {
                throw LSRError(.outputExists, "exists and is neither an lsr index nor a collection; refusing to replace it", path: path)
            }
        }
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw LSRError(.io, "the parent directory does not exist", path: parent)
        }
    }

    /// Removes `.<name>.lsr-build-<pid>-*` and `.<name>.lsr-old-<pid>-*` directories whose
    /// process no longer runs.
    private static func removeAbandoned(in parent: String, baseName: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names {
            for marker in [".\(baseName).lsr-build-", ".\(baseName).lsr-old-"] where name.hasPrefix(marker) {
                let rest = name.dropFirst(marker.count)
                guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
                if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH {
                    try? FileManager.default.removeItem(atPath: parent + "/" + name)
                }
            }
        }
    }

    /// Moves the finished temporary directory to the target, replacing an old index.
    func commit() throws {
        syncDirectory(temporary)
        var old: String? = nil
        if FileManager.default.fileExists(atPath: target) {
            let aside = parent + "/.\(baseName).lsr-old-\(getpid())-\(UInt32.random(in: 0 ... .max))"
            guard rename(target, aside) == 0 else {
                throw LSRError(.io, "cannot move the old index aside: \(String(cString: strerror(errno)))", path: target)
            }
            old = aside
        }
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            if let old { _ = rename(old, target) }
            throw LSRError(.io, "cannot move the new index into place: \(reason)", path: target)
        }
        syncDirectory(parent)
        if let old { try? FileManager.default.removeItem(atPath: old) }
    }

    /// Deletes the temporary directory (after a failure).
    func discard() {
        try? FileManager.default.removeItem(atPath: temporary)
    }

    private func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
