// Lessons/03-centering/main.swift · Lesson 03 · Centring and sharpening, and the two collapses
// Walkthrough: Walkthroughs/03-centering.md
// A toy DINO (a linear backbone and DINO's normalised head, 32 prototypes) trained four ways: with
// centring and sharpening, with only one of them, with neither. Centring alone collapses to the
// uniform distribution, sharpening alone to one dimension; together they keep the output informative.
// Run: swift run -c release lesson03-centering   (about 7 s; --quick: a smaller batch, about 4 s)
import DINOCore
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import ReferenceCore
import SIMDCore

var lesson = Lesson(
    "03-centering", title: "Centring and sharpening, and the two collapses",
    knobs: [
        Knob("--centre-momentum", "m", "the centre's EMA momentum in the toy runs", default: "0.9"),
        Knob(
            "--teacher-temps", "A,B,…", "more teacher temperatures to train with the centre on (extra runs)"),
        Knob(
            "--local-noise", "σ", "noise of the 8 local views (the 2 global views have 0.5)", default: "1.5"),
        Knob("--steps", "N", "training steps per run", default: "4000"),
    ])
let centreMomentum = Float(lesson.double("--centre-momentum", default: 0.9, in: 0...1))
let mText = String(format: "%g", Double(centreMomentum))
let extraTemperatures = lesson.doubles("--teacher-temps", default: [], in: 0.001...10).map(Float.init)

