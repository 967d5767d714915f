// Lessons/05-ema-teacher/main.swift · Lesson 05 · The momentum teacher · Walkthroughs/05-ema-teacher.md
// The teacher is an exponential moving average of the student: θt ← m·θt + (1 - m)·θs after every
// optimiser step, with m(it) rising from 0.996 to 1 on a cosine. The schedule, the update on the
// real parameter tensors of a ViT-Tiny + DINO head (emaUpdate of both cores), and a noisy training
// problem where the averaged weights beat the weights they average (the paper's Fig. 6).
// Run: swift run -c release lesson05-ema-teacher   (about 30 s, most of it a short DINO run on Fashion-MNIST; --quick: about 4 s)
import DINOCore
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import ReferenceCore
import SIMDCore

var lesson = Lesson(
    "05-ema-teacher", title: "The momentum teacher",
    knobs: [
        Knob(
            "--momentum", "m",
            "the start of the teacher's momentum schedule in sections 3 and 4 (it rises to 1)",
            default: "0.996"),
        Knob("--steps", "N", "steps of the toy run in section 3", default: "3000"),
        Knob("--lr", "η", "the toy student's learning rate in section 3", default: "0.05"),
        Knob("--dino-epochs", "E", "epochs of the DINO run in section 4", default: "4"),
    ])
let baseMomentum = lesson.double("--momentum", default: 0.996, in: 0...1)

/// Writes one chart (.dat, .gp, .png) under plots/; an unwritable --plots folder ends the lesson
/// with a one-line error naming the file and exit status 1, instead of a crash.
func plotOrExit(_ name: String, _ data: Series, _ chart: ChartSpec) {
    do { try lesson.plot(name, data, chart) } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
}

// MARK: 1 · The momentum schedule m(it): 0.996 → 1 on a cosine, per iteration
// main_dino.py builds the schedule with the same cosine_scheduler as the learning rate, one value
// per ITERATION (not per epoch), no warm-up:
//     m(it) = 1 - (1 - 0.996)·(1 + cos(π·it/T))/2,   T = epochs × iterations per epoch
// An EMA with momentum m averages roughly the last 1/(1 - m) students: 250 iterations at the start,
// 500 halfway, and ever more at the end, when the teacher almost stops moving. The divisor is T (not
// T - 1), so the last value is just below 1.
lesson.section("1 · The momentum schedule m(it): 0.996 → 1 on a cosine, per iteration")
let epochs = 100, itersPerEpoch = 1251  // ImageNet-1k at batch 1024: 1 281 167 / 1024 → 1251
let schedule = Schedule.cosine(base: 0.996, final: 1, epochs: epochs, itersPerEpoch: itersPerEpoch)
let total = schedule.count
let closedForm = (0..<total).map { 1 - (1 - 0.996) * (1 + cos(Double.pi * Double($0) / Double(total))) / 2 }
let scheduleError = zip(schedule, closedForm).map { abs($0 - $1) }.max()!
print("T = \(epochs) epochs × \(itersPerEpoch) iterations = \(total) values")
print("   iteration   epoch      m(it)              1 - m(it)     memory 1/(1 - m)")
for it in [0, itersPerEpoch, total / 4, total / 2, 3 * total / 4, total - itersPerEpoch, total - 1] {
    print(
        String(
            format: "  %9d   %6.2f   %.15f   %.3e     %.4g iterations", it,
            Double(it) / Double(itersPerEpoch),
            schedule[it], 1 - schedule[it], 1 / (1 - schedule[it])))
}
print(String(format: "largest |Schedule.cosine - closed form| = %.1e", scheduleError))
lesson.claim(
    "the schedule starts at 0.996, passes 0.998 halfway, rises monotonically and never reaches 1",
    schedule[0] == 0.996 && abs(schedule[total / 2] - 0.998) < 1e-12
        && zip(schedule, schedule.dropFirst()).allSatisfy { $0 < $1 } && schedule[total - 1] < 1)
