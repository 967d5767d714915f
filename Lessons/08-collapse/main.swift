// Lessons/08-collapse/main.swift · Lesson 08 · The collapse study on real data · Walkthroughs/08-collapse.md
// The paper's Section 5.3 (Fig. 7) and the collapse rows of its Table 7 with a real ViT on
// Fashion-MNIST: six runs that differ in one switch each (full DINO, centring only, sharpening
// only, no momentum teacher, two more teacher temperatures), with h(P_t) and KL(P_t ‖ P_s) logged
// every iteration, and at the end how much each teacher's output still says about the image and
// the k-NN accuracy of each teacher's backbone.
// Run: swift run -c release lesson08-collapse   (six runs of 1000 iterations, 2-3 minutes on 2 cores)
//      --quick: 48 iterations per run (seconds; the claims that need complete collapses are skipped)
// Flags: --preset NAME (default smoke), --images N (training images per run), --epochs N,
//        --temperatures A,B (the two extra τt, default 0.02,0.08)
import DINOCore
import DINOData
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import SIMDCore

// Line-buffered stdout: progress shows up at once when the output goes to a pipe or a file.
setvbuf(stdout, nil, _IOLBF, 0)
var lesson = Lesson(
    "08-collapse", title: "The collapse study on Fashion-MNIST", defaultSeed: 0,
    knobs: [
        Knob("--preset", "NAME", "the model and crops of every run", default: "smoke"),
        Knob("--images", "N", "training images per run", default: "16000"),
        Knob("--epochs", "N", "epochs per run", default: "4"),
        Knob("--temperatures", "A,B", "the two extra teacher temperatures", default: "0.02,0.08"),
    ])

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}
func mean(_ xs: ArraySlice<Double>) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
/// Mean of the last 10% of a trace: the end state without single-batch noise.
func tail(_ xs: [Double]) -> Double { mean(xs.suffix(max(1, xs.count / 10))) }

// MARK: 1 · Six runs, one switch each
// DINO has no negative pairs and no predictor: only two operations on the teacher's output keep
// it from collapsing (lesson 03 showed them on a toy). Centring subtracts a running mean c, which
// stops one dimension from dominating but pushes P_t toward uniform; sharpening (τt < τs) does the
// opposite. The loss is H(P_t, P_s) = h(P_t) + KL(P_t ‖ P_s), so the two collapses are visible in
// two logged numbers: both have KL → 0 (the student matches a target that carries no information),
// uniform collapse has h → ln K, one-hot collapse has h → 0.
//
// All six runs share the model, data order, crops and initial weights, and differ in one switch:
//   full DINO        centring on, τt 0.04, EMA teacher λ 0.996 → 1    (the official settings)
//   centring only    τt = τs = 0.1: no sharpening                    (Fig. 7, "centering")
//   sharpening only  no centre, τt 0.04                              (Fig. 7, "sharpening")
//   no momentum      λ = 0: the teacher copies the student each step (Table 7 row 2)
//   τt = A, τt = B   two more teacher temperatures                   (the paper's τt sweep)
// The model is the `smoke` preset's ViT (D 32, depth 2, 2 heads, K 256, 2 global + 2 local crops,
// batch 64): a quarter of lesson 07's width, so that each run gets 1000 iterations in about 30 s.
// The collapses need that many: after 234 iterations of lesson 07's model they are still under way.
lesson.section("1 · Six runs, one switch each")
var base: TrainingConfig
let presetName = lesson.option("--preset") ?? "smoke"
do { base = try TrainingConfig.preset(presetName) } catch { fail("\(error)") }
base.seed = lesson.seed
base.trainLimit = lesson.int("--images", in: 1...Int.max) ?? (lesson.quick ? 1024 : 16_000)
let epochs = lesson.int("--epochs", in: 1...Int.max) ?? (lesson.quick ? 3 : 4)
base.epochs = Double(epochs)
base.knnEvery = epochs  // one k-NN check, after the last epoch
base.knnTrainSize = base.trainLimit!
base.knnTestSize = lesson.quick ? 512 : 2_000
let temperatures: [Double] = {
    let text = lesson.option("--temperatures") ?? "0.02,0.08"
    let values = text.split(separator: ",").compactMap { Double($0) }
    guard values.count == 2, values.allSatisfy({ $0 > 0 }) else {
        fail("--temperatures needs two positive numbers A,B, got '\(text)'")
    }
    return values
}()

