#if canImport(Glibc)
import Glibc
#endif

/// The body libFuzzer calls with each input; set once by ``runFuzzer(_:)`` before fuzzing starts.
nonisolated(unsafe) private var fuzzBody: ((UnsafeRawBufferPointer) -> Void)?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzBody?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Hands the command line to libFuzzer, which calls `body` with each input; never returns.
/// Errors the code under test throws are expected outcomes; crashes, traps, sanitizer reports,
/// leaks, timeouts and out-of-memory are the findings.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    fuzzBody = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(runDriver(&argc, &argv, fuzzerTestOneInput))
}

/// A private scratch directory for the files a target writes its inputs to.
public struct ScratchDirectory {
    public let path: String

    public init() {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        path = "\(base)/lsr-fuzz-\(getpid())"
        mkdir(path, 0o700)
    }

    /// Writes `bytes` to `name` in the directory (replacing it) and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ bytes: UnsafeRawBufferPointer) -> String {
        let file = path + "/" + name
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(file)")
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            precondition(n > 0, "cannot write \(file)")
            written += n
        }
        close(fd)
        return file
    }
}

/// A fixed collection as JSONL: `documents` records `{"id": "d<n>", ["content": "document <n>",]
/// "vector": {...}}` of up to `termsPerDocument` distinct tokens `t0 ..< t<vocabulary>`, weights
/// in [0.01, 10.0). A fixed linear congruential sequence (Knuth's MMIX constants) from `seed`
/// draws them: the same bytes every run.
public func fixedCollectionJSONL(seed: UInt64, documents: Int, termsPerDocument: Int, vocabulary: Int, content: Bool) -> String {
    var state = seed
    func random() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    var lines = ""
    for d in 0 ..< documents {
        let terms = Set((0 ..< termsPerDocument).map { _ in Int(random() % UInt64(vocabulary)) }).sorted()
        let vector = terms.map { "\"t\($0)\": \(Double(random() % 1000) / 100 + 0.01)" }.joined(separator: ", ")
        lines += "{\"id\": \"d\(d)\", " + (content ? "\"content\": \"document \(d)\", " : "") + "\"vector\": {\(vector)}}\n"
    }
    return lines
}
