import DINOCore
import Foundation

// Parity cases of the `ModelKernels` operations, on shapes chosen to bite: token counts 1, 5,
// 17, 50, 65 (not multiples of 8, and 50 = 7×7 + CLS of a 28-pixel image with patch 4), head
// widths 3, 8, 13 and 64 (a ragged tail in every SIMD loop, and the real ViT width), channel
// counts 1, 3 and 5, non-square patch grids and position grids both shrunk and enlarged.
//
// Tolerances: u = 2⁻²⁴. Inputs are uniform on [-a, a] (rms a/√3). Each derivation names the
// largest term; `Tolerance.reduction(count:rms:)` covers the Float32 sums.

private let u = Tolerance.unitRoundoff

extension ParityCase {
    /// Attention forward (out, log-sum-exp), the probabilities of every query, and the backward.
    /// `spread` is a in qkv ~ U[-a, a]: with a = 3 and Dh = 64 scores reach |s| ≈ 20, so the
    /// softmax rows are sharp and the max-shift matters. `queries` (default N) asks for the
    /// first Q query rows only, as the CLS-only last block of a ViT does.
    public static func attention(
        batch: Int, tokens n: Int, width c: Int, heads: Int, spread a: Float = 2,
        queries: Int? = nil
    ) -> ParityCase {
        let dh = c / heads, q = queries ?? n
        return ParityCase(
            op: "attention", name: "attention B\(batch) N\(n) C\(c) H\(heads)" + (q < n ? " Q\(q)" : ""),
            work: 4 * batch * heads * q * n * dh
        ) { K, rng in
            let qkv = rng.uniformTensor([batch, n, 3 * c], -a, a),
                dOut = rng.uniformTensor([batch, q, c], -1, 1)
            let scale = 1 / Float(dh).squareRoot()
            var out = Tensor(shape: [batch, q, c]), lse = Tensor(shape: [batch, heads, q])
            K.attention(qkv, heads: heads, scale: scale, into: &out, logSumExp: &lse)
            var probs = Tensor(shape: [batch, heads, q, n])
            K.attentionProbabilities(qkv, heads: heads, scale: scale, queries: q, into: &probs)
            var dQKV = Tensor(shape: qkv.shape)
            K.attentionBackward(
                dOut, qkv: qkv, out: out, logSumExp: lse, heads: heads, scale: scale, into: &dQKV)
            // The largest column sum of an attention matrix: how many queries' worth of
            // probability one key collects (1 for uniform attention, up to N).
            var columnMax: Float = 0
            for pair in 0..<(batch * heads) {
                for j in 0..<n {
                    var sum: Float = 0
                    for i in 0..<q { sum += probs.storage[(pair * q + i) * n + j] }
                    columnMax = max(columnMax, sum)
                }
            }
            let t = attentionTolerances(
                tokens: n, headWidth: dh, spread: a, columnMax: columnMax.rounded(.up))
            func third(_ k: Int) -> Tensor {  // the query (0), key (1) or value (2) block of dQKV
                var part = Tensor(shape: [batch, n, c])
                for r in 0..<(batch * n) {
                    for f in 0..<c { part.storage[r * c + f] = dQKV.storage[r * 3 * c + k * c + f] }
                }
                return part
            }
            return [
                ParityOutput("out", out, t.out), ParityOutput("logSumExp", lse, t.lse),
                ParityOutput("probs", probs, t.probs), ParityOutput("dQ", third(0), t.dQ),
                ParityOutput("dK", third(1), t.dK), ParityOutput("dV", third(2), t.dV),
            ]
        }
    }