struct Variant {
    var name: String
    var column: String
    var apply: (inout TrainingConfig) -> Void
}
func temperature(_ t: Double) -> (inout TrainingConfig) -> Void {
    { c in
        c.teacherTemperature = t; c.warmupTeacherTemperature = t; c.warmupTeacherTemperatureEpochs = 0
    }
}
let variants: [Variant] = [
    Variant(name: "full DINO", column: "full_dino", apply: { _ in }),
    Variant(
        name: "centring only", column: "centring_only",
        apply: { c in
            temperature(Double(c.studentTemperature))(&c)
        }),
    Variant(name: "sharpening only", column: "sharpening_only", apply: { c in c.centering = false }),
    Variant(name: "no momentum", column: "no_momentum", apply: { c in c.momentumTeacher = false }),
    Variant(
        name: "τt = \(temperatures[0])", column: "tau_t_\(temperatures[0])",
        apply: temperature(temperatures[0])),
    Variant(
        name: "τt = \(temperatures[1])", column: "tau_t_\(temperatures[1])",
        apply: temperature(temperatures[1])),
]
let lnK = log(Double(base.outDim))
print(
    "base: preset '\(presetName)' (D \(base.dim), depth \(base.depth), \(base.heads) heads, \(2 + base.localCount) crops), "
        + "\(base.trainLimit!) images × \(epochs) epochs, batch \(base.batchSize), "
        + "K = \(base.outDim) (ln K = \(String(format: "%.4f", lnK))), seed \(base.seed)")
print(
    "at the end: the teacher's output on \(base.knnTestSize) test images, and k-NN@20 on \(base.knnTrainSize) train / \(base.knnTestSize) test images"
)
for v in variants {
    var c = base
    v.apply(&c)
    print(
        "  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(
                format: "centre %@  τt %.2f  τs %.2f  teacher %@", c.centering ? "on " : "off",
                c.teacherTemperature,
                Double(c.studentTemperature),
                c.momentumTeacher ? "EMA λ \(c.teacherMomentum) → 1" : "= student (λ 0)"))
}

// MARK: 2 · Run them
// The same DINOTrainer as lesson 07 and `dino train`, without the run folder: nothing here is
// worth a checkpoint. Each run prints h(P_t) and KL at a few iterations; the timing of every
// run is printed separately in §5, so these lines are the same on every machine (for one thread
// count and one version of the kernels).
//
// After each run the trained teacher looks at whole test images, and its P_t (with the run's own
// centre and τt) is summarised by three numbers over the test set:
//   h        mean_rows h(P_t): the sharpness of one image's target
//   info     h(mean_rows P_t) − mean_rows h(P_t): how much the target depends on the image, in
//            nats (the mutual information between image and prototype; 0 when every image gets
//            the same distribution, as in both collapses; at most ln K)
//   top      the share of the images whose most likely prototype is the most common one; only
//            where the output is not flat (h below 95% of ln K): when every prototype gets about
//            1/K, which of them is largest is decided by noise, and its share means nothing
lesson.section("2 · Run them")
/// A teacher whose test-set h is within 5% of ln K: a flat output, where "top" is noise.
func flat(_ o: Outcome) -> Bool { o.testEntropy >= 0.95 * lnK }
let train: Dataset, test: Dataset
do {
    train = try DataSources.load(base.dataset, split: .train)
    test = try DataSources.load(base.dataset, split: .test)
} catch { fail("\(error)") }

struct Outcome {
    var entropy: [Double] = []
    var kl: [Double] = []
    var loss: [Double] = []
    var testEntropy = Double.nan
    var information = Double.nan
    var topShare = Double.nan
    var knnTeacher = Double.nan
    var knnStudent = Double.nan
    var seconds = 0.0
    var failure: String?
}

