import DINOCore
import Foundation
import ReferenceCore
import SIMDCore
import Testing

/// Small invariants that hold for both cores.
@Suite("invariants")
struct InvariantTests {
    static let cores: [any KernelSet.Type] = [ReferenceKernels.self, SIMDKernels.self]

    @Test(arguments: 0..<2)
    func softmaxRowsSumToOneEvenWhenSharp(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 3)
        let x = rng.uniformTensor([9, 77], -5, 5)
        var p = Tensor(shape: x.shape)
        K.softmax(x, temperature: 0.04, into: &p)  // logits/τ up to 125: the naive formula overflows
        for i in 0..<p.rows {
            let s = p.row(i).reduce(0.0) { $0 + Double($1) }
            #expect(abs(s - 1) < 1e-5, "row \(i) sums to \(s)")
            #expect(p.row(i).allSatisfy { $0.isFinite && $0 >= 0 })
        }
    }

    @Test(arguments: 0..<2)
    func logSoftmaxIsLogOfSoftmax(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 4)
        let x = rng.uniformTensor([5, 19], -3, 3)
        var p = Tensor(shape: x.shape), lp = Tensor(shape: x.shape)
        K.softmax(x, temperature: 0.1, into: &p)
        K.logSoftmax(x, temperature: 0.1, into: &lp)
        for i in 0..<x.count where p.storage[i] > 1e-30 {
            #expect(
                abs(Double(lp.storage[i]) - log(Double(p.storage[i]))) < 1e-4
                    * max(1, abs(Double(lp.storage[i]))))
        }
    }

    /// The fused loss kernel's gradient is α·τ·∂H/∂x: checked by central differences of Σ H_i,
    /// with targets that sum to 1, 2 and 0 per row (a global crop, a local crop, no teacher).
    @Test(arguments: 0..<2)
    func softmaxCrossEntropyGradientMatchesFiniteDifferences(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 5)
        let x = rng.uniformTensor([3, 13], -2, 2)
        var t = Tensor(shape: x.shape)
        for j in 0..<13 {
            t[0, j] = 1 / 13
            t[1, j] = Float(j + 1) / Float(13 * 14 / 2) * 2
        }
        let tau: Float = 0.5, alpha: Float = 0.3
        var h = Tensor(shape: [3]), dx = Tensor(shape: x.shape)
        K.softmaxCrossEntropy(x, temperature: tau, target: t, gradientScale: alpha, loss: &h, gradient: &dx)
        #expect(h.storage[2] == 0 && dx.row(2).allSatisfy { $0 == 0 })
        func total(_ x: Tensor) -> Double {
            var h = Tensor(shape: [3]), g = Tensor(shape: x.shape)
            K.softmaxCrossEntropy(
                x, temperature: tau, target: t, gradientScale: alpha, loss: &h, gradient: &g)
            return h.storage.reduce(0.0) { $0 + Double($1) }
        }
        let step: Float = 1e-2
        for i in 0..<2 {
            for j in 0..<13 {
                var up = x, down = x
                up[i, j] += step
                down[i, j] -= step
                let numeric = (total(up) - total(down)) / Double(2 * step) * Double(alpha * tau)
                #expect(
                    abs(numeric - Double(dx[i, j])) < 2e-4, "row \(i) col \(j): \(numeric) vs \(dx[i, j])")
            }
        }
    }

    @Test(arguments: 0..<2)
    func emaWithMomentumOneIsANoOp(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 5)
        let before = rng.uniformTensor([37]), student = rng.uniformTensor([37])
        var teacher = before
        K.emaUpdate(&teacher, toward: student, momentum: 1)
        #expect(teacher == before)
        K.emaUpdate(&teacher, toward: student, momentum: 0)
        #expect(teacher == student)
    }

    @Test(arguments: 0..<2)
    func firstAdamWStepMovesByLearningRateTimesSign(_ core: Int) {
        let K = Self.cores[core]
        var p = Tensor(shape: [4], [1, -1, 0.5, 2]), m = Tensor(shape: [4]), v = Tensor(shape: [4])
        let g = Tensor(shape: [4], [0.3, -2, 1e-3, -5])
        K.adamWStep(&p, grad: g, m: &m, v: &v, step: 1, hyper: AdamWHyper(lr: 0.01, weightDecay: 0.1))
        // First step: θ(1 - lr·wd) - lr·g/(|g| + ε) ≈ θ(0.999) - 0.01·sign(g)
        let expected: [Float] = [1 * 0.999 - 0.01, -1 * 0.999 + 0.01, 0.5 * 0.999 - 0.01, 2 * 0.999 + 0.01]
        for i in 0..<4 {
            #expect(abs(p.storage[i] - expected[i]) < 1e-6, "element \(i): \(p.storage[i]) vs \(expected[i])")
        }
    }

    @Test(arguments: 0..<2)
    func layerNormOutputHasZeroMeanUnitVariance(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 6)
        let x = rng.uniformTensor([3, 41], -2, 7)
        var y = Tensor(shape: x.shape), mean = Tensor(shape: [3]), rstd = Tensor(shape: [3])
        K.layerNorm(
            x, weight: Tensor(shape: [41], repeating: 1), bias: Tensor(shape: [41]), epsilon: 1e-6,
            into: &y, mean: &mean, rstd: &rstd)
        for i in 0..<3 {
            let r = y.row(i).map(Double.init)
            let mu = r.reduce(0, +) / 41, variance = r.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / 41
            #expect(abs(mu) < 1e-5 && abs(variance - 1) < 1e-4, "row \(i): mean \(mu), variance \(variance)")
        }
    }

    @Test func matmulLayoutsAgreeWithEachOther() {
        // A·Bᵀ with B stored transposed equals A·B: the layouts are the same product.
        var rng = SplitMix64(seed: 7)
        let a = rng.uniformTensor([5, 6]), b = rng.uniformTensor([6, 4])
        var bt = Tensor(shape: [4, 6]), at = Tensor(shape: [6, 5])
        for i in 0..<6 { for j in 0..<4 { bt[j, i] = b[i, j] } }
        for i in 0..<5 { for j in 0..<6 { at[j, i] = a[i, j] } }
        var c1 = Tensor(shape: [5, 4]), c2 = Tensor(shape: [5, 4]), c3 = Tensor(shape: [5, 4])
        ReferenceKernels.matmul(a, b, layout: .nn, bias: nil, accumulate: false, into: &c1)
        ReferenceKernels.matmul(a, bt, layout: .nt, bias: nil, accumulate: false, into: &c2)
        ReferenceKernels.matmul(at, b, layout: .tn, bias: nil, accumulate: false, into: &c3)
        #expect(c1 == c2 && c1 == c3)
    }

    @Test func cosineScheduleFollowsTheOfficialFormula() {
        let s = Schedule.cosine(base: 1e-3, final: 1e-6, epochs: 4, itersPerEpoch: 5, warmupEpochs: 2)
        #expect(s.count == 20)
        #expect(s[0] == 0)  // warm-up starts at exactly 0
        #expect(abs(s[9] - 1e-3) < 1e-15)  // … and ends at base (linspace endpoint)
        #expect(abs(s[10] - 1e-3) < 1e-15)  // cosine starts at base: base occurs twice
        #expect(s[19] > 1e-6)  // divisor L: the final value is never reached
        let t = Schedule.teacherTemperature(warmup: 0.04, final: 0.07, warmupEpochs: 3, epochs: 5)
        for (value, expected) in zip(t, [0.04, 0.055, 0.07, 0.07, 0.07]) {
            #expect(abs(value - expected) < 1e-15)
        }
    }
}