/// Writes one chart (.dat, .gp, .png) under plots/; an unwritable --plots folder ends the lesson
/// with a one-line error naming the file and exit status 1, instead of a crash.
func plotOrExit(_ name: String, _ data: Series, _ chart: ChartSpec) {
    do { try lesson.plot(name, data, chart) } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

/// Softmax of `z/τ` in Double (lesson 02), for the hand computation.
func softmax(_ z: [Double], _ tau: Double) -> [Double] {
    let top = z.max()! / tau
    let e = z.map { Foundation.exp($0 / tau - top) }
    let sum = e.reduce(0, +)
    return e.map { $0 / sum }
}
func row(_ xs: [Double], _ f: String = "%6.3f") -> String {
    "(" + xs.map { String(format: f, $0) }.joined(separator: ", ") + ")"
}

// MARK: 0 · By hand: two images, three dimensions
// Small enough for a pencil (and a calculator for exp). The teacher's outputs for two images:
//     image A  t = (1.0, 0.2, 0.4)        image B  t = (1.2, 0.6, 0.0)
// Dimension 0 is the largest for both: it says "this is an image", not which one. Softmax at
// τ = 0.5 therefore gives both images the same answer. The centre is the mean over the batch
// (per dimension); subtracting it removes what the two share, and the answers become different.
lesson.section("0 · By hand: two images, three dimensions")
do {
    let t = [[1.0, 0.2, 0.4], [1.2, 0.6, 0.0]]
    let tau = 0.5
    let mean = (0..<3).map { k in (t[0][k] + t[1][k]) / 2 }
    let centred = t.map { r in (0..<3).map { r[$0] - mean[$0] } }
    let before = t.map { softmax($0, tau) }, after = centred.map { softmax($0, tau) }
    print("teacher outputs t            image A \(row(t[0]))    image B \(row(t[1]))")
    print("batch mean, per dimension    c = ((1.0+1.2)/2, (0.2+0.6)/2, (0.4+0.0)/2) = \(row(mean))")
    print("centred t - c                image A \(row(centred[0]))    image B \(row(centred[1]))")
    print("softmax(t/0.5)               image A \(row(before[0]))    image B \(row(before[1]))")
    print("softmax((t - c)/0.5)         image A \(row(after[0]))    image B \(row(after[1]))")
    print(
        String(
            format:
                "  e.g. image A after: exp(-0.2), exp(-0.4), exp(0.4) = %.3f, %.3f, %.3f; sum %.3f; divide",
            exp(-0.2), exp(-0.4), exp(0.4), exp(-0.2) + exp(-0.4) + exp(0.4)))
    let share = { (p: [[Double]]) in (0..<3).map { k in (p[0][k] + p[1][k]) / 2 } }
    print("mean over the batch of P     before \(row(share(before)))    after \(row(share(after)))")
    let argmax = { (p: [Double]) in p.indices.max { p[$0] < p[$1] }! }
    lesson.claim(
        "before centring both images put most mass on dimension 0; after, A picks 2 and B picks 1",
        argmax(before[0]) == 0 && argmax(before[1]) == 0 && argmax(after[0]) == 2 && argmax(after[1]) == 1)
    lesson.claim(
        String(
            format:
                "centring balances the batch: dimension 0's share falls from %.2f to %.2f (1/3 = uniform use)",
            share(before)[0], share(after)[0]),
        share(before)[0] > 0.6 && abs(share(after)[0] - 1.0 / 3) < 0.05)
    // In DINO the loss never subtracts this batch's mean: it subtracts the running centre c, an
    // EMA (the paper's Eq. 4, m = 0.9) that starts at 0. Fed the same batch again and again,
    // c after n updates is (1 - 0.9ⁿ)·mean: 0.1·mean after one, 0.19·mean after two.
    print("\nthe running centre (Eq. 4): c ← 0.9·c + 0.1·mean, from c = 0, the same batch every step")
    print("  n     c by hand (1 - 0.9ⁿ)·mean          DINOLoss's centre (reference core)")
    var loss = DINOLoss(outDim: 3)
    let teacher = Tensor(rows: 2, cols: 3, t.flatMap { $0.map(Float.init) })
    let student = Tensor(shape: [2, 3], repeating: 0)  // only the centre is read here
    var worst = 0.0
    for n in 1...30 {
        _ = loss.evaluate(
            ReferenceKernels.self, student: student, teacher: teacher, batch: 1, teacherTemperature: 0.04)
        let hand = mean.map { (1 - pow(0.9, Double(n))) * $0 }
        worst = max(worst, zip(hand, loss.center.storage).map { abs($0 - Double($1)) }.max()!)
        if [1, 2, 3, 10, 30].contains(n) {
            print(
                String(
                    format: "  %-4d  %@        %@", n, row(hand, "%.4f"),
                    row(loss.center.storage.map(Double.init), "%.4f")))
        }
    }
    // (DINOLoss takes the teacher rows of the 2 global views of each image; with batch 1 those are
    // the 2 rows above, which is all the centre reads.)
    lesson.claim(
        String(
            format: "DINOLoss's centre follows (1 - 0.9ⁿ)·mean for 30 updates (largest difference %.1e)",
            worst),
        worst < 1e-6)
}

// MARK: 1 · The centre: an EMA of the teacher's raw outputs
// The teacher's distribution is P_t = softmax((t - c)/τt). The centre c (one value per output
// dimension, starting at 0) is updated AFTER each loss from the RAW teacher outputs t of both global
// views: c ← m·c + (1 - m)·mean_rows(t), m = 0.9. Subtracting c removes whatever every image shares,
// for example one dimension that is high for all inputs. DINOLoss does this; here is one call.
lesson.section("1 · The centre: an EMA of the teacher's raw outputs")
let outDim = 32
do {
    var rng = SplitMix64(seed: 1)
    let batch = 4
    var teacherLogits = rng.uniformTensor([2 * batch, outDim], -1, 1)
    for i in 0..<teacherLogits.rows { teacherLogits[i, 5] += 0.5 }  // dimension 5 is high for every image
    let studentLogits = rng.uniformTensor([2 * batch, outDim], -1, 1)
    var perCore: [DINOLoss] = []
    var firstCall: DINOLoss.Output?
    for core in 0..<2 {
        var loss = DINOLoss(outDim: outDim)
        let out =
            core == 0
            ? loss.evaluate(
                ReferenceKernels.self, student: studentLogits, teacher: teacherLogits, batch: batch,
                teacherTemperature: 0.04)
            : loss.evaluate(
                SIMDKernels.self, student: studentLogits, teacher: teacherLogits, batch: batch,
                teacherTemperature: 0.04)
        if core == 0 { firstCall = out }
        perCore.append(loss)
    }
    let rowMean5 =
        (0..<teacherLogits.rows).reduce(0.0) { $0 + Double(teacherLogits[$1, 5]) }
        / Double(teacherLogits.rows)
    print(
        "DINOLoss(outDim: \(outDim)): τs \(perCore[0].studentTemperature), centre momentum \(perCore[0].centerMomentum), centre starts at 0"
    )
    print(String(format: "teacher column 5 is high for every image: mean over the 2B rows = %.4f", rowMean5))
    print(
        String(
            format: "after one call c[5] = %.4f = 0.9·0 + 0.1·%.4f; |c| reference vs SIMD differ by %.1e",
            Double(perCore[0].center.storage[5]), rowMean5,
            Double(zip(perCore[0].center.storage, perCore[1].center.storage).map { abs($0 - $1) }.max()!)))
    let share5 =
        (0..<firstCall!.teacherProbabilities.rows).reduce(0.0) {
            $0 + Double(firstCall!.teacherProbabilities[$1, 5])
        }
        / Double(firstCall!.teacherProbabilities.rows)
    print(
        String(
            format: "that call still used the old centre (0): dimension 5 holds %.0f%% of the teacher's mass",
            100 * share5))
    let centreError = perCore.map { loss in
        (0..<outDim).map { k in
            let mean =
                (0..<teacherLogits.rows).reduce(0.0) { $0 + Double(teacherLogits[$1, k]) }
                / Double(teacherLogits.rows)
            return abs(Double(loss.center.storage[k]) - 0.1 * mean)
        }.max()!
    }
    lesson.claim(
        String(
            format:
                "in every dimension the centre moves 10%% of the way to the batch mean (both cores, error ≤ %.1e)",
            centreError.max()!),
        centreError.allSatisfy { $0 < 1e-6 })
}

// MARK: 2 · A toy DINO
// Small enough to train four times in seconds, faithful where the collapse physics lives:
// - data: points around 6 hidden cluster centres in 8 dimensions (centres N(0, 0.8²), spread 0.5);
//   a "view" adds fresh Gaussian noise (σ 0.5 for the 2 global views, σ 1.5 for the 8 local
//   views: small crops see less). The clusters are never shown to the network.
// - network: u = A·x + b (the backbone), then DINOHead's last two steps: ê = u/‖u‖ and cosine
//   logits against 32 unit prototypes (norm_last_layer, g = 1), so logits lie in [-1, 1].
//   The bias starts large (σ 2 against ≈ 1 for A·x, per coordinate), like a fresh ViT whose
//   outputs for different images are nearly parallel: the easy shortcut is already there.
// - training: the official DINOLoss (τs 0.1, centre momentum 0.9, 2V-2 = 18 pairs), AdamW
//   (lr 0.01 constant, weight decay 0.04 on A and prototypes), teacher = EMA of the student with
//   the cosine momentum 0.996 → 1 per iteration. Simplified: no lr/wd schedule, no clipping.
lesson.section("2 · A toy DINO")
let inputs = 8, width = 16
let batch = lesson.quick ? 8 : 16
let localViews = lesson.quick ? 4 : 8
let steps = lesson.int("--steps", default: 4000, in: 100...1_000_000)
let globalNoise: Float = 0.5, localNoise = Float(lesson.double("--local-noise", default: 1.5, in: 0...100))
var dataRng = SplitMix64(seed: lesson.seed)
let data = ToyClusters(clusters: 6, dim: inputs, separation: 0.8, spread: 0.5, rng: &dataRng)
let lnK = log(Double(outDim))
print(
    "K = \(outDim) prototypes (ln K = \(String(format: "%.4f", lnK)) nats), bottleneck \(width), input \(inputs), 6 hidden clusters"
)
print(
    "batch B = \(batch), views V = 2 + \(localViews) (\(2 * (2 + localViews) - 2) pairs), \(steps) steps, τs = 0.1, "
        + "view noise \(globalNoise) (global) / \(localNoise) (local), centre momentum \(centreMomentum)"
        + (lesson.quick ? "   [--quick: batch 8 and 2 + 4 views; same steps]" : ""))

// The toy's backward pass (the Jacobian (I - y·yᵀ)/‖v‖ of v ↦ v/‖v‖, twice) checked against central
// differences of f = Σ z·g for a random g, on a small copy of the network.
do {
    var rng = SplitMix64(seed: lesson.seed &+ 7)
    let net = ToyDINOHead(inputs: 5, width: 6, outDim: 7, biasStd: 2, rng: &rng)
    let x = rng.normalTensor([4, 5]), g = rng.normalTensor([4, 7])
    func f(_ n: ToyDINOHead) -> Double {
        zip(n.forward(ReferenceKernels.self, x).logits.storage, g.storage).reduce(0.0) {
            $0 + Double($1.0) * Double($1.1)
        }
    }
    let analytic = net.backward(
        ReferenceKernels.self, net.forward(ReferenceKernels.self, x), logitGradient: g)
    var worst = 0.0, largest = 0.0
    for p in analytic.indices {
        for i in 0..<analytic[p].count {
            var up = net, down = net
            up.parameters[p].storage[i] += 1e-2
            down.parameters[p].storage[i] -= 1e-2
            let step = Double(up.parameters[p].storage[i]) - Double(down.parameters[p].storage[i])
            worst = max(worst, abs((f(up) - f(down)) / step - Double(analytic[p].storage[i])))
            largest = max(largest, abs(Double(analytic[p].storage[i])))
        }
    }
    print(
        String(
            format:
                "toy backward vs central differences (h = 0.01, Float32 forward): max error %.1e, largest gradient %.2f",
            worst, largest))
    // Truncation h²·|f'''|/6 ≈ 1e-5 plus Float32 rounding u·|f|/h ≈ 6e-8·10/0.02 ≈ 3e-5; a wrong term is O(1).
    lesson.claim(
        "the toy network's hand-written gradient matches finite differences (error < 1e-3)", worst < 1e-3)
}

struct Variant {
    var name: String
    var centring: Bool
    var teacherTemperature: Float
}
let variants =
    [
        Variant(name: "both", centring: true, teacherTemperature: 0.04),
        Variant(name: "centring only", centring: true, teacherTemperature: 0.1),
        Variant(name: "sharpening only", centring: false, teacherTemperature: 0.04),
        Variant(name: "neither", centring: false, teacherTemperature: 0.1),
    ] + extraTemperatures.map { Variant(name: "centre, τt \($0)", centring: true, teacherTemperature: $0) }

/// What one training run leaves behind, one value per step (measured on the teacher's P_t of the
/// batch, exactly what the loss used).
struct Run {
    var entropy: [Double] = []  // mean_rows h(P_t)
    var kl: [Double] = []  // KL(P_t ‖ P_s) averaged over the pairs
    var loss: [Double] = []
    var topShare: [Double] = []  // largest column of mean_rows P_t: 1/K uniform use … 1 one dimension
    var information: [Double] = []  // h(mean_rows P_t) - mean_rows h(P_t): how much P_t depends on the image
    var teacher: ToyDINOHead
    var dinoLoss: DINOLoss

    /// Mean of the last `fraction` of a trace (the end state, without single-step noise).
    static func tail(_ xs: [Double], _ fraction: Double = 0.1) -> Double {
        let n = max(1, Int(Double(xs.count) * fraction))
        return xs.suffix(n).reduce(0, +) / Double(n)
    }
}

/// Entropy, top share and information of a batch of teacher probabilities.
func usage(_ q: Tensor) -> (top: Double, information: Double, meanRowEntropy: Double) {
    var column = [Float](repeating: 0, count: q.cols)
    for i in 0..<q.rows { for j in 0..<q.cols { column[j] += q[i, j] / Float(q.rows) } }
    let rowEntropy = Stats.meanRowEntropy(q)
    return (Double(column.max()!), Stats.entropy(column) - rowEntropy, rowEntropy)
}

/// Trains the toy from the same initial weights and data stream for every variant and core.
func train<KS: KernelSet>(_ kernels: KS.Type, _ variant: Variant, steps: Int) -> Run {
    var rng = SplitMix64(seed: lesson.seed &+ 1)
    var student = ToyDINOHead(inputs: inputs, width: width, outDim: outDim, biasStd: 2, rng: &rng)
    let teacherStart = student  // a separate copy (a value), never the same object
    var run = Run(teacher: teacherStart, dinoLoss: DINOLoss(outDim: outDim, centerMomentum: centreMomentum))
    var optimizer = ToyAdamW(for: student.parameters, hyper: AdamWHyper(lr: 0.01, weightDecay: 0.04))
    let momentum = Schedule.cosine(base: 0.996, final: 1, epochs: 1, itersPerEpoch: steps)
    for step in 0..<steps {
        let (x, _) = data.sample(batch, rng: &rng)
        let views = (0..<(2 + localViews)).map { v in
            ToyClusters.view(of: x, noise: v < 2 ? globalNoise : localNoise, rng: &rng)
        }
        let studentPass = student.forward(kernels, Tensor.concatenateRows(views))  // (V·B, K) crop-major
        let teacherLogits = run.teacher.forward(kernels, Tensor.concatenateRows(Array(views[0..<2]))).logits  // (2B, K)
        let out = run.dinoLoss.evaluate(
            kernels, student: studentPass.logits, teacher: teacherLogits, batch: batch,
            teacherTemperature: variant.teacherTemperature, centering: variant.centring)
        let gradients = student.backward(kernels, studentPass, logitGradient: out.studentGradient)
        optimizer.update(kernels, &student.parameters, gradients: gradients, decay: [true, false, true])
        for i in student.parameters.indices {
            kernels.emaUpdate(
                &run.teacher.parameters[i], toward: student.parameters[i], momentum: Float(momentum[step]))
        }
        let u = usage(out.teacherProbabilities)
        run.entropy.append(out.teacherEntropy)
        run.kl.append(out.kl)
        run.loss.append(Double(out.loss))
        run.topShare.append(u.top)
        run.information.append(u.information)
    }
    return run
}

// MARK: 3 · Four ways to build the teacher's target
// Each variant starts from the same weights and sees the same batches. Watch four numbers:
//   h      mean entropy of the teacher's P_t: ln K = 3.47 is uniform, 0 is one-hot
//   KL     KL(P_t ‖ P_s): the part of the loss the student can still reduce; 0 = nothing to learn
//   top    share of the batch's teacher mass on the most used dimension: 1/32 = 0.03 … 1
//   info   h(mean P_t) - mean h(P_t): how much the target depends on the image (0 = it does not)
lesson.section("3 · Four ways to build the teacher's target")
var runs: [Run] = []
let checkpoints = [0, steps / 20, steps / 10, steps / 4, steps / 2, steps - 1]
for variant in variants {
    let run = train(SIMDKernels.self, variant, steps: steps)
    runs.append(run)
    print("\(variant.name) (centre \(variant.centring ? "on" : "off"), τt \(variant.teacherTemperature)):")
    for s in checkpoints {
        print(
            String(
                format: "  step %5d   h %.3f   KL %.3f   top %.2f   info %.3f   loss %.3f",
                s, run.entropy[s], run.kl[s], run.topShare[s], run.information[s], run.loss[s]))
    }
}
let end = runs.map { r in
    (h: Run.tail(r.entropy), kl: Run.tail(r.kl), top: Run.tail(r.topShare), info: Run.tail(r.information))
}
print("\nend state (mean of the last 10% of steps):")
for (v, e) in zip(variants, end) {
    print(
        "  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(
                format: " h %.3f (%3.0f%% of ln K)   KL %.3f   top %.2f   info %.3f", e.h, 100 * e.h / lnK,
                e.kl, e.top, e.info))
}
lesson.claim(
    String(
        format: "centring only → uniform collapse: h → ln K (%.2f ≥ 0.95·%.2f), KL → 0 (%.3f < 0.05)",
        end[1].h, lnK, end[1].kl),
    end[1].h >= 0.95 * lnK && end[1].kl < 0.05)