/// The teacher's P_t on the first `count` test images, with the run's centre and τt.
func teacherOutput(_ trainer: DINOTrainer<SIMDKernels>, count: Int, normalization: Normalization) -> Tensor {
    var teacher = trainer.step.teacher
    let n = min(count, test.count), batch = 500
    var probabilities = Tensor(shape: [n, trainer.config.outDim])  // (N, K)
    var start = 0
    while start < n {
        let rows = min(batch, n - start)
        let images = Evaluator().normalized(test.tensor(Array(start..<(start + rows))), normalization)
        let logits = teacher.forward([images], training: false)  // (rows, K) raw head outputs
        var centred = logits
        if trainer.config.centering {
            SIMDKernels.addRow(logits, trainer.step.loss.center, scale: -1, into: &centred)
        }
        var p = Tensor(shape: logits.shape)
        SIMDKernels.softmax(centred, temperature: Float(trainer.teacherTemperatures.last!), into: &p)
        probabilities.setRows(start, p)
        start += rows
    }
    return probabilities
}

var outcomes: [Outcome] = []
var normalization: Normalization?
for v in variants {
    var c = base
    v.apply(&c)
    c.name = v.column
    var outcome = Outcome()
    let started = Date()
    do {
        var trainer = try DINOTrainer<SIMDKernels>(config: c, train: train, test: test)
        let own = trainer.multiCrop.config.normalization(channels: train.channels)
        normalization = own
        let total = trainer.totalIterations
        let marks = Set([0, total / 10, total / 4, total / 2, total - 1])
        print("\(v.name): \(total) iterations")
        try trainer.run(progress: { r in
            if marks.contains(r.iteration) {
                print(
                    String(
                        format: "  it %4d   loss %.4f   h(P_t) %.4f   KL %.4f", r.iteration, r.loss,
                        r.entropy, r.kl))
            }
        })
        outcome.entropy = trainer.steps.map(\.entropy)
        outcome.kl = trainer.steps.map(\.kl)
        outcome.loss = trainer.steps.map(\.loss)
        outcome.knnTeacher = trainer.epochs.last?.knnTeacher ?? .nan
        outcome.knnStudent = trainer.epochs.last?.knnStudent ?? .nan
        let p = teacherOutput(trainer, count: base.knnTestSize, normalization: own)
        var columnMean = Tensor(shape: [1, p.cols])
        SIMDKernels.columnMeans(p, into: &columnMean)
        outcome.testEntropy = Stats.meanRowEntropy(p)
        outcome.information = Stats.entropy(columnMean.storage) - outcome.testEntropy
        var votes = [Int](repeating: 0, count: p.cols)
        for i in 0..<p.rows {
            let row = p.row(i)
            votes[row.indices.max { row[$0] < row[$1] }!] += 1
        }
        outcome.topShare = Double(votes.max()!) / Double(p.rows)
        if flat(outcome) {
            print(
                String(
                    format:
                        "  teacher on test images: h %.3f (%.1f%% of ln K: flat, so no top prototype to speak of), info %.3f nats",
                    outcome.testEntropy, 100 * outcome.testEntropy / lnK, outcome.information))
        } else {
            print(
                String(
                    format:
                        "  teacher on test images: h %.3f (%.1f%% of ln K), info %.3f nats, top prototype takes %.1f%% of the images",
                    outcome.testEntropy, 100 * outcome.testEntropy / lnK, outcome.information,
                    100 * outcome.topShare))
        }
    } catch {
        // A non-finite loss is one way to fail; the run is reported, not hidden.
        outcome.failure = "\(error)"
        print("  stopped: \(error)")
    }
    outcome.seconds = Date().timeIntervalSince(started)
    outcomes.append(outcome)
}
// The starting point of every run, through the same k-NN: what "learned nothing" scores.
var randomInitKNN = Double.nan
do {
    var vit = base.vit
    vit.channels = train.channels
    vit.dropPathRate = 0
    var untrained = try DINONetwork<SIMDKernels>(backbone: vit, head: base.headConfig(), seed: base.seed)
    let eval = Evaluator(trainSize: base.knnTrainSize, testSize: base.knnTestSize)
    randomInitKNN =
        try eval.knn(
            SIMDKernels.self, backbone: &untrained.backbone, train: train.prefix(base.trainLimit!),
            test: test,
            normalization: normalization!, ks: [20])[20] ?? .nan
} catch { fail("random-init baseline: \(error)") }