lesson.claim("Schedule.cosine matches the closed form to 1e-15", scheduleError < 1e-15)
var scheduleCurve = Series(columns: ["epoch", "momentum", "one_minus_momentum"])
for it in stride(from: 0, to: total, by: 50) + [total - 1] {
    scheduleCurve.append([Double(it) / Double(itersPerEpoch), schedule[it], 1 - schedule[it]])
}

// MARK: 2 · One EMA step on real parameter tensors, in both cores
// The teacher is a separate copy of the student (a Swift value: `var teacher = student` copies).
// Sharing one object instead is a known way to fail: θs - θt is then always 0, the "teacher" is
// the student itself and training collapses (facebookresearch/dinov2 issue #407). Here: a ViT-Tiny/16 backbone and a
// DINO head, the student moved by one pretend optimiser step, then one EMA step with m = 0.996.
lesson.section("2 · One EMA step on real parameter tensors, in both cores")
func difference(_ a: Tensor, _ b: Tensor) -> Tensor {
    Tensor(shape: a.shape, zip(a.storage, b.storage).map { $0 - $1 })
}
func norm(_ tensors: [Tensor]) -> Double {
    tensors.reduce(0.0) { $0 + $1.storage.reduce(0.0) { $0 + Double($1) * Double($1) } }.squareRoot()
}
let backbone =
    lesson.quick ? ViTConfig(imageSize: 64, patchSize: 16, dim: 192, depth: 2, heads: 3) : ViTConfig.tiny()