lesson.claim(
    String(
        format:
            "sharpening only → one-hot collapse: h → 0 (%.3f < 0.05·ln K) with one dimension taking %.0f%% of the mass",
        end[2].h, 100 * end[2].top),
    end[2].h < 0.05 * lnK && end[2].top > 0.9)
lesson.claim(
    String(
        format: "both → in between: h = %.2f = %.0f%% of ln K (within 20-85%%) and KL = %.2f stays > 0.2",
        end[0].h, 100 * end[0].h / lnK, end[0].kl),
    end[0].h > 0.2 * lnK && end[0].h < 0.85 * lnK && end[0].kl > 0.2)
lesson.claim(
    String(
        format: "neither → the output stops depending on the image too: info %.3f < 0.1, KL %.3f → 0",
        end[3].info, end[3].kl),
    end[3].info < 0.1 && end[3].kl < 0.05)
lesson.claim(
    String(
        format:
            "only both keeps the target image-dependent: info %.2f nats > 0.3, the other three ≤ %.3f < 0.1",
        end[0].info, max(end[1].info, end[2].info, end[3].info)),
    end[0].info > 0.3 && max(end[1].info, end[2].info, end[3].info) < 0.1)

print(
    String(
        format: """

            Reading the four runs:
            · centring only: c removes what every image shares, so no dimension can win everywhere (top %.2f),
              but with τt = τs the target is never sharper than the student's own output, and the easiest way
              for noisy views to agree is a flat output: P_t → uniform (h %.2f of ln K %.2f) and KL → 0.
            · sharpening only: every target is more confident than the student, but without c the dimension
              that is high for all images wins every target: P_t → one-hot on one dimension (top %.2f, h %.3f).
            · neither: nothing pushes either way; the student copies a teacher that has stopped looking at the
              image (info %.3f).
            · both: c keeps the batch balanced, τt = 0.04 keeps each image's target confident: h %.2f sits in
              between, KL %.2f > 0 leaves something to learn, and the target depends on the image (info %.2f).
              Centring pulls towards uniform, sharpening away from it; DINO needs the two forces to balance.
            """, end[1].top, end[1].h, lnK, end[2].top, end[2].h, end[3].info, end[0].h, end[0].kl,
        end[0].info))