// MARK: 3 · Fig. 7 and Table 7 on Fashion-MNIST
// End state = mean of the last 10% of iterations. "share of ln K" places h between one-hot (0%)
// and uniform (100%). The scale of every threshold below is ln K, the loss of a uniform output:
// "KL → 0" means KL below 2% of ln K (the student matches the teacher to within 2% of the loss;
// lesson 03's toy used 0.05 nats = 1.4% of its ln K); h is "near ln K" above 95% of it and
// "near 0" below 5% of it.
lesson.section("3 · Fig. 7 and Table 7 on Fashion-MNIST")
print(
    "                   ── training (last 10%) ──────────────    ── teacher on test ──────────────     ── k-NN@20 ──────"
)
print(
    "  run             h(P_t)  (% ln K)         KL       loss        h  (% ln K)    info     top      teacher  student"
)
for (v, o) in zip(variants, outcomes) {
    guard o.failure == nil else {
        print(
            "  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
                + "  stopped early (non-finite loss)")
        continue
    }
    let top = flat(o) ? "     –" : String(format: "%5.1f%%", 100 * o.topShare)
    print(
        "  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(
                format:
                    "%6.3f  (%5.1f%%)     %6.3f     %6.3f   %6.3f  (%5.1f%%)  %6.3f  %@      %6.2f%%  %6.2f%%",
                tail(o.entropy),
                100 * tail(o.entropy) / lnK, tail(o.kl), tail(o.loss), o.testEntropy,
                100 * o.testEntropy / lnK, o.information,
                top as NSString, o.knnTeacher, o.knnStudent))
}
print(
    "  random-init ViT (the starting point of every run)".padding(toLength: 100, withPad: " ", startingAt: 0)
        + String(format: "%6.2f%%", randomInitKNN))
print(
    "  chance".padding(toLength: 100, withPad: " ", startingAt: 0)
        + String(format: "%6.2f%%", 100 / Double(train.classCount)))
print(
    "  top: share of the test images whose most likely prototype is the most common one; – where the teacher's"
)
print("  output is flat (h ≥ 95% of ln K), since with every prototype near 1/K which one is largest is noise")

