import ArgumentParser
import DINOCore
import DINOData
import DINOPlot
import Foundation
import Benchmarks
import KernelCheck

/// `dino bench augment`: multi-crop augmentation throughput in crops per second, so we know the
/// data pipeline keeps up with the trainer. Three workloads: Fashion-MNIST with the two small
/// recipes the trainer uses (2 × 28 + 6 × 14 and 2 × 28 + 4 × 16) and the 451 × 300 photograph
/// with the official recipe (2 × 224 + 8 × 96), each at every requested thread count.
struct BenchAugment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Multi-crop augmentation throughput (crops/s, median of several batches).")

    @OptionGroup var sweep: BenchThreadOptions

    @Option(name: .long, help: "Timed batches per workload (the median is reported).")
    var runs: Int = 7

    @Option(name: .long, help: "Fashion-MNIST images per batch.")
    var batch: Int = 256

    @Option(name: .long, help: "Copies of the photograph per batch.")
    var photoBatch: Int = 8

    @Option(name: .long, help: "The photograph (default: Lessons/assets/chelsea.png of this repository).")
    var image: String?

    @Option(name: .long, help: "Folder holding the Fashion-MNIST .gz files.")
    var fashionMNIST: String = Dataset.fashionMNISTDirectory

    @Option(name: .long, help: "Only workloads whose name contains this text (e.g. photo, 6x14).")
    var only: String?

    @Option(
        name: [.customLong("out"), .customLong("plots")],
        help: ArgumentHelp("Folder for the chart (augment.dat/.gp/.png).", valueName: "dir"))
    var plots: String = "plots/bench"

    func run() throws {
        try forwardingUsageErrors {
            try AugmentationBenchmark(
                threads: sweep.threads.description, runs: runs, batch: batch, photoBatch: photoBatch,
                image: image,
                fashionMNIST: fashionMNIST, only: only, plots: plots
            ).run()
        }
    }
}