// MARK: 4 · Both cores train the same toy
// Every kernel the toy uses (matmul, l2Normalize, addRow, softmax, rowEntropy, softmaxCrossEntropy,
// columnSums, columnMeans, adamWStep, emaUpdate) exists in both cores. Training amplifies rounding differences a
// little each step, so compare the first steps of the "both" run on the two cores.
lesson.section("4 · Both cores train the same toy")
let parityStepCount = lesson.quick ? 30 : 100
let referenceRun = train(ReferenceKernels.self, variants[0], steps: parityStepCount)
let simdRun = train(SIMDKernels.self, variants[0], steps: parityStepCount)
let lossDelta = zip(referenceRun.loss, simdRun.loss).map { abs($0 - $1) }.max()!
let entropyDelta = zip(referenceRun.entropy, simdRun.entropy).map { abs($0 - $1) }.max()!
let weightDelta = zip(referenceRun.teacher.parameters, simdRun.teacher.parameters)
    .map { zip($0.storage, $1.storage).map { abs($0 - $1) }.max()! }.max()!
print(
    String(
        format:
            "%d steps of \"both\": largest |reference - SIMD|: loss %.1e, h(P_t) %.1e, teacher weights %.1e",
        parityStepCount, lossDelta, entropyDelta, Double(weightDelta)))