    /// The attention tolerances, derived (u = 2⁻²⁴, qkv ~ U[-a, a], dO ~ U[-1, 1]):
    /// 1. A score s = scale·Σ_d q_d k_d sums Dh terms of rms scale·a²/3: its Float32 error is
    ///    sErr = reduction(Dh, scale·a²/3).absolute (the reference's is one rounding).
    /// 2. p = exp(s - lse) inherits sErr as a RELATIVE error, plus exp8's few ulp and the
    ///    rounding of (s - max), which `transcendental(sharpness: |s|max)` bounds, |s|max ≤
    ///    scale·Dh·a². The normalising sum carries the same relative error, so one
    ///    probability is within pRel = 2·(sErr + transcendental).
    /// 3. out = Σ_j p_j v_j with Σ p = 1 and |v| ≤ a: |Δout| ≤ a·pRel + reduction(N, a/N).
    ///    logSumExp = max + ln Σ: |Δ| ≤ pRel + 4u·(|s|max + ln N).
    /// 4. Backward: dS = p ⊙ (dA - δ), dA = dO·V sums Dh terms of rms a/3, so |dA - δ| ≤
    ///    R = 8·√Dh·a/3 (4σ each). dQ_i = scale·Σ_j dS_ij K_j with Σ_j p_ij = 1: |ΔdQ| ≤
    ///    scale·a·R·pRel. dK_j = scale·Σ_i dS_ij Q_i and dV_j = Σ_i p_ij dO_i sum over QUERIES,
    ///    whose probabilities add up to the column sum c_j ≤ `columnMax` (measured on the
    ///    case's own attention): |ΔdK| ≤ scale·a·R·pRel·columnMax, |ΔdV| ≤ pRel·columnMax.
    ///    Each adds the Float32 rounding of its N-term sum.
    static func attentionTolerances(
        tokens n: Int, headWidth dh: Int, spread a: Float, columnMax: Float
    )
        -> (out: Tolerance, lse: Tolerance, probs: Tolerance, dQ: Tolerance, dK: Tolerance, dV: Tolerance)
    {
        let scale = 1 / Float(dh).squareRoot()
        let sMax = scale * Float(dh) * a * a
        let sErr = Tolerance.reduction(count: dh, rms: scale * a * a / 3).absolute
        let pRel = 2 * (sErr + Tolerance.transcendental(sharpness: sMax, count: n).relative)
        let out = Tolerance(
            absolute: a * pRel + Tolerance.reduction(count: n, rms: a / Float(n)).absolute, relative: 4 * u)
        let lse = Tolerance(absolute: pRel + 4 * u * (sMax + log(Float(n))), relative: 4 * u)
        let probs = Tolerance(absolute: pRel / Float(n), relative: pRel)
        let r = 8 * Float(dh).squareRoot() * a / 3
        let sum = Tolerance.reduction(count: n, rms: scale * a * r / Float(n)).absolute
        return (
            out, lse, probs,
            Tolerance(absolute: scale * a * r * pRel + sum, relative: 4 * u),
            Tolerance(absolute: scale * a * r * pRel * columnMax + sum, relative: 4 * u),
            Tolerance(
                absolute: pRel * columnMax + Tolerance.reduction(count: n, rms: 1 / Float(n)).absolute,
                relative: 4 * u)
        )
    }

    /// Patch embedding forward and parameter gradients on `[B, Cin, H, W]` images.
    public static func patchEmbed(
        batch: Int, channels: Int, height: Int, width: Int, patch p: Int, dim d: Int
    ) -> ParityCase {
        let gh = height / p, gw = width / p, k = channels * p * p
        return ParityCase(
            op: "patchEmbed", name: "patchEmbed B\(batch) \(channels)×\(height)×\(width) p\(p) D\(d)",
            work: 2 * batch * gh * gw * k * d
        ) { K, rng in
            let images = rng.uniformTensor([batch, channels, height, width], -1, 1)
            let weight = rng.uniformTensor([d, channels, p, p], -1, 1), bias = rng.uniformTensor([d], -1, 1)
            var tokens = Tensor(shape: [batch, gh * gw, d])
            K.patchEmbed(images, weight: weight, bias: bias, patch: p, into: &tokens)
            let dTokens = rng.uniformTensor([batch, gh * gw, d], -1, 1)
            var dW = rng.uniformTensor([d, channels, p, p], -1, 1), dB = rng.uniformTensor([d], -1, 1)
            K.patchEmbedBackward(dTokens, images: images, patch: p, dWeight: &dW, dBias: &dB)
            // A token is a sum of Cin·p² products of rms 1/3 plus the bias; dW sums B·gh·gw
            // products of rms 1/3 plus the old value; dB sums B·gh·gw terms of rms 1/√3.
            let rows = batch * gh * gw
            return [
                ParityOutput("tokens", tokens, .reduction(count: k + 1, rms: 1.0 / 3)),
                ParityOutput("dWeight", dW, .reduction(count: rows + 1, rms: 1.0 / 3)),
                ParityOutput("dBias", dB, .reduction(count: rows + 1, rms: 1 / 3.0.squareRoot().float)),
            ]
        }
    }