let full = outcomes[0], centring = outcomes[1], sharpening = outcomes[2], noMomentum = outcomes[3]
let tauLow = outcomes[4], tauHigh = outcomes[5]
let ran = outcomes.allSatisfy { $0.failure == nil }
lesson.claim("all six runs finished with a finite loss", ran)
/// Collapsed = KL → 0 and h at one of the two ends.
func collapsed(_ o: Outcome) -> Bool {
    tail(o.kl) < 0.02 * lnK && (tail(o.entropy) >= 0.95 * lnK || tail(o.entropy) < 0.05 * lnK)
}
if ran {
    let hFull = tail(full.entropy), hCentring = tail(centring.entropy), hSharpening = tail(sharpening.entropy)
    // The direction of each force: the same after 48 iterations as after 1000.
    lesson.claim(
        String(
            format:
                "sharpening only ends sharper than full DINO, centring only flatter: h %.3f < %.3f < %.3f",
            hSharpening, hFull, hCentring),
        hSharpening < hFull && hFull < hCentring)
    lesson.claim(
        String(
            format:
                "centring only → uniform collapse: h %.3f ≥ 0.95 · ln K = %.3f and KL %.4f < 0.02 · ln K = %.3f",
            hCentring, 0.95 * lnK, tail(centring.kl), 0.02 * lnK),
        hCentring >= 0.95 * lnK && tail(centring.kl) < 0.02 * lnK)
    lesson.claim(
        String(
            format: "full DINO stays in between: h %.3f in (0.05, 0.95) · ln K and KL %.3f > 0.02 · ln K",
            hFull, tail(full.kl)),
        hFull > 0.05 * lnK && hFull < 0.95 * lnK && tail(full.kl) > 0.02 * lnK)
    // A hotter teacher is a flatter target: h(P_t) orders with τt (same centring, same data).
    lesson.claim(
        String(
            format: "h(P_t) rises with τt: %.3f (τt %.2f) < %.3f (0.04) < %.3f (τt %.2f)",
            tail(tauLow.entropy), temperatures[0], hFull, tail(tauHigh.entropy), temperatures[1]),
        tail(tauLow.entropy) < hFull && hFull < tail(tauHigh.entropy))
    if lesson.quick {
        print(
            "(full run only: the collapses are still under way after \(outcomes[0].entropy.count) iterations, "
                + "so the claims about their end states and about k-NN are not made here)")
    } else {
        lesson.claim(
            String(
                format:
                    "sharpening only → one-hot collapse: h %.3f < 0.05 · ln K = %.3f, KL %.4f < 0.02 · ln K = %.3f, "
                    + "one prototype takes %.0f%% of the test images", hSharpening, 0.05 * lnK,
                tail(sharpening.kl),
                0.02 * lnK, 100 * sharpening.topShare),
            hSharpening < 0.05 * lnK && tail(sharpening.kl) < 0.02 * lnK)
        // Table 7, row 2: without the momentum teacher DINO collapses (k-NN 0.1% after 300 epochs).
        lesson.claim(
            String(
                format: "no momentum → collapse: h %.3f = %.1f%% of ln K, KL %.4f < 0.02 · ln K = %.3f",
                tail(noMomentum.entropy), 100 * tail(noMomentum.entropy) / lnK, tail(noMomentum.kl),
                0.02 * lnK),
            collapsed(noMomentum))
        if temperatures[1] == 0.08 {
            // The paper's sweep: τt 0.08 gives 0.1% k-NN, "the loss converges to ln K".
            lesson.claim(
                String(
                    format:
                        "τt = 0.08 → uniform collapse as in the paper: h %.1f%% of ln K, loss %.3f within 2%% of ln K",
                    100 * tail(tauHigh.entropy) / lnK, tail(tauHigh.loss)),
                tail(tauHigh.entropy) >= 0.95 * lnK && abs(tail(tauHigh.loss) - lnK) < 0.02 * lnK)
        }
        // What collapse means for the output: the same distribution for every image. The lines:
        // below 0.1 nats (a tenth of a bit of information per image about which prototype) for the
        // collapsed runs; full DINO's targets must carry at least 10 times as much.
        let collapsedRuns = [centring, sharpening, noMomentum].filter(collapsed)
        let worst = collapsedRuns.map(\.information).max() ?? .nan
        lesson.claim(
            String(
                format:
                    "collapsed teachers say nothing about the image (info ≤ %.3f < 0.1 nats); full DINO's say %.3f ≥ 10× that",
                worst, full.information),
            collapsedRuns.count == 3 && worst < 0.1 && full.information >= 10 * max(worst, 0.01))
        // 2 points ≈ 2 standard errors of a top-1 accuracy near 60% on 2000 test images.
        lesson.claim(
            String(
                format:
                    "full DINO's backbone learned something: k-NN@20 %.2f%% ≥ random-init ViT %.2f%% + 2 points",
                full.knnTeacher, randomInitKNN), full.knnTeacher >= randomInitKNN + 2)
        let best = outcomes.indices.max { outcomes[$0].knnTeacher < outcomes[$1].knnTeacher }!
        print(
            String(
                format: "highest backbone k-NN@20: %@ (%.2f%%). ", variants[best].name as NSString,
                outcomes[best].knnTeacher)
                + "The paper's collapsed rows reach 0.1% after 300 epochs, when nothing of the features is left; "
                + "in 1000 iterations a collapsed head stops teaching (KL → 0) but has not yet erased the backbone, "
                + "so k-NN does not rank these runs the way Table 7 does (see the walkthrough).")
    }
}

// MARK: 4 · Charts: the paper's Fig. 7 and the collapse rows of Table 7
lesson.section("4 · Charts")
let iterations = outcomes.map(\.entropy.count).max() ?? 0
var entropyCurves = Series(columns: ["iteration"] + variants.map { "h_" + $0.column } + ["ln_K"])
var klCurves = Series(columns: ["iteration"] + variants.map { "KL_" + $0.column })
for i in 0..<iterations {
    entropyCurves.append([Double(i)] + outcomes.map { i < $0.entropy.count ? $0.entropy[i] : .nan } + [lnK])
    // Clamped at 1e-4 for the log axis (a fully collapsed run reaches exactly 0).
    klCurves.append([Double(i)] + outcomes.map { i < $0.kl.count ? max($0.kl[i], 1e-4) : .nan })
}
func curves(_ extra: [ChartSpec.Curve] = []) -> [ChartSpec.Curve] {
    variants.enumerated().map {
        ChartSpec.Curve(using: "1:\($0.offset + 2)", title: $0.element.name, style: "lines lw 2")
    } + extra
}
try lesson.plot(
    "teacher-entropy", entropyCurves,
    ChartSpec(
        title: "Teacher entropy h(P_t) per iteration: ln K = uniform collapse, 0 = one-hot collapse",
        x: "iteration", y: "h(P_t) (nats)",
        curves: curves([
            .init(
                using: "1:\(variants.count + 2)", title: "ln K", style: "lines dt 2 lw 1 lc rgb \"#777777\"")
        ]),
        extra: ["set yrange [0:\(lnK + 0.5)]"]))
