// Lessons/08-collapse/main.swift · Lesson 08 · The collapse study on real data · Walkthroughs/08-collapse.md
// The paper's Section 5.3 (Fig. 7) and the collapse rows of its Table 7 with the real ViT on
// Fashion-MNIST: six short runs of the default configuration that differ in one switch each (full
// DINO, centring only, sharpening only, no momentum teacher, two more teacher temperatures), with
// h(P_t) and KL(P_t ‖ P_s) logged every iteration and the k-NN accuracy of each teacher at the end.
// Run: swift run -c release lesson08-collapse   (six runs of 10 000 images × 3 epochs, a few minutes)
//      --quick: the `smoke` model on 1024 images (seconds; the k-NN claims are skipped)
// Flags: --images N (training images per run), --epochs N, --temperatures A,B (the two extra τt)
import DINOCore
import DINOData
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import SIMDCore

// Line-buffered stdout: progress shows up at once when the output goes to a pipe or a file.
setvbuf(stdout, nil, _IOLBF, 0)
var lesson = Lesson("08-collapse", title: "The collapse study on Fashion-MNIST", defaultSeed: 0,
                    understands: ["--images", "--epochs", "--temperatures"])

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}
func intOption(_ flag: String) -> Int? {
    guard let text = lesson.option(flag) else { return nil }
    guard let n = Int(text), n >= 1 else { fail("\(flag) needs a whole number ≥ 1, got '\(text)'") }
    return n
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
// All six runs share the model, data order, crops and initial weights of lesson 07's default
// configuration, on fewer images and epochs so that the six fit in a few minutes:
//   full DINO        centring on, τt 0.04, EMA teacher λ 0.996 → 1    (the default)
//   centring only    τt = τs = 0.1: no sharpening                    (Fig. 7, "centering")
//   sharpening only  no centre, τt 0.04                              (Fig. 7, "sharpening")
//   no momentum      λ = 0: the teacher copies the student each step (Table 7 row 2)
//   τt = A, τt = B   two more teacher temperatures                   (the paper's τt sweep)
lesson.section("1 · Six runs, one switch each")
var base: TrainingConfig
do { base = try TrainingConfig.preset(lesson.quick ? "smoke" : "default") } catch { fail("\(error)") }
base.seed = lesson.seed
base.trainLimit = intOption("--images") ?? (lesson.quick ? 1024 : 10_000)
base.epochs = intOption("--epochs") ?? 3
base.knnEvery = base.epochs                 // one k-NN check, after the last epoch
base.knnTrainSize = base.trainLimit!
base.knnTestSize = lesson.quick ? 512 : 2_000
let temperatures: [Double] = {
    let text = lesson.option("--temperatures") ?? "0.02,0.08"
    let values = text.split(separator: ",").compactMap { Double($0) }
    guard values.count == 2, values.allSatisfy({ $0 > 0 }) else { fail("--temperatures needs two positive numbers A,B, got '\(text)'") }
    return values
}()

struct Variant {
    var name: String
    var column: String
    var apply: (inout TrainingConfig) -> Void
}
func temperature(_ t: Double) -> (inout TrainingConfig) -> Void {
    { c in c.teacherTemperature = t; c.warmupTeacherTemperature = t; c.warmupTeacherTemperatureEpochs = 0 }
}
let variants: [Variant] = [
    Variant(name: "full DINO", column: "full_dino", apply: { _ in }),
    Variant(name: "centring only", column: "centring_only", apply: { c in
        temperature(Double(c.studentTemperature))(&c)
    }),
    Variant(name: "sharpening only", column: "sharpening_only", apply: { c in c.centering = false }),
    Variant(name: "no momentum", column: "no_momentum", apply: { c in c.momentumTeacher = false }),
    Variant(name: "τt = \(temperatures[0])", column: "tau_t_\(temperatures[0])", apply: temperature(temperatures[0])),
    Variant(name: "τt = \(temperatures[1])", column: "tau_t_\(temperatures[1])", apply: temperature(temperatures[1])),
]
let lnK = log(Double(base.outDim))
print("base: preset '\(lesson.quick ? "smoke" : "default")', \(base.trainLimit!) images × \(base.epochs) epochs, batch \(base.batchSize), "
      + "K = \(base.outDim) (ln K = \(String(format: "%.4f", lnK))), seed \(base.seed)")
print("k-NN@20 of each teacher at the end on \(base.knnTrainSize) train / \(base.knnTestSize) test images")
for v in variants {
    var c = base
    v.apply(&c)
    print("  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "centre %@  τt %.2f  τs %.2f  teacher %@", c.centering ? "on " : "off", c.teacherTemperature,
                   Double(c.studentTemperature), c.momentumTeacher ? "EMA λ \(c.teacherMomentum) → 1" : "= student (λ 0)"))
}