// Each step both cores round differently by ~1e-7 relative; AdamW divides by √v, which can turn a
// 1e-7 gradient difference into a larger relative step difference for tiny gradients, so after
// 100 steps 1e-4 is a generous bound that a real bug (wrong sign, dropped term) would blow through.
lesson.claim("the two cores' training curves agree to 1e-4", lossDelta < 1e-4 && entropyDelta < 1e-4)

// MARK: 5 · One dimension takes over, and the centre catches up
// Take the teacher trained with both, freeze it, and add 0.5 to output dimension 0 for every image
// (a shared bias creeping into one prototype: the shortcut sharpening-only collapse takes). With
// τt = 0.04 that is +12.5 in the exponent, so dimension 0 grabs the target of nearly every image.
// The centre then absorbs the offset geometrically: the part not yet absorbed is 0.5·0.9ⁿ after n
// steps, so the dominance fades in about 20-40 steps. Without the centre it never fades.
lesson.section("5 · One dimension takes over, and the centre catches up")
let offset: Float = 0.5, dominated = 0
var catchUp = Series(columns: [
    "step", "share_dim0_with_centre", "share_dim0_without_centre", "share_dim0_before_offset",
    "offset_not_yet_absorbed", "0.5*0.9^n",
])
/// Fraction of a batch's teacher mass on dimension `j`.
func usageShare(_ q: Tensor, _ j: Int) -> Double {
    (0..<q.rows).reduce(0.0) { $0 + Double(q[$1, j]) } / Double(q.rows)
}
do {
    let trained = runs[0]
    var rng = SplitMix64(seed: lesson.seed &+ 99)
    var withCentre = trained.dinoLoss, withoutCentre = trained.dinoLoss
    let centreBefore = Double(trained.dinoLoss.center.storage[dominated])
    let horizon = 60, measureBatch = 256  // a batch like the real one (1024), so the centre is not noisy
    var baseline: [Double] = [], shares: [(on: Double, off: Double)] = [], gap: [Double] = []
    for _ in 0..<horizon {
        let (x, _) = data.sample(measureBatch, rng: &rng)
        let views = (0..<2).map { _ in ToyClusters.view(of: x, noise: globalNoise, rng: &rng) }
        var logits = trained.teacher.forward(SIMDKernels.self, Tensor.concatenateRows(views)).logits  // (2B, K)
        // The same batch without the offset, against the trained centre: the share dimension 0 normally has.
        var untouched = trained.dinoLoss
        let clean = untouched.evaluate(
            SIMDKernels.self, student: logits, teacher: logits, batch: measureBatch, teacherTemperature: 0.04)
        baseline.append(usageShare(clean.teacherProbabilities, dominated))
        for i in 0..<logits.rows { logits[i, dominated] += offset }
        // The part of the offset the centre has not absorbed yet (the centre this step's P_t uses).
        gap.append(Double(offset) - (Double(withCentre.center.storage[dominated]) - centreBefore))
        // DINOLoss needs student logits too; the teacher's own are passed, only P_t and c are read here.
        let on = withCentre.evaluate(
            SIMDKernels.self, student: logits, teacher: logits, batch: measureBatch, teacherTemperature: 0.04)
        let off = withoutCentre.evaluate(
            SIMDKernels.self, student: logits, teacher: logits, batch: measureBatch,
            teacherTemperature: 0.04, centering: false)
        shares.append(
            (usageShare(on.teacherProbabilities, dominated), usageShare(off.teacherProbabilities, dominated)))
    }
    let base = baseline.reduce(0, +) / Double(baseline.count)
    for n in 0..<horizon {
        catchUp.append([
            Double(n), shares[n].on, shares[n].off, base, gap[n],
            Double(offset) * pow(Double(centreMomentum), Double(n)),
        ])
    }
    print(
        "  step   share of dim 0: with centre   without   (before the offset)   offset not yet absorbed   0.5·\(mText)ⁿ"
    )
    for n in [0, 1, 2, 5, 10, 20, 30, 40, 59] {
        print(
            String(
                format:
                    "  %4d                  %.3f          %.3f        (%.3f)               %+.3f               %.3f",
                n, shares[n].on, shares[n].off, base, gap[n],
                Double(offset) * pow(Double(centreMomentum), Double(n))))
    }
    let late = shares[40...].map(\.on).reduce(0, +) / Double(horizon - 40)
    let lateOff = shares[40...].map(\.off).reduce(0, +) / Double(horizon - 40)
    let gapError = (0..<horizon).map {
        abs(gap[$0] - Double(offset) * pow(Double(centreMomentum), Double($0)))
    }.max()!
    lesson.claim(
        String(
            format: "the offset makes dimension 0 dominate (%.2f of the mass, %.2f before)", shares[0].on,
            base),
        shares[0].on > 0.5 && base < 0.2)
    lesson.claim(
        String(
            format: "the centre absorbs the offset as 0.5·\(mText)ⁿ (largest deviation %.3f, batch noise)",
            gapError),
        gapError < 0.03)
    lesson.claim(
        String(
            format:
                "with the centre the dominance disappears (steps 40-59: %.3f, within 0.05 of %.3f); without it, it stays (%.2f)",
            late, base, lateOff),
        abs(late - base) < 0.05 && lateOff > 0.5)
}

