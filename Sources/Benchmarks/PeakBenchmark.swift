import DINOCore
import Foundation
import KernelCheck
import SIMDCore

/// `dino bench peak`: the FMA ceiling of every SIMD path this CPU runs, per thread count: the
/// yardstick that turns every other GFLOP/s figure into a fraction of what the CPU can do.
public struct PeakBenchmark {
    /// Thread counts (comma separated).
    public var threads: String
    /// Timed runs per measurement (the median is reported).
    public var runs: Int
    public init(threads: String = "1,2", runs: Int = 5) {
        self.threads = threads
        self.runs = runs
    }

    public func run() throws {
        let counts = try threadList(threads)
        guard runs >= 1 else { throw BenchmarkError.usage("--runs must be at least 1, got \(runs)") }
        print(
            "CPU: \(cpuModel); AVX-512 F/BW/DQ/VL: \(SIMDPath.cpuHasAVX512 ? "yes" : "no (the avx512 path cannot run here)")"
        )
        print("path             vector     thr   GFLOP/s   per thread")
        for path in SIMDPath.supported {
            let width = path == .avx2 ? "8 × f32" : "16 × f32"
            for t in counts {
                let g = path.fmaPeak(threads: t, runs: runs)
                print(
                    path.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + " "
                        + width.padding(toLength: 9, withPad: " ", startingAt: 0)
                        + String(format: " %4d  %8.1f  %11.1f", t, g, g / Double(t)))
            }
        }
        if !SIMDPath.cpuHasAVX512 {
            print(
                "avx512-on-avx2 runs each 16-float FMA as two ymm FMAs, and its 12 chains need 24 of the 16 ymm registers: "
                    + "it spills, so it checks the 512-bit path's logic, not its speed.")
        }
    }
}
