import DINOCore
import Foundation

// The registry of parity cases: every operation of `KernelSet`, on shapes chosen to bite.
// Sizes 1, 3, 17, 65, 127, 257 are not multiples of the SIMD width (8) or of a micro-kernel's
// tile, so every tail path runs; K reaches 4160 (= 64 images × 65 tokens, the weight-gradient
// reduction of a small ViT step); softmax rows include logits/0.04 beyond 100.

/// A uniform tensor and the rms of one of its entries (uniform on [-a, a] has rms a/√3).
private func uniform(_ rng: inout SplitMix64, _ shape: [Int], _ a: Float = 1) -> Tensor {
    rng.uniformTensor(shape, -a, a)
}
private let rmsUniform: Float = 1 / 3.0.squareRoot().float

extension Double { var float: Float { Float(self) } }

extension ParityCase {
    /// `C = op(A)·op(B) (+ bias)` of the given layout.
    public static func matmul(
        _ layout: MatmulLayout, m: Int, k: Int, n: Int, bias: Bool = false, accumulate: Bool = false
    ) -> ParityCase {
        var name = "matmul \(layout) \(m)×\(k)×\(n)"
        if bias { name += " +bias" }
        if accumulate { name += " +=C" }
        return ParityCase(op: "matmul", name: name, work: m * k * n) { K, rng in
            let a = uniform(&rng, layout == .tn ? [k, m] : [m, k])
            let b = uniform(&rng, layout == .nt ? [n, k] : [k, n])
            let biasValues = bias ? uniform(&rng, [n]) : nil
            var c = accumulate ? uniform(&rng, [m, n]) : Tensor(shape: [m, n])
            K.matmul(a, b, layout: layout, bias: biasValues, accumulate: accumulate, into: &c)
            // Each term a·b has rms (1/√3)² = 1/3; bias and C add O(1) values.
            return [ParityOutput("C", c, .reduction(count: k + 2, rms: rmsUniform * rmsUniform))]
        }
    }

    /// Row softmax of `x/τ` with logits of scale `spread` (so max |x/τ| ≈ spread/τ).
    public static func softmax(rows: Int, cols: Int, temperature: Float, spread: Float = 4) -> ParityCase {
        ParityCase(op: "softmax", name: "softmax τ=\(temperature) \(rows)×\(cols)", work: rows * cols) {
            K, rng in
            let x = uniform(&rng, [rows, cols], spread)
            var p = Tensor(shape: [rows, cols])
            K.softmax(x, temperature: temperature, into: &p)
            return [ParityOutput("p", p, .transcendental(sharpness: 2 * spread / temperature, count: cols))]
        }
    }

    public static func logSoftmax(rows: Int, cols: Int, temperature: Float, spread: Float = 4) -> ParityCase {
        ParityCase(op: "logSoftmax", name: "logSoftmax τ=\(temperature) \(rows)×\(cols)", work: rows * cols) {
            K, rng in
            let x = uniform(&rng, [rows, cols], spread)
            var lp = Tensor(shape: [rows, cols])
            K.logSoftmax(x, temperature: temperature, into: &lp)
            // log-probabilities reach -2·spread/τ: error relative to that scale, not to the value.
            let sharp = 2 * spread / temperature
            let t = Tolerance.transcendental(sharpness: sharp, count: cols)
            return [ParityOutput("lp", lp, Tolerance(absolute: t.relative * sharp, relative: t.relative))]
        }
    }