try lesson.plot(
    "kl", klCurves,
    ChartSpec(
        title: "KL(P_t ‖ P_s) per iteration: 0 = the student has nothing left to learn",
        x: "iteration", y: "KL (nats, log scale, floor 1e-4)", logY: true, curves: curves(),
        extra: ["set yrange [1e-4:10]"]))
var bars = Series(columns: [
    "run", "information_nats", "knn20_teacher", "knn20_student", "random_init", "chance",
])
for (i, o) in outcomes.enumerated() {
    bars.append([
        Double(i), o.information, o.knnTeacher, o.knnStudent, randomInitKNN, 100 / Double(train.classCount),
    ])
}
// Two-line tic labels ("\n" inside gnuplot's double quotes), so that long names do not overlap.
let tics = variants.enumerated().map {
    "\""
        + $0.element.name.replacingOccurrences(of: " only", with: "\\nonly").replacingOccurrences(
            of: "no momentum", with: "no\\nmomentum")
        + "\" \($0.offset)"
}.joined(separator: ", ")
// Bars from 0 (a bar's length is its value), the numbers written on top so that differences of a
// point or two stay readable, the random-init ViT and chance (10%) as dashed lines.
let knnChart = ChartSpec(
    title:
        "k-NN@20 of each run's backbone after \(iterations) iterations (\(base.knnTrainSize) train / \(base.knnTestSize) test images)",
    x: "", y: "top-1 (%)",
    curves: [
        .init(using: "($1-0.18):3", title: "teacher", style: "boxes fs solid 0.7 lc rgb \"#1f4e9c\""),
        .init(using: "($1+0.18):4", title: "student", style: "boxes fs solid 0.4 lc rgb \"#6a9fd8\""),
        .init(using: "1:5", title: "random-init ViT", style: "lines dt 2 lw 2 lc rgb \"#c0392b\""),
        .init(
            using: "1:6", title: String(format: "chance (%.0f%%)", 100 / Double(train.classCount)),
            style: "lines dt 3 lw 2 lc rgb \"#555555\""),
        .init(
            using: "($1-0.18):3:(sprintf(\"%.1f\", $3))", title: "",
            style: "labels offset 0,0.7 font \",9\" boxed"),
        .init(
            using: "($1+0.18):4:(sprintf(\"%.1f\", $4))", title: "",
            style: "labels offset 0,0.7 font \",9\" boxed"),
    ],
    extra: [
        "set boxwidth 0.36", "set xtics (\(tics))", "set bmargin 4",
        "set xrange [-0.6:\(Double(variants.count) - 0.4)]",
        "set yrange [0:100]", "set key inside top right horizontal", "set style textbox opaque noborder",
    ])
try lesson.plot("knn", bars, knnChart)
try lesson.plot(
    "information", bars,
    ChartSpec(
        title:
            "What the trained teacher's output says about the image: h(mean P_t) − mean h(P_t) on test images",
        x: "", y: "information (nats)",
        curves: [
            .init(using: "1:2", title: "", style: "boxes fs solid 0.7 lc rgb \"#7b3294\""),
            .init(using: "1:2:(sprintf(\"%.3f\", $2))", title: "", style: "labels offset 0,0.8"),
        ],
        extra: [
            "set boxwidth 0.6", "set xtics (\(tics))", "set bmargin 4",
            "set xrange [-0.6:\(Double(variants.count) - 0.4)]",
            "set yrange [0:*]",
        ]))

// MARK: 5 · Timing (the only wall-clock numbers of this lesson)
lesson.section("5 · Timing")
for (v, o) in zip(variants, outcomes) {
    print(
        "  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
            + String(format: "%6.1f s (training, the k-NN check and the test-set pass)", o.seconds))
}
lesson.finish()
