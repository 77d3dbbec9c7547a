import Foundation
import LSR

/// Writes to standard error (progress and summaries; results go to standard output).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A one-line progress display on standard error, redrawn at most ten times a second and only
/// when standard error is a terminal.
final class ProgressLine: @unchecked Sendable {
    // @unchecked Sendable: state is guarded by `lock`.
    private let lock = NSLock()
    private let enabled = isatty(STDERR_FILENO) != 0
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var drawn = false

    func update(_ text: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        guard now - lastDraw >= .milliseconds(100) else { return }
        lastDraw = now
        drawn = true
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }
}

/// Writes `text` to `path` atomically (temporary file beside it, synced, then renamed).
func writeAtomically(_ text: String, to path: String) throws {
    try writeFileAtomically(Array(text.utf8), to: path)
}

func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// Opens the index at `path` for `command`, which works on one index: a sharded collection is a
/// clear error naming its first shard.
func openOneIndex(_ path: String, for command: String) throws -> Index {
    guard !CollectionManifest.isCollection(at: path) else {
        throw LSRError(
            .invalidArgument,
            "a sharded collection; lsr \(command) works on one index (each shard is one: \(path)/\(CollectionManifest.shardDirectory(0)), …)",
            path: path)
    }
    return try Index(path: path)
}