    /// Entropy and cross-entropy of softmax rows (the probabilities come from the reference
    /// formula computed identically in both runs, so only the reduction is compared).
    public static func entropy(rows: Int, cols: Int, temperature: Float) -> ParityCase {
        ParityCase(
            op: "entropy", name: "rowEntropy+crossEntropy τ=\(temperature) \(rows)×\(cols)", work: rows * cols
        ) { K, rng in
            let x = uniform(&rng, [rows, cols], 4), y = uniform(&rng, [rows, cols], 4)
            var p = Tensor(shape: [rows, cols]), lq = Tensor(shape: [rows, cols])
            exactSoftmax(x, temperature: temperature, into: &p)
            exactLogSoftmax(y, temperature: 0.1, into: &lq)
            var h = Tensor(shape: [rows]), ce = Tensor(shape: [rows])
            K.rowEntropy(p, into: &h)
            K.rowCrossEntropy(target: p, logProbs: lq, into: &ce)
            // Terms p·ln p are ≤ 1/e each, and sum to ≤ ln(cols); log-probs at τ=0.1 reach -80.
            return [
                ParityOutput("h", h, .reduction(count: cols, rms: 0.37)),
                ParityOutput("ce", ce, .reduction(count: cols, rms: 80 / Float(cols).squareRoot() + 1)),
            ]
        }
    }

    /// The fused student side of the DINO loss: targets are sums of one or two sharp softmax rows
    /// (as a global crop has one teacher and a local crop two), and one row has no target at all
    /// (n = 0: zero loss and zero gradient).
    public static func softmaxCrossEntropy(
        rows: Int, cols: Int, temperature: Float, spread: Float = 4
    ) -> ParityCase {
        ParityCase(
            op: "softmaxCrossEntropy", name: "softmaxCrossEntropy τ=\(temperature) \(rows)×\(cols)",
            work: 3 * rows * cols
        ) { K, rng in
            let x = uniform(&rng, [rows, cols], spread)
            let teachers = uniform(&rng, [2 * rows, cols], 4)
            var q = Tensor(shape: [2 * rows, cols])
            exactSoftmax(teachers, temperature: 0.04, into: &q)
            var t = Tensor(shape: [rows, cols])
            for i in 0..<rows where !(rows > 2 && i == rows / 2) {
                for j in 0..<cols { t[i, j] = q[2 * i, j] + (i % 3 == 0 ? 0 : q[2 * i + 1, j]) }
            }
            let alpha: Float = 0.25
            var h = Tensor(shape: [rows]), dx = Tensor(shape: [rows, cols])
            K.softmaxCrossEntropy(
                x, temperature: temperature, target: t, gradientScale: alpha, loss: &h, gradient: &dx)
            // H: a sum of cols terms t·ls with Σt ≤ 2 and |ls| ≤ 2·spread/τ (the reduction), plus
            // the log-softmax's own error (as in the logSoftmax case) weighted by Σt ≤ 2.
            // dx = α·(n·p - t): p carries the transcendental error, n ≤ 2, p ≤ 1.
            let sharp = 2 * spread / temperature
            let e = Tolerance.transcendental(sharpness: sharp, count: cols)
            let r = Tolerance.reduction(count: cols, rms: 2 * sharp / Float(cols).squareRoot() + 1)
            return [
                ParityOutput(
                    "H", h,
                    Tolerance(
                        absolute: r.absolute + 2 * e.relative * sharp, relative: r.relative + e.relative)),
                ParityOutput("dx", dx, Tolerance(absolute: alpha * 2 * e.relative, relative: e.relative)),
            ]
        }
    }

    public static func l2Normalize(rows: Int, cols: Int) -> ParityCase {
        ParityCase(op: "l2Normalize", name: "l2Normalize \(rows)×\(cols)", work: rows * cols) { K, rng in
            var x = uniform(&rng, [rows, cols])
            if rows > 1 { for j in 0..<cols { x[rows - 1, j] = 0 } }  // a zero row hits the ε floor
            var y = Tensor(shape: [rows, cols]), n = Tensor(shape: [rows])
            K.l2Normalize(x, epsilon: 1e-12, into: &y, norms: &n)
            let t = Tolerance.reduction(count: cols, rms: rmsUniform * rmsUniform)
            return [
                ParityOutput("y", y, Tolerance(absolute: t.absolute, relative: 8 * t.relative)),
                ParityOutput("norm", n, t),
            ]
        }
    }