// MARK: 2 · Run them
// The same DINOTrainer as lesson 07 and `dino train`, without the run folder: nothing here is
// worth a checkpoint. Each run prints h(P_t) and KL at a few iterations; the timing of every
// run is printed separately in §5, so these lines are the same on every machine.
lesson.section("2 · Run them")
let train: Dataset, test: Dataset
do {
    train = try DataSources.load(base.dataset, split: .train)
    test = try DataSources.load(base.dataset, split: .test)
} catch { fail("\(error)") }

struct Outcome {
    var entropy: [Double] = []
    var kl: [Double] = []
    var loss: [Double] = []
    var knnTeacher = Double.nan
    var knnStudent = Double.nan
    var seconds = 0.0
    var failure: String?
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
        normalization = trainer.multiCrop.config.normalization(channels: train.channels)
        let total = c.epochs * trainer.itersPerEpoch
        let marks = Set([0, total / 10, total / 4, total / 2, total - 1])
        print("\(v.name): \(total) iterations")
        try trainer.run(progress: { r in
            if marks.contains(r.iteration) {
                print(String(format: "  it %4d   loss %.4f   h(P_t) %.4f   KL %.4f", r.iteration, r.loss, r.entropy, r.kl))
            }
        })
        outcome.entropy = trainer.steps.map(\.entropy)
        outcome.kl = trainer.steps.map(\.kl)
        outcome.loss = trainer.steps.map(\.loss)
        outcome.knnTeacher = trainer.epochs.last?.knnTeacher ?? .nan
        outcome.knnStudent = trainer.epochs.last?.knnStudent ?? .nan
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
    randomInitKNN = try eval.knn(SIMDKernels.self, backbone: &untrained.backbone, train: train.prefix(base.trainLimit!), test: test,
                                 normalization: normalization!, ks: [20])[20] ?? .nan
} catch { fail("random-init baseline: \(error)") }

// MARK: 3 · Fig. 7 and Table 7 on Fashion-MNIST
// End state = mean of the last 10% of iterations. "share of ln K" places h between one-hot (0%)
// and uniform (100%).
lesson.section("3 · Fig. 7 and Table 7 on Fashion-MNIST")
print("run               h(P_t)  (share of ln K)   KL(P_t‖P_s)    loss    k-NN@20 teacher  student")
for (v, o) in zip(variants, outcomes) {
    guard o.failure == nil else {
        print("  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0) + "  stopped early (non-finite loss)")
        continue
    }
    print("  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "%6.3f      (%5.1f%%)        %6.3f      %6.3f      %6.2f%%       %6.2f%%", tail(o.entropy),
                   100 * tail(o.entropy) / lnK, tail(o.kl), tail(o.loss), o.knnTeacher, o.knnStudent))
}
print(String(format: "  random-init ViT (the starting point)                                    %6.2f%%", randomInitKNN))
print(String(format: "  chance                                                                 %6.2f%%", 100 / Double(train.classCount)))

let full = outcomes[0], centring = outcomes[1], sharpening = outcomes[2], noMomentum = outcomes[3]
let tauLow = outcomes[4], tauHigh = outcomes[5]
let ran = outcomes.allSatisfy { $0.failure == nil }
lesson.claim("all six runs finished with a finite loss", ran)
if ran {
    // Uniform collapse: the teacher's output no longer depends on the image, and the student
    // matches it. 0.95·ln K and 0.05 nats are the lines lesson 03 drew for the toy as well.
    lesson.claim(String(format: "centring only → uniform collapse: h %.3f ≥ 0.95 · ln K = %.3f and KL %.4f < 0.05",
                        tail(centring.entropy), 0.95 * lnK, tail(centring.kl)),
                 tail(centring.entropy) >= 0.95 * lnK && tail(centring.kl) < 0.05)
    // One-hot collapse: one dimension takes every image.
    lesson.claim(String(format: "sharpening only → one-hot collapse: h %.3f < 0.05 · ln K = %.3f",
                        tail(sharpening.entropy), 0.05 * lnK),
                 tail(sharpening.entropy) < 0.05 * lnK)
    lesson.claim(String(format: "full DINO stays in between: h %.3f in (0.05, 0.95) · ln K and KL %.3f > 0.05",
                        tail(full.entropy), tail(full.kl)),
                 tail(full.entropy) > 0.05 * lnK && tail(full.entropy) < 0.95 * lnK && tail(full.kl) > 0.05)
    // A hotter teacher is a flatter target: h(P_t) orders with τt (same centring, same data).
    lesson.claim(String(format: "h(P_t) rises with τt: %.3f (τt %.2f) < %.3f (0.04) < %.3f (τt %.2f)",
                        tail(tauLow.entropy), temperatures[0], tail(full.entropy), tail(tauHigh.entropy), temperatures[1]),
                 tail(tauLow.entropy) < tail(full.entropy) && tail(full.entropy) < tail(tauHigh.entropy))
    if lesson.quick {
        print("(k-NN claims need the full run: \(base.trainLimit!) images × \(base.epochs) epochs of the smoke model learn too little)")
    } else {
        let others = outcomes.dropFirst().map(\.knnTeacher)
        lesson.claim(String(format: "full DINO has the best k-NN@20: %.2f%% vs at most %.2f%% for the other five",
                            full.knnTeacher, others.max()!),
                     others.allSatisfy { full.knnTeacher > $0 })
        // The two collapses leave features no better than where training started.
        lesson.claim(String(format: "both collapses end no better than the random-init ViT + 2 points: %.2f%%, %.2f%% vs %.2f%%",
                            centring.knnTeacher, sharpening.knnTeacher, randomInitKNN),
                     centring.knnTeacher < randomInitKNN + 2 && sharpening.knnTeacher < randomInitKNN + 2)
        lesson.claim(String(format: "without the momentum teacher DINO loses: %.2f%% vs %.2f%% with it",
                            noMomentum.knnTeacher, full.knnTeacher),
                     noMomentum.knnTeacher < full.knnTeacher)
    }
}

