import DINOCore
import DINOModel
import Foundation
import ReferenceCore
import Testing

// Finite-difference checks of every hand-written backward, on the reference core (Double sums,
// one Float32 rounding per output).
//
// Each check builds a scalar L = Σ R ⊙ output with a fixed random R, so dL/d(output) = R, runs
// the backward with R as the upstream gradient, and compares a sample of the analytic partial
// derivatives with the central difference (L(θ + h) - L(θ - h)) / (θ₊ - θ₋), where θ₊, θ₋ are
// the Float32 values actually stored (not θ ± h) and L is summed in Double.
//
// Tolerance, derived: the central difference has truncation error ≈ h²·|L‴|/6 and rounding
// error ≈ ε_L/h, where ε_L ≈ u·√count·max|R·output| is the Float32 rounding of the outputs
// (u = 6e-8; the reference core rounds each output once). With h = 1e-3, |L‴| = O(10) on these
// inputs and ε_L ≲ 1e-6, both are ≲ 2e-3 against derivatives of O(1). We allow
// |analytic - numeric| ≤ 1e-2·max(|analytic|, |numeric|) + floor, `floor` = 1e-3 × the tensor's
// largest analytic entry (an entry far below its tensor's scale is dominated by rounding, e.g.
// the analytically zero key-bias gradient). A wrong backward (a missing term, a wrong sign, a
// transposed index) is off by O(100%); the attention test checks that a 5% error already fails.

/// The Double-summed `Σ R ⊙ out`.
func weightedSum(_ out: Tensor, _ r: Tensor) -> Double {
    precondition(out.count == r.count, "weightedSum: \(out.shape) vs \(r.shape)")
    var s = 0.0
    for i in 0..<out.count { s += Double(out.storage[i]) * Double(r.storage[i]) }
    return s
}

/// The sampled positions where the analytic gradient of `x` and the central difference of
/// `loss` disagree beyond the tolerance derived above (empty = agreement).
func gradientMismatches(
    _ x: Tensor, analytic: Tensor, samples count: Int = 24, step h: Float = 1e-3, relative: Double = 1e-2,
    floorFraction: Double = 1e-3, seed: UInt64 = 7, _ loss: (Tensor) -> Double
) -> (failures: [String], checked: Int) {
    precondition(analytic.count == x.count, "gradient \(analytic.shape) for \(x.shape)")
    var rng = SplitMix64(seed: seed)
    let positions =
        count >= x.count ? Array(0..<x.count) : (0..<count).map { _ in Int(rng.next() % UInt64(x.count)) }
    let scale = analytic.storage.reduce(0.0) { max($0, Double(abs($1))) }
    let floor = floorFraction * scale + 1e-7
    var failures: [String] = []
    for i in positions {
        var plus = x, minus = x
        plus.storage[i] += h
        minus.storage[i] -= h
        let width = Double(plus.storage[i]) - Double(minus.storage[i])
        let numeric = (loss(plus) - loss(minus)) / width
        let a = Double(analytic.storage[i])
        if !(abs(a - numeric) <= relative * max(abs(a), abs(numeric)) + floor) {
            failures.append("[\(i)] analytic \(a) numeric \(numeric)")
        }
    }
    return (failures, positions.count)
}

/// Expects the analytic gradient of `x` to match central differences at `samples` positions.
func checkGradient(
    _ label: String, _ x: Tensor, analytic: Tensor, samples count: Int = 24, seed: UInt64 = 7,
    sourceLocation: SourceLocation = #_sourceLocation, _ loss: (Tensor) -> Double
) {
    let (failures, checked) = gradientMismatches(x, analytic: analytic, samples: count, seed: seed, loss)
    #expect(
        failures.isEmpty,
        "\(label): \(failures.prefix(5).joined(separator: "; ")) (\(failures.count) of \(checked))",
        sourceLocation: sourceLocation)
    #expect(
        Stats.maxAbs(analytic) > 0,
        "\(label): the gradient is identically zero, the check would prove nothing",
        sourceLocation: sourceLocation)
}

typealias R = ReferenceKernels

