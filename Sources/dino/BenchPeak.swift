import ArgumentParser
import DINOCore
import Foundation
import Benchmarks
import KernelCheck
import SIMDCore

/// `dino bench peak`: the FMA ceiling of every SIMD path this CPU runs, per thread count: the
/// yardstick that turns every other GFLOP/s figure into a fraction of what the CPU can do.
struct BenchPeak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract:
            "Measure this CPU's FMA throughput (GFLOP/s) at 256 and 512 bits, 12 independent chains per thread."
    )

    @OptionGroup var sweep: BenchThreadOptions

    @Option(name: .long, help: "Timed runs per measurement (the median is reported).")
    var runs: Int = 5

    func run() throws {
        try forwardingUsageErrors { try PeakBenchmark(threads: sweep.threads.description, runs: runs).run() }
    }
}
