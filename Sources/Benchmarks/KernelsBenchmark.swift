import DINOCore
import DINOPlot
import Foundation
import KernelCheck
import SIMDCore

/// `dino bench kernels`: every kernel on both cores at the shapes of a small ViT training step.
public struct KernelsBenchmark {
    /// Thread counts for the SIMD core (comma separated, e.g. 1,2).
    public var threads: String
    /// Only ops whose name contains this text (e.g. matmul, softmax).
    public var op: String?
    /// Timed runs of the SIMD core per case (the median is reported).
    public var runs: Int
    /// Skip the reference core (SIMD times only).
    public var noReference: Bool
    /// Print one JSON object per line instead of the table.
    public var json: Bool
    /// Folder for the chart (kernels.dat/.gp/.png).
    public var plots: String
    public init(
        threads: String = "1", op: String?, runs: Int = 9, noReference: Bool = false, json: Bool = false,
        plots: String = "plots/bench"
    ) {
        self.threads = threads
        self.op = op
        self.runs = runs
        self.noReference = noReference
        self.json = json
        self.plots = plots
    }

    public func run() throws {
        let threadCounts = try threadList(threads)
        guard runs >= 1 else { throw BenchmarkError.usage("--runs must be at least 1") }
        let cases = BenchCase.kernelSuite.filter { op == nil || $0.op.contains(op!) }
        guard !cases.isEmpty else {
            throw BenchmarkError.usage(
                "--op \(op!): no benchmark matches; the ops are \(Set(BenchCase.kernelSuite.map { String($0.op.split(separator: " ")[0]) }).sorted().joined(separator: ", "))"
            )
        }
        let log: (String) -> Void = { line in
            if json { FileHandle.standardError.write(Data((line + "\n").utf8)) } else { print(line) }
        }
        if !isOptimizedBuild {
            log("warning: this is a debug build; use swift run -c release for meaningful numbers")
        }

        // Parity first (llm.c): a fast kernel that is wrong is not worth timing.
        let families = Set(BenchCase.kernelSuite.map { $0.op.split(separator: " ")[0] })
        let parity = ParityCase.all.filter { c in
            families.contains { c.name.lowercased().contains($0.lowercased()) || c.op == $0 }
        }
        .filter { op == nil || $0.name.contains(op!) || $0.op.contains(op!) }
        var failures = 0
        for t in threadCounts {
            for c in parity where !compare(c, threads: t).passed {
                failures += 1; log("parity FAIL: \(c.name) at \(t) threads")
            }
        }
        guard failures == 0 else {
            throw BenchmarkError.failed(
                "parity failed for \(failures) case(s): run `dino check` for details; not benchmarking")
        }
        log("parity: \(parity.count) cases PASS at threads \(threadCounts); CPU: \(cpuModel)")

        // The yardstick for every GFLOP/s below: this path's measured FMA ceiling per thread count.
        let peaks = Dictionary(
            uniqueKeysWithValues: threadCounts.map { ($0, SIMDPath.current.fmaPeak(threads: $0)) })
        log(
            "SIMD path \(SIMDPath.current); FMA peak "
                + threadCounts.map { String(format: "%.1f GFLOP/s at %d thread(s)", peaks[$0]!, $0) }
                .joined(separator: ", ") + " (dino bench peak)")
        if !json {
            print(
                "op                  shape            thr   reference ms      SIMD ms   speed-up    GFLOP/s  of peak"
            )
        }
        var results: [BenchResult] = []
        for c in cases {
            for t in threadCounts {
                let r = runBenchmark(
                    c, threads: t, runs: runs, reference: !noReference && t == threadCounts[0])
                results.append(r)
                if json {
                    print(r.json)
                } else {
                    print(row(r) + (r.gflops.map { String(format: "  %5.1f%%", 100 * $0 / peaks[t]!) } ?? ""))
                }
                fflush(stdout)
            }
        }
        try chart(results, threadCounts: threadCounts, peaks: peaks, log: log)
    }

