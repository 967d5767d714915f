import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore

/// `dino eval`: weighted k-NN and a linear probe of a trained teacher, beside raw pixels and the
/// same ViT randomly initialised, on the full split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Evaluate a checkpoint: weighted k-NN (k = 10, 20, 100, 200; T = 0.07) and a linear probe, with baselines.",
        discussion:
            "On a dataset with object masks (scenes, or an idx: folder with t10k-masks-idx3-ubyte.gz) it also reports the Jaccard of the last block's [CLS] attention (60% mass) with the masks, per head, for the model and the random-init ViT."
    )

    @Option(
        name: .long,
        help: "A teacher .safetensors written by dino train, or a run folder (its latest checkpoint).")
    var checkpoint: String

    @Option(
        name: .long,
        help:
            "Evaluate on this dataset instead of the run's own (fashion-mnist, scenes, idx:DIR, cifar10:DIR, folder:DIR)."
    )
    var dataset: String?

    @Option(name: .long, help: "Kernel core: reference or simd.")
    var kernels: KernelChoice = .simd

    @Option(name: .long, help: "Use the first N test images for the Jaccard (default: as for k-NN).")
    var jaccardSize: Int?

    @Option(name: .long, help: "Use the first N training images (default: all).")
    var trainSize: Int?

    @Option(name: .long, help: "Use the first N test images (default: all).")
    var testSize: Int?

    @Flag(name: .long, help: "Skip the linear probe.")
    var noLinear = false

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        for (name, value) in [
            ("--train-size", trainSize), ("--test-size", testSize), ("--jaccard-size", jaccardSize),
        ] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
    }

    func run() throws {
        threads.apply()
        do {
            let log: (String) -> Void = { if !json { print($0) } }
            let report =
                switch kernels {
                case .simd:
                    try EvaluationReport.compute(
                        SIMDKernels.self, checkpoint: checkpoint, dataset: dataset, trainSize: trainSize,
                        testSize: testSize,
                        jaccardSize: jaccardSize, linear: !noLinear, log: log)
                case .reference:
                    try EvaluationReport.compute(
                        ReferenceKernels.self, checkpoint: checkpoint, dataset: dataset, trainSize: trainSize,
                        testSize: testSize, jaccardSize: jaccardSize, linear: !noLinear, log: log)
                }
            print(json ? report.json : report.table)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}