    public static func sums(rows: Int, cols: Int) -> ParityCase {
        ParityCase(op: "sums", name: "row/column sums+means \(rows)×\(cols)", work: rows * cols) { K, rng in
            let x = uniform(&rng, [rows, cols])
            var rs = Tensor(shape: [rows]), cs = uniform(&rng, [cols]), rm = Tensor(shape: [rows]),
                cm = Tensor(shape: [cols])
            K.rowSums(x, into: &rs)
            K.columnSums(x, accumulate: true, into: &cs)
            K.rowMeans(x, into: &rm)
            K.columnMeans(x, into: &cm)
            return [
                ParityOutput("rowSums", rs, .reduction(count: cols, rms: rmsUniform)),
                ParityOutput("columnSums+=", cs, .reduction(count: rows + 1, rms: rmsUniform)),
                ParityOutput("rowMeans", rm, .reduction(count: cols, rms: rmsUniform / Float(cols))),
                ParityOutput("columnMeans", cm, .reduction(count: rows, rms: rmsUniform / Float(rows))),
            ]
        }
    }

    public static func layerNorm(rows: Int, cols: Int) -> ParityCase {
        ParityCase(op: "layerNorm", name: "layerNorm fwd+bwd \(rows)×\(cols)", work: rows * cols * 4) {
            K, rng in
            var x = uniform(&rng, [rows, cols], 2)
            // One row with a large offset and tiny spread: a one-pass variance would fail here.
            if rows > 2 { for j in 0..<cols { x[1, j] = 100 + 0.01 * x[1, j] } }
            let w = uniform(&rng, [cols]), b = uniform(&rng, [cols]), dy = uniform(&rng, [rows, cols])
            var y = Tensor(shape: [rows, cols]), mean = Tensor(shape: [rows]), rstd = Tensor(shape: [rows])
            K.layerNorm(x, weight: w, bias: b, epsilon: 1e-6, into: &y, mean: &mean, rstd: &rstd)
            var dx = Tensor(shape: [rows, cols]), dw = uniform(&rng, [cols]), db = uniform(&rng, [cols])
            K.layerNormBackward(dy, x, weight: w, mean: mean, rstd: rstd, dx: &dx, dWeight: &dw, dBias: &db)
            // x̂ has rms 1; y = x̂·w + b sums 2 terms but x̂ comes from a cols-long reduction.
            // The offset row has r = 1/(0.01·rms): its x̂ inherits u·100/0.0058 ≈ 1e-3 relative
            // from the Float32 input itself in both cores, so it is compared at that scale.
            let row = Tolerance.reduction(count: cols, rms: 1)
            let offset = Tolerance(absolute: row.absolute * 2e4 / Float(cols), relative: row.relative)
            let perRow = rows > 2 ? offset : row
            return [
                ParityOutput("y", y, perRow),
                ParityOutput("mean", mean, .reduction(count: cols, rms: 100 / Float(cols))),
                ParityOutput(
                    "rstd", rstd,
                    Tolerance(absolute: 0, relative: 64 * Tolerance.unitRoundoff * Float(cols).squareRoot())),
                ParityOutput("dx", dx, Tolerance(absolute: perRow.absolute * 10, relative: row.relative)),
                // dWeight sums dy·x̂ over rows: the offset row adds its own x̂ error once.
                ParityOutput(
                    "dWeight", dw,
                    Tolerance(
                        absolute: Tolerance.reduction(count: rows + 1, rms: 2).absolute
                            + (rows > 2 ? offset.absolute : 0), relative: row.relative)),
                ParityOutput("dBias", db, .reduction(count: rows + 1, rms: rmsUniform)),
            ]
        }
    }