let headConfig = DINOHeadConfig(inDim: backbone.dim, outDim: lesson.quick ? 1024 : 4096)
let network: DINONetwork<SIMDKernels>
do {
    network = try DINONetwork<SIMDKernels>(backbone: backbone, head: headConfig, seed: lesson.seed)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
let names = network.allParameters.map(\.name)
let studentStart = network.allParameters.map(\.value)
let teacherStart = studentStart  // a copy: independent storage
var student = studentStart
var stepRng = SplitMix64(seed: lesson.seed &+ 5)
for i in student.indices {  // a pretend AdamW step: ±lr = 5e-4
    for j in 0..<student[i].count { student[i].storage[j] += 5e-4 * stepRng.normal() }
}
let parameterCount = student.reduce(0) { $0 + $1.count }
print(
    "\(backbone) + head \(headConfig): \(student.count) tensors, \(parameterCount) values"
        + (lesson.quick ? "   [--quick: a 2-block ViT and K = 1024]" : ""))
print(
    "after the student's step the teacher is untouched: max |θt - θt(start)| = "
        + "\(zip(teacherStart, studentStart).map { Stats.maxAbs(difference($0, $1)) }.max()!)")

var teacherReference = teacherStart, teacherSIMD = teacherStart
for i in student.indices {
    ReferenceKernels.emaUpdate(&teacherReference[i], toward: student[i], momentum: 0.996)
    SIMDKernels.emaUpdate(&teacherSIMD[i], toward: student[i], momentum: 0.996)
}
let coreDelta = zip(teacherReference, teacherSIMD).map { Stats.maxAbs(difference($0, $1)) }.max()!
let moved = norm(zip(teacherReference, teacherStart).map { difference($0, $1) })
let gapBefore = norm(zip(student, teacherStart).map { difference($0, $1) })
let gapAfter = norm(zip(student, teacherReference).map { difference($0, $1) })
print("   tensor                                 shape             ‖θs - θt‖ before   after    ratio")
for i in [0, 1, 2, 6, names.count / 2, names.count - 1] {
    let before = norm([difference(student[i], teacherStart[i])]),
        after = norm([difference(student[i], teacherReference[i])])
    print(
        "   " + names[i].padding(toLength: 38, withPad: " ", startingAt: 0) + " "
            + "\(student[i].shape)".padding(toLength: 18, withPad: " ", startingAt: 0)
            + String(format: "%.5e     %.5e   %.4f", before, after, after / before))
}
print(
    String(
        format:
            "all %d tensors: ‖θt' - θt‖ / ‖θs - θt‖ = %.6f (1 - m = 0.004); the gap shrinks by %.6f (m = 0.996)",
        student.count, moved / gapBefore, gapAfter / gapBefore))
print(
    String(
        format:
            "largest |reference - SIMD| over %d values: %.1e (both compute θt·m + (1-m)·θs in two roundings)",
        parameterCount, Double(coreDelta)))
lesson.claim(
    "the teacher moves 1 - m = 0.4% of the way to the student (to 1e-4)",
    abs(moved / gapBefore - 0.004) < 1e-4 && abs(gapAfter / gapBefore - 0.996) < 1e-4)
lesson.claim("both cores give bit-identical teachers", coreDelta == 0)
var unchanged = teacherStart, copied = teacherStart
for i in student.indices {
    SIMDKernels.emaUpdate(&unchanged[i], toward: student[i], momentum: 1)
    SIMDKernels.emaUpdate(&copied[i], toward: student[i], momentum: 0)
}
lesson.claim(
    "m = 1 leaves the teacher frozen, m = 0 makes it a copy of the student (no averaging)",
    unchanged == teacherStart && copied == student)

// MARK: 3 · A noisy problem: the averaged weights beat the weights they average
// Polyak-Ruppert averaging, the paper's reading of why the teacher is better than the student
// (Fig. 6: its k-NN accuracy stays above the student's for the whole run). With a constant, large
// step and small batches, AdamW does not settle at the optimum: the student jitters around it.
// The EMA averages the last ~1/(1 - m) students, and the jitter averages out. This is a
// supervised toy; lesson 09 follows teacher and student of a real DINO run (k-NN and the
// attention's Jaccard on cluttered scenes) and shows where a short run stands on that curve.
// Problem: label 6 overlapping clusters in 8 dimensions (the toy data of lesson 03, labels shown
// this time) with a linear softmax classifier. Student: AdamW, lr 0.05, batch 8. Teacher: EMA of
// the student with the cosine schedule 0.996 → 1 over the run. Both measured on 4000 held-out points.
lesson.section("3 · A noisy problem: the averaged weights beat the weights they average")
let classes = 6, inputs = 8, evaluateEvery = 20, batch = 8
let steps = lesson.int("--steps", default: 3000, in: 100...1_000_000)
let learningRate = Float(lesson.double("--lr", default: 0.05, in: 1e-6...10))
var dataRng = SplitMix64(seed: lesson.seed)
let clusters = ToyClusters(clusters: classes, dim: inputs, separation: 0.8, spread: 0.6, rng: &dataRng)
let (testPoints, testLabels) = clusters.sample(4000, rng: &dataRng)

/// A linear softmax classifier `z = x·Wᵀ + b`; parameters `[W (classes, inputs), b (classes)]`.
func logits<K: KernelSet>(_ k: K.Type, _ p: [Tensor], _ x: Tensor) -> Tensor {
    var z = Tensor(shape: [x.rows, classes])
    K.matmul(x, p[0], layout: .nt, bias: p[1], accumulate: false, into: &z)
    return z
}
/// Mean cross-entropy and accuracy on a labelled set.
func evaluate<K: KernelSet>(
    _ k: K.Type, _ p: [Tensor], _ x: Tensor, _ labels: [Int]
) -> (loss: Double, accuracy: Double) {
    let z = logits(k, p, x)
    var lp = Tensor(shape: z.shape)
    K.logSoftmax(z, temperature: 1, into: &lp)
    var loss = 0.0, correct = 0
    for i in 0..<x.rows {
        loss -= Double(lp[i, labels[i]])
        let row = lp.row(i)
        if row.indices.max(by: { row[$0] < row[$1] }) == labels[i] { correct += 1 }
    }
    return (loss / Double(x.rows), Double(correct) / Double(x.rows))
}
struct Curves {
    var step: [Int] = [], student: [(loss: Double, accuracy: Double)] = [],
        teacher: [(loss: Double, accuracy: Double)] = []
}
/// Trains the student and its EMA teacher; evaluates both every `evaluateEvery` steps.
func trainWithTeacher<K: KernelSet>(_ k: K.Type, steps: Int) -> Curves {
    var rng = SplitMix64(seed: lesson.seed &+ 11)
    var studentWeights = [rng.normalTensor([classes, inputs], std: 0.1), Tensor(shape: [classes])]
    var teacherWeights = studentWeights
    var optimizer = ToyAdamW(for: studentWeights, hyper: AdamWHyper(lr: learningRate, weightDecay: 0))
    let momentum = Schedule.cosine(base: baseMomentum, final: 1, epochs: 1, itersPerEpoch: steps)
    var curves = Curves()
    for step in 0...steps {
        if step % evaluateEvery == 0 {
            curves.step.append(step)
            curves.student.append(evaluate(k, studentWeights, testPoints, testLabels))
            curves.teacher.append(evaluate(k, teacherWeights, testPoints, testLabels))
        }
        if step == steps { break }
        let (x, labels) = clusters.sample(batch, rng: &rng)
        // ∂ mean CE / ∂z = (softmax(z) - onehot(y)) / B
        let z = logits(k, studentWeights, x)
        var p = Tensor(shape: z.shape)
        K.softmax(z, temperature: 1, into: &p)
        for i in 0..<batch { p[i, labels[i]] -= 1 }
        var dz = Tensor(shape: z.shape)
        K.scale(p, by: 1 / Float(batch), into: &dz)
        var dW = Tensor(shape: [classes, inputs]), db = Tensor(shape: [classes])
        K.matmul(dz, x, layout: .tn, bias: nil, accumulate: false, into: &dW)
        K.columnSums(dz, accumulate: false, into: &db)
        optimizer.update(k, &studentWeights, gradients: [dW, db], decay: [true, false])
        for i in teacherWeights.indices {  // the EMA runs after the optimiser step
            K.emaUpdate(&teacherWeights[i], toward: studentWeights[i], momentum: Float(momentum[step]))
        }
    }
    return curves
}
let curves = trainWithTeacher(SIMDKernels.self, steps: steps)
let referenceCurves = trainWithTeacher(ReferenceKernels.self, steps: steps)
let trainingDelta = zip(referenceCurves.teacher + referenceCurves.student, curves.teacher + curves.student)
    .map { abs($0.loss - $1.loss) }.max()!
print("   step    student: test loss  accuracy    teacher: test loss  accuracy")
for index in [0, 1, 5, 10, 25, 50, 75, 100, 125].filter({ $0 < curves.step.count - 1 }) + [
    curves.step.count - 1
] {
    print(
        String(
            format: "  %5d              %.4f    %.4f               %.4f    %.4f", curves.step[index],
            curves.student[index].loss, curves.student[index].accuracy, curves.teacher[index].loss,
            curves.teacher[index].accuracy))
}
print(
    String(
        format: "the same run on the reference core: largest |Δ test loss| over both curves %.1e",
        trainingDelta))
// The teacher starts as a copy of the untrained student and forgets it slowly: after t steps the
// initial weights still make up Π_{i<t} m(i) of the teacher (0.996^t early on). Judge the teacher
// once that start-up share has fallen below 5%.
let runMomentum = Schedule.cosine(base: baseMomentum, final: 1, epochs: 1, itersPerEpoch: steps)
var startShare = 1.0, lagEnd = steps
for (i, m) in runMomentum.enumerated() {
    startShare *= m
    if startShare < 0.05 { lagEnd = i + 1; break }
}
let late = curves.step.indices.filter { curves.step[$0] >= lagEnd }
let teacherAhead = late.filter { curves.teacher[$0].loss < curves.student[$0].loss }.count
let meanLoss = (
    student: late.map { curves.student[$0].loss }.reduce(0, +) / Double(late.count),
    teacher: late.map { curves.teacher[$0].loss }.reduce(0, +) / Double(late.count)
)
let meanAccuracy = (
    student: late.map { curves.student[$0].accuracy }.reduce(0, +) / Double(late.count),
    teacher: late.map { curves.teacher[$0].accuracy }.reduce(0, +) / Double(late.count)
)
/// Root mean square of the change between consecutive evaluations: how jumpy a curve is.
func jitter(_ xs: [Double]) -> Double {
    (zip(xs, xs.dropFirst()).reduce(0.0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) } / Double(max(xs.count - 1, 1)))
        .squareRoot()
}
let jitterStudent = jitter(late.map { curves.student[$0].loss }),
    jitterTeacher = jitter(late.map { curves.teacher[$0].loss })
