import DINOCore
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore

/// Keeps benchmark results alive so the optimiser cannot drop the work (swift-numerics' idea).
public enum BlackHole {
    nonisolated(unsafe) public static var sink: Float = 0
    @inline(never) public static func consume(_ x: Float) { sink += x }
}

/// Times `body` `runs` times after `warmup` untimed calls; returns the times in milliseconds.
public func measure(warmup: Int = 1, runs: Int, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { body() }
    return (0..<runs).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }
}

/// Mutable buffers of one benchmark, shared by the closure that runs the op.
final class BenchBuffers {
    var y = Tensor(shape: [0]), r1 = Tensor(shape: [0]), r2 = Tensor(shape: [0])
    var c1 = Tensor(shape: [0]), c2 = Tensor(shape: [0])
    var p = Tensor(shape: [0]), m = Tensor(shape: [0]), v = Tensor(shape: [0])
}

/// One kernel benchmark: an operation on fixed shapes, prepared once per core.
public struct BenchCase: Sendable {
    public let op: String
    public let shape: String
    /// Floating-point operations per call (2·M·K·N for a matmul), or nil if GFLOP/s is not meaningful.
    public let flops: Double?
    /// Returns a closure that runs the op once on prepared inputs and consumes one output value.
    public let prepare: @Sendable (any KernelSet.Type) -> () -> Void

    public init(
        op: String, shape: String, flops: Double?,
        prepare: @escaping @Sendable (any KernelSet.Type) -> () -> Void
    ) {
        self.op = op
        self.shape = shape
        self.flops = flops
        self.prepare = prepare
    }
}

extension BenchCase {
    public static func matmul(_ layout: MatmulLayout, m: Int, k: Int, n: Int) -> BenchCase {
        BenchCase(
            op: "matmul \(layout.rawValue)", shape: "\(m)x\(k)x\(n)",
            flops: 2 * Double(m) * Double(k) * Double(n)
        ) { K in
            var rng = SplitMix64(seed: 1)
            let a = rng.uniformTensor(layout == .tn ? [k, m] : [m, k])
            let b = rng.uniformTensor(layout == .nt ? [n, k] : [k, n])
            let box = BenchBuffers()
            box.y = Tensor(shape: [m, n])
            return {
                K.matmul(a, b, layout: layout, bias: nil, accumulate: false, into: &box.y)
                BlackHole.consume(box.y.storage[0])
            }
        }
    }