    public static func batchNorm(rows: Int, cols: Int) -> ParityCase {
        ParityCase(op: "batchNorm", name: "batchNorm fwd+bwd \(rows)×\(cols)", work: rows * cols * 6) {
            K, rng in
            var x = uniform(&rng, [rows, cols], 2)
            // One column with a large offset and tiny spread: a one-pass variance would fail here.
            if cols > 2 { for i in 0..<rows { x[i, 1] = 100 + 0.01 * x[i, 1] } }
            let w = uniform(&rng, [cols]), b = uniform(&rng, [cols]), dy = uniform(&rng, [rows, cols])
            var y = Tensor(shape: [rows, cols]), mean = Tensor(shape: [cols]), rstd = Tensor(shape: [cols])
            K.batchNorm(x, weight: w, bias: b, epsilon: 1e-5, into: &y, mean: &mean, rstd: &rstd)
            var dx = Tensor(shape: [rows, cols]), dw = uniform(&rng, [cols]), db = uniform(&rng, [cols])
            K.batchNormBackward(dy, x, weight: w, mean: mean, rstd: rstd, dx: &dx, dWeight: &dw, dBias: &db)
            // LayerNorm's derivation with rows and columns swapped: x̂ comes from a rows-long
            // reduction of rms-1 terms; the offset column's x̂ inherits u·100/0.0058 relative from
            // the Float32 input in both cores, so the column-wise outputs are compared at that scale.
            let col = Tolerance.reduction(count: rows, rms: 1)
            let offset = Tolerance(absolute: col.absolute * 2e4 / Float(rows), relative: col.relative)
            let perColumn = cols > 2 ? offset : col
            return [
                ParityOutput("y", y, perColumn),
                ParityOutput("mean", mean, .reduction(count: rows, rms: 100 / Float(rows))),
                ParityOutput(
                    "rstd", rstd,
                    Tolerance(absolute: 0, relative: 64 * Tolerance.unitRoundoff * Float(rows).squareRoot())),
                ParityOutput("dx", dx, Tolerance(absolute: perColumn.absolute * 10, relative: col.relative)),
                ParityOutput(
                    "dWeight", dw,
                    Tolerance(
                        absolute: Tolerance.reduction(count: rows + 1, rms: 2).absolute
                            + (cols > 2 ? offset.absolute * Float(rows).squareRoot() : 0),
                        relative: col.relative)),
                ParityOutput("dBias", db, .reduction(count: rows + 1, rms: rmsUniform)),
            ]
        }
    }

    public static func gelu(count: Int) -> ParityCase {
        ParityCase(op: "gelu", name: "gelu fwd+bwd \(count)", work: count) { K, rng in
            let x = uniform(&rng, [count], 6), dy = uniform(&rng, [count])
            var y = Tensor(shape: [count]), dx = Tensor(shape: [count])
            K.gelu(x, into: &y)
            K.geluBackward(dy, x, output: y, into: &dx)
            // erfc(|z|) = t·exp(-z² + poly): the rounding of z² (≤ 18 at |x| = 6) enters the
            // exponent, so the tail's relative error is ≈ (z² + 8)·u; sharpness 18 covers it.
            let t = Tolerance.transcendental(sharpness: 18)
            return [
                ParityOutput("y", y, Tolerance(absolute: 1e-7, relative: t.relative)),
                ParityOutput("dx", dx, Tolerance(absolute: 1e-7, relative: t.relative)),
            ]
        }
    }

    /// GELU where its backward has special handling: x = 0 and |x| around 2⁻¹⁰ (the SIMD core
    /// switches from Φ = y/x to ½ + x·φ(0) there), the slope's zero near x = -0.75, and tails
    /// where Φ or y underflow (x ≤ -14) or Φ rounds to 1 (x ≥ 6).
    public static func geluEdges() -> ParityCase {
        let edge: Float = 0.000_976_562_5
        let xs: [Float] = [
            0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, edge, -edge, edge.nextUp, -edge.nextUp,
            edge.nextDown, -edge.nextDown, 1e-3, -1e-3, -0.7517916, -0.75, 0.5, -1, 3, -3, 6, -6, 9,
            -9.5, -10, -13, -14, -15, -20, 20, 40, -87, 88,
        ]
        return ParityCase(op: "gelu", name: "gelu fwd+bwd edges (\(xs.count) values)", work: xs.count) {
            K, rng in
            let x = Tensor(shape: [xs.count], xs), dy = uniform(&rng, [xs.count])
            var y = Tensor(shape: [xs.count]), dx = Tensor(shape: [xs.count])
            K.gelu(x, into: &y)
            K.geluBackward(dy, x, output: y, into: &dx)
            let t = Tolerance.transcendental(sharpness: 18)
            return [
                ParityOutput("y", y, Tolerance(absolute: 1e-7, relative: t.relative)),
                ParityOutput("dx", dx, Tolerance(absolute: 1e-7, relative: t.relative)),
            ]
        }
    }

