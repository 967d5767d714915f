import DINOCore
import DINOModel
import Dispatch
import ReferenceCore
import SIMDCore

/// Times one forward + backward of ViT + head on both cores from the same weights and images,
/// interleaved in one run (so both see the same machine load), after checking they agree.
public enum ModelBenchmark {
    public struct Measurement: Sendable {
        /// Wall-clock seconds of each timed forward + backward.
        public var reference: [Double]
        public var simd: [Double]
        /// Largest |Δ| between the cores' logits, and the largest gradient difference relative
        /// to its tensor's largest entry.
        public var logitDifference: Float
        public var gradientDifference: Float
        /// Multiply-adds ×2 of one forward + backward (≈ 3 × forward), counted from the shapes.
        public var flops: Double

        public var referenceMedian: Double { Stats.median(reference) }
        public var simdMedian: Double { Stats.median(simd) }
        /// Median reference time / median SIMD time.
        public var speedup: Double { referenceMedian / simdMedian }
    }

    /// Runs `referenceRuns` reference and `simdRuns` SIMD forward + backward passes (after one
    /// untimed warm-up of each), interleaved.
    public static func run(
        vit: ViTConfig, head: DINOHeadConfig, batch: Int, imageSize: Int? = nil, referenceRuns: Int = 3,
        simdRuns: Int = 15, seed: UInt64 = 0
    ) throws -> Measurement {
        let size = imageSize ?? vit.imageSize
        var reference = try DINONetwork<ReferenceKernels>(backbone: vit, head: head, seed: seed)
        var simd = try DINONetwork<SIMDKernels>(backbone: vit, head: head, seed: seed)
        try simd.load(Dictionary(uniqueKeysWithValues: reference.stateDict.map { ($0.name, $0.tensor) }))
        var rng = SplitMix64(seed: seed &+ 1)
        let images = rng.uniformTensor([batch, vit.channels, size, size], -2, 2)
        let dLogits = rng.uniformTensor([batch, head.outDim], -1e-2, 1e-2)
        func time(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        // Warm-up, and the agreement check on its results.
        let a = reference.forward([images], training: false), b = simd.forward([images], training: false)
        reference.zeroGradients(); simd.zeroGradients()
        reference.backward(dLogits); simd.backward(dLogits)
        let logitDifference = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
        var gradientDifference: Float = 0
        for (p, q) in zip(reference.allParameters, simd.allParameters) where p.trainable {
            let scale = max(Stats.maxAbs(p.grad), .leastNormalMagnitude)
            gradientDifference = max(
                gradientDifference,
                (zip(p.grad.storage, q.grad.storage).map { abs($0 - $1) }.max() ?? 0) / scale)
        }
        var referenceTimes: [Double] = [], simdTimes: [Double] = []
        let perReference = max(1, simdRuns / max(referenceRuns, 1))
        while referenceTimes.count < referenceRuns || simdTimes.count < simdRuns {
            if referenceTimes.count < referenceRuns {
                referenceTimes.append(
                    time {
                        reference.zeroGradients()
                        _ = reference.forward([images], training: false)
                        reference.backward(dLogits)
                    })
            }
            for _ in 0..<perReference where simdTimes.count < simdRuns {
                simdTimes.append(
                    time {
                        simd.zeroGradients()
                        _ = simd.forward([images], training: false)
                        simd.backward(dLogits)
                    })
            }
        }
        return Measurement(
            reference: referenceTimes, simd: simdTimes, logitDifference: logitDifference,
            gradientDifference: gradientDifference,
            flops: 3 * StepFLOPs.forward(vit, head, batch: batch, height: size, width: size))
    }
}
