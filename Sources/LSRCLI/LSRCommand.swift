import ArgumentParser
import Foundation
import LSR

@main
struct LSRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsr",
        abstract: "Learned sparse retrieval: Seismic-layout indexes, fast approximate top-k, exact oracle.",
        version: lsrVersion,
        subcommands: [
            IndexCommand.self, SearchCommand.self, TuneCommand.self, EvalCommand.self, InfoCommand.self, CheckCommand.self, TokenizeCommand.self,
            EncodeCommand.self, AddEncoderCommand.self, AddDenseCommand.self,
        ])

    /// Runs the command; any failure prints one line, `lsr: <what is wrong>`, and exits non-zero
    /// (help and version requests print as usual).
    static func main() {
        // A write beyond the file size limit then fails with EFBIG (reported, cleaned up)
        // instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit { exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data(("lsr: " + message + "\n").utf8))
            Foundation.exit(code.rawValue)
        }
    }
}

/// Thread count option shared by the commands that use cores.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: every core).")
    var threads: Int = availableCores

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }
}