    /// Position-embedding resampling from a `g × g` grid to `rows × cols`, forward and backward.
    public static func resamplePositions(grid g: Int, rows: Int, cols: Int, dim d: Int) -> ParityCase {
        ParityCase(
            op: "resamplePositions", name: "resamplePositions \(g)×\(g)→\(rows)×\(cols) D\(d)",
            work: 16 * rows * cols * d
        ) { K, rng in
            let table = rng.uniformTensor([1, 1 + g * g, d], -1, 1)
            var out = Tensor(shape: [1, 1 + rows * cols, d])
            K.resamplePositionEmbedding(table, sourceGrid: g, rows: rows, cols: cols, into: &out)
            let dOut = rng.uniformTensor([1, 1 + rows * cols, d], -1, 1)
            var dTable = rng.uniformTensor([1, 1 + g * g, d], -1, 1)
            K.resamplePositionEmbeddingBackward(dOut, sourceGrid: g, rows: rows, cols: cols, into: &dTable)
            // Forward: 16 taps, bicubic weights |w| ≤ 1.3 per axis, so terms of rms ≤ 1; the SIMD
            // core also rounds each weight product to Float32 (one more u per term).
            // Backward: a source cell receives up to 16·⌈rows/g + 1⌉·⌈cols/g + 1⌉ contributions.
            let fanIn = 16 * (rows / g + 2) * (cols / g + 2)
            return [
                ParityOutput("out", out, .reduction(count: 2 * 16, rms: 1)),
                ParityOutput("dTable", dTable, .reduction(count: 2 * fanIn + 1, rms: 1)),
            ]
        }
    }