// MARK: 6 · Charts
// One batch of 16 images is a noisy measurement, so the charts draw a 50-step moving average
// (the .dat files keep the raw per-step values next to it).
lesson.section("6 · Charts")
/// Trailing moving average over `window` steps (shorter at the start).
func smooth(_ xs: [Double], _ window: Int = 50) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, x) in xs.enumerated() {
        sum += x
        if i >= window { sum -= xs[i - window] }
        out.append(sum / Double(min(i + 1, window)))
    }
    return out
}
let shortNames = variants.map { $0.name.replacingOccurrences(of: " ", with: "_") }
let titles = variants.map { "\($0.name) (centre \($0.centring ? "on" : "off"), τt \($0.teacherTemperature))" }
/// One .dat per quantity: step, then per variant the smoothed and the raw value.
func traces(_ metric: (Run) -> [Double], _ label: String) -> Series {
    var series = Series(
        columns: ["step"] + shortNames.flatMap { ["\(label)_\($0)_smoothed", "\(label)_\($0)_raw"] } + [
            "ln_K"
        ])
    let smoothed = runs.map { smooth(metric($0)) }, raw = runs.map(metric)
    for s in 0..<steps {
        series.append([Double(s)] + (0..<runs.count).flatMap { [smoothed[$0][s], raw[$0][s]] } + [lnK])
    }
    return series
}
func curves(_ extra: [ChartSpec.Curve] = []) -> [ChartSpec.Curve] {
    titles.indices.map { ChartSpec.Curve(using: "1:\(2 + 2 * $0)", title: titles[$0], style: "lines lw 2") }
        + extra
}
let lnKCurve = ChartSpec.Curve(
    using: "1:\(2 + 2 * runs.count)", title: "ln K = 3.47 (uniform)",
    style: "lines dt 2 lw 1 lc rgb \"#555555\"")
