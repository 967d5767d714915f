// Lessons/02-temperature/main.swift · Lesson 02 · Softmax with temperature · Walkthroughs/02-temperature.md
// The stable (max-shift) softmax of logits/τ, why DINO's teacher uses τt = 0.04-0.07 and the student
// τs = 0.1, and what goes wrong without the max-shift. Uses softmax(_:temperature:into:) of both cores.
// Run: swift run -c release lesson02-temperature   (about 1 s; --quick: a smaller sweep and parity case)
import DINOCore
import DINOLesson
import DINOPlot
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore

var lesson = Lesson(
    "02-temperature", title: "Softmax with temperature",
    knobs: [
        Knob(
            "--logits", "a,b,…", "the row of logits of sections 1, 2 and 5 (at least two)",
            default: "0.9,0.7,0.4,0.1,-0.3"),
        Knob(
            "--temperatures", "τ,…", "the temperatures of section 2's table",
            default: "10,1,0.5,0.1,0.07,0.04,0.01"),
    ])

/// Writes one chart (.dat, .gp, .png) under plots/; an unwritable --plots folder ends the lesson
/// with a one-line error naming the file and exit status 1, instead of a crash.
func plotOrExit(_ name: String, _ data: Series, _ chart: ChartSpec) {
    do { try lesson.plot(name, data, chart) } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Runs `softmax(x/τ)` on both cores; returns the reference result and the largest |Δ| of SIMD.
func softmaxBothCores(_ x: Tensor, _ tau: Float) -> (p: Tensor, maxDelta: Float) {
    var reference = Tensor(shape: x.shape), simd = Tensor(shape: x.shape)
    ReferenceKernels.softmax(x, temperature: tau, into: &reference)
    SIMDKernels.softmax(x, temperature: tau, into: &simd)
    let delta = zip(reference.storage, simd.storage).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
    return (reference, delta)
}

func row(_ values: [Float], digits: Int = 4) -> String {
    "[" + values.map { format($0, digits: digits) }.joined(separator: ", ") + "]"
}

// MARK: 1 · The formula, and the same formula written safely
// softmax turns K logits into a probability vector: p_j = exp(z_j/τ) / Σ_k exp(z_k/τ). Read
// literally it computes exp of every z/τ first, and Float32's exp overflows to +∞ once its
// argument passes ln(3.4e38) ≈ 88.72. Subtracting the row maximum m = max_k z_k/τ first changes
// nothing mathematically (exp(-m) cancels between numerator and denominator) but makes every
// exponent ≤ 0: the largest term is exactly exp(0) = 1, the sum lies in [1, K], nothing overflows.
lesson.section("1 · The formula, and the same formula written safely")

/// The textbook formula in Float32, as a framework would evaluate it without the max-shift.
func naiveSoftmax(_ z: [Float], temperature tau: Float) -> [Float] {
    let e = z.map { Foundation.exp($0 / tau) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}

/// The same in Float32 with the max-shift: p_j = exp(z_j/τ - m) / Σ_k exp(z_k/τ - m).
func stableSoftmax(_ z: [Float], temperature tau: Float) -> [Float] {
    let scaled = z.map { $0 / tau }
    let top = scaled.max() ?? 0
    let e = scaled.map { Foundation.exp($0 - top) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}

// Cosines like the ones DINO's head produces: logits live in [-1, 1] (unit prototypes, L2-normed input).
let logits: [Float] = lesson.doubles("--logits", default: [0.9, 0.7, 0.4, 0.1, -0.3], in: -1e4...1e4).map(
    Float.init)
if logits.count < 2 { lessonFail("--logits needs at least two numbers") }
let naiveAtOne = naiveSoftmax(logits, temperature: 1), stableAtOne = stableSoftmax(logits, temperature: 1)
print("logits z            \(row(logits, digits: 2))")
print("naive   softmax(z)  \(row(naiveAtOne))")
print("stable  softmax(z)  \(row(stableAtOne))")
let agreeAtOne = zip(naiveAtOne, stableAtOne).map { abs($0 - $1) }.max()!
print(
    "largest |naive - stable| at τ = 1: \(format(agreeAtOne, digits: 2)) (same formula, different rounding)")
lesson.claim("with small exponents the naive and the max-shifted formula agree to 1e-6", agreeAtOne < 1e-6)

// MARK: 2 · One row of logits at several temperatures
// Dividing by τ multiplies every gap between logits by 1/τ, and probabilities depend only on the
// gaps: p_i / p_j = exp((z_i - z_j)/τ). A large τ flattens the row towards uniform (entropy → ln K),
// a small τ concentrates it on the arg-max (entropy → 0). Both cores compute every row.
lesson.section("2 · One row of logits at several temperatures")
let temperatures: [Float] = lesson.doubles(
    "--temperatures", default: [10, 1, 0.5, 0.1, 0.07, 0.04, 0.01], in: 1e-4...1e4
).map(Float.init)
let lnK = log(Double(logits.count))
print(String(format: "ln K = ln %d = %.4f nats (the uniform distribution)", logits.count, lnK))
let shownColumns = min(logits.count, 8)
print(
    "   τ     "
        + logits.prefix(shownColumns).map { z -> String in
            let label = String(format: "p(z=%g)", Double(z))
            return label.padding(toLength: max(10, label.count + 2), withPad: " ", startingAt: 0)
        }.joined()
        + (logits.count > shownColumns ? "…         " : "") + "entropy   top/second")
// The two largest logits, whatever their order in the row.
let ranked = logits.indices.sorted { logits[$0] > logits[$1] }
let (top, second) = (ranked[0], ranked[1])
var worstDelta: Float = 0
for tau in temperatures {
    let (p, delta) = softmaxBothCores(Tensor(rows: 1, cols: logits.count, logits), tau)
    worstDelta = max(worstDelta, delta)
    let h = Stats.entropy(p.storage)
    let values = p.storage.prefix(shownColumns).map { String(format: "%8.5f", Double($0)) }.joined(
        separator: "  ")
    print(
        String(format: "%6.2f  ", tau) + values + (logits.count > shownColumns ? "  …" : "")
            + String(format: "   %6.4f   %8.4g", h, Double(p.storage[top] / p.storage[second])))
}
print("largest |reference - SIMD| over these rows: \(format(worstDelta, digits: 2))")
let sharp = softmaxBothCores(Tensor(rows: 1, cols: logits.count, logits), 0.04).p.storage
let ratio = Double(sharp[top] / sharp[second])
let gap = Double(logits[top] - logits[second])
lesson.claim(
    String(
        format: "the top/second ratio is exp(%g/τ): %.1f at τ = 0.04 (exp(%g) = %.1f)", gap, ratio,
        gap / 0.04, exp(gap / 0.04)),
    abs(ratio - exp(gap / 0.04)) < 1e-3 * exp(gap / 0.04))
lesson.claim("both cores agree on every row to 1e-6", worstDelta < 1e-6)

// MARK: 3 · The student at τs = 0.1, the teacher at τt = 0.04 → 0.07
// DINO feeds the same kind of logits through two temperatures. The student uses τs = 0.1; the
// teacher is sharper, τt = 0.04 in the official code's defaults, or warmed up from 0.04 to 0.07
// over the first 30 epochs in the paper (linspace per epoch, both endpoints, then constant). The
// teacher's sharper row is the target: to match it the student must grow its own logit gaps.
lesson.section("3 · The student at τs = 0.1, the teacher at τt = 0.04 → 0.07")
let warmup = Schedule.teacherTemperature(warmup: 0.04, final: 0.07, warmupEpochs: 30, epochs: 100)
print(
    "paper schedule τt(epoch), 30 warm-up epochs of 100: "
        + [0, 1, 10, 20, 29, 30, 99].map { String(format: "e%d %.4f", $0, warmup[$0]) }.joined(
            separator: " · "))
lesson.claim(
    "the warm-up starts at 0.04, reaches 0.07 at epoch 29 (linspace includes both ends) and stays",
    warmup[0] == 0.04 && abs(warmup[29] - 0.07) < 1e-15 && warmup[30...].allSatisfy { $0 == 0.07 })
let roles: [(String, Float)] = [
    ("student τs = 0.1 ", 0.1), ("teacher τt = 0.07", 0.07), ("teacher τt = 0.04", 0.04),
]
var bars = Series(columns: ["logit_index", "student_tau_0.1", "teacher_tau_0.07", "teacher_tau_0.04"])
var roleProbabilities: [[Float]] = []
for (name, tau) in roles {
    let p = softmaxBothCores(Tensor(rows: 1, cols: logits.count, logits), tau).p.storage
    roleProbabilities.append(p)
    let h = Stats.entropy(p)
    print(
        "\(name)  p = \(row(p))  h = \(String(format: "%.3f", h)) nats  ≈ \(String(format: "%.2f", exp(h))) effective classes"
    )
}
for j in 0..<logits.count {
    bars.append([Double(j + 1)] + roleProbabilities.map { Double($0[j]) })
}

// The same at the scale of a real head: K = 4096 cosines between a random unit vector and 4096
// random unit prototypes in 256 dimensions (what an untrained DINO head produces). Their spread is
// about 1/√256 = 0.0625, so z/τ has spread 0.6 at τ = 0.1 and 1.6 at τ = 0.04: the teacher row is
// already measurably sharper than the student's even before any training.
let headDim = 256, outDim = lesson.quick ? 1024 : 4096
var headRng = lesson.rng
var feature = headRng.normalTensor([1, headDim]), prototypes = headRng.normalTensor([outDim, headDim])
var norms = Tensor(shape: [1])
ReferenceKernels.l2Normalize(feature, epsilon: 1e-12, into: &feature, norms: &norms)
var protoNorms = Tensor(shape: [outDim])
ReferenceKernels.l2Normalize(prototypes, epsilon: 1e-12, into: &prototypes, norms: &protoNorms)
var cosines = Tensor(shape: [1, outDim])
ReferenceKernels.matmul(feature, prototypes, layout: .nt, bias: nil, accumulate: false, into: &cosines)
let spread = (cosines.storage.reduce(0.0) { $0 + Double($1 * $1) } / Double(outDim)).squareRoot()
print(
    String(
        format: "\nK = %d random cosines in %d dims: rms %.4f (1/√%d = %.4f), max %.3f", outDim, headDim,
        spread,
        headDim, 1 / Double(headDim).squareRoot(), Double(cosines.storage.max()!)))
var headEntropy: [Double] = []
for (name, tau) in roles {
    let (p, delta) = softmaxBothCores(cosines, tau)
    var h = [Tensor(shape: [1]), Tensor(shape: [1])]
    ReferenceKernels.rowEntropy(p, into: &h[0])
    SIMDKernels.rowEntropy(p, into: &h[1])
    headEntropy.append(Double(h[0].storage[0]))
    print(
        String(
            format: "%@  h = %.4f nats (ln K = %.4f), top p = %.2e · |Δ| cores: p %.1e, h %.1e", name,
            Double(h[0].storage[0]), log(Double(outDim)), Double(p.storage.max()!), Double(delta),
            Double(abs(h[0].storage[0] - h[1].storage[0]))))
}
lesson.claim(
    "on the same logits the teacher row is sharper than the student's (h at 0.04 < 0.07 < 0.1)",
    headEntropy[2] < headEntropy[1] && headEntropy[1] < headEntropy[0])

// MARK: 4 · Where the naive formula breaks: logits/0.04 above 100
// Teacher logits are bounded by 1/τt = 25 with DINO's normalised head, but a head with trainable
// prototype norms (norm_last_layer false), an unnormalised projection or Float16 arithmetic
// (exp overflows above ≈ 11) leaves that safety margin. Two rows break the naive formula:
//   (a) one logit with z/τ = 105 > 88.72: exp gives +∞, and ∞/∞ is NaN;
//   (b) 4096 logits at z/τ = 87.5: every exp is finite (1.0e38) but their SUM overflows, so every
//       probability becomes finite/∞ = 0 and the row sums to 0 instead of 1.
lesson.section("4 · Where the naive formula breaks: logits/0.04 above 100")
let hot: [Float] = [4.2, 3.0, 0.5, -1.0]
print("row (a) z = \(row(hot, digits: 2)), z/0.04 = \(row(hot.map { $0 / 0.04 }, digits: 1))")
let naiveHot = naiveSoftmax(hot, temperature: 0.04), stableHot = stableSoftmax(hot, temperature: 0.04)
let (kernelHot, hotDelta) = softmaxBothCores(Tensor(rows: 1, cols: hot.count, hot), 0.04)
print(
    "  naive   [" + naiveHot.map { "\($0)" }.joined(separator: ", ")
        + "]   because exp(105) = \(Foundation.exp(Float(105))) in Float32")
print("  stable  \(row(stableHot))   sum \(stableHot.reduce(0, +))")
print("  kernels \(row(kernelHot.storage))   |reference - SIMD| \(format(hotDelta, digits: 2))")
lesson.claim("(a) the naive formula returns NaN", naiveHot.contains { $0.isNaN })
lesson.claim(
    "(a) the max-shifted formula and both kernels are finite, sum to 1 and put 1 - 1e-13 on the top logit",
    stableHot.allSatisfy(\.isFinite) && kernelHot.storage.allSatisfy(\.isFinite)
        && abs(stableHot.reduce(0, +) - 1) < 1e-6 && abs(kernelHot.storage.reduce(0, +) - 1) < 1e-6
        && 1 - Double(kernelHot.storage[0]) < 1e-6)
let flat = [Float](repeating: 3.5, count: 4096)
let naiveFlat = naiveSoftmax(flat, temperature: 0.04)
let (kernelFlat, flatDelta) = softmaxBothCores(Tensor(rows: 1, cols: flat.count, flat), 0.04)
print(
    "row (b) 4096 × z = 3.5, z/0.04 = 87.5: exp = \(Foundation.exp(Float(87.5))), Float32 max = \(Float.greatestFiniteMagnitude)"
)
print("  naive   sum of p = \(naiveFlat.reduce(0, +)) (every p = \(naiveFlat[0]))")
print(
    "  kernels sum of p = \(kernelFlat.storage.reduce(0, +)), every p ≈ \(format(kernelFlat.storage[0], digits: 4)) = 1/4096 · |Δ| \(format(flatDelta, digits: 2))"
)
lesson.claim(
    "(b) the naive formula loses the whole row (sum 0), the kernels return the uniform row",
    naiveFlat.reduce(0, +) == 0 && abs(kernelFlat.storage.reduce(0, +) - 1) < 1e-4
        && kernelFlat.storage.allSatisfy { abs($0 - 1 / 4096) < 1e-9 })

// MARK: 5 · Sweeping τ on a log scale → plots/02-temperature/
// From τ = 0.01 to 10, evenly spaced in log τ: each probability moves monotonically between its
// two limits (one-hot on the arg-max, uniform 1/K) and the entropy rises from 0 to ln K. The dashed
// lines in the charts mark DINO's teacher (0.04, 0.07) and student (0.1).
lesson.section("5 · Sweeping τ on a log scale")
let perDecade = lesson.quick ? 10 : 40
var probabilityCurves = Series(columns: ["tau"] + logits.map { "p(z=\($0))" })
var entropyCurve = Series(columns: ["tau", "entropy_nats", "ln_K"])
var sweepDelta: Float = 0
var entropies: [Double] = []
for i in 0...(3 * perDecade) {
    let tau = Float(pow(10, -2 + Double(i) / Double(perDecade)))
    let (p, delta) = softmaxBothCores(Tensor(rows: 1, cols: logits.count, logits), tau)
    sweepDelta = max(sweepDelta, delta)
    let h = Stats.entropy(p.storage)
    entropies.append(h)
    probabilityCurves.append([Double(tau)] + p.storage.map(Double.init))
    entropyCurve.append([Double(tau), h, lnK])
}
func entropyOf(_ tau: Float) -> Double {
    Stats.entropy(softmaxBothCores(Tensor(rows: 1, cols: logits.count, logits), tau).p.storage)
}
print(
    String(
        format:
            "%d temperatures from 0.01 to 10: h(0.01) = %.2e, h(0.1) = %.3f, h(1) = %.3f, h(10) = %.4f, ln K = %.4f",
        entropies.count, entropies.first!, entropyOf(0.1), entropyOf(1), entropies.last!, lnK))
// Where the entropy rises fastest per factor of τ: the largest step between neighbouring
// temperatures of the sweep (they are evenly spaced in log τ).
let rises: [Double] = (1..<entropies.count).map { entropies[$0] - entropies[$0 - 1] }
let steepest: Int = 1 + rises.indices.max { rises[$0] < rises[$1] }!
let steepestTau: Double = pow(10, -2 + (Double(steepest) - 0.5) / Double(perDecade))
let steepestRate: Double = (entropies[steepest] - entropies[steepest - 1]) * Double(perDecade) / log(10.0)
print(
    String(
        format: "the entropy rises fastest per factor of τ near τ = %.3f (dh/d ln τ = %.3f nats)",
        steepestTau, steepestRate))
print("largest |reference - SIMD| over the sweep: \(format(sweepDelta, digits: 2))")
lesson.claim(
    "entropy increases with τ at every step of the sweep",
    zip(entropies, entropies.dropFirst()).allSatisfy { $0 < $1 })
lesson.claim(
    String(
        format:
            "the limits show: h(0.01) = %.1e < 0.05·ln K (almost one-hot), h(10) = %.4f > 0.99·ln K (almost uniform)",
        entropies.first!, entropies.last!),
    entropies.first! < 0.05 * lnK && entropies.last! > 0.99 * lnK)

// MARK: 6 · The SIMD twin agrees on large, ragged rows
// The registry's parity cases: 4099 columns (not a multiple of 8, so the scalar tail runs) at the
// teacher's τ, and logits/τ up to 125 where only the max-shift keeps exp finite.
lesson.section("6 · The SIMD twin agrees on large, ragged rows")
let parity = [
    compare(.softmax(rows: lesson.quick ? 16 : 256, cols: 4099, temperature: 0.04)),
    compare(.softmax(rows: 33, cols: 127, temperature: 0.04, spread: 5)),
    compare(.logSoftmax(rows: lesson.quick ? 16 : 256, cols: 4099, temperature: 0.1)),
]
for report in parity { print(report) }
lesson.claim("every parity case passes", parity.allSatisfy(\.passed))

// MARK: 7 · Charts
lesson.section("7 · Charts")
let markers = [
    "set arrow from 0.04, graph 0 to 0.04, graph 1 nohead dt 2 lc rgb \"#555555\"",
    "set arrow from 0.07, graph 0 to 0.07, graph 1 nohead dt 2 lc rgb \"#555555\"",
    "set arrow from 0.1, graph 0 to 0.1, graph 1 nohead dt 3 lc rgb \"#aa0000\"",
    "set label \"τt 0.04-0.07\" at 0.036, graph 0.95 right", "set label \"τs 0.1\" at 0.11, graph 0.95 left",
    "set xrange [0.01:10]",
]
// Up to 8 logits every probability gets a curve; a longer row shows its 5 largest (a legend of
// 64 entries would hide the chart).
let logitsText =
    logits.count <= 8
    ? "[" + logits.map { String(format: "%g", Double($0)) }.joined(separator: ", ") + "]"
    : String(format: "%d logits from %g to %g", logits.count, Double(logits.min()!), Double(logits.max()!))
plotOrExit(
    "probabilities-vs-tau", probabilityCurves,
    {
        var c = ChartSpec.columns(
            probabilityCurves,
            title: "softmax(z/τ) of z = \(logitsText) against τ"
                + (logits.count > 8 ? " (the 5 largest)" : ""),
            x: "temperature τ (log scale)", y: "probability", logX: true)
        if logits.count > 8 { c.curves = ranked.prefix(5).map { c.curves[$0] } }
        c.extra = markers + ["set yrange [0:1]"]
        return c
    }())
plotOrExit(
    "entropy-vs-tau", entropyCurve,
    ChartSpec(
        title: "Entropy of softmax(z/τ) against τ (\(logits.count) logits)", x: "temperature τ (log scale)",
        y: "entropy h (nats)", logX: true,
        curves: [
            .init(using: "1:2", title: "h(softmax(z/τ))"),
            .init(using: "1:3", title: "ln K (uniform)", style: "lines dt 2 lw 1"),
        ],
        extra: markers + [String(format: "set yrange [0:%.2f]", 1.12 * lnK)]))
plotOrExit(
    "student-vs-teacher", bars,
    ChartSpec(
        title: "The same logits as the student (τs 0.1) and the teacher (τt 0.07, 0.04) see them",
        x: "logit (z = \(logitsText.dropFirst().dropLast()))", y: "probability (log scale)", logY: true,
        curves: [
            .init(using: "($1-0.27):2", title: "student τs = 0.1", style: "boxes"),
            .init(using: "1:3", title: "teacher τt = 0.07", style: "boxes"),
            .init(using: "($1+0.27):4", title: "teacher τt = 0.04", style: "boxes"),
        ],
        extra: [
            "set style fill solid 0.75 border -1", "set boxwidth 0.27", "set xtics 1",
            "set yrange [1e-14:1]", "set format y \"1e%L\"",
            "set xrange [0.4:\(Double(logits.count) + 0.6)]",
        ]))
lesson.finish()