    /// A kernel on `[rows, cols]` operands (rows of logits, tokens or parameters). Typed: a
    /// misspelt op does not compile; an op that is not a row op is a programmer's error.
    public static func rowOp(_ op: KernelOp, rows: Int, cols: Int) -> BenchCase {
        BenchCase(op: op.rawValue, shape: "\(rows)x\(cols)", flops: nil) { K in
            var rng = SplitMix64(seed: 2)
            let x = rng.uniformTensor([rows, cols], -4, 4), dy = rng.uniformTensor([rows, cols])
            let w = rng.uniformTensor([cols]), b = rng.uniformTensor([cols])
            let box = BenchBuffers()
            box.y = Tensor(shape: [rows, cols])
            box.r1 = Tensor(shape: [rows])
            box.r2 = Tensor(shape: [rows])
            box.c1 = Tensor(shape: [cols])
            box.c2 = Tensor(shape: [cols])
            box.p = x
            box.m = Tensor(shape: [rows, cols])
            box.v = Tensor(shape: [rows, cols])
            var mean = Tensor(shape: [rows]), rstd = Tensor(shape: [rows]),
                ignored = Tensor(shape: [rows, cols])
            K.layerNorm(x, weight: w, bias: b, epsilon: 1e-6, into: &ignored, mean: &mean, rstd: &rstd)
            var geluOutput = Tensor(shape: [rows, cols])
            K.gelu(x, into: &geluOutput)
            // The forward outputs a backward reads, computed only for that backward.
            var bnMean = Tensor(shape: [cols]), bnRstd = Tensor(shape: [cols])
            if op == .batchNormBackward {
                var bnOut = Tensor(shape: [rows, cols])
                K.batchNorm(x, weight: w, bias: b, epsilon: 1e-5, into: &bnOut, mean: &bnMean, rstd: &bnRstd)
            }
            var l2Output = Tensor(shape: [rows, cols]), l2Norms = Tensor(shape: [rows])
            if op == .l2NormalizeBackward {
                K.l2Normalize(x, epsilon: 1e-12, into: &l2Output, norms: &l2Norms)
            }
            var step = 0
            return {
                switch op {
                case .softmax: K.softmax(x, temperature: 0.04, into: &box.y)
                case .logSoftmax: K.logSoftmax(x, temperature: 0.1, into: &box.y)
                case .rowEntropy: K.rowEntropy(x, into: &box.r1)
                case .rowCrossEntropy: K.rowCrossEntropy(target: dy, logProbs: x, into: &box.r1)
                case .softmaxCrossEntropy:
                    K.softmaxCrossEntropy(
                        x, temperature: 0.1, target: dy, gradientScale: 1e-3, loss: &box.r1, gradient: &box.y)
                case .layerNorm:
                    K.layerNorm(
                        x, weight: w, bias: b, epsilon: 1e-6, into: &box.y, mean: &box.r1, rstd: &box.r2)
                case .layerNormBackward:
                    K.layerNormBackward(
                        dy, x, weight: w, mean: mean, rstd: rstd, dx: &box.y, dWeight: &box.c1, dBias: &box.c2
                    )
                case .batchNorm:
                    K.batchNorm(
                        x, weight: w, bias: b, epsilon: 1e-5, into: &box.y, mean: &box.c1, rstd: &box.c2)
                case .batchNormBackward:
                    K.batchNormBackward(
                        dy, x, weight: w, mean: bnMean, rstd: bnRstd, dx: &box.y, dWeight: &box.c1,
                        dBias: &box.c2)
                case .gelu: K.gelu(x, into: &box.y)
                case .geluBackward: K.geluBackward(dy, x, output: geluOutput, into: &box.y)
                case .add: K.add(x, dy, into: &box.y)
                case .scale: K.scale(x, by: 0.5, into: &box.y)
                case .axpy: K.axpy(0.5, x, &box.y)
                case .addRow: K.addRow(x, w, scale: -1, into: &box.y)
                case .l2Normalize: K.l2Normalize(x, epsilon: 1e-12, into: &box.y, norms: &box.r1)
                case .l2NormalizeBackward:
                    K.l2NormalizeBackward(dy, y: l2Output, norms: l2Norms, epsilon: 1e-12, into: &box.y)
                case .columnSums: K.columnSums(x, accumulate: false, into: &box.c1)
                case .rowSums: K.rowSums(x, into: &box.r1)
                case .sumOfSquares: box.r1.storage[0] = Float(K.sumOfSquares(x))
                case .emaUpdate: K.emaUpdate(&box.p, toward: dy, momentum: 0.996)
                case .adamWStep:
                    step += 1
                    K.adamWStep(
                        &box.p, grad: dy, m: &box.m, v: &box.v, step: step,
                        hyper: AdamWHyper(lr: 1e-4, weightDecay: 0.04))
                case .matmul, .attention, .attentionBackward, .attentionProbabilities, .patchEmbed,
                    .patchEmbedBackward,
                    .resamplePositionEmbedding, .resamplePositionEmbeddingBackward, .weightNorm,
                    .weightNormBackward:
                    preconditionFailure("\(op) is not a row op: it has its own BenchCase factory")
                }
                BlackHole.consume(box.y.storage[0] + box.r1.storage[0] + box.c1.storage[0] + box.p.storage[0])
            }
        }
    }

    /// Multi-head attention at a ViT block's shapes: `[batch, tokens, 3·dim]` in, forward,
    /// backward, and the probabilities of the CLS query (what attention maps read).
    public static func attention(
        _ op: KernelOp, batch: Int, tokens n: Int, dim c: Int, heads: Int
    ) -> BenchCase {
        // Multiply-adds ×2: forward S = QKᵀ and O = PV (2·N²·C each); backward rebuilds S and
        // computes dV, dP, dQ, dK (5 products); the CLS probabilities are one row of S per head.
        let perProduct = 2 * Double(batch) * Double(n * n) * Double(c)
        let flops =
            op == .attention
            ? 2 * perProduct : op == .attentionBackward ? 5 * perProduct : 2 * Double(batch * n * c)
        return BenchCase(op: op.rawValue, shape: "\(batch)x\(n)x\(c) h\(heads)", flops: flops) { K in
            var rng = SplitMix64(seed: 3)
            let qkv = rng.uniformTensor([batch, n, 3 * c], -1, 1), dOut = rng.uniformTensor([batch, n, c])
            let scale = 1 / Float(c / heads).squareRoot()
            var out = Tensor(shape: [batch, n, c]), lse = Tensor(shape: [batch, heads, n])
            K.attention(qkv, heads: heads, scale: scale, into: &out, logSumExp: &lse)
            var dQKV = Tensor(shape: [batch, n, 3 * c]), probs = Tensor(shape: [batch, heads, 1, n])
            var fresh = Tensor(shape: [batch, n, c])
            return {
                switch op {
                case .attention: K.attention(qkv, heads: heads, scale: scale, into: &fresh, logSumExp: &lse)
                case .attentionBackward:
                    K.attentionBackward(
                        dOut, qkv: qkv, out: out, logSumExp: lse, heads: heads, scale: scale, into: &dQKV)
                case .attentionProbabilities:
                    K.attentionProbabilities(qkv, heads: heads, scale: scale, queries: 1, into: &probs)
                default: preconditionFailure("\(op) is not an attention op")
                }
                BlackHole.consume(fresh.storage[0] + dQKV.storage[0] + probs.storage[0])
            }
        }
    }