@Suite("finite-difference gradient checks (reference core)")
struct GradientCheckTests {
    @Test func attention() {
        var rng = SplitMix64(seed: 1)
        let (b, n, c, heads) = (2, 5, 12, 3)
        let qkv = rng.uniformTensor([b, n, 3 * c], -1.5, 1.5), r = rng.uniformTensor([b, n, c], -1, 1)
        let scale = 1 / Float(c / heads).squareRoot()
        func forward(_ x: Tensor) -> (Tensor, Tensor) {
            var out = Tensor(shape: [b, n, c]), lse = Tensor(shape: [b, heads, n])
            R.attention(x, heads: heads, scale: scale, into: &out, logSumExp: &lse)
            return (out, lse)
        }
        let (out, lse) = forward(qkv)
        var dQKV = Tensor(shape: qkv.shape)
        R.attentionBackward(r, qkv: qkv, out: out, logSumExp: lse, heads: heads, scale: scale, into: &dQKV)
        checkGradient("attention dQKV", qkv, analytic: dQKV, samples: qkv.count) {
            weightedSum(forward($0).0, r)
        }
        // The check has teeth: a gradient 5% off, or with one head's keys and queries swapped, fails.
        var scaled = dQKV
        for i in 0..<scaled.count { scaled.storage[i] *= 1.05 }
        #expect(
            !gradientMismatches(qkv, analytic: scaled, samples: qkv.count) { weightedSum(forward($0).0, r) }
                .failures.isEmpty)
        var swapped = dQKV
        for row in 0..<(b * n) {
            for d in 0..<(c / heads) { swapped.storage.swapAt(row * 3 * c + d, row * 3 * c + c + d) }
        }
        #expect(
            !gradientMismatches(qkv, analytic: swapped, samples: qkv.count) { weightedSum(forward($0).0, r) }
                .failures.isEmpty)
    }

    @Test func patchEmbedding() {
        var rng = SplitMix64(seed: 2)
        let images = rng.uniformTensor([2, 3, 9, 13], -1, 1)  // 9×13 with p = 4: the last row/cols are cut
        let weight = rng.uniformTensor([5, 3, 4, 4], -0.5, 0.5), bias = rng.uniformTensor([5], -1, 1)
        let r = rng.uniformTensor([2, 6, 5], -1, 1)
        func forward(_ w: Tensor, _ bb: Tensor) -> Tensor {
            var t = Tensor(shape: [2, 6, 5])
            R.patchEmbed(images, weight: w, bias: bb, patch: 4, into: &t)
            return t
        }
        var dW = Tensor(shape: weight.shape), dB = Tensor(shape: [5])
        R.patchEmbedBackward(r, images: images, patch: 4, dWeight: &dW, dBias: &dB)
        checkGradient("patchEmbed dWeight", weight, analytic: dW, samples: 40) {
            weightedSum(forward($0, bias), r)
        }
        checkGradient("patchEmbed dBias", bias, analytic: dB, samples: 5) {
            weightedSum(forward(weight, $0), r)
        }
    }

    @Test(arguments: [(4, 2, 2), (4, 6, 6), (4, 3, 5), (3, 7, 2)])
    func positionResampling(_ shape: (Int, Int, Int)) {
        let (g, rows, cols) = shape
        var rng = SplitMix64(seed: 3)
        let table = rng.uniformTensor([1, 1 + g * g, 4], -1, 1),
            r = rng.uniformTensor([1, 1 + rows * cols, 4], -1, 1)
        func forward(_ t: Tensor) -> Tensor {
            var out = Tensor(shape: [1, 1 + rows * cols, 4])
            R.resamplePositionEmbedding(t, sourceGrid: g, rows: rows, cols: cols, into: &out)
            return out
        }
        var dTable = Tensor(shape: table.shape)
        R.resamplePositionEmbeddingBackward(r, sourceGrid: g, rows: rows, cols: cols, into: &dTable)
        // Linear in the table: the difference quotient is exact up to rounding.
        checkGradient("resample \(g)→\(rows)×\(cols)", table, analytic: dTable, samples: table.count) {
            weightedSum(forward($0), r)
        }
    }

    @Test func weightNormalisation() {
        var rng = SplitMix64(seed: 4)
        let v = rng.uniformTensor([6, 5], -1, 1), g = rng.uniformTensor([6, 1], 0.5, 1.5),
            r = rng.uniformTensor([6, 5], -1, 1)
        func forward(_ v: Tensor, _ g: Tensor) -> Tensor {
            var w = Tensor(shape: v.shape), norms = Tensor(shape: [v.rows])
            R.weightNorm(v, g: g, into: &w, norms: &norms)
            return w
        }
        var w = Tensor(shape: v.shape), norms = Tensor(shape: [6])
        R.weightNorm(v, g: g, into: &w, norms: &norms)
        var dV = Tensor(shape: v.shape), dG = Tensor(shape: g.shape)
        R.weightNormBackward(r, v: v, g: g, norms: norms, dV: &dV, dG: &dG)
        checkGradient("weightNorm dV", v, analytic: dV, samples: v.count) { weightedSum(forward($0, g), r) }
        checkGradient("weightNorm dG", g, analytic: dG, samples: g.count) { weightedSum(forward(v, $0), r) }
    }

    @Test func l2Normalisation() {
        var rng = SplitMix64(seed: 5)
        let x = rng.uniformTensor([4, 7], -1, 1), r = rng.uniformTensor([4, 7], -1, 1)
        func forward(_ x: Tensor) -> (Tensor, Tensor) {
            var y = Tensor(shape: x.shape), norms = Tensor(shape: [x.rows])
            R.l2Normalize(x, epsilon: 1e-12, into: &y, norms: &norms)
            return (y, norms)
        }
        let (y, norms) = forward(x)
        var dx = Tensor(shape: x.shape)
        R.l2NormalizeBackward(r, y: y, norms: norms, epsilon: 1e-12, into: &dx)
        checkGradient("l2Normalize dx", x, analytic: dx, samples: x.count) { weightedSum(forward($0).0, r) }
    }

    @Test func layerNormGeluLinear() {
        var rng = SplitMix64(seed: 6)
        let x = rng.uniformTensor([3, 9], -2, 2), w = rng.uniformTensor([9], 0.5, 1.5),
            b = rng.uniformTensor([9], -1, 1)
        let lw = rng.uniformTensor([4, 9], -1, 1), lb = rng.uniformTensor([4], -1, 1),
            r = rng.uniformTensor([3, 4], -1, 1)
        // L = Σ R ⊙ Linear(GELU(LN(x))): three layers' backwards chained as the ViT chains them.
        func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ lw: Tensor, _ lb: Tensor) -> Double {
            var y = Tensor(shape: x.shape), m = Tensor(shape: [3]), s = Tensor(shape: [3]),
                a = Tensor(shape: x.shape)
            R.layerNorm(x, weight: w, bias: b, epsilon: 1e-6, into: &y, mean: &m, rstd: &s)
            R.gelu(y, into: &a)
            var out = Tensor(shape: [3, 4])
            Linear<R>.forward(a, weight: lw, bias: lb, into: &out)
            return weightedSum(out, r)
        }
        var y = Tensor(shape: x.shape), m = Tensor(shape: [3]), s = Tensor(shape: [3]),
            a = Tensor(shape: x.shape)
        R.layerNorm(x, weight: w, bias: b, epsilon: 1e-6, into: &y, mean: &m, rstd: &s)
        R.gelu(y, into: &a)
        var dlw = Tensor(shape: lw.shape), dlb = Tensor(shape: lb.shape), da = Tensor(shape: a.shape)
        Linear<R>.parameterGradients(r, x: a, dWeight: &dlw, dBias: &dlb)
        Linear<R>.inputGradient(r, weight: lw, into: &da)
        var dy = Tensor(shape: y.shape)
        R.geluBackward(da, y, output: a, into: &dy)
        var dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: b.shape)
        R.layerNormBackward(dy, x, weight: w, mean: m, rstd: s, dx: &dx, dWeight: &dw, dBias: &db)
        checkGradient("linear dW", lw, analytic: dlw, samples: lw.count) { forward(x, w, b, $0, lb) }
        checkGradient("linear db", lb, analytic: dlb, samples: lb.count) { forward(x, w, b, lw, $0) }
        checkGradient("layerNorm dx", x, analytic: dx, samples: x.count) { forward($0, w, b, lw, lb) }
        checkGradient("layerNorm dWeight", w, analytic: dw, samples: w.count) { forward(x, $0, b, lw, lb) }
        checkGradient("layerNorm dBias", b, analytic: db, samples: b.count) { forward(x, w, $0, lw, lb) }
    }
}