    private func row(_ r: BenchResult) -> String {
        let ref = r.referenceMs.map { String(format: "%12.3f", $0) } ?? "           -"
        let speed = r.speedup.map { String(format: "%9.1fx", $0) } ?? "         -"
        let gf = r.gflops.map { String(format: "%10.1f", $0) } ?? "         -"
        return r.op.padding(toLength: 19, withPad: " ", startingAt: 0) + " "
            + r.shape.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(format: "%3d", r.threads) + "   " + ref + String(format: " %12.3f", r.simdMs) + "  "
            + speed + " " + gf
    }

    /// Two panels: SIMD GFLOP/s of every matmul per thread count, and the speed-up of every op
    /// over the reference core (log scale).
    private func chart(
        _ results: [BenchResult], threadCounts: [Int], peaks: [Int: Double], log: (String) -> Void
    ) throws {
        let peakText = threadCounts.map {
            String(format: "%.0f GFLOP/s at %d thread%@", peaks[$0]!, $0, $0 == 1 ? "" : "s")
        }
        .joined(separator: ", ")
        var series = Series(
            columns: ["index"] + threadCounts.map { "gflops_\($0)t" } + ["speedup_vs_reference"])
        var labels: [String] = []
        var keys: [String] = []
        for r in results where !keys.contains(r.op + " " + r.shape) { keys.append(r.op + " " + r.shape) }
        for (i, key) in keys.enumerated() {
            let rs = results.filter { $0.op + " " + $0.shape == key }
            let g = threadCounts.map { t in rs.first { $0.threads == t }?.gflops ?? .nan }
            series.append([Double(i)] + g + [rs.first?.speedup ?? .nan])
            labels.append(key)
        }
        let xtics = labels.enumerated().map { "\"\($0.element)\" \($0.offset)" }.joined(separator: ", ")
        let width = 0.8 / Double(threadCounts.count)
        let hasFlops = results.contains { $0.gflops != nil }
        let hasSpeedup = results.contains { $0.speedup != nil }
        var gp =
            "# written by dino bench kernels --threads \(threads) (median of \(runs) runs) on \(cpuModel)\n"
        gp += "# edit and re-run: gnuplot kernels.gp (from this folder)\n"
        gp +=
            "set terminal pngcairo size 1500,\(hasFlops && hasSpeedup ? 1100 : 650) noenhanced font \"Sans,10\"\n"
        gp += "set output \"kernels.png\"\n"
        gp +=
            "set multiplot layout \((hasFlops ? 1 : 0) + (hasSpeedup ? 1 : 0)),1 title \"Kernels at small-ViT step shapes (\(cpuModel))\"\n"
        gp +=
            "set grid ytics\nset style fill solid 0.7\nset key top left\nset xtics rotate by 50 right font \",8\" (\(xtics))\n"
        gp += "set xrange [-1:\(keys.count)]\nset boxwidth \(width)\nset bmargin 10\n"
        if hasFlops {
            gp +=
                "set title \"SIMD core GFLOP/s (matmuls; measured FMA peak \(peakText))\"\nset ylabel \"GFLOP/s\"\nset yrange [0:*]\n"
            gp +=
                "plot "
                + threadCounts.enumerated().map { i, t in
                    "\"kernels.dat\" using ($1+\(Double(i) * width - 0.4 + width / 2)):\(i + 2) with boxes title \"\(t) thread\(t == 1 ? "" : "s")\""
                }.joined(separator: ", ") + "\n"
        }
        if hasSpeedup {
            gp +=
                "set title \"Speed-up of the SIMD core over the reference core (\(threadCounts[0]) thread\(threadCounts[0] == 1 ? "" : "s"))\"\n"
            gp +=
                "set ylabel \"speed-up (x, log scale)\"\nset logscale y\nset yrange [1:*]\nset boxwidth 0.6\n"
            gp +=
                "plot \"kernels.dat\" using 1:\(threadCounts.count + 2) with boxes lc rgb \"#3060a0\" notitle\n"
        }
        gp += "unset multiplot\n"
        let header = [
            "written by dino bench kernels --threads \(threads) (median of \(runs) runs)", "CPU: \(cpuModel)",
        ]
        let result = try Gnuplot.write("kernels", in: plots, dat: series.text(header: header), script: gp)
        log(result.description)
    }
}
