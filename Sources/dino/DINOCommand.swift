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

/// The value of `--threads` in every subcommand: one count, or a comma-separated list of counts
/// for the benchmarks that measure several ("1,2"), each 1 to 64.
struct ThreadCounts: ExpressibleByArgument, CustomStringConvertible, Equatable {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    init?(argument: String) {
        guard let values = try? Benchmarks.threadList(argument) else { return nil }
        self.values = values
    }

    /// The machine's cores: what a run uses by default.
    static let machine = ThreadCounts([Threads.machineCores])
    /// One thread and all of them: what a benchmark measures by default.
    static let oneAndAll = ThreadCounts(Threads.machineCores == 1 ? [1] : [1, Threads.machineCores])

    var description: String { values.map(String.init).joined(separator: ",") }
    var defaultValueDescription: String { description }
}

/// `--threads` of the benchmarks: the thread counts to measure, each in turn.
struct BenchThreadOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Thread counts to measure, each in turn: one count from 1 to 64 or a comma-separated list (1 and all cores by default).",
            valueName: "n[,n...]"))
    var threads: ThreadCounts = .oneAndAll
}

/// `--threads` shared by every subcommand that runs the SIMD core once.
struct ThreadOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Threads for the SIMD core, 1 to 64 (by default the \(Threads.machineCores) cores of this machine).",
            valueName: "n"))
    var threads: ThreadCounts = .machine

    func validate() throws {
        guard threads.values.count == 1 else {
            throw ValidationError(
                "--threads \(threads): this command runs once, give one count (lists such as 1,2 are for dino bench)"
            )
        }
    }

    func apply() { Threads.count = threads.values[0] }
}