plotOrExit(
    "teacher-entropy", traces(\.entropy, "h"),
    ChartSpec(
        title: "Teacher entropy h(P_t) during training (50-step average): ln K = uniform, 0 = one-hot",
        x: "step", y: "h(P_t) (nats)", curves: curves([lnKCurve]),
        extra: ["set key below", "set yrange [0:3.8]"]))
plotOrExit(
    "kl", traces(\.kl, "KL"),
    ChartSpec(
        title: "KL(P_t ‖ P_s) during training (50-step average): 0 = nothing left to learn",
        x: "step", y: "KL (nats, log scale)", logY: true, curves: curves(),
        extra: ["set key below", "set format y \"1e%L\""]))
plotOrExit(
    "information", traces(\.information, "info"),
    ChartSpec(
        title: "How much the teacher's target depends on the image: h(mean P_t) - mean h(P_t)",
        x: "step", y: "nats (50-step average)", curves: curves(),
        extra: ["set key below", "set yrange [0:*]"]))
plotOrExit(
    "top-share", traces(\.topShare, "top"),
    ChartSpec(
        title: "Share of the teacher's mass on its most used dimension (1/K = 0.031 … 1)",
        x: "step", y: "largest column of mean P_t (50-step average)", curves: curves(),
        extra: ["set key below", "set yrange [0:1.05]"]))