/// A tiny ViT + head whose weights are large enough that every parameter matters (attention
/// clearly non-uniform, LayerNorm gains ≠ 1), like the golden generator's perturbed weights.
func tinyNetwork<K: KernelSet>(
    _: K.Type, dropPath: Float = 0, batchNorm: Bool = false, seed: UInt64 = 11
) throws -> DINONetwork<K> {
    let vit = ViTConfig(
        imageSize: 12, patchSize: 4, channels: 2, dim: 8, depth: 2, heads: 2, mlpRatio: 2,
        dropPathRate: dropPath)
    let head = DINOHeadConfig(inDim: 8, outDim: 7, hiddenDim: 12, bottleneckDim: 5, batchNorm: batchNorm)
    var net = try DINONetwork<K>(backbone: vit, head: head, seed: seed)
    var rng = SplitMix64(seed: seed &+ 99)
    net.updateParameters { _, name, p in
        guard p.trainable else { return }
        if name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") || name.hasSuffix("norm.weight") {
            for i in 0..<p.value.count { p.value.storage[i] = rng.uniform(0.6, 1.4) }
        } else {
            let a: Float = p.value.shape.count > 1 ? 1.2 / Float(p.value.cols).squareRoot() : 0.3
            for i in 0..<p.value.count { p.value.storage[i] = rng.uniform(-a, a) }
        }
    }
    return net
}