    /// Weight normalisation forward/backward and the L2-normalisation backward of the head.
    public static func weightNorm(rows o: Int, cols i: Int) -> ParityCase {
        ParityCase(op: "weightNorm", name: "weightNorm+l2NormalizeBackward \(o)×\(i)", work: 4 * o * i) {
            K, rng in
            let v = rng.uniformTensor([o, i], -1, 1)
            var g = rng.uniformTensor([o, 1], 0.5, 1.5)
            g.storage[0] = 1  // the frozen g = 1 of norm_last_layer
            var w = Tensor(shape: [o, i]), norms = Tensor(shape: [o])
            K.weightNorm(v, g: g, into: &w, norms: &norms)
            let dW = rng.uniformTensor([o, i], -1, 1)
            var dV = rng.uniformTensor([o, i], -1, 1), dG = rng.uniformTensor([o, 1], -1, 1)
            K.weightNormBackward(dW, v: v, g: g, norms: norms, dV: &dV, dG: &dG)
            // l2NormalizeBackward on rows of x; the last row is below ε (the clamp branch).
            var x = rng.uniformTensor([o, i], -1, 1)
            for k in 0..<i { x[o - 1, k] *= 1e-7 }
            var y = Tensor(shape: [o, i]), xNorms = Tensor(shape: [o])
            exactL2Normalize(x, epsilon: 1e-6, into: &y, norms: &xNorms)
            let dy = rng.uniformTensor([o, i], -1, 1)
            var dx = Tensor(shape: [o, i])
            K.l2NormalizeBackward(dy, y: y, norms: xNorms, epsilon: 1e-6, into: &dx)
            // ‖v‖ sums I squares (rms 1/3); w = g·v/‖v‖ has entries ≈ 1/√I · 1.5 and inherits the
            // norm's relative error. v̂·dW sums I terms of rms 1/(√I·√3); dv = (g/‖v‖)(dW - v̂·proj)
            // has |dW| ≤ 1 plus the old value. dx = (dy - y·(y·dy))/‖x‖ with ‖x‖ ≥ √I/√3·(min).
            let normRel = Tolerance.reduction(count: i, rms: 1.0 / 3).absolute / (Float(i) / 3)
            let scaleV = 1.5 / (Float(i) / 3).squareRoot()
            let dotT = Tolerance.reduction(count: i, rms: 1 / (3 * Float(i)).squareRoot())
            return [
                ParityOutput("w", w, Tolerance(absolute: 8 * u * scaleV, relative: 4 * (normRel + 2 * u))),
                ParityOutput("norms", norms, Tolerance(absolute: 0, relative: 4 * (normRel + 2 * u))),
                ParityOutput(
                    "dV", dV,
                    Tolerance(absolute: 4 * scaleV * (dotT.absolute + 4 * u) + 8 * u, relative: 4 * u)),
                ParityOutput("dG", dG, Tolerance(absolute: dotT.absolute + 8 * u, relative: 4 * u)),
                ParityOutput(
                    "dx", dx,
                    Tolerance(
                        absolute: 4 * (dotT.absolute + 4 * u) * 2e7 / Float(i).squareRoot(),
                        relative: 8 * u)),
            ]
        }
    }

    /// The registry's model cases, in the order `dino check` prints them.
    public static let modelCases: [ParityCase] = {
        var cases: [ParityCase] = []
        for (b, n, c, h) in [
            (1, 1, 8, 1), (2, 5, 9, 3), (3, 17, 24, 3), (2, 50, 39, 3), (2, 65, 128, 2), (5, 50, 64, 4),
        ] {
            cases.append(.attention(batch: b, tokens: n, width: c, heads: h))
        }
        cases.append(.attention(batch: 2, tokens: 17, width: 128, heads: 2, spread: 3))  // |s| up to 70
        // The first Q queries only (the ViT's CLS-only last block is Q = 1).
        for (b, n, c, h, q) in [
            (1, 3, 8, 1, 1), (3, 17, 24, 3, 1), (2, 5, 64, 4, 1), (2, 50, 39, 3, 7), (5, 17, 64, 4, 1),
        ] {
            cases.append(.attention(batch: b, tokens: n, width: c, heads: h, queries: q))
        }
        for (b, ch, h, w, p, d) in [
            (1, 1, 4, 4, 4, 1), (2, 3, 16, 16, 4, 17), (3, 1, 28, 28, 4, 65),
            (2, 5, 13, 22, 3, 24), (1, 3, 32, 32, 16, 192),
        ] {
            cases.append(.patchEmbed(batch: b, channels: ch, height: h, width: w, patch: p, dim: d))
        }
        for (g, r, c, d) in [
            (4, 2, 2, 6), (4, 6, 6, 17), (4, 3, 5, 9), (14, 6, 6, 65), (7, 7, 3, 8), (1, 2, 3, 5),
        ] {
            cases.append(.resamplePositions(grid: g, rows: r, cols: c, dim: d))
        }
        for (o, i) in [(1, 1), (17, 3), (65, 257), (1024, 64)] { cases.append(.weightNorm(rows: o, cols: i)) }
        return cases
    }()
}

/// L2 normalisation in Double, to give both cores identical `y` and norms.
func exactL2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor) {
    for r in 0..<x.rows {
        let norm = x.row(r).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        norms.storage[r] = Float(norm)
        for k in 0..<x.cols { y[r, k] = Float(Double(x[r, k]) / max(norm, Double(epsilon))) }
    }
}
