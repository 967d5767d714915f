import DINOCore
import DINOData
import DINOModel
import DINOPlot
import Foundation
import KernelCheck
import SIMDCore

/// `dino bench train`: images per second of whole DINO training steps on the SIMD core.
public struct TrainingStepBenchmark {
    /// Configs (comma separated): tiny, tiny_p7, lesson, default.
    public var config: String
    /// Thread counts (comma separated).
    public var threads: String
    /// Timed steps per measurement (median reported).
    public var steps: Int
    /// Untimed warm-up steps.
    public var warmup: Int
    /// Also measure the whole dino train loop: augmentation + data loading + step.
    public var withData: Bool
    /// One JSON object per line.
    public var json: Bool
    /// Folder for train.png/.dat/.gp.
    public var plots: String
    public init(
        config: String = "tiny,tiny_p7,lesson,default", threads: String = "1,2", steps: Int = 10,
        warmup: Int = 3, withData: Bool = false, json: Bool = false, plots: String = "plots/bench"
    ) {
        self.config = config
        self.threads = threads
        self.steps = steps
        self.warmup = warmup
        self.withData = withData
        self.json = json
        self.plots = plots
    }

    public func run() throws {
        let names = config.split(separator: ",").map(String.init)
        let threadCounts = try threadList(threads)
        guard steps >= 1 else { throw BenchmarkError.usage("--steps must be at least 1, got \(steps)") }
        guard warmup >= 0 else { throw BenchmarkError.usage("--warmup must be at least 0, got \(warmup)") }
        if !isOptimizedBuild { print("warning: debug build; use swift run -c release") }
        var rows: [(String, Int, Double, Double?)] = []
        if !json {
            print(
                "config     thr  images/s   ms/step   GFLOP/s  peak RSS MB   phases (median ms)"
                    + (withData ? "   with data: images/s (ratio)" : ""))
        }
        for name in names {
            for t in threadCounts {
                Threads.count = t
                let r = try measure(name)
                rows.append((name, t, r.imagesPerSecond, r.withData))
                if json {
                    struct Line: Encodable {
                        var config: String, threads: Int, images_per_s: Double, ms_per_step: Double,
                            gflops: Double
                        var peak_rss_mb: Double, phases_ms: [String: Double], with_data_images_per_s: Double?
                    }
                    print(
                        jsonLine(
                            Line(
                                config: name, threads: t, images_per_s: r.imagesPerSecond,
                                ms_per_step: r.msPerStep,
                                gflops: r.gflops, peak_rss_mb: r.peakRSS,
                                phases_ms: Dictionary(uniqueKeysWithValues: r.phases.map { ($0.0, $0.1) }),
                                with_data_images_per_s: r.withData)))
                } else {
                    var line =
                        name.padding(toLength: 10, withPad: " ", startingAt: 0)
                        + String(
                            format: " %3d %9.1f %9.1f %9.1f %12.0f   ", t, r.imagesPerSecond, r.msPerStep,
                            r.gflops, r.peakRSS)
                    line += r.phases.map { "\($0.0) \(String(format: "%.1f", $0.1))" }.joined(separator: ", ")
                    if let w = r.withData {
                        line += String(format: "   %.1f (%.0f%%)", w, 100 * w / r.imagesPerSecond)
                    }
                    print(line)
                }
                fflush(stdout)
            }
        }
        try chart(rows, threadCounts: threadCounts)
    }

    struct Measurement {
        var imagesPerSecond: Double, msPerStep: Double, gflops: Double, peakRSS: Double
        var phases: [(String, Double)]
        var withData: Double?
    }