    /// The other layers of the model at the default run's shapes: the patch embedding (images to
    /// tokens), the position-embedding resampling (a 4×4 table to a 2×2 local grid) and the head's
    /// weight normalisation (`[K, bottleneck]`).
    public static func layer(_ op: KernelOp) -> BenchCase {
        let shape: String
        switch op {
        case .patchEmbed, .patchEmbedBackward: shape = "1024x1x28x28 p7 D64"
        case .resamplePositionEmbedding, .resamplePositionEmbeddingBackward: shape = "4x4→2x2 D64"
        default: shape = "2048x64"
        }
        return BenchCase(op: op.rawValue, shape: shape, flops: nil) { K in
            var rng = SplitMix64(seed: 4)
            let images = rng.uniformTensor([1024, 1, 28, 28]), weight = rng.uniformTensor([64, 1, 7, 7]),
                bias = rng.uniformTensor([64])
            var tokens = Tensor(shape: [1024, 16, 64]), dW = Tensor(shape: [64, 1, 7, 7]),
                dB = Tensor(shape: [64])
            let dTokens = rng.uniformTensor([1024, 16, 64])
            let table = rng.uniformTensor([1, 17, 64]), dTable0 = rng.uniformTensor([1, 5, 64])
            var resampled = Tensor(shape: [1, 5, 64]), dTable = Tensor(shape: [1, 17, 64])
            let v = rng.uniformTensor([2048, 64]), g = Tensor(shape: [2048, 1], repeating: 1),
                dWn = rng.uniformTensor([2048, 64])
            var w = Tensor(shape: [2048, 64]), norms = Tensor(shape: [2048]), dV = Tensor(shape: [2048, 64]),
                dG = Tensor(shape: [2048, 1])
            K.weightNorm(v, g: g, into: &w, norms: &norms)
            return {
                switch op {
                case .patchEmbed: K.patchEmbed(images, weight: weight, bias: bias, patch: 7, into: &tokens)
                case .patchEmbedBackward:
                    K.patchEmbedBackward(dTokens, images: images, patch: 7, dWeight: &dW, dBias: &dB)
                case .resamplePositionEmbedding:
                    K.resamplePositionEmbedding(table, sourceGrid: 4, rows: 2, cols: 2, into: &resampled)
                case .resamplePositionEmbeddingBackward:
                    K.resamplePositionEmbeddingBackward(
                        dTable0, sourceGrid: 4, rows: 2, cols: 2, into: &dTable)
                case .weightNorm: K.weightNorm(v, g: g, into: &w, norms: &norms)
                case .weightNormBackward:
                    K.weightNormBackward(dWn, v: v, g: g, norms: norms, dV: &dV, dG: &dG)
                default: preconditionFailure("\(op) is not a layer op")
                }
                BlackHole.consume(
                    tokens.storage[0] + dW.storage[0] + resampled.storage[0] + dTable.storage[0]
                        + w.storage[0] + dV.storage[0])
            }
        }
    }

