import DINOCore
import DINOData
import DINOPlot
import Foundation
import KernelCheck

/// `dino bench augment`: multi-crop augmentation throughput in crops per second, so we know the
/// data pipeline keeps up with the trainer. Three workloads: Fashion-MNIST with the two small
/// recipes the trainer uses (2 × 28 + 6 × 14 and 2 × 28 + 4 × 16) and the 451 × 300 photograph
/// with the official recipe (2 × 224 + 8 × 96), each at every requested thread count.
public struct AugmentationBenchmark {
    /// Thread counts (comma separated, e.g. 1,2).
    public var threads: String
    /// Timed batches per workload (the median is reported).
    public var runs: Int
    /// Fashion-MNIST images per batch.
    public var batch: Int
    /// Copies of the photograph per batch.
    public var photoBatch: Int
    /// The photograph (default: Lessons/assets/chelsea.png of this repository).
    public var image: String?
    /// Folder holding the Fashion-MNIST .gz files.
    public var fashionMNIST: String
    /// Only workloads whose name contains this text (e.g. photo, 6x14).
    public var only: String?
    /// Folder for the chart (augment.dat/.gp/.png).
    public var plots: String
    public init(
        threads: String = "1,2", runs: Int = 7, batch: Int = 256, photoBatch: Int = 8, image: String?,
        fashionMNIST: String = Dataset.fashionMNISTDirectory, only: String?, plots: String = "plots/bench"
    ) {
        self.threads = threads
        self.runs = runs
        self.batch = batch
        self.photoBatch = photoBatch
        self.image = image
        self.fashionMNIST = fashionMNIST
        self.only = only
        self.plots = plots
    }

    struct Result {
        var workload: String
        var threads: Int
        var cropsPerBatch: Int
        var medianMs: Double
        var minMs: Double
        var cropsPerSecond: Double { Double(cropsPerBatch) / (medianMs / 1000) }
    }

    public func run() throws {
        let threadCounts = try threadList(threads)
        guard runs >= 1, batch >= 1, photoBatch >= 1 else {
            throw BenchmarkError.usage("--runs, --batch and --photo-batch must be ≥ 1")
        }
        if !isOptimizedBuild {
            print("warning: this is a debug build; use swift run -c release for meaningful numbers")
        }
        let photoPath =
            image
            ?? (URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path + "/Lessons/assets/chelsea.png")
        let photo = try Image.readPNG(photoPath)
        let fashion = try Dataset.fashionMNIST(split: .train, directory: fashionMNIST).prefix(batch)
        let photos = [Image](repeating: photo, count: photoBatch)
        print("CPU: \(cpuModel) · median of \(runs) batches after 1 warm-up · images split over the threads")
        print("workload                         thr  batch  crops/batch   median ms     min ms      crops/s")

        typealias Workload = (
            name: String, config: MultiCropConfig, run: (MultiCrop, Int) throws -> MultiCropBatch
        )
        let all: [Workload] = [
            (
                "Fashion-MNIST 2x28 + 6x14", .fashionMNIST(localCount: 6, localSize: 14),
                { try $0.batch(fashion, indices: Array(0..<fashion.count), seed: 1, epoch: $1) }
            ),
            (
                "Fashion-MNIST 2x28 + 4x16", .fashionMNIST(localCount: 4, localSize: 16),
                { try $0.batch(fashion, indices: Array(0..<fashion.count), seed: 1, epoch: $1) }
            ),
            (
                "photo \(photo.width)x\(photo.height) 2x224 + 8x96", .dino,
                { try $0.batch(photos, indices: Array(0..<photos.count), seed: 1, epoch: $1) }
            ),
        ]
        let workloads = all.filter { only == nil || $0.name.contains(only!) }
        guard !workloads.isEmpty else { throw BenchmarkError.usage("no workload matches '\(only!)'") }
        var results: [Result] = []
        let savedThreads = Threads.count
        defer { Threads.count = savedThreads }
        for w in workloads {
            let crop = try MultiCrop(w.config)
            let images = w.name.hasPrefix("photo") ? photos.count : fashion.count
            for t in threadCounts {
                Threads.count = t
                var epoch = 0
                var failure: Error?
                // A new epoch per batch: fresh crop boxes each time, as in training.
                let times = measure(warmup: 1, runs: runs) {
                    do {
                        let out = try w.run(crop, epoch)
                        BlackHole.consume(out.crops[0].storage[0])
                    } catch { failure = error }
                    epoch += 1
                }
                if let failure { throw failure }
                let r = Result(
                    workload: w.name, threads: t, cropsPerBatch: images * w.config.viewCount,
                    medianMs: Stats.median(times), minMs: times.min()!)
                results.append(r)
                print(
                    w.name.padding(toLength: 32, withPad: " ", startingAt: 0)
                        + String(
                            format: " %3d %6d %12d %11.2f %10.2f %12.0f", t, images, r.cropsPerBatch,
                            r.medianMs, r.minMs, r.cropsPerSecond))
                fflush(stdout)
            }
        }
        try chart(results, threadCounts: threadCounts, names: workloads.map(\.name))
    }

    /// One group of bars per workload, one bar per thread count, crops/s on a log axis (the
    /// workloads differ by two orders of magnitude).
    private func chart(_ results: [Result], threadCounts: [Int], names: [String]) throws {
        var series = Series(columns: ["index"] + threadCounts.map { "crops_per_s_\($0)t" })
        for (i, name) in names.enumerated() {
            series.append(
                [Double(i)]
                    + threadCounts.map { t in
                        results.first { $0.workload == name && $0.threads == t }?.cropsPerSecond ?? .nan
                    })
        }
        let width = 0.8 / Double(threadCounts.count)
        let xtics = names.enumerated().map { "\"\($0.element)\" \($0.offset)" }.joined(separator: ", ")
        var gp =
            "# written by dino bench augment --threads \(threads) (median of \(runs) batches) on \(cpuModel)\n"
        gp += "# edit and re-run: gnuplot augment.gp (from this folder)\n"
        gp += "set terminal pngcairo size 1000,560 noenhanced font \"Sans,10\"\nset output \"augment.png\"\n"
        gp += "set title \"Multi-crop augmentation throughput (\(cpuModel))\"\n"
        gp +=
            "set ylabel \"crops per second (log scale)\"\nset logscale y\nset grid ytics\nset style fill solid 0.7\n"
        gp +=
            "set key top right\nset xtics (\(xtics))\nset xrange [-0.6:\(Double(names.count) - 0.4)]\nset boxwidth \(width)\n"
        gp +=
            "plot "
            + threadCounts.enumerated().map { i, t in
                "\"augment.dat\" using ($1+\(Double(i) * width - 0.4 + width / 2)):\(i + 2) with boxes title \"\(t) thread\(t == 1 ? "" : "s")\""
            }.joined(separator: ", ") + "\n"
        let header = [
            "written by dino bench augment --threads \(threads) (median of \(runs) batches)",
            "CPU: \(cpuModel)",
        ]
        print(try Gnuplot.write("augment", in: plots, dat: series.text(header: header), script: gp))
    }
}