    public static func elementwise(count: Int) -> ParityCase {
        ParityCase(op: "elementwise", name: "add/scale/axpy/addRow \(count)", work: count) { K, rng in
            let a = uniform(&rng, [count]), b = uniform(&rng, [count])
            var c = Tensor(shape: [count]), s = Tensor(shape: [count]), y = uniform(&rng, [count])
            K.add(a, b, into: &c)
            K.scale(a, by: -0.37, into: &s)
            K.axpy(1.7, b, &y)
            let cols = max(1, count / 7), rows = count / cols
            let x = uniform(&rng, [rows, cols]), v = uniform(&rng, [cols])
            var centred = Tensor(shape: [rows, cols])
            K.addRow(x, v, scale: -1, into: &centred)
            return [
                ParityOutput("add", c, .elementwise), ParityOutput("scale", s, .elementwise),
                ParityOutput("axpy", y, .elementwise), ParityOutput("addRow", centred, .elementwise),
            ]
        }
    }

    public static func optimizer(count: Int) -> ParityCase {
        ParityCase(op: "optimizer", name: "ema+adamW+sumOfSquares \(count)", work: count) { K, rng in
            var teacher = uniform(&rng, [count])
            let student = uniform(&rng, [count])
            K.emaUpdate(&teacher, toward: student, momentum: 0.996)
            var p = uniform(&rng, [count]), m = Tensor(shape: [count]), v = Tensor(shape: [count])
            let hyper = AdamWHyper(lr: 1e-3, weightDecay: 0.04)
            for step in 1...3 {
                // Mixed-scale gradients: AdamW's √v / √(1-β2ᵗ) + ε path is exercised at every scale.
                var g = uniform(&rng, [count])
                for i in stride(from: 0, to: count, by: 5) { g.storage[i] *= 1e-6 }
                K.adamWStep(&p, grad: g, m: &m, v: &v, step: step, hyper: hyper)
            }
            let ss = Tensor(shape: [1], [Float(K.sumOfSquares(student))])
            // Each AdamW step moves θ by ≤ lr; its rounding differs by a few ulp of that update.
            return [
                ParityOutput("ema", teacher, .elementwise),
                ParityOutput(
                    "adamW θ", p,
                    Tolerance(
                        absolute: 3 * 8 * Tolerance.unitRoundoff * 1e-3 + 8 * Tolerance.unitRoundoff,
                        relative: 8 * Tolerance.unitRoundoff)),
                ParityOutput("adamW m", m, .elementwise), ParityOutput("adamW v", v, .elementwise),
                ParityOutput("sumOfSquares", ss, .reduction(count: count, rms: 1 / 3)),
            ]
        }
    }
}

extension ParityCase {
    /// Shapes of a small ViT training step: rows 4160 = 64 images × 65 tokens, widths 64-768.
    static let awkward = [1, 3, 17, 65, 127, 257]