// MARK: 4 · Charts: the paper's Fig. 7 and the collapse rows of Table 7
lesson.section("4 · Charts")
let iterations = outcomes.map(\.entropy.count).max() ?? 0
var entropyCurves = Series(columns: ["iteration"] + variants.map { "h_" + $0.column } + ["ln_K"])
var klCurves = Series(columns: ["iteration"] + variants.map { "KL_" + $0.column })
for i in 0..<iterations {
    entropyCurves.append([Double(i)] + outcomes.map { i < $0.entropy.count ? $0.entropy[i] : .nan } + [lnK])
    klCurves.append([Double(i)] + outcomes.map { i < $0.kl.count ? $0.kl[i] : .nan })
}
func curves(_ extra: [ChartSpec.Curve] = []) -> [ChartSpec.Curve] {
    variants.enumerated().map { ChartSpec.Curve(using: "1:\($0.offset + 2)", title: $0.element.name, style: "lines lw 2") } + extra
}
try lesson.plot("teacher-entropy", entropyCurves, ChartSpec(
    title: "Teacher entropy h(P_t) per iteration: ln K = uniform collapse, 0 = one-hot collapse",
    x: "iteration", y: "h(P_t) (nats)",
    curves: curves([.init(using: "1:\(variants.count + 2)", title: "ln K", style: "lines dt 2 lw 1 lc rgb \"#777777\"")]),
    extra: ["set yrange [0:\(lnK + 0.5)]"]))
try lesson.plot("kl", klCurves, ChartSpec(
    title: "KL(P_t ‖ P_s) per iteration: 0 = the student has nothing left to learn",
    x: "iteration", y: "KL (nats)", logY: true, curves: curves()))
var bars = Series(columns: ["run", "knn20_teacher", "knn20_student", "random_init", "chance"])
for (i, o) in outcomes.enumerated() {
    bars.append([Double(i), o.knnTeacher, o.knnStudent, randomInitKNN, 100 / Double(train.classCount)])
}
let tics = variants.enumerated().map { "\"\($0.element.name)\" \($0.offset)" }.joined(separator: ", ")
try lesson.plot("knn", bars, ChartSpec(
    title: "k-NN@20 after \(base.epochs) epochs on \(base.trainLimit!) images (\(base.knnTrainSize) train / \(base.knnTestSize) test)",
    x: "run", y: "top-1 (%)",
    curves: [.init(using: "($1-0.18):2", title: "teacher", style: "boxes fs solid 0.7 lc rgb \"#1f4e9c\""),
             .init(using: "($1+0.18):3", title: "student", style: "boxes fs solid 0.4 lc rgb \"#6a9fd8\""),
             .init(using: "1:4", title: "random-init ViT", style: "lines dt 2 lw 2 lc rgb \"#c0392b\""),
             .init(using: "1:5", title: "chance", style: "lines dt 3 lw 1 lc rgb \"#777777\"")],
    extra: ["set boxwidth 0.36", "set xtics (\(tics))", "set xrange [-0.6:\(Double(variants.count) - 0.4)]",
            "set yrange [0:100]"]))

// MARK: 5 · Timing (the only wall-clock numbers of this lesson)
lesson.section("5 · Timing")
for (v, o) in zip(variants, outcomes) {
    print("  " + v.name.padding(toLength: 16, withPad: " ", startingAt: 0)
          + String(format: "%6.1f s (training and the final k-NN check)", o.seconds))
}
lesson.finish()