@Suite("finite-difference gradient check of the whole ViT + head")
struct NetworkGradientTests {
    /// Globals at 12 px (the table's own 3×3 grid) and locals at 8 px (a resampled 2×2 grid), so
    /// the resampling backward and the grouping of the multi-crop wrapper are both on the path.
    static func crops(_ seed: UInt64) -> [Tensor] {
        var rng = SplitMix64(seed: seed)
        return [
            rng.uniformTensor([2, 2, 12, 12], -1, 1), rng.uniformTensor([2, 2, 12, 12], -1, 1),
            rng.uniformTensor([2, 2, 8, 8], -1, 1),
        ]
    }

    /// (drop path, BatchNorm head): the BN head's statistics couple the 6 rows of the batch, so
    /// every crop's logits depend on every other crop's features.
    @Test(arguments: [(Float(0), false), (0.3, false), (0, true)]) func everyParameter(
        dropPath: Float, batchNorm: Bool
    ) throws {
        var net = try tinyNetwork(ReferenceKernels.self, dropPath: dropPath, batchNorm: batchNorm)
        #expect(net.parameterNames.contains("head.mlp.1.weight") == batchNorm)
        let crops = Self.crops(21)
        var rng = SplitMix64(seed: 31)
        let r = rng.uniformTensor([6, 7], -1, 1)
        // Drop path draws per-sample masks: reseed before every forward so all see the same masks.
        let maskSeed: UInt64 = 5
        net.backbone.rng = SplitMix64(seed: maskSeed)
        let logits = net.forward(crops, training: true)
        #expect(logits.shape == [6, 7])
        net.zeroGradients()
        net.backward(r)
        let params = net.allParameters, names = net.parameterNames
        let base = net
        // With BatchNorm in the head, a constant added to a column before a BN is subtracted again
        // with the batch mean: the biases of the Linears that feed a BN, and the final LayerNorm's
        // bias (it shifts every CLS feature, which mlp.0 turns into a per-column constant), have
        // an exactly zero gradient. Central differences of a zero derivative are pure rounding, so
        // these are checked for being zero (relative to the largest gradient) instead.
        let zeroByBatchNorm: Set<String> =
            batchNorm ? ["backbone.norm.bias", "head.mlp.0.bias", "head.mlp.3.bias"] : []
        let largest = params.map { Stats.maxAbs($0.grad) }.max() ?? 0
        for (index, p) in params.enumerated() where p.trainable {
            if zeroByBatchNorm.contains(names[index]) {
                #expect(
                    Stats.maxAbs(p.grad) <= 1e-5 * largest,
                    "\(names[index]) feeds a BatchNorm: its gradient must vanish, max |g| \(Stats.maxAbs(p.grad))"
                )
                continue
            }
            checkGradient(
                names[index], p.value, analytic: p.grad, samples: min(p.value.count, 6), seed: UInt64(index)
            ) { value in
                var probe = base
                probe.updateParameters { i, _, q in if i == index { q.value = value } }
                probe.backbone.rng = SplitMix64(seed: maskSeed)
                return weightedSum(probe.forward(crops, training: true), r)
            }
        }
        // The frozen g gets no gradient at all.
        #expect(params.first { $0.name == "last_layer.weight_g" }.map { Stats.maxAbs($0.grad) } == 0)
    }
}
