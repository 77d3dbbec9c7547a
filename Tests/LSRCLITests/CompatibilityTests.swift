import Foundation
import LSR
import LSRTestSupport
import XCTest

/// The format's promise (`Documentation/IndexFormat.md`, "Versions"): every fixture under
/// `Indexes/compat/v<N>/`, written once by the lsr that introduced version N, still opens, passes
/// `lsr check`, and answers every search of `Indexes/compat/searches.tsv` byte for byte as it
/// did when it was written: exact, brute force, skip-ahead, planned, preset, text and hybrid.
/// Hybrid scores come from OpenBLAS, whose kernels (chosen for the CPU at run time) round
/// differently from one processor family to another: there the documents and ranks must be the
/// recorded ones and each score within 1e-5 of its recorded value (1e-5 × the score above 1).
final class CompatibilityTests: XCTestCase {
    /// The searches whose scores come from OpenBLAS.
    static let blasScored: Set = ["hybrid"]

    /// The same TREC run lines but for the scores, which differ by at most 1e-5 (× the score above 1).
    private func assertSameRanking(_ got: Data, _ expected: Data, _ label: String) throws {
        /// Each line without its score (field 5 of 6), and the score.
        func parse(_ data: Data) -> [(line: String, score: Double?)] {
            String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
                var fields = line.split(separator: " ").map(String.init)
                let score = fields.count == 6 ? Double(fields.remove(at: 4)) : nil
                return (fields.joined(separator: " "), score)
            }
        }
        let (a, b) = (parse(got), parse(expected))
        XCTAssertEqual(a.map(\.line), b.map(\.line), "\(label): documents or ranks differ from the recorded ones")
        for (x, y) in zip(a, b) {
            let (s, t) = (try XCTUnwrap(x.score, "\(label): \(x.line)"), try XCTUnwrap(y.score, "\(label): \(y.line)"))
            XCTAssertLessThanOrEqual(abs(s - t), 1e-5 * max(1, abs(t)), "\(label): \(x.line) scored \(s), recorded \(t)")
        }
    }

    func testEveryFixtureOpensAndAnswersAsRecorded() throws {
        let compat = repositoryRoot + "/Indexes/compat"
        let fixtures = try FileManager.default.contentsOfDirectory(atPath: compat)
            .filter { $0.hasPrefix("v") && Int($0.dropFirst()) != nil }.sorted()
        XCTAssertTrue(fixtures.contains("v2"), "the fixture of the current version, 2, is committed")
        let searches = try String(contentsOfFile: compat + "/searches.tsv", encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
        XCTAssertGreaterThanOrEqual(searches.count, 8)

        let directory = TemporaryDirectory()
        defer { directory.cleanUp() }
        for version in fixtures {
            // A copy: nothing a test runs may touch the committed bytes.
            let fixture = directory.file(version)
            try FileManager.default.copyItem(atPath: compat + "/" + version, toPath: fixture)
            let check = try runLSR(["check", "--index", fixture + "/index"])
            XCTAssertEqual(check.status, 0, "\(version): \(check.stderr)")
            let info = try runLSR(["info", "--index", fixture + "/index"])
            XCTAssertTrue(info.stdout.contains("format version \(version.dropFirst())"), info.stdout)
            XCTAssertEqual(try Index(path: fixture + "/index").metadata.formatVersion, Int(version.dropFirst()))

            for search in searches {
                let (name, arguments) = (search[0], search[1].replacingOccurrences(of: "{fixture}", with: fixture))
                let output = directory.file("\(version)-\(name).run")
                let result = try runLSR(["search"] + arguments.split(separator: " ").map(String.init) + ["--output", output])
                XCTAssertEqual(result.status, 0, "\(version) \(name): \(result.stderr)")
                let expected = try Data(contentsOf: URL(fileURLWithPath: "\(fixture)/expected/\(name).run"))
                XCTAssertFalse(expected.isEmpty, "\(version) \(name)")
                let got = try Data(contentsOf: URL(fileURLWithPath: output))
                if Self.blasScored.contains(name) {
                    try assertSameRanking(got, expected, "\(version) \(name)")
                } else {
                    XCTAssertEqual(got, expected, "\(version) \(name): results differ from the recorded ones")
                }
            }
        }
    }
}
