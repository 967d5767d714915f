import DINOCore
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore
import Testing

@Suite("DINO loss")
struct DINOLossTests {
    static let cores: [any KernelSet.Type] = [ReferenceKernels.self, SIMDKernels.self]

    /// Uniform teacher and student give the collapse signature: loss = ln K.
    @Test func uniformOutputsGiveLogK() {
        var loss = DINOLoss(outDim: 64)
        let out = loss.evaluate(
            ReferenceKernels.self, student: Tensor(shape: [4 * 3, 64]), teacher: Tensor(shape: [2 * 3, 64]),
            batch: 3, teacherTemperature: 0.04)
        #expect(abs(Double(out.loss) - log(64.0)) < 1e-5)
        #expect(abs(out.kl) < 1e-5 && abs(out.teacherEntropy - log(64.0)) < 1e-5)
    }

    /// The analytic gradient matches central finite differences of the loss (both cores).
    @Test(arguments: 0..<2)
    func gradientMatchesFiniteDifferences(_ core: Int) {
        let K = Self.cores[core]
        var rng = SplitMix64(seed: 11)
        let batch = 2, crops = 4, outDim = 7
        let student = rng.uniformTensor([crops * batch, outDim], -1, 1)
        let teacher = rng.uniformTensor([2 * batch, outDim], -1, 1)
        var loss = DINOLoss(outDim: outDim)
        loss.center = rng.uniformTensor([1, outDim], -0.2, 0.2)
        let frozen = loss
        var probe = frozen
        let analytic = probe.evaluate(
            K, student: student, teacher: teacher, batch: batch, teacherTemperature: 0.04,
            updateCenter: false
        ).studentGradient
        // Central differences in Double of the loss recomputed by the reference core (h chosen for Float32
        // logits of size 1: the truncation error h²·L''' ≈ 1e-6 and the rounding error u·L/h ≈ 1e-5).
        let h: Float = 1e-2
        var worst: Float = 0
        for i in 0..<student.count {
            var plus = student, minus = student
            plus.storage[i] += h
            minus.storage[i] -= h
            var a = frozen, b = frozen
            let lp = a.evaluate(
                ReferenceKernels.self, student: plus, teacher: teacher, batch: batch,
                teacherTemperature: 0.04, updateCenter: false
            ).loss
            let lm = b.evaluate(
                ReferenceKernels.self, student: minus, teacher: teacher, batch: batch,
                teacherTemperature: 0.04, updateCenter: false
            ).loss
            let numeric = (lp - lm) / (2 * h)
            worst = max(worst, abs(numeric - analytic.storage[i]))
        }
        #expect(worst < 2e-3, "max |analytic - numeric| = \(worst)")
    }

    /// The centre moves after the loss, from the raw teacher outputs: c ← 0.9 c + 0.1 mean.
    @Test func centreUpdateUsesRawTeacherMean() {
        var loss = DINOLoss(outDim: 3)
        loss.center = Tensor(shape: [1, 3], [1, 2, 3])
        let teacher = Tensor(shape: [2, 3], [0, 2, 4, 2, 4, 6])  // mean [1, 3, 5]
        _ = loss.evaluate(
            ReferenceKernels.self, student: Tensor(shape: [2, 3]), teacher: teacher, batch: 1,
            teacherTemperature: 0.04)
        let expected: [Float] = [1, 2.1, 3.2]
        for k in 0..<3 { #expect(abs(loss.center.storage[k] - expected[k]) < 1e-6) }
    }
}
