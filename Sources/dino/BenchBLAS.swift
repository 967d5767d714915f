import ArgumentParser
import DINOCore
import DINOPlot
import Foundation
import Benchmarks
import KernelCheck
import SIMDCore

/// `dino bench blas`: the SIMD core's matmul against an OpenBLAS loaded at run time, side by side.
///
/// This machine is shared and its speed drifts by 20% from minute to minute, so two benchmarks run
/// minutes apart cannot give a ratio worth quoting. Here both libraries run in one process on the
/// same inputs, alternating sample by sample, and the ratio is taken per case from the two
/// medians (with `--rounds`, the median of the rounds' ratios). OpenBLAS is only a yardstick: it is opened with `dlopen` from a path the user gives
/// (numpy ships one), never linked, and the SIMD core does not know it exists.
struct BenchBLAS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas",
        abstract: "Time the SIMD core's matmul against OpenBLAS's sgemm, interleaved in one process.",
        discussion: """
            --library is the path of an OpenBLAS shared library. numpy's is found by
              python3 -c "import numpy, glob, os; print(*glob.glob(os.path.dirname(numpy.__file__) + '*.libs/*openblas*'))"
            (Debian's libopenblas0 installs /usr/lib/x86_64-linux-gnu/libopenblas.so.0).
            """)

    @Option(name: .long, help: "Path of an OpenBLAS shared library (cblas_sgemm, 32- or 64-bit integers).")
    var library: String

    @OptionGroup var sweep: BenchThreadOptions

    @Option(name: .long, help: "Only cases whose layout or shape contains this text (e.g. tn, 4160).")
    var only: String?

    @Option(name: .long, help: "Timed samples per library and case (median reported).")
    var runs: Int = 15

    @Option(name: .long, help: "Passes over the whole suite; each case's ratio is the median of its passes.")
    var rounds: Int = 1

    @Flag(name: .long, help: "Print one JSON object per line instead of the table.")
    var json = false

    @Flag(
        name: .customLong("keep-openblas-env"),
        help: ArgumentHelp(
            "Keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE from the environment (by default they are unset before loading).",
            discussion:
                "They force OpenBLAS onto another CPU's kernel (Haswell = AVX2 only); the yardstick is OpenBLAS's own choice."
        ))
    var keepOpenBLASEnvironment = false

    @Option(
        name: [.customLong("out"), .customLong("plots")],
        help: ArgumentHelp("Folder for the chart (blas.dat/.gp/.png).", valueName: "dir"))
    var plots: String = "plots/bench"

    func run() throws {
        try forwardingUsageErrors {
            try BLASComparison(
                library: library, threads: sweep.threads.description, only: only, runs: runs, rounds: rounds,
                json: json,
                keepOpenBLASEnvironment: keepOpenBLASEnvironment, plots: plots
            ).run()
        }
    }
}
