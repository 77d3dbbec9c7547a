import Foundation
import LSR
import LSRTestSupport
import XCTest

/// The format's promise (`Documentation/IndexFormat.md`, "Versions"): every fixture under
/// `Indexes/compat/v<N>/`, written once by the lsr that introduced version N, still opens, passes
/// `lsr check`, and answers every search of `Indexes/compat/searches.tsv` byte for byte as it
/// did when it was written: exact, brute force, skip-ahead, planned, preset, text and hybrid.
final class CompatibilityTests: XCTestCase {
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
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: output)), expected, "\(version) \(name): results differ from the recorded ones")
            }
        }
    }
}
