// Lessons/04-cross-entropy/main.swift · Lesson 04 · The DINO loss · Walkthroughs/04-cross-entropy.md
// Cross-entropy H(P_t, P_s) = h(P_t) + KL(P_t ‖ P_s) on three classes, then the multi-crop loss of
// main_dino.py (DINOLoss, recomputed with plain loops), its gradient (P_s - P_t)/τs checked by finite
// differences, and the loss as a function of the student's logits.
// Run: swift run -c release lesson04-cross-entropy   (about 1 s; --quick: a coarser sweep and grid)
import DINOCore
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import ReferenceCore
import SIMDCore

var lesson = Lesson(
    "04-cross-entropy", title: "Cross-entropy: the DINO loss",
    knobs: [
        Knob("--student-temp", "τs", "the student's temperature in sections 2-4", default: "0.1"),
        Knob("--teacher-temp", "τt", "the teacher's temperature in sections 2-4", default: "0.04"),
    ])

/// Writes one chart (.dat, .gp, .png) under plots/; an unwritable --plots folder ends the lesson
/// with a one-line error naming the file and exit status 1, instead of a crash.
func plotOrExit(_ name: String, _ data: Series, _ chart: ChartSpec) {
    do { try lesson.plot(name, data, chart) } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Softmax of `z/τ` in Double, max-shifted (lesson 02).
func softmax(_ z: [Double], _ tau: Double) -> [Double] {
    let top = z.max()! / tau
    let e = z.map { Foundation.exp($0 / tau - top) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}
/// Log-softmax of `z/τ` in Double.
func logSoftmax(_ z: [Double], _ tau: Double) -> [Double] {
    let top = z.max()! / tau
    let logSum = Foundation.log(z.reduce(0.0) { $0 + Foundation.exp($1 / tau - top) })
    return z.map { $0 / tau - top - logSum }
}
func crossEntropy(_ p: [Double], logQ: [Double]) -> Double { -zip(p, logQ).reduce(0.0) { $0 + $1.0 * $1.1 } }
func entropy(_ p: [Double]) -> Double { -p.reduce(0.0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) } }
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

// MARK: 1 · Cross-entropy = entropy + KL, on three classes
// The student is trained to predict the teacher: the loss of one image is the cross-entropy
//     H(P_t, P_s) = -Σ_k P_t[k]·ln P_s[k] = h(P_t) + KL(P_t ‖ P_s),
// with h(P_t) = -Σ P_t ln P_t and KL(P_t ‖ P_s) = Σ P_t ln(P_t/P_s) ≥ 0. The teacher gets no gradient,
// so the student can only reduce the KL part; its best answer is P_s = P_t, where H = h(P_t).
lesson.section("1 · Cross-entropy = entropy + KL, on three classes")
// One teacher and two students: one that roughly agrees with it, one that puts its mass on the
// class the teacher finds least likely. Every term is one product and one log: pencil work.
let pt = [0.7, 0.2, 0.1], ps = [0.5, 0.3, 0.2], psFar = [0.1, 0.2, 0.7]
print("             teacher   student A (similar)            student B (different)")
print("class         P_t      P_s    -P_t·ln P_s   KL term    P_s    -P_t·ln P_s   KL term")
for k in 0..<3 {
    print(
        String(
            format: "  %d           %.2f     %.2f    %.5f      %+.5f    %.2f    %.5f      %+.5f", k, pt[k],
            ps[k], -pt[k] * log(ps[k]), pt[k] * log(pt[k] / ps[k]),
            psFar[k], -pt[k] * log(psFar[k]), pt[k] * log(pt[k] / psFar[k])))
}
let h3 = entropy(pt), ce3 = crossEntropy(pt, logQ: ps.map { log($0) }),
    ceFar = crossEntropy(pt, logQ: psFar.map { log($0) })
let kl3 = zip(pt, ps).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
let klFar = zip(pt, psFar).reduce(0.0) { $0 + $1.0 * log($1.0 / $1.1) }
print(
    String(format: "h(P_t) = -(0.7·ln 0.7 + 0.2·ln 0.2 + 0.1·ln 0.1) = %.5f, the same for both students", h3))
print(String(format: "student A:  H = %.5f = h %.5f + KL %.5f", ce3, h3, kl3))
print(String(format: "student B:  H = %.5f = h %.5f + KL %.5f", ceFar, h3, klFar))
print(
    String(
        format: "a student equal to the teacher would score H = h = %.5f: the floor no student can go below",
        h3))
lesson.claim(
    "H(P_t, P_s) = h(P_t) + KL(P_t ‖ P_s) for both students (to 1e-12), with KL > 0 because P_s ≠ P_t",
    abs(ce3 - (h3 + kl3)) < 1e-12 && abs(ceFar - (h3 + klFar)) < 1e-12 && kl3 > 0 && klFar > 0)
lesson.claim(
    String(
        format: "the different student pays more: H %.3f against %.3f; only the KL part differs", ceFar, ce3),
    ceFar > ce3 && abs((ceFar - ce3) - (klFar - kl3)) < 1e-12)

// The same numbers the way DINO produces them: logits, a centre, two temperatures, and the
// kernels logSoftmax + rowCrossEntropy + rowEntropy of both cores.
let teacherLogits3: [Float] = [0.25, 0.20, 0.12], studentLogits3: [Float] = [0.30, 0.10, -0.05]
let centre3: [Float] = [0.05, 0.02, 0.0]
var kernelValues: [[Float]] = []
for core in 0..<2 {
    let kernels: any KernelSet.Type = core == 0 ? ReferenceKernels.self : SIMDKernels.self
    func run<K: KernelSet>(_ k: K.Type) -> [Float] {
        let t = Tensor(rows: 1, cols: 3, teacherLogits3), s = Tensor(rows: 1, cols: 3, studentLogits3)
        var centred = t, q = t, ls = s, h = Tensor(shape: [1]), ce = Tensor(shape: [1])
        K.addRow(t, Tensor(shape: [3], centre3), scale: -1, into: &centred)
        K.softmax(centred, temperature: 0.04, into: &q)
        K.logSoftmax(s, temperature: 0.1, into: &ls)
        K.rowEntropy(q, into: &h)
        K.rowCrossEntropy(target: q, logProbs: ls, into: &ce)
        return q.storage + ls.storage + [h.storage[0], ce.storage[0]]
    }
    kernelValues.append(run(kernels))
}
let qExact = softmax(zip(teacherLogits3, centre3).map { Double($0 - $1) }, 0.04)
let lsExact = logSoftmax(studentLogits3.map(Double.init), 0.1)
let exact = qExact + lsExact + [entropy(qExact), crossEntropy(qExact, logQ: lsExact)]
func list(_ xs: [Double], _ f: String = "%.4f") -> String {
    "(" + xs.map { String(format: f, $0) }.joined(separator: ", ") + ")"
}
print(
    "teacher t = \(list(teacherLogits3.map(Double.init), "%.2f")), c = \(list(centre3.map(Double.init), "%.2f")), τt 0.04 → P_t = \(list(qExact))"
)
print(
    "student s = \(list(studentLogits3.map(Double.init), "%.2f")), τs 0.1 → P_s = \(list(lsExact.map { exp($0) }))"
)
print(String(format: "H = %.5f = h %.5f + KL %.5f", exact[7], exact[6], exact[7] - exact[6]))
let kernelError = kernelValues.map { maxAbsDifference($0.map(Double.init), exact) }
print(
    String(
        format: "kernels vs Double formulas: reference %.1e, SIMD %.1e (all 8 numbers)", kernelError[0],
        kernelError[1]))
lesson.claim("both cores reproduce the hand computation to 1e-6", kernelError.allSatisfy { $0 < 1e-6 })

// MARK: 2 · The multi-crop loss, exactly as main_dino.py
// B images, each cut into V = 2 global + 8 local crops. Student rows are crop-major: rows
// [v·B, (v+1)·B) are crop v of every image. The teacher sees only the 2 global crops.
//     q_a  = softmax((t_a - c)/τt)          a ∈ {0, 1}
//     loss = (1/N) Σ_a Σ_{v ≠ a} mean_b [ -Σ_k q_a[b,k]·ln softmax(s_v/τs)[b,k] ],  N = 2V - 2
// Only the pairs where teacher and student see the SAME crop are skipped (a = v); global crop 0 of
// the teacher still teaches global crop 1 of the student and every local crop.
lesson.section("2 · The multi-crop loss, exactly as main_dino.py")
let batch = 4, crops = 10, outDim = 16
let tauS = lesson.double("--student-temp", default: 0.1, in: 0.01...10)
let tauT = lesson.double("--teacher-temp", default: 0.04, in: 0.005...10)
var rng = lesson.rng
let student = rng.uniformTensor([crops * batch, outDim], -1, 1)  // (V·B, K) cosines
let teacher = rng.uniformTensor([2 * batch, outDim], -1, 1)  // (2B, K)
let oldCentre = rng.uniformTensor([1, outDim], -0.2, 0.2)  // c from earlier steps

/// The loss with plain loops in Double; `pairs` receives the mean cross-entropy of each (a, v).
func loopLoss(student s: Tensor, centre c: Tensor, pairs: inout [[Double?]]) -> Double {
    pairs = Array(repeating: Array(repeating: nil, count: crops), count: 2)
    var total = 0.0, count = 0
    for a in 0..<2 {
        for v in 0..<crops where v != a {
            var pairSum = 0.0
            for b in 0..<batch {
                let q = softmax(
                    (0..<outDim).map { Double(teacher[a * batch + b, $0]) - Double(c.storage[$0]) }, tauT)
                let ls = logSoftmax((0..<outDim).map { Double(s[v * batch + b, $0]) }, tauS)
                pairSum += crossEntropy(q, logQ: ls)
            }
            pairs[a][v] = pairSum / Double(batch)  // each pair: a batch mean
            total += pairSum / Double(batch)
            count += 1
        }
    }
    return total / Double(count)  // averaged over the 2V - 2 pairs
}
var pairTable: [[Double?]] = []
let loopValue = loopLoss(student: student, centre: oldCentre, pairs: &pairTable)
print(
    "B = \(batch) images, V = \(crops) crops (2 global + \(crops - 2) local), K = \(outDim), τs \(tauS), τt \(tauT), centre c ≠ 0"
)
print("mean cross-entropy of each pair (teacher crop a → student crop v; — = skipped, same crop):")
print("        " + (0..<crops).map { "   v=\($0)\($0 < 2 ? "g" : "l")" }.joined())
for a in 0..<2 {
    print("  a=\(a)g  " + pairTable[a].map { $0.map { String(format: "%7.3f", $0) } ?? "      —" }.joined())
}
let pairCount = pairTable.joined().compactMap { $0 }.count
print(
    "pairs used: \(pairCount) = 2V - 2 = \(2 * crops - 2); loss (plain loops, Double) = \(String(format: "%.6f", loopValue))"
)

var losses = [
    DINOLoss(outDim: outDim, studentTemperature: Float(tauS)),
    DINOLoss(outDim: outDim, studentTemperature: Float(tauS)),
]
losses[0].center = oldCentre
losses[1].center = oldCentre
let outputs = [
    losses[0].evaluate(
        ReferenceKernels.self, student: student, teacher: teacher, batch: batch,
        teacherTemperature: Float(tauT)),
    losses[1].evaluate(
        SIMDKernels.self, student: student, teacher: teacher, batch: batch, teacherTemperature: Float(tauT)),
]
print(
    String(
        format: "DINOLoss: reference %.6f, SIMD %.6f; |Δ| to the loops %.1e, %.1e", Double(outputs[0].loss),
        Double(outputs[1].loss),
        abs(Double(outputs[0].loss) - loopValue), abs(Double(outputs[1].loss) - loopValue)))
// Float32 softmax/log-softmax inputs of size ≤ 25 (1/τt): a few ulp of 25 ≈ 1e-5 at worst per term.
lesson.claim(
    "DINOLoss (both cores) equals the plain-loop loss to 1e-5",
    outputs.allSatisfy { abs(Double($0.loss) - loopValue) < 1e-5 })
// What skipping changes: the same-crop pairs (a = v) would add these terms.
var sameCrop = 0.0
for a in 0..<2 {
    var pairSum = 0.0
    for b in 0..<batch {
        let q = softmax(
            (0..<outDim).map { Double(teacher[a * batch + b, $0]) - Double(oldCentre.storage[$0]) }, tauT)
        let ls = logSoftmax((0..<outDim).map { Double(student[a * batch + b, $0]) }, tauS)
        pairSum += crossEntropy(q, logQ: ls)
    }
    sameCrop += pairSum / Double(batch)
}
let withSame = (loopValue * Double(pairCount) + sameCrop) / Double(pairCount + 2)
print(
    String(
        format:
            "had the 2 same-crop pairs been kept: %.6f over %d pairs (different number, different gradient)",
        withSame, pairCount + 2))
print(
    String(
        format: "decomposition: mean h(P_t) %.6f + mean KL %.6f = %.6f (DINOLoss reports both)",
        outputs[0].teacherEntropy, outputs[0].kl, outputs[0].teacherEntropy + outputs[0].kl))
lesson.claim(
    "loss = mean teacher entropy + mean KL over the pairs",
    abs(outputs[0].teacherEntropy + outputs[0].kl - Double(outputs[0].loss)) < 1e-5)

// The centre moved AFTER the loss: c_new = 0.9·c + 0.1·mean over the 2B raw teacher rows.
var expectedCentre = [Double](repeating: 0, count: outDim)
for k in 0..<outDim {
    let mean = (0..<teacher.rows).reduce(0.0) { $0 + Double(teacher[$1, k]) } / Double(teacher.rows)
    expectedCentre[k] = 0.9 * Double(oldCentre.storage[k]) + 0.1 * mean
}
let centreError = losses.map { maxAbsDifference($0.center.storage.map(Double.init), expectedCentre) }
var unused: [[Double?]] = []
let withNewCentre = loopLoss(student: student, centre: losses[0].center, pairs: &unused)
print(
    String(
        format: "centre after the call: max |c - (0.9·c_old + 0.1·mean t)| = %.1e (reference), %.1e (SIMD)",
        centreError[0], centreError[1]))
print(
    String(
        format: "the loss was computed with the OLD centre: with the new one it would be %.6f, not %.6f",
        withNewCentre, loopValue))
lesson.claim(
    "the centre update follows c ← 0.9·c + 0.1·mean(t) after the loss", centreError.allSatisfy { $0 < 1e-6 })

// The collapse signature: if teacher and student output the same value in every dimension, every
// distribution is uniform and the loss is exactly ln K, whatever the temperatures.
var flatLoss = DINOLoss(outDim: outDim, studentTemperature: Float(tauS))
let flat = flatLoss.evaluate(
    SIMDKernels.self, student: Tensor(shape: [crops * batch, outDim], repeating: 0.3),
    teacher: Tensor(shape: [2 * batch, outDim], repeating: 0.3), batch: batch, teacherTemperature: Float(tauT)
)
print(
    String(
        format: "uniform outputs: loss %.6f, ln K = ln %d = %.6f (ln 65536 = %.4f for the real head)",
        Double(flat.loss), outDim, log(Double(outDim)), log(65536.0)))
lesson.claim("constant outputs give loss = ln K", abs(Double(flat.loss) - log(Double(outDim))) < 1e-5)

// MARK: 3 · The gradient: (P_s - P_t)/τs, summed over the teacher crops
// For one pair, ∂/∂s[k] of -Σ q ln softmax(s/τs) is (softmax(s/τs)[k] - q[k])/τs (the softmax's
// Jacobian collapses because Σ q = 1). The loss averages over B images and N pairs, and student
// crop v appears in a pair with every teacher crop a ≠ v: a local crop gets two terms (a = 0, 1),
// a global crop only one (the other global). The teacher gets no gradient at all.
//     ∂loss/∂s_v[b,k] = (1/(τs·B·N)) Σ_{a ≠ v} (P_s,v[b,k] - P_t,a[b,k])
lesson.section("3 · The gradient: (P_s - P_t)/τs, summed over the teacher crops")
let pairsN = Double(2 * crops - 2)
var analytic = [Double](repeating: 0, count: student.count)
for v in 0..<crops {
    for b in 0..<batch {
        let p = softmax((0..<outDim).map { Double(student[v * batch + b, $0]) }, tauS)
        for a in 0..<2 where a != v {
            let q = softmax(
                (0..<outDim).map { Double(teacher[a * batch + b, $0]) - Double(oldCentre.storage[$0]) }, tauT)
            for k in 0..<outDim {
                analytic[(v * batch + b) * outDim + k] += (p[k] - q[k]) / (tauS * Double(batch) * pairsN)
            }
        }
    }
}
var finiteDifference = [Double](repeating: 0, count: student.count)
let checkedEntries =
    lesson.quick ? stride(from: 0, to: student.count, by: 7).map { $0 } : Array(0..<student.count)
var scratch: [[Double?]] = []
// Central differences on the Double loop loss with a step h = 2⁻¹⁶ ≈ 1.5e-5. The logits are stored
// as Float32, so s ± h is rounded: divide by the step the Float values really took.
let exactStep = Double(Float(0x1p-16))
for index in checkedEntries {
    var up = student, down = student
    up.storage[index] += Float(exactStep)
    down.storage[index] -= Float(exactStep)
    let plus = loopLoss(student: up, centre: oldCentre, pairs: &scratch)
    let minus = loopLoss(student: down, centre: oldCentre, pairs: &scratch)
    let realStep = Double(up.storage[index]) - Double(down.storage[index])
    finiteDifference[index] = (plus - minus) / realStep
}
let fdError = checkedEntries.map { abs(finiteDifference[$0] - analytic[$0]) }.max()!
let gradientScale = analytic.map(abs).max()!
print(
    String(
        format:
            "checked %d of %d student logits: max |finite difference - (P_s - P_t)/(τs·B·N) sum| = %.1e (largest |∂| %.1e)",
        checkedEntries.count, student.count, fdError, gradientScale))
let kernelGradientError = outputs.map {
    maxAbsDifference($0.studentGradient.storage.map(Double.init), analytic)
}
print(
    String(
        format: "DINOLoss's studentGradient vs the formula: reference %.1e, SIMD %.1e",
        kernelGradientError[0], kernelGradientError[1]))
let rowSums = (0..<student.rows).map { i in (0..<outDim).reduce(0.0) { $0 + analytic[i * outDim + $1] } }
print(
    String(
        format: "every gradient row sums to 0 (softmax ignores a shared shift): max |row sum| %.1e",
        rowSums.map(abs).max()!))
func rowNorm(_ row: Int) -> Double {
    (0..<outDim).reduce(0.0) { $0 + analytic[row * outDim + $1] * analytic[row * outDim + $1] }.squareRoot()
}
let globalRowNorm = (0..<2 * batch).map(rowNorm).reduce(0, +) / Double(2 * batch)
let localRowNorm = (2 * batch..<crops * batch).map(rowNorm).reduce(0, +) / Double((crops - 2) * batch)
print(
    String(
        format:
            "mean ‖∂loss/∂s‖ of a row: global crops %.2e (one teacher term), local crops %.2e (two terms)",
        globalRowNorm, localRowNorm))
// Central differences in Double with a 1.5e-5 step: truncation h²·|L'''|/6 with |L'''| ≲ 1/(τs³·B·N)
// ≈ 14 gives ≈ 5e-10, rounding ε·|L|/h ≈ 1e-16·9/1.5e-5 ≈ 6e-11; 1e-8 leaves room. The truncation
// term grows as 1/τs³, so another --student-temp scales the bound by (0.1/τs)³.
let fdBound = 1e-8 * max(1, pow(0.1 / tauS, 3))
lesson.claim(
    String(format: "finite differences confirm the analytic gradient (max error < %.0e)", fdBound),
    fdError < fdBound)
// The kernels work in Float32: a few ulp (1.5e-8 each) of the largest term 1/(τs·B·N) ≈ 0.14, and
// of the logits/τs they start from, so the bound scales as (0.1/τs)² for a smaller τs.
let kernelBound = 1e-7 * max(1, pow(0.1 / tauS, 2))
lesson.claim(
    String(format: "DINOLoss's gradient (both cores) matches the formula to %.0e", kernelBound),
    kernelGradientError.allSatisfy { $0 < kernelBound })

// MARK: 4 · The loss as a function of the student's logits → plots/04-cross-entropy/
// One image, three classes. The teacher's logits t = (0.3, 0.25, 0.2) at τt = 0.04 give P_t ≈ (0.73, 0.21, 0.06).
// Sweep the student's first logit with the others fixed, then its first two logits over a grid: the
// loss bottoms out at H = h(P_t) exactly where P_s = P_t, i.e. where s_k - s_2 = τs·ln(P_t[k]/P_t[2]).
lesson.section("4 · The loss as a function of the student's logits")
let t4 = [0.3, 0.25, 0.2]
let q4 = softmax(t4, tauT)
let h4 = entropy(q4)
let optimum = [tauS * log(q4[0] / q4[2]), tauS * log(q4[1] / q4[2])]
print(
    String(
        format: "P_t = (%.4f, %.4f, %.5f), h(P_t) = %.4f; best student logits (s0, s1, 0) = (%.3f, %.3f, 0)",
        q4[0], q4[1], q4[2], h4, optimum[0], optimum[1]))
var sweep = Series(columns: ["s0", "H", "h_teacher", "KL", "dH_ds0", "p_s0", "p_t0"])
var best = (s0: 0.0, value: Double.infinity)
var signChanges: [Double] = []
var previousGradient: Double?
let sweepPoints = lesson.quick ? 201 : 801
for i in 0..<sweepPoints {
    let s0 = -1.5 + 3.0 * Double(i) / Double(sweepPoints - 1)
    let s = [s0, optimum[1], 0]
    let ls = logSoftmax(s, tauS), p = ls.map { exp($0) }
    let value = crossEntropy(q4, logQ: ls)
    let gradient = (p[0] - q4[0]) / tauS
    sweep.append([s0, value, h4, value - h4, gradient, p[0], q4[0]])
    if value < best.value { best = (s0, value) }
    if let g = previousGradient, g < 0, gradient >= 0 { signChanges.append(s0) }
    previousGradient = gradient
}
print(
    String(
        format:
            "sweep of s0 over [-1.5, 1.5], s1 = %.3f: minimum H = %.6f at s0 = %.4f; ∂H/∂s0 changes sign at %.4f",
        optimum[1], best.value, best.s0, signChanges.first ?? .nan))
let gridStep = 3.0 / Double(sweepPoints - 1)
// The nearest sample is at most half a step from the minimum, where H - h = KL ≈ ½·H''·δ² with
// H'' = p(1-p)/τs² ≤ 1/(4τs²) = 25: so KL ≤ ½·25·step² at the best sample.
let kLimit = 0.5 / (4 * tauS * tauS) * gridStep * gridStep
lesson.claim(
    String(
        format:
            "the sweep's minimum sits at s0 = τs·ln(P_t0/P_t2) (within one step) where H = h(P_t): KL %.1e ≤ %.1e",
        best.value - h4, kLimit),
    abs(best.s0 - optimum[0]) <= gridStep && best.value - h4 >= 0 && best.value - h4 <= kLimit
        && signChanges.count == 1)

var surface = Series(columns: ["s0", "s1", "H"])
let gridPoints = lesson.quick ? 61 : 201
var gridBest = (s0: 0.0, s1: 0.0, value: Double.infinity)
for j in 0..<gridPoints {
    for i in 0..<gridPoints {
        let s0 = -1 + 2 * Double(i) / Double(gridPoints - 1), s1 = -1 + 2 * Double(j) / Double(gridPoints - 1)
        let value = crossEntropy(q4, logQ: logSoftmax([s0, s1, 0], tauS))
        surface.append([s0, s1, value])
        if value < gridBest.value { gridBest = (s0, s1, value) }
    }
}
surface.newBlock("the analytic minimum s_k = τs·ln(P_t[k]/P_t[2])")
surface.append([optimum[0], optimum[1], h4])
print(
    String(
        format: "grid %d×%d over s0, s1 ∈ [-1, 1] (s2 = 0): minimum H = %.5f at (%.3f, %.3f)",
        gridPoints, gridPoints, gridBest.value, gridBest.s0, gridBest.s1))
let cell = 2.0 / Double(gridPoints - 1)
lesson.claim(
    "the surface's lowest grid point is within one cell of the analytic minimum",
    abs(gridBest.s0 - optimum[0]) <= cell && abs(gridBest.s1 - optimum[1]) <= cell)

// MARK: 5 · Charts
lesson.section("5 · Charts")
plotOrExit(
    "loss-vs-logit", sweep,
    ChartSpec(
        title: String(
            format: "One image, 3 classes: the loss as the student's first logit moves (s1 = %.3f, s2 = 0)",
            optimum[1]),
        x: "student logit s0", y: "nats",
        curves: [
            .init(using: "1:2", title: "H(P_t, P_s) = loss"),
            .init(using: "1:3", title: "h(P_t): the floor", style: "lines dt 2 lw 2"),
            .init(using: "1:4", title: "KL(P_t ‖ P_s) = H - h"),
            .init(
                using: "1:5", title: "∂H/∂s0 = (P_s0 - P_t0)/τs (right axis)", style: "lines lw 1.5 axes x1y2"
            ),
        ],
        extra: [
            "set y2tics", "set ytics nomirror", "set y2label \"gradient\"", "set yrange [0:14]",
            "set y2range [-8:3.2]", "set key below",
            String(
                format: "set arrow from %.4f, graph 0 to %.4f, graph 1 nohead dt 3", optimum[0], optimum[0]),
            String(format: "set label \"P_s = P_t\" at %.4f, graph 0.92 left offset 0.5,0", optimum[0]),
        ]))
plotOrExit(
    "loss-surface", surface,
    ChartSpec(
        title:
            "H(P_t, P_s) over the student's logits (s0, s1, s2 = 0); teacher t = (0.3, 0.25, 0.2), τt 0.04",
        x: "student logit s0", y: "student logit s1",
        curves: [
            .init(using: "1:2:3", title: "H (nats, log colour scale)", style: "image", block: 0),
            .init(using: "1:2", title: "", style: "points pt 6 ps 2.2 lw 3 lc rgb \"#ffffff\"", block: 1),
            .init(using: "1:2", title: "", style: "points pt 7 ps 0.7 lc rgb \"#000000\"", block: 1),
        ],
        extra: [
            "set logscale cb", "set cblabel \"H (nats)\"", "set xrange [-1:1]", "set yrange [-1:1]",
            "set size ratio -1", "unset key",
            String(
                format:
                    "set label \"minimum: P_s = P_t\" at %.4f, %.4f left offset 1.5,-1.2 front tc rgb \"#ffffff\"",
                optimum[0], optimum[1]),
            "set palette defined (0 '#0d0887', 1 '#7e03a8', 2 '#cc4778', 3 '#f89540', 4 '#f0f921')",
        ]))
lesson.finish()
