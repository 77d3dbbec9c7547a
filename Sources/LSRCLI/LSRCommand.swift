import ArgumentParser
import LSR

@main
struct LSRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lsr",
        abstract: "Learned sparse retrieval: Seismic-layout indexes, fast approximate top-k, exact oracle.",
        subcommands: [IndexCommand.self, SearchCommand.self, InfoCommand.self, CheckCommand.self])
}

/// Thread count option shared by the commands that use cores.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (default: every core).")
    var threads: Int = availableCores

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }
}
