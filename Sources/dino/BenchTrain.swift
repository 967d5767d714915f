import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import DINOPlot
import Foundation
import Benchmarks
import KernelCheck
import SIMDCore

/// `dino bench train`: images per second of whole DINO training steps on the SIMD core.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Time full DINO training steps (student fwd+bwd on all crops, teacher fwd, loss, clip, AdamW, EMA, centre).",
        discussion:
            "Configs tiny, tiny_p7 and lesson match scripts/anchors/torch_dino_step.py; default is lesson 07's run."
    )

    @Option(name: .long, help: "Configs (comma separated): tiny, tiny_p7, lesson, default.")
    var config: String = "tiny,tiny_p7,lesson,default"

    @OptionGroup var sweep: BenchThreadOptions

    @Option(name: .long, help: "Timed steps per measurement (median reported).")
    var steps: Int = 10

    @Option(name: .long, help: "Untimed warm-up steps.")
    var warmup: Int = 3

    @Flag(name: .long, help: "Also measure the whole dino train loop: augmentation + data loading + step.")
    var withData = false

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    @Option(
        name: [.customLong("out"), .customLong("plots")],
        help: ArgumentHelp("Folder for train.png/.dat/.gp.", valueName: "dir"))
    var plots: String = "plots/bench"

    func run() throws {
        try forwardingUsageErrors {
            try TrainingStepBenchmark(
                config: config, threads: sweep.threads.description, steps: steps, warmup: warmup,
                withData: withData,
                json: json, plots: plots
            ).run()
        }
    }
}