    /// Every case, in the order `dino check` prints them.
    public static let all: [ParityCase] = {
        var cases: [ParityCase] = []
        for layout in MatmulLayout.allCases {
            for (m, k, n) in [
                (1, 1, 1), (3, 17, 5), (17, 65, 127), (65, 127, 17), (127, 257, 65),
                (257, 3, 129), (33, 64, 17), (130, 192, 576), (65, 4160, 31),
            ] {
                cases.append(.matmul(layout, m: m, k: k, n: n))
            }
            cases.append(.matmul(layout, m: 67, k: 192, n: 99, bias: true))
            cases.append(.matmul(layout, m: 67, k: 192, n: 99, accumulate: true))
            cases.append(.matmul(layout, m: 19, k: 33, n: 47, bias: true, accumulate: true))
            // Above the 4M multiply-add threshold: a row split and a K split across threads, with
            // bias and accumulate in the epilogue of every chunk.
            cases.append(.matmul(layout, m: 4160, k: 64, n: 17, bias: true, accumulate: true))
            cases.append(.matmul(layout, m: 127, k: 4160, n: 65, bias: true, accumulate: true))
        }
        for (r, c) in [(1, 1), (3, 17), (64, 65), (17, 257), (256, 4099)] {
            cases.append(.softmax(rows: r, cols: c, temperature: 0.1))
            cases.append(.softmax(rows: r, cols: c, temperature: 0.04))
            cases.append(.logSoftmax(rows: r, cols: c, temperature: 0.1))
        }
        cases.append(.softmax(rows: 33, cols: 127, temperature: 0.04, spread: 5))  // logits/τ up to 125
        cases.append(.logSoftmax(rows: 33, cols: 127, temperature: 0.04, spread: 5))
        cases.append(.softmax(rows: 7, cols: 1024, temperature: 1))
        for (r, c) in [(1, 3), (17, 65), (65, 1027)] {
            cases.append(.entropy(rows: r, cols: c, temperature: 0.04))
        }
        cases.append(.entropy(rows: 9, cols: 2053, temperature: 1))  // flat rows: every log term matters
        cases.append(.entropy(rows: 256, cols: 2048, temperature: 0.04))  // the loss's teacher rows, split over threads
        for (r, c) in [(1, 1), (3, 17), (17, 65), (64, 2048)] {
            cases.append(.softmaxCrossEntropy(rows: r, cols: c, temperature: 0.1))
        }
        cases.append(.softmaxCrossEntropy(rows: 33, cols: 127, temperature: 0.04, spread: 5))  // logits/τ up to 125
        cases.append(.softmaxCrossEntropy(rows: 1024, cols: 2048, temperature: 0.1))  // the default run's student rows
        for (r, c) in [(1, 1), (3, 17), (65, 257), (64, 256)] { cases.append(.l2Normalize(rows: r, cols: c)) }
        for (r, c) in [(1, 1), (17, 3), (65, 127), (4160, 65), (64, 4105)] {
            cases.append(.sums(rows: r, cols: c))
        }
        for (r, c) in [(1, 1), (3, 17), (65, 192), (257, 65), (4160, 64)] {
            cases.append(.layerNorm(rows: r, cols: c))
        }
        for (r, c) in [(2, 1), (3, 17), (65, 9), (1024, 257)] { cases.append(.batchNorm(rows: r, cols: c)) }
        // 131_075 elements: above the threading threshold, split over the threads with a ragged tail.
        for n in [1, 7, 17, 4099, 131_075] { cases.append(.gelu(count: n)) }
        cases.append(.geluEdges())
        for n in [1, 17, 257, 4099, 131_075] { cases.append(.elementwise(count: n)) }
        for n in [1, 17, 65, 4099] { cases.append(.optimizer(count: n)) }
        return cases + modelCases
    }()
}

/// Softmax in Double, used to build identical probability inputs for both cores.
func exactSoftmax(_ x: Tensor, temperature: Float, into p: inout Tensor) {
    for i in 0..<x.rows {
        let z = x.row(i).map { Double($0) / Double(temperature) }
        let top = z.max() ?? 0, s = z.reduce(0) { $0 + exp($1 - top) }
        for j in 0..<x.cols { p[i, j] = Float(exp(z[j] - top) / s) }
    }
}

func exactLogSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor) {
    for i in 0..<x.rows {
        let z = x.row(i).map { Double($0) / Double(temperature) }
        let top = z.max() ?? 0, ls = log(z.reduce(0) { $0 + exp($1 - top) })
        for j in 0..<x.cols { lp[i, j] = Float(z[j] - top - ls) }
    }
}
