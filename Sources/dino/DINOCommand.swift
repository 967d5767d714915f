import ArgumentParser
import DINOCore

@main
struct DINOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dino",
        abstract: "DINO (self-distillation with no labels), built by hand: check, benchmark, train, evaluate.",
        subcommands: [Check.self, Verify.self, Bench.self, Train.self, Eval.self, AttentionCommand.self])
}

/// `--threads` shared by every subcommand that runs the SIMD core.
struct ThreadOptions: ParsableArguments {
    @Option(name: .long, help: "Threads for the SIMD core (1 or 2 on this machine).")
    var threads: Int = 2

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be between 1 and 64, got \(threads)") }
    }

    func apply() { Threads.count = threads }
}