// Two charts, not one with a second axis: a share of probability mass and a logit offset are
// different quantities, and an axis tuned to make their curves meet would suggest they are one.
plotOrExit(
    "centre-catches-up", catchUp,
    ChartSpec(
        title: "+0.5 on dimension 0 of a trained teacher: its share of the mass, with and without the centre",
        x: "centre updates since the offset", y: "share of the teacher's mass on dimension 0",
        curves: [
            .init(using: "1:2", title: "with the centre"), .init(using: "1:3", title: "without the centre"),
            .init(using: "1:4", title: "before the offset", style: "lines dt 2 lw 1 lc rgb \"#555555\""),
        ],
        extra: ["set yrange [0:1.05]", "set key below"]))
plotOrExit(
    "centre-absorbs-offset", catchUp,
    ChartSpec(
        title: String(
            format: "The part of the +0.5 the centre has not absorbed yet, against 0.5·%.3g^n",
            Double(centreMomentum)),
        x: "centre updates since the offset", y: "offset left in the teacher logits",
        curves: [
            .init(
                using: "1:5", title: "measured: 0.5 - (c_n[0] - c_0[0])",
                style: "points pt 7 ps 0.8 lc rgb \"#d55e00\""),
            .init(
                using: "1:6", title: String(format: "0.5·%.3g^n", Double(centreMomentum)),
                style: "lines lw 1.5 lc rgb \"#000000\""),
        ],
        extra: ["set yrange [-0.02:0.55]", "set key inside top right"]))
lesson.finish()
