import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation
import SIMDCore

/// `dino eval`: weighted k-NN and a linear probe of a trained teacher, beside raw pixels and the
/// same ViT randomly initialised, on the full split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint: weighted k-NN (k = 10, 20, 100, 200; T = 0.07) and a linear probe, with baselines.")

    @Option(name: .long, help: "A teacher .safetensors written by dino train, or a run folder (its latest checkpoint).")
    var checkpoint: String

    @Option(name: .long, help: "Use the first N training images (default: all).")
    var trainSize: Int?

    @Option(name: .long, help: "Use the first N test images (default: all).")
    var testSize: Int?

    @Flag(name: .long, help: "Skip the linear probe.")
    var noLinear = false

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.apply()
        do {
            let report = try EvaluationReport.compute(
                checkpoint: checkpoint, trainSize: trainSize, testSize: testSize, linear: !noLinear,
                log: { if !json { print($0) } })
            print(json ? report.json : report.table)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
