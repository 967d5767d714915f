import ArgumentParser
import Benchmarks
import DINOCore
import Foundation
import SIMDCore

@main
struct DINOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dino",
        abstract:
            "DINO (self-distillation with no labels), built by hand: check, benchmark, train, evaluate.",
        version: "dino-by-hand 0.9.0 (checkpoint format dino-by-hand/1)",
        subcommands: [
            Check.self, Verify.self, Bench.self, Train.self, Eval.self, AttentionCommand.self, Scenes.self,
        ])

    /// One error style for every subcommand: `error: <what and where>` on standard error, then for a
    /// usage mistake the help line to read; exit status 64 for bad flags, 1 for a failed run.
    /// (Without this, ArgumentParser prints "Error:" with a usage block for bad flags while
    /// failures inside a run print "error:", two styles for one tool.)
    static func main() {
        if let problem = SIMDPath.environmentProblem {
            FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { fail(error, hint: fullMessage(for: error)) }
        do { try command.run() } catch {
            // The subcommand path as typed ("bench kernels") names the help to read.
            let words = Array(CommandLine.arguments.dropFirst().prefix(2))
            let path = words.first == "bench" ? words.joined(separator: " ") : words.first ?? ""
            fail(error, hint: "See 'dino \(path) --help' for more information.")
        }
    }

    private static func fail(_ error: Error, hint: String) -> Never {
        let code = exitCode(for: error)
        if code == .success { exit(withError: error) }  // --help, --version
        let message = self.message(for: error)
        var lines: [String] = []
        if !message.isEmpty { lines.append(message.hasPrefix("error: ") ? message : "error: " + message) }
        if code == .validationFailure,
            let line = hint.split(separator: "\n")
                .last(where: { $0.contains("--help' for more information") })
        {
            lines.append("  " + line.trimmingCharacters(in: .whitespaces))
        }
        if !lines.isEmpty {
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
        Foundation.exit(code.rawValue)
    }
}

/// Runs something of the Benchmarks target; its usage errors become this tool's usage errors
/// (exit status 64 and the help line), its failures stay failures (exit status 1).
func forwardingUsageErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as BenchmarkError where error.kind == .usage {
        throw ValidationError(error.description)
    }
}

/// A comma-separated `--threads` list such as "1,2", as a usage error when it is not one.
func threadList(_ text: String) throws -> [Int] {
    try forwardingUsageErrors { try Benchmarks.threadList(text) }
}

/// `--threads` shared by every subcommand that runs the SIMD core.
struct ThreadOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Threads for the SIMD core (1 to 64; default: the \(Threads.machineCores) cores of this machine)."
    )
    var threads: Int = Threads.machineCores

    func validate() throws {
        guard (1...64).contains(threads) else {
            throw ValidationError("--threads must be between 1 and 64, got \(threads)")
        }
    }

    func apply() { Threads.count = threads }
}
