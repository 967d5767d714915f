import ArgumentParser
import DINOCore
import DINOPlot
import Foundation
import Benchmarks
import KernelCheck
import SIMDCore

/// `dino bench kernels`: every kernel on both cores at the shapes of a small ViT training step.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time every kernel on the reference and SIMD cores (parity is checked first).")

    @OptionGroup var sweep: BenchThreadOptions

    @Option(name: .long, help: "Only ops whose name contains this text (e.g. matmul, softmax).")
    var op: String?

    @Option(name: .long, help: "Timed runs of the SIMD core per case (the median is reported).")
    var runs: Int = 9

    @Flag(name: .long, help: "Skip the reference core (SIMD times only).")
    var noReference = false

    @Flag(name: .long, help: "Print one JSON object per line instead of the table.")
    var json = false

    @Option(
        name: [.customLong("out"), .customLong("plots")],
        help: ArgumentHelp("Folder for the chart (kernels.dat/.gp/.png).", valueName: "dir"))
    var plots: String = "plots/bench"

    func run() throws {
        try forwardingUsageErrors {
            try KernelsBenchmark(
                threads: sweep.threads.description, op: op, runs: runs, noReference: noReference, json: json,
                plots: plots
            ).run()
        }
    }
}