if startShare < 0.05 {
    print(
        String(
            format: "the untrained start makes up < 5%% of the teacher from step %d on; from there:", lagEnd))
} else {
    print(
        String(
            format:
                "the untrained start never falls below 5%% of the teacher (%.0f%% at the end); judged at the last step:",
            100 * startShare))
}
print(
    String(
        format: "teacher's test loss lower at %d of %d evaluations; mean loss student %.4f, teacher %.4f",
        teacherAhead, late.count, meanLoss.student, meanLoss.teacher))
print(
    String(
        format:
            "mean accuracy student %.4f, teacher %.4f; jitter (rms change per evaluation) student %.4f, teacher %.4f",
        meanAccuracy.student, meanAccuracy.teacher, jitterStudent, jitterTeacher))
lesson.claim(
    "after its start-up lag the teacher's test loss is lower at ≥ 90% of the evaluations",
    Double(teacherAhead) >= 0.9 * Double(late.count))
lesson.claim(
    "and on average: lower loss and higher accuracy than the student",
    meanLoss.teacher < meanLoss.student && meanAccuracy.teacher > meanAccuracy.student)
lesson.claim(
    "the teacher's curve is smoother: at most a third of the student's jitter",
    jitterTeacher < jitterStudent / 3)
lesson.claim("both cores train the same curves (test loss to 1e-4)", trainingDelta < 1e-4)