    /// The kernels of a small ViT training step (64 images × 65 tokens = 4160 rows; widths 64, 192,
    /// 576 = 3·192 (qkv), 768 = 4·192 (MLP)), the same matmuls as weight gradients (K = 4160), and squares.
    public static let kernelSuite: [BenchCase] = {
        var cases: [BenchCase] = []
        let rows = 4160
        for (d, out) in [(192, 576), (192, 768), (768, 192), (64, 192), (64, 256), (256, 64)] {
            cases.append(.matmul(.nt, m: rows, k: d, n: out))  // forward  y = x·Wᵀ
            cases.append(.matmul(.nn, m: rows, k: out, n: d))  // backward dx = dy·W
            cases.append(.matmul(.tn, m: out, k: rows, n: d))  // backward dW = dyᵀ·x
        }
        for s in [64, 128, 256, 512, 1024] {
            for layout in MatmulLayout.allCases { cases.append(.matmul(layout, m: s, k: s, n: s)) }
        }
        cases.append(.rowOp(.softmax, rows: rows, cols: 1024))
        cases.append(.rowOp(.logSoftmax, rows: rows, cols: 1024))
        cases.append(.rowOp(.rowEntropy, rows: 512, cols: 1024))
        cases.append(.rowOp(.rowCrossEntropy, rows: 512, cols: 1024))
        cases.append(.rowOp(.softmaxCrossEntropy, rows: 1024, cols: 2048))  // the default run's student logits
        cases.append(.rowOp(.layerNorm, rows: rows, cols: 192))
        cases.append(.rowOp(.layerNormBackward, rows: rows, cols: 192))
        cases.append(.rowOp(.batchNorm, rows: 1024, cols: 256))  // the default head's hidden layers
        cases.append(.rowOp(.batchNormBackward, rows: 1024, cols: 256))
        cases.append(.rowOp(.gelu, rows: rows, cols: 768))
        cases.append(.rowOp(.geluBackward, rows: rows, cols: 768))
        cases.append(.rowOp(.add, rows: rows, cols: 192))
        cases.append(.rowOp(.scale, rows: rows, cols: 192))
        cases.append(.rowOp(.axpy, rows: rows, cols: 192))
        cases.append(.rowOp(.addRow, rows: rows, cols: 192))
        cases.append(.rowOp(.l2Normalize, rows: 512, cols: 256))
        cases.append(.rowOp(.l2NormalizeBackward, rows: 512, cols: 256))
        cases.append(.rowOp(.columnSums, rows: rows, cols: 576))
        cases.append(.rowOp(.rowSums, rows: rows, cols: 576))
        cases.append(.rowOp(.sumOfSquares, rows: 1024, cols: 1024))
        cases.append(.rowOp(.emaUpdate, rows: 1024, cols: 1024))
        cases.append(.rowOp(.adamWStep, rows: 1024, cols: 1024))
        // A ViT-S/16 block at 224 px (197 tokens, 6 heads) and the default run's (17 tokens, 4 heads).
        for op in [KernelOp.attention, .attentionBackward, .attentionProbabilities] {
            cases.append(.attention(op, batch: 8, tokens: 197, dim: 384, heads: 6))
            cases.append(.attention(op, batch: 256, tokens: 17, dim: 64, heads: 4))
        }
        for op in [
            KernelOp.patchEmbed, .patchEmbedBackward, .resamplePositionEmbedding,
            .resamplePositionEmbeddingBackward,
            .weightNorm, .weightNormBackward,
        ] {
            cases.append(.layer(op))
        }
        return cases
    }()
}

/// The result of one benchmark, both cores.
public struct BenchResult: Sendable {
    public var op: String
    public var shape: String
    public var threads: Int
    public var referenceMs: Double?
    public var simdMs: Double
    public var gflops: Double?
    public var speedup: Double? { referenceMs.map { $0 / simdMs } }

    /// One JSON object (one line): the fields above; what was not measured is left out.
    public var json: String {
        struct Line: Encodable {
            var op: String, shape: String, threads: Int
            var reference_ms: Double?, simd_ms: Double, speedup: Double?, gflops: Double?
        }
        return jsonLine(
            Line(
                op: op, shape: shape, threads: threads, reference_ms: referenceMs, simd_ms: simdMs,
                speedup: speedup, gflops: gflops))
    }
}

/// Runs one case: the SIMD core `runs` times (median), the reference core fewer times when slow.
public func runBenchmark(_ c: BenchCase, threads: Int, runs: Int, reference: Bool) -> BenchResult {
    Threads.with(threads) { runBenchmarkHere(c, threads: threads, runs: runs, reference: reference) }
}

private func runBenchmarkHere(_ c: BenchCase, threads: Int, runs: Int, reference: Bool) -> BenchResult {
    let simd = c.prepare(SIMDKernels.self)
    let simdMs = Stats.median(measure(warmup: 2, runs: runs, simd))
    var referenceMs: Double?
    if reference {
        let ref = c.prepare(ReferenceKernels.self)
        // The reference core is 10-1000x slower: one call tells how many more we can afford.
        let first = measure(warmup: 0, runs: 1, ref)[0]
        let more = first > 2000 ? 0 : first > 300 ? 2 : 4
        referenceMs = Stats.median([first] + (more > 0 ? measure(warmup: 0, runs: more, ref) : []))
    }
    return BenchResult(
        op: c.op, shape: c.shape, threads: threads, referenceMs: referenceMs, simdMs: simdMs,
        gflops: c.flops.map { $0 / (simdMs * 1e6) })
}

/// The CPU model from /proc/cpuinfo, for chart headers.
public var cpuModel: String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
        let name = line.split(separator: ":", maxSplits: 1).last
    else { return "unknown CPU" }
    return name.trimmingCharacters(in: .whitespaces)
}

/// Whether this binary was built with optimisation (benchmarks of a debug build mean little).
public var isOptimizedBuild: Bool {
    #if DEBUG
        return false
    #else
        return true
    #endif
}

/// `value` as one line of JSON with sorted keys (a `nil` field is left out: not measured).
func jsonLine<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}
