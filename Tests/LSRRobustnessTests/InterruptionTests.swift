import Foundation
import LSR
import LSRTestSupport
import XCTest

/// Builds that die or fail half way never damage an existing index and leave nothing behind.
final class InterruptionTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.cleanUp() }

    private func buildOriginal() throws -> (output: String, bytes: Data, input: String) {
        let small = directory.write(SyntheticCollection(seed: 1, count: 100, dimension: 30, meanLength: 5).jsonl(), to: "small.jsonl")
        let output = directory.file("index")
        XCTAssertEqual(try runLSR(["index", "--input", small, "--output", output]).status, 0)
        let big = directory.write(SyntheticCollection(seed: 2, count: 30_000, dimension: 3000, meanLength: 60).jsonl(), to: "big.jsonl")
        return (output, try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr")), big)
    }

    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".lsr-build-") || $0.contains(".lsr-old-") }
    }

    /// SIGINT or SIGKILL at several moments of a rebuild with --force: the old index survives
    /// byte for byte (unless the rebuild finished first, and then the new one is complete), and
    /// the next build removes the dead build's temporary directory.
    func testKilledRebuildsKeepTheOldIndex() throws {
        var (output, original, big) = try buildOriginal()
        var interrupted = 0
        for (signal, delay) in [(SIGINT, 0.05), (SIGKILL, 0.3), (SIGKILL, 1.0), (SIGINT, 1.5)] {
            let process = try startLSR(["index", "--input", big, "--output", output, "--force", "--threads", "2"])
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            let now = try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr"))
            if process.terminationReason == .exit && process.terminationStatus == 0 {
                original = now  // finished before the signal: the new index replaced the old one whole
            } else {
                interrupted += 1
                XCTAssertEqual(now, original, "signal \(signal) after \(delay) s")
            }
            XCTAssertEqual(try Index(path: output).verify(), [])
        }
        XCTAssertGreaterThan(interrupted, 1)
        // The next build (here one that fails at once on its input) cleans up the dead builds.
        let missing = try runLSR(["index", "--input", directory.file("nope.jsonl"), "--output", output, "--force"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(try leftovers(), [])
    }

    /// A write that hits the file size limit (a full disk, simulated with RLIMIT_FSIZE) fails with
    /// a one-line error, removes its temporary directory and keeps the old index.
    func testFullDiskFailsCleanly() throws {
        let (output, original, big) = try buildOriginal()
        let result = try runLSR(["index", "--input", big, "--output", output, "--force"], fileSizeLimit: 2_000_000)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("lsr:"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output + "/index.lsr")), original)
        XCTAssertEqual(try leftovers(), [])
    }

    func testMissingDocumentStoreIsAClearError() throws {
        let (output, _, _) = try buildOriginal()
        try FileManager.default.removeItem(atPath: output + "/documents.sqlite")
        XCTAssertThrowsError(try Index(path: output)) { error in
            XCTAssertEqual((error as? LSRError)?.code, .documentStore)
            XCTAssertTrue("\(error)".contains("documents.sqlite"), "\(error)")
        }
    }
}