    private func measure(_ name: String) throws -> Measurement {
        var c = try TrainingConfig.preset(name)
        c.knnEvery = 0
        let train: Dataset
        if c.dataset.hasPrefix("synthetic-") {
            train = try DataSources.synthetic(c.dataset, count: max(4 * c.batchSize, 512), seed: 1)
        } else {
            train = try DataSources.load(c.dataset, split: .train)
        }
        var trainer = try DINOTrainer<SIMDKernels>(config: c, train: train, test: nil)
        let order = trainer.order(epoch: 0)
        let views = try trainer.batch(epoch: 0, iteration: 0, order: order)
        var times: [Double] = [], loopTimes: [Double] = []
        var phaseTimes: [String: [Double]] = [:]
        // With --with-data, each step-only iteration is followed by one whole loop iteration
        // (augmentation + data + step), so both medians come from the same minutes of this
        // shared machine instead of two passes a minute apart.
        for i in 0..<(warmup + steps) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = try trainer.runIteration(
                epoch: 0, iteration: i % trainer.itersPerEpoch, views: views)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            if i >= warmup {
                times.append(ms)
                for (phase, seconds) in result.phases {
                    phaseTimes[phase, default: []].append(seconds * 1000)
                }
            }
            if withData {
                let t1 = DispatchTime.now().uptimeNanoseconds
                let v = try trainer.batch(epoch: 0, iteration: i % trainer.itersPerEpoch, order: order)
                try trainer.runIteration(epoch: 0, iteration: i % trainer.itersPerEpoch, views: v)
                if i >= warmup { loopTimes.append(Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e6) }
            }
        }
        let ms = Stats.median(times)
        let loopRate = withData ? Double(c.batchSize) / (Stats.median(loopTimes) / 1000) : nil
        let order2 = ["teacher forward", "student forward", "loss", "backward", "clip+AdamW", "EMA"]
        let phases = order2.compactMap { p in phaseTimes[p].map { (p, Stats.median($0)) } }
        return Measurement(
            imagesPerSecond: Double(c.batchSize) / (ms / 1000), msPerStep: ms,
            gflops: StepFLOPs.count(c, channels: train.channels) / (ms / 1000) / 1e9,
            peakRSS: peakResidentMB(), phases: phases, withData: loopRate)
    }

    private func chart(_ rows: [(String, Int, Double, Double?)], threadCounts: [Int]) throws {
        let names = rows.reduce(into: [String]()) { if !$0.contains($1.0) { $0.append($1.0) } }
        var series = Series(
            columns: ["index"] + threadCounts.map { "images_per_s_\($0)t" }
                + (withData ? threadCounts.map { "with_data_\($0)t" } : []))
        for (i, n) in names.enumerated() {
            let step = threadCounts.map { t in rows.first { $0.0 == n && $0.1 == t }?.2 ?? .nan }
            let data =
                withData ? threadCounts.map { t in rows.first { $0.0 == n && $0.1 == t }?.3 ?? .nan } : []
            series.append([Double(i)] + step + data)
        }
        let columns = series.columns.count - 1
        let width = 0.8 / Double(columns)
        let xtics = names.enumerated().map { "\"\($0.element)\" \($0.offset)" }.joined(separator: ", ")
        let curves = (0..<columns).map { j in
            ChartSpec.Curve(
                using: "($1+\(Double(j) * width - 0.4 + width / 2)):\(j + 2)",
                title: series.columns[j + 1].replacingOccurrences(of: "_", with: " "),
                style: "boxes")
        }
        let spec = ChartSpec(
            title: "DINO training step throughput, SIMD core (\(cpuModel))", x: "config", y: "images / s",
            curves: curves,
            extra: [
                "set xtics (\(xtics))", "set boxwidth \(width)", "set style fill solid 0.7",
                "set yrange [0:*]", "set xrange [-0.6:\(Double(names.count) - 0.4)]",
            ])
        let header = [
            "written by dino bench train --config \(config) --threads \(threads) (median of \(steps) steps)",
            "CPU: \(cpuModel)",
        ]
        print(try Gnuplot.plot("train", in: plots, data: series, chart: spec, header: header))
    }
}

/// Peak resident set size of this process in MB (`getrusage`, kilobytes on Linux).
func peakResidentMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}