// MARK: 4 · The same teacher in DINO itself
// The toy above is supervised, so "better" has an obvious meaning. In DINO the teacher also makes
// the targets, and the paper's Fig. 6 shows its k-NN accuracy above the student's for the whole
// of a 100-epoch run. The idea is older than DINO: averaging the iterates of SGD is Polyak-Ruppert
// averaging (Polyak & Juditsky 1992), and an EMA of the weights used as a teacher is the Mean
// Teacher of semi-supervised learning (Tarvainen & Valpola 2017); DINO's teacher is the same
// average, used to make targets for itself. Here: a short DINO run (the small `smoke` model of
// lesson 08 on Fashion-MNIST, no labels), with the k-NN accuracy of teacher AND student measured
// four times an epoch. Watch the window 1/(1 - λ) against the iterations done so far: an
// average over the last ~250 students cannot be ahead of a student that improved a lot over
// those 250 steps, and the untrained start still weighs Π λ in the teacher.
lesson.section("4 · The same teacher in DINO itself")
var dinoCurves = Series(columns: ["epochs", "knn_teacher", "knn_student", "momentum", "start_share"])
do {
    var config = try TrainingConfig.preset("smoke")
    config.seed = lesson.seed
    config.trainLimit = lesson.quick ? 1024 : 8192
    config.epochs = Double(lesson.int("--dino-epochs", default: lesson.quick ? 1 : 4, in: 1...1000))
    config.warmupEpochs = min(config.warmupEpochs, config.epochs / 4)
    config.evalsPerEpoch = 4
    config.knnEvery = 1
    config.knnTrainSize = min(config.trainLimit!, 4096)
    config.knnTestSize = lesson.quick ? 256 : 2000
    config.teacherMomentum = baseMomentum
    let train = try DataSources.load(config.dataset, split: .train)
    let test = try DataSources.load(config.dataset, split: .test)
    var trainer = try DINOTrainer<SIMDKernels>(config: config, train: train, test: test)
    print(
        "preset 'smoke' (D \(config.dim), depth \(config.depth), \(config.heads) heads, K \(config.outDim)), \(config.trainLimit!) images × "
            + "\(Int(config.epochs)) epochs = \(trainer.totalIterations) iterations, λ \(baseMomentum) → 1; k-NN@20 on \(config.knnTrainSize) / \(config.knnTestSize)"
    )
    let start = try trainer.evaluate(iteration: 0)
    try trainer.run()
    let records = [start] + trainer.evaluations
    print(
        "  epochs   iteration   λ now      window 1/(1-λ)   start still in the teacher   k-NN teacher   student"
    )
    var share = 1.0, done = 0
    for r in records {
        while done < r.iteration { share *= trainer.momentumSchedule[done]; done += 1 }
        let window = 1 / max(1 - r.momentum, 1e-12)
        print(
            String(
                format:
                    "  %5.2f    %6d      %.5f    %8.0f iterations     %5.1f%%                 %6.2f%%       %6.2f%%",
                r.epochs, r.iteration, r.momentum, window, 100 * share, r.knnTeacher ?? .nan,
                r.knnStudent ?? .nan))
        dinoCurves.append([r.epochs, r.knnTeacher ?? .nan, r.knnStudent ?? .nan, r.momentum, share])
    }
    let last = records[records.count - 1]
    let teacherKNN = records.compactMap(\.knnTeacher), studentKNN = records.compactMap(\.knnStudent)
    let band = (
        teacher: teacherKNN.max()! - teacherKNN.min()!, student: studentKNN.max()! - studentKNN.min()!
    )
    print(
        String(
            format:
                "band of the k-NN curve over the run: teacher %.2f points (%.2f%% … %.2f%%), student %.2f points (%.2f%% … %.2f%%)",
            band.teacher, teacherKNN.min()!, teacherKNN.max()!, band.student, studentKNN.min()!,
            studentKNN.max()!))
    if !lesson.quick {
        lesson.claim(
            String(
                format:
                    "the teacher moves less: its k-NN stays in a band of %.2f points, the student's spans %.2f",
                band.teacher, band.student),
            band.teacher < band.student)
        lesson.claim(
            String(
                format:
                    "after %d iterations %.0f%% of the teacher is still the untrained network, and the student ends ahead (%.2f%% vs %.2f%%)",
                last.iteration, 100 * share, last.knnStudent ?? .nan, last.knnTeacher ?? .nan),
            share > 0.2 && (last.knnStudent ?? 0) > (last.knnTeacher ?? 100))
    }
    print(
        """

        Reading it: the teacher starts as a copy of the untrained network (whose random features already
        give Fashion-MNIST a fair k-NN score) and leaves it slowly: the product of the λs says how much
        of the start is left. While the student first gets worse and then better, the teacher, an
        average over the last 1/(1 - λ) students, takes neither swing fully: that is the stability Mean
        Teacher and Polyak-Ruppert averaging are used for. But a run of a few hundred iterations is as
        long as the window, so the average also contains students much older than the current one,
        and at the end it lags. The paper's Fig. 6, a teacher ahead for a whole run, is a 100-epoch run
        (125 000 iterations): there the start is forgotten within the first epoch, the student mostly
        wanders around good solutions, and the average of the wandering is better than any one point.
        Lesson 09 follows teacher and student through a longer run, with attention as well as k-NN.
        """)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

// MARK: 5 · Charts
lesson.section("5 · Charts")
plotOrExit(
    "momentum-schedule", scheduleCurve,
    ChartSpec(
        title: "Teacher momentum m(it) = 1 - 0.004·(1 + cos(π·it/T))/2, per iteration (100 epochs × 1251)",
        x: "epoch", y: "m",
        curves: [.init(using: "1:2", title: "m(it)")],
        extra: ["set yrange [0.9958:1.0002]", "set format y \"%.4f\"", "unset key"]))
// The end of the schedule, where 1 - m falls by seven orders of magnitude in the last few epochs,
// is a sliver at the right edge of any chart over epochs. Against the iterations still to go,
// r = T - it, on log-log axes it is a straight line: 1 - m ≈ 0.004·(π·r/(2T))² for small r.
var endCurve = Series(columns: ["iterations_to_go", "one_minus_momentum", "small_r_approximation"])
var r = 1.0
while Int(r) <= total {
    let it = total - Int(r)
    endCurve.append([r, 1 - schedule[it], 0.004 * pow(Double.pi * r / (2 * Double(total)), 2)])
    r = max(r + 1, (r * 1.15).rounded())
}
plotOrExit(
    "momentum-schedule-end", endCurve,
    ChartSpec(
        title: "1 - m against the iterations still to go (log-log): the teacher's updates vanish at the end",
        x: "iterations until the end of training, T - it", y: "1 - m(it)", logX: true, logY: true,
        curves: [
            .init(using: "1:2", title: "1 - m(it)", style: "lines lw 2"),
            .init(
                using: "1:3", title: "0.004·(π·r/2T)^2, the small-r approximation", style: "lines dt 2 lw 1.5"
            ),
        ],
        extra: [
            "set format y \"1e%L\"", "set format x \"1e%L\"", "set key top left inside",
            String(
                format: "set arrow from %d, graph 0 to %d, graph 1 nohead dt 3", itersPerEpoch, itersPerEpoch),
            String(format: "set label \"last epoch\" at %d, graph 0.08 right offset -0.5,0", itersPerEpoch),
        ]))
var lossCurves = Series(columns: [
    "step", "student_test_loss", "teacher_test_loss", "student_accuracy", "teacher_accuracy", "momentum",
])
for (i, step) in curves.step.enumerated() {
    lossCurves.append([
        Double(step), curves.student[i].loss, curves.teacher[i].loss, curves.student[i].accuracy,
        curves.teacher[i].accuracy, runMomentum[min(step, steps - 1)],
    ])
}
let lagMarker = [
    String(format: "set arrow from %d, graph 0 to %d, graph 1 nohead dt 3", lagEnd, lagEnd),
    String(format: "set label \"start < 5%% of the teacher\" at %d, graph 0.04 left offset 0.5,0", lagEnd),
]
plotOrExit(
    "teacher-vs-student-loss", lossCurves,
    ChartSpec(
        title: "Test loss of the student (AdamW, lr 0.05, batch 8) and of its EMA teacher",
        x: "step", y: "test cross-entropy (nats, log scale)", logY: true,
        curves: [
            .init(using: "1:2", title: "student"), .init(using: "1:3", title: "EMA teacher (m 0.996 → 1)"),
        ],
        extra: lagMarker + ["set key top right inside", "set yrange [0.07:2.2]"]))
plotOrExit(
    "teacher-vs-student-accuracy", lossCurves,
    ChartSpec(
        title: "Test accuracy of the student and of its EMA teacher (cf. the paper's Fig. 6)",
        x: "step", y: "test accuracy (zoomed: the first steps start lower)",
        curves: [
            .init(using: "1:4", title: "student"), .init(using: "1:5", title: "EMA teacher (m 0.996 → 1)"),
        ],
        extra: lagMarker + ["set key bottom right inside", "set yrange [0.90:0.975]"]))
plotOrExit(
    "dino-teacher-vs-student", dinoCurves,
    ChartSpec(
        title: "DINO on Fashion-MNIST (smoke model): k-NN@20 of the EMA teacher and of the student",
        x: "epochs", y: "k-NN@20 top-1 (%)",
        curves: [
            .init(using: "1:3", title: "student", style: "linespoints lw 2 pt 7"),
            .init(using: "1:2", title: "EMA teacher", style: "linespoints lw 2 pt 5"),
        ],
        extra: ["set key bottom right inside"]))
lesson.finish()
