import ArgumentParser
import DINOCore
import DINOModel
import Foundation
import Benchmarks
import KernelCheck

/// `dino bench model`: ViT + head forward + backward on both cores, side by side.
struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract:
            "Time ViT + DINO head forward + backward on the reference and the SIMD core (median, speed-up).",
        discussion:
            "Checks first that both cores agree on the logits and gradients. The default shape is lesson 07's model."
    )

    @Option(name: .long, help: "Image side in pixels.") var image: Int = 28
    @Option(name: .long, help: "Patch size.") var patch: Int = 7
    @Option(name: .long, help: "Image channels.") var channels: Int = 1
    @Option(name: .long, help: "Token width D.") var dim: Int = 64
    @Option(name: .long, help: "Blocks.") var depth: Int = 4
    @Option(name: .long, help: "Attention heads.") var heads: Int = 4
    @Option(name: .long, help: "Head output dimension K.") var outDim: Int = 2048
    @Option(name: .long, help: "Head hidden width.") var hidden: Int = 256
    @Option(name: .long, help: "Head bottleneck width.") var bottleneck: Int = 64
    @Option(name: .long, help: "Images per batch.") var batch: Int = 32
    @Option(name: .long, help: "Timed reference runs.") var referenceRuns: Int = 3
    @Option(name: .long, help: "Timed SIMD runs.") var simdRuns: Int = 15
    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        for (name, value) in [
            ("--simd-runs", simdRuns), ("--reference-runs", referenceRuns), ("--batch", batch),
            ("--image", image), ("--patch", patch), ("--dim", dim), ("--depth", depth), ("--heads", heads),
            ("--out-dim", outDim), ("--hidden", hidden), ("--bottleneck", bottleneck),
            ("--channels", channels),
        ]
        where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
    }

    func run() throws {
        threads.apply()
        if !isOptimizedBuild { print("warning: debug build; use swift run -c release") }
        let vit = ViTConfig(
            imageSize: image, patchSize: patch, channels: channels, dim: dim, depth: depth, heads: heads)
        let head = DINOHeadConfig(inDim: dim, outDim: outDim, hiddenDim: hidden, bottleneckDim: bottleneck)
        do {
            try vit.validate()
            try head.validate()
        } catch { throw ValidationError("\(error)") }
        print("ViT \(vit) + head \(head), batch \(batch), \(Threads.count) SIMD thread(s)")
        let m = try ModelBenchmark.run(
            vit: vit, head: head, batch: batch, referenceRuns: referenceRuns, simdRuns: simdRuns)
        print(
            String(
                format: "agreement: max |Δ logits| %.1e, max |Δ grad| / |grad|max %.1e", m.logitDifference,
                m.gradientDifference))
        for (name, times) in [("reference", m.reference), ("simd", m.simd)] {
            let median = Stats.median(times)
            print(
                name.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + String(
                        format: " min %8.2f ms  median %8.2f ms  %6.2f GFLOP/s  (%d runs)",
                        1e3 * (times.min() ?? 0), 1e3 * median, m.flops / median / 1e9, times.count))
        }
        print(String(format: "speed-up (median reference / median SIMD): %.1f×", m.speedup))
    }
}
