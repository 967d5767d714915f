// Lessons/09-emerging-properties/main.swift · Lesson 09 · The emerging properties · Walkthroughs/09-emerging-properties.md
// What the paper is named for, measured on a CPU: a DINO teacher's last-block [CLS] attention finds
// the object (Jaccard with its true mask, against a random-init ViT and a supervised ViT trained on
// the labels with the same backbone), its features beat pixels at k-NN, and teacher and student
// are followed through training (the paper's Fig. 6). The data: cluttered Fashion-MNIST scenes,
// one item among fragments of others on a 56-px canvas, with exact masks.
// Run: swift run -c release lesson09-emerging-properties   (about 8.5 + 8.5 minutes of training, 25 in all, on 2 cores)
//      --quick: 1 024 items, a tiny ViT, seconds
// Flags: --run DIR (default runs/09-emerging-properties), --epochs N (DINO), --supervised-epochs N,
//        --momentum λ (the teacher's starting momentum), --resume yes (reuse finished runs in DIR),
//        --eval-train N / --eval-test N (evaluation subsets; default the full 60k bank / 10k test)
import DINOCore
import DINOData
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import SIMDCore

setvbuf(stdout, nil, _IOLBF, 0)
var lesson = Lesson(
    "09-emerging-properties", title: "The emerging properties: attention that finds the object",
    defaultSeed: 0,
    knobs: [
        Knob("--epochs", "E", "epochs of the DINO run (the default preset's by default)"),
        Knob("--supervised-epochs", "E", "epochs of the supervised run"),
        Knob("--momentum", "λ", "the teacher's base EMA momentum", default: "0.996"),
        Knob("--eval-train", "N", "train images the k-NN memory bank holds (all by default)"),
        Knob("--eval-test", "N", "test images k-NN classifies (all by default)"),
        Knob("--run", "DIR", "the folder of the two runs", changesResults: false),
        Knob(
            "--resume", "yes|no", "carry on from the runs' last checkpoints", default: "no",
            changesResults: false),
    ])

func fail(_ message: String) -> Never { lessonFail(message) }
func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
let resume: Bool
switch lesson.option("--resume") ?? "no" {
case "yes": resume = true
case "no": resume = false
case let other: fail("--resume takes yes or no, got '\(other)'")
}

// MARK: 1 · The scenes: one garment among fragments of others, and its exact mask
// On 28-px Fashion-MNIST the garment IS the image: black background, nothing else, so a map
// that "finds the object" cannot be told from one that finds the bright pixels. A scene puts one
// Fashion-MNIST item at a random place on a 56 × 56 canvas strewn with 8 fragments (8 × 8 px)
// cut from other items: clutter with the same strokes and textures as the object, but no whole
// garment. The item's pixels replace the canvas where it is > 0, and its MASK is the item's
// pixels > 0.1: we know exactly where the object is, pixel for pixel. Training draws a fresh
// scene for every item every epoch (new clutter, new place); evaluation uses fixed scenes: a
// k-NN bank of one scene per training item and a test set of one per test item.
lesson.section("1 · The scenes: one garment among fragments of others, and its exact mask")
var config: TrainingConfig
do { config = try TrainingConfig.preset("scenes") } catch { fail("\(error)") }
var supervisedConfig = try! TrainingConfig.preset("scenes-supervised")
config.seed = lesson.seed
supervisedConfig.seed = lesson.seed
if lesson.quick {
    // 1 024 items, a ViT of width 32 and depth 2, 2 local crops: the whole lesson in seconds.
    func shrink(_ c: inout TrainingConfig, epochs: Double) {
        c.trainLimit = 1024; c.batchSize = 64; c.dim = 32; c.depth = 2; c.heads = 2; c.headHidden = 64
        c.outDim = 256; c.localCount = c.supervised == true ? 0 : 2; c.knnTrainSize = 1024;
        c.knnTestSize = 256
        c.epochs = epochs; c.warmupEpochs = 0.1 * epochs;
        c.freezeLastLayerEpochs = c.supervised == true ? 0 : 0.05 * epochs
    }
    shrink(&config, epochs: 1)
    shrink(&supervisedConfig, epochs: 2)
    config.evalsPerEpoch = 2
}
if let e = lesson.double("--epochs", in: 0.01...1000) {
    config.epochs = e; config.warmupEpochs = 0.1 * e; config.freezeLastLayerEpochs = 0.05 * e
}
if let e = lesson.double("--supervised-epochs", in: 0.01...1000) {
    supervisedConfig.epochs = e; supervisedConfig.warmupEpochs = 0.1 * e
}
if let m = lesson.double("--momentum", in: 0...1) { config.teacherMomentum = m }
let runRoot =
    lesson.option("--run")
    ?? (lesson.quick
        ? NSTemporaryDirectory() + "lesson09-quick-\(ProcessInfo.processInfo.processIdentifier)"
        : "runs/09-emerging-properties")
let dinoFolder = runRoot + "/dino", supervisedFolder = runRoot + "/supervised"

let generator: SceneGenerator
let bank: Dataset, test: Dataset
do {
    generator = try DataSources.sceneGenerator(config.dataset)!
    bank = DataSources.fixedScenes(generator, spec: config.dataset, split: .train)
    test = try DataSources.load(config.dataset, split: .test)
} catch { fail("the scenes need Fashion-MNIST (make installs dataset-fashion-mnist): \(error)") }
let s = generator.config.size, plane = s * s
let maskShare = test.masks!.reduce(0) { $0 + Int($1) }
print(
    "canvas \(s) × \(s), \(generator.config.clutter) fragments of \(generator.config.fragment) × \(generator.config.fragment) px, items \(generator.items.width) × \(generator.items.width) px"
)
print(
    "k-NN bank: \(bank.count) scenes (one per training item, seed \(DataSources.sceneBankSeed)); test: \(test.count) scenes (one per test item, seed \(DataSources.sceneTestSeed))"
)
print(
    String(
        format: "object mask: %.1f%% of the test canvas on average (the item's pixels > 0.1, byte ≥ %d)",
        100 * Double(maskShare) / Double(test.masks!.count), generator.maskByte))
// The same scene twice from the same stream: a scene is a pure function of (seed, item).
var again = [UInt8](repeating: 0, count: plane), againMask = [UInt8](repeating: 0, count: plane)
var rng0 = SplitMix64(seed: MultiCrop.streamSeed(seed: DataSources.sceneBankSeed, epoch: -1, index: 0))
again.withUnsafeMutableBufferPointer { p in
    againMask.withUnsafeMutableBufferPointer { m in
        generator.render(item: 0, rng: &rng0, pixels: p.baseAddress!, mask: m.baseAddress!)
    }
}
lesson.claim(
    "a scene is reproducible: bank scene 0 redrawn from its stream is the same, pixel for pixel",
    Array(bank.pixels[0..<plane]) == again && Array(bank.masks![0..<plane]) == againMask)
// The mask is exactly the item's bright pixels: their count equals the item's count of bytes ≥ 26.
let item0 = Array(generator.items.pixels[0..<(28 * 28)])
lesson.claim(
    "the mask of bank scene 0 covers exactly the item's pixels > 0.1 (\(item0.filter { $0 >= generator.maskByte }.count) pixels)",
    againMask.reduce(0) { $0 + Int($1) } == item0.filter { $0 >= generator.maskByte }.count)

/// A contact sheet: rows of equal-size RGB pictures, enlarged by `scale`, with gaps.
func sheet(_ rows: [[Image]], scale: Int, gap: Int = 4, gapAfter: Int? = nil) -> Image {
    let w = rows[0][0].width * scale, h = rows[0][0].height * scale
    let columns = rows.map(\.count).max()!
    let extra = gapAfter == nil ? 0 : 3 * gap
    var out = Image(
        width: columns * (w + gap) + gap + extra, height: rows.count * (h + gap) + gap, channels: 3, fill: [1]
    )
    for (r, row) in rows.enumerated() {
        for (c, picture) in row.enumerated() {
            let x = gap + c * (w + gap) + (gapAfter.map { c > $0 ? extra : 0 } ?? 0)
            out.paste(picture.rgb.upscaledNearest(scale), x: x, y: gap + r * (h + gap))
        }
    }
    return out
}
/// A scene with its mask in green.
func masked(_ i: Int, of data: Dataset) -> Image {
    var image = data.image(i).rgb
    let m = data.masks!
    for k in 0..<(data.height * data.width) where m[i * data.height * data.width + k] != 0 {
        let g = image.pixels[k]
        image.pixels[k] = 0.35 * g
        image.pixels[data.height * data.width + k] = 0.45 + 0.55 * g
        image.pixels[2 * data.height * data.width + k] = 0.35 * g
    }
    return image
}
var firstOfClass: [Int] = []
for c in 0..<test.classCount { if let i = test.labels.firstIndex(of: c) { firstOfClass.append(i) } }
let shown = Array(firstOfClass.prefix(8))
try Files.ensureDirectory(lesson.plotDirectory)
let shownNames = shown.map { test.classNames[test.labels[$0]] }
var scenesCaptions = SheetCaptions(
    title: "\(shown.count) test scenes, one per class: a garment among fragments of others, \(s) × \(s) px",
    footer:
        "Bottom row: the object's exact mask in green (the item's pixels > 0.1), what the attention is measured against."
)
scenesCaptions.columnBands = [SheetCaptions.grid(shownNames, origin: 4, cell: 3 * s, gap: 4)]
scenesCaptions.rows = SheetCaptions.grid(["scene", "true mask"], origin: 4, cell: 3 * s, gap: 4)
let scenesSheet = sheet([shown.map { test.image($0) }, shown.map { masked($0, of: test) }], scale: 3)
    .captioned(scenesCaptions)
try scenesSheet.writePNG(lesson.plotDirectory + "/scenes.png")
print(
    "wrote \(lesson.plotDirectory)/scenes.png: top row 8 test scenes ("
        + shown.map { test.classNames[test.labels[$0]] }.joined(separator: ", ")
        + "), bottom row their masks in green")
let prior = try Segmentation.centredSquare(test, fraction: 0.25)
print(
    String(
        format: "no model at all: a centred square of 25%% of the canvas has Jaccard %.2f with the masks",
        prior))

// MARK: 2 · Before any training: what pixels and random weights see
// Two baselines give the numbers their meaning. Raw pixels: k-NN on the normalised canvas, where
// a garment at another place or among other clutter is a different vector. A random-init ViT:
// the exact network DINO starts from; its [CLS] attention is nearly uniform over the 64 patches,
// so its 60%-mass region is a scatter of about 60% of the canvas, and its Jaccard with a 12%
// object stays low.
lesson.section("2 · Before any training: what pixels and random weights see")
let evalTrain = lesson.int("--eval-train", in: 1...Int.max) ?? (lesson.quick ? 1024 : nil)
let evalTest = lesson.int("--eval-test", in: 1...Int.max) ?? (lesson.quick ? 256 : nil)
let nBank = min(evalTrain ?? bank.count, bank.count), nTest = min(evalTest ?? test.count, test.count)
var vit = config.vit
vit.channels = 1
vit.dropPathRate = 0
var randomInit = try DINONetwork<SIMDKernels>(backbone: vit, head: config.headConfig(), seed: config.seed)
    .backbone
let stats = (config.trainLimit.map { bank.prefix($0) } ?? bank).channelStatistics()
let normalization = Normalization(mean: stats.mean.map(Float.init), std: stats.std.map(Float.init))
print(
    String(
        format: "normalisation: mean %.4f, std %.4f (the bank's own statistics, as training uses)",
        stats.mean[0], stats.std[0]))
let evaluator = Evaluator(trainSize: nBank, testSize: nTest)
let ks = [10, 20, 100, 200]
// Pixels come in two flavours: the plain [0, 1] values (cosine of the raw pixel vectors), and the
// values normalised like the network's input, (x − mean)/std (what `dino eval` reports). Cosine
// similarity of the plain values only sees bright pixels that overlap; after the mean is
// subtracted the dark background counts too (two scenes dark in the same places now agree),
// which on these scenes is a much stronger baseline.
let plainPixels = Normalization(mean: [0], std: [1])
let plainPixelKNN = try evaluator.knn(
    SIMDKernels.self, train: evaluator.pixels(bank, normalization: plainPixels, limit: nBank),
    trainLabels: bank.labels, test: evaluator.pixels(test, normalization: plainPixels, limit: nTest),
    testLabels: test.labels, classes: 10, ks: ks)
let pixelKNN = try evaluator.knn(
    SIMDKernels.self, train: evaluator.pixels(bank, normalization: normalization, limit: nBank),
    trainLabels: bank.labels, test: evaluator.pixels(test, normalization: normalization, limit: nTest),
    testLabels: test.labels, classes: 10, ks: ks)
let randomKNN = try evaluator.knn(
    SIMDKernels.self, backbone: &randomInit, train: bank, test: test, normalization: normalization, ks: ks)
let randomJaccard = try Segmentation.evaluate(
    &randomInit, data: test, normalization: normalization, limit: nTest)
print(
    String(
        format:
            "k-NN@20 on %d bank / %d test scenes: raw pixels %.2f%% ([0, 1] values) and %.2f%% (normalised), random-init ViT %.2f%%",
        nBank, nTest, plainPixelKNN[20]!, pixelKNN[20]!, randomKNN[20]!))
print(
    "random-init Jaccard per head: "
        + randomJaccard.perHead.map { String(format: "%.2f", $0) }.joined(separator: ", ")
        + String(format: " (best %.2f)", randomJaccard.best))

// MARK: 3 · Train DINO on the scenes
// The default run's recipe (BatchNorm head, K = 2048, τt 0.04, blur ≤ 1 px) on 56-px scenes:
// global crops of 56 px (8 × 8 patches of 7 px + CLS), local crops of 28 px (4 × 4). No label,
// no mask is ever seen. Four times an epoch the trainer measures teacher AND student: k-NN@20
// on 10 000 bank / 2 000 test scenes and the Jaccard on the 2 000 (the curves of §7).
lesson.section("3 · Train DINO on the scenes")
print(
    "preset '\(config.name)': \(config.imageSize)-px scenes, patch \(config.patchSize), D \(config.dim), depth \(config.depth), \(config.heads) heads, "
        + "\(config.localCount) local crops of \(config.localSize) px, \(config.epochsText) epochs, λ \(config.teacherMomentum) → 1, τt \(config.teacherTemperature)"
)
let dinoStart = Date()
var dinoSeconds = 0.0
do {
    var run = TrainingRun(config: config, folder: dinoFolder)
    run.resume = resume && FileManager.default.fileExists(atPath: dinoFolder + "/checkpoint/state.json")
    run.overwrite = !run.resume  // the lesson's own run folder: a re-run starts it again
    run.printEvery = max(1, (lesson.quick ? 512 : 25_600) / config.batchSize)
    let trainer = try run.run(SIMDKernels.self)
    dinoSeconds = trainer.epochs.reduce(0) { $0 + $1.seconds }
} catch { fail("DINO training failed: \(error)") }
let dinoWall = Date().timeIntervalSince(dinoStart)

// MARK: 4 · The supervised baseline: the same backbone, trained on the labels
// The paper's comparison (its Table 7: supervised ViT-S/8 27.3 Jaccard against DINO's 45.9): the
// same ViT from the same initial weights, a linear classifier on its [CLS] feature, cross-entropy
// on the labels, AdamW, one global-style crop per image (RandomResizedCrop 0.4–1 and a flip). One
// crop instead of 8 makes an epoch 4.7 times cheaper, so it gets 14 epochs for DINO's 3: about the
// same minutes. It learns what separates the classes, whatever part of the scene that is.
lesson.section("4 · The supervised baseline: the same backbone, trained on the labels")
let supervisedStart = Date()
var supervisedSeconds = 0.0
var supervisedAccuracy: Double?
let supervisedDone =
    resume && FileManager.default.fileExists(atPath: supervisedFolder + "/checkpoint/state.json")
do {
    if supervisedDone {
        let c = try Checkpoint.load(run: supervisedFolder)
        supervisedSeconds = c.epochs.reduce(0) { $0 + $1.seconds }
        print("reusing the finished supervised run in \(supervisedFolder) (--resume yes)")
    } else {
        var run = TrainingRun(config: supervisedConfig, folder: supervisedFolder)
        run.overwrite = true
        run.printEvery = max(1, (lesson.quick ? 1024 : 76_800) / supervisedConfig.batchSize)
        var trainer = try run.runSupervised(SIMDKernels.self)
        supervisedSeconds = trainer.epochs.reduce(0) { $0 + $1.seconds }
        supervisedAccuracy = trainer.accuracy()
    }
} catch { fail("supervised training failed: \(error)") }
let supervisedWall = Date().timeIntervalSince(supervisedStart)

// MARK: 5 · Attention that finds the object: the paper's Jaccard
// For every head of the last block: the [CLS] query's attention over the 64 patches, the patches
// that hold 60% of its mass (visualize_attention.py's threshold), blown up to 56 × 56 pixels by
// nearest neighbour, and its Jaccard |A ∩ M| / |A ∪ M| with the object's mask, averaged over the
// test scenes. The paper reports the best head on PASCAL VOC12 (ViT-S/16: random 22.0, supervised
// 27.3, DINO 45.9).
lesson.section("5 · Attention that finds the object: the paper's Jaccard")
var teacherModel: TrainedModel<SIMDKernels>
var supervisedModel: TrainedModel<SIMDKernels>
var studentBackbone: ViT<SIMDKernels>
let dinoCheckpoint: Checkpoint
do {
    teacherModel = try TrainedModel<SIMDKernels>(checkpoint: dinoFolder, train: bank)
    supervisedModel = try TrainedModel<SIMDKernels>(checkpoint: supervisedFolder, train: bank)
    dinoCheckpoint = try Checkpoint.load(run: dinoFolder)
    studentBackbone = teacherModel.randomInit
    try studentBackbone.load(dinoCheckpoint.dictionary(\.student))
} catch { fail("loading the trained runs: \(error)") }
let evalStart = Date()
let teacherJ = try Segmentation.evaluate(
    &teacherModel.backbone, data: test, normalization: normalization, limit: nTest)
let studentJ = try Segmentation.evaluate(
    &studentBackbone, data: test, normalization: normalization, limit: nTest)
let supervisedJ = try Segmentation.evaluate(
    &supervisedModel.backbone, data: test, normalization: normalization, limit: nTest)
print("Jaccard (%) of the 60%-mass [CLS] attention with the object mask, \(nTest) test scenes")
print("model                       best head   per head                        paper (VOC12, ViT-S/16)")
func jrow(_ name: String, _ j: JaccardResult?, value: Double? = nil, _ paper: String) {
    let best = j?.best ?? value ?? .nan
    let heads = j.map { $0.perHead.map { String(format: "%5.1f", $0) }.joined(separator: " ") } ?? "-"
    print(
        name.padding(toLength: 28, withPad: " ", startingAt: 0) + String(format: "%9.2f", best) + "   "
            + heads.padding(toLength: 32, withPad: " ", startingAt: 0) + paper)
}
jrow("centred square, 25%", nil, value: prior, "-")
jrow("random-init ViT", randomJaccard, "22.0")
jrow("supervised ViT (labels)", supervisedJ, "27.3")
jrow("DINO student", studentJ, "-")
jrow("DINO teacher", teacherJ, "45.9")
let ratio = teacherJ.best / randomJaccard.best
print(
    String(
        format:
            "DINO teacher / random init = %.2fx (the paper: 45.9 / 22.0 = 2.09x); DINO teacher − supervised = %+.2f points",
        ratio, teacherJ.best - supervisedJ.best))
if lesson.quick {
    print(
        "(the Jaccard claims need the full run: a 2-block ViT of width 32 trained for one epoch on 1 024 items)"
    )
    lesson.claim(
        "every Jaccard is a percentage",
        [teacherJ, studentJ, supervisedJ, randomJaccard].allSatisfy {
            $0.perHead.allSatisfy { (0...100).contains($0) }
        })
} else {
    lesson.claim(
        String(
            format: "the DINO teacher's attention finds the object: Jaccard %.2f ≥ 1.8 × random init's %.2f",
            teacherJ.best, randomJaccard.best), teacherJ.best >= 1.8 * randomJaccard.best)
    lesson.claim(
        String(
            format: "better than the labels teach: DINO teacher %.2f > supervised ViT %.2f",
            teacherJ.best, supervisedJ.best), teacherJ.best > supervisedJ.best)
    lesson.claim(
        String(
            format: "no trivial prior explains it: DINO teacher %.2f > the centred square's %.2f",
            teacherJ.best, prior),
        teacherJ.best > prior)
}

// The pictures: the same 8 test scenes seen by the three networks. Columns: the scene, one heat
// map per head (the 60%-mass region outlined in cyan, the rest faded), the true mask in green.
let sceneImages = shown.map { test.image($0) }
let sceneMasks = shown.map { Array(test.masks![($0 * plane)..<(($0 + 1) * plane)]) }
for (name, what) in [
    ("attention-random-init", "the random-init ViT"), ("attention-dino", "the DINO teacher"),
    ("attention-supervised", "the supervised ViT"),
] {
    let picture: Image
    switch name {
    case "attention-random-init":
        picture = AttentionMaps.render(
            &randomInit, images: sceneImages, normalization: normalization, mass: 0.6, scale: 3,
            masks: sceneMasks)
    case "attention-dino":
        picture = AttentionMaps.render(
            &teacherModel.backbone, images: sceneImages, normalization: normalization, mass: 0.6, scale: 3,
            masks: sceneMasks)
    default:
        picture = AttentionMaps.render(
            &supervisedModel.backbone, images: sceneImages, normalization: normalization, mass: 0.6,
            scale: 3, masks: sceneMasks)
    }
    // Captions: the class of each row, what each column is (AttentionMaps.render's cells are the
    // scene at scale 3, the gap between them what is left of the width), what the colours mean.
    let columns = ["scene"] + (1...config.heads).map { "head \($0)" } + ["true mask"]
    let gap = (picture.width - columns.count * 3 * s) / (columns.count + 1)
    var captions = SheetCaptions(
        title:
            "\(what.prefix(1).uppercased() + what.dropFirst()): last-block CLS attention per head on \(shown.count) test scenes",
        footer:
            "Cyan outline: the patches holding 60% of a head's attention (the rest faded); last column: the object's true "
            + "mask in green. The Jaccard of the two is the paper's measure.")
    captions.columnBands = [SheetCaptions.grid(columns, origin: gap, cell: 3 * s, gap: gap)]
    captions.rows = SheetCaptions.grid(shownNames, origin: gap, cell: 3 * s, gap: gap)
    try picture.captioned(captions).writePNG(lesson.plotDirectory + "/\(name).png")
    print(
        "wrote \(lesson.plotDirectory)/\(name).png: \(what); rows = scenes, columns = scene, heads 1-\(config.heads), true mask"
    )
}
var perHead = Series(columns: ["head", "random_init", "supervised", "dino_student", "dino_teacher"])
for h in 0..<config.heads {
    perHead.append([
        Double(h + 1), randomJaccard.perHead[h], supervisedJ.perHead[h], studentJ.perHead[h],
        teacherJ.perHead[h],
    ])
}
try lesson.plot(
    "jaccard-per-head", perHead,
    ChartSpec(
        title: "Jaccard of each head's 60%-mass attention with the object mask (\(nTest) test scenes)",
        x: "head of the last block",
        y: "Jaccard (%)",
        curves: [
            .init(using: "2:xtic(1)", title: "random-init ViT", style: "histogram"),
            .init(using: "3", title: "supervised ViT", style: "histogram"),
            .init(using: "4", title: "DINO student", style: "histogram"),
            .init(using: "5", title: "DINO teacher", style: "histogram"),
        ],
        extra: [
            "set style data histogram", "set style histogram clustered gap 1",
            "set style fill solid 0.85 border -1",
            "set yrange [0:50]",
            String(
                format: "set arrow from graph 0, first %.3f to graph 1, first %.3f nohead dt 2 lc rgb 'gray'",
                prior, prior),
            String(
                format:
                    "set label 'dashed line: a centred square, no model (%.2f)' at graph 0.02, graph 0.95 tc rgb 'gray40'",
                prior),
        ]))

// MARK: 6 · Features that beat pixels: k-NN and retrieval
// The same weighted k-NN as lesson 07 (cosine on the [CLS] feature, T = 0.07) on the full bank.
// On the scenes, raw pixels compare clutter with clutter: a coat at the top left and one at the
// bottom right share almost no pixels. A feature that has learned what the object is should
// find the same class wherever it stands.
lesson.section("6 · Features that beat pixels: k-NN and retrieval")
let bankTeacher = evaluator.features(
    SIMDKernels.self, backbone: &teacherModel.backbone, data: bank, normalization: normalization, limit: nBank
)
let testTeacher = evaluator.features(
    SIMDKernels.self, backbone: &teacherModel.backbone, data: test, normalization: normalization, limit: nTest
)
let teacherKNN = try evaluator.knn(
    SIMDKernels.self, train: bankTeacher, trainLabels: bank.labels, test: testTeacher,
    testLabels: test.labels, classes: 10, ks: ks)
let studentKNN = try evaluator.knn(
    SIMDKernels.self, backbone: &studentBackbone, train: bank, test: test, normalization: normalization,
    ks: ks)
let supervisedKNN = try evaluator.knn(
    SIMDKernels.self, backbone: &supervisedModel.backbone, train: bank, test: test,
    normalization: normalization, ks: ks)
let evalSeconds = Date().timeIntervalSince(evalStart)
print("weighted k-NN top-1 (%), \(nBank) bank / \(nTest) test scenes")
print("features                   k=10    k=20   k=100   k=200")
for (name, r) in [
    ("raw pixels, [0, 1]", plainPixelKNN), ("raw pixels, normalised", pixelKNN),
    ("random-init ViT", randomKNN), ("supervised ViT (labels)", supervisedKNN),
    ("DINO student", studentKNN), ("DINO teacher", teacherKNN),
] {
    print(
        name.padding(toLength: 24, withPad: " ", startingAt: 0)
            + ks.map { String(format: "%8.2f", r[$0]!) }.joined())
}
if let supervisedAccuracy {
    print(
        String(
            format:
                "(the supervised ViT's own classifier: %.2f%% test accuracy; its k-NN uses labels in training, DINO's does not)",
            supervisedAccuracy))
}
if lesson.quick {
    lesson.claim(
        "k-NN accuracies are percentages",
        [teacherKNN, studentKNN, pixelKNN, plainPixelKNN, randomKNN].allSatisfy {
            $0.values.allSatisfy { (0...100).contains($0) }
        })
} else {
    lesson.claim(
        String(
            format:
                "DINO learned features without labels: teacher k-NN@20 %.2f%% ≥ random init %.2f%% + 10 points",
            teacherKNN[20]!, randomKNN[20]!), teacherKNN[20]! >= randomKNN[20]! + 10)
    let best = max(teacherKNN[20]!, studentKNN[20]!)
    print(
        String(
            format:
                "against raw pixels at k = 20: [0, 1] values %.2f%% (teacher %+.2f, student %+.2f points), "
                + "normalised %.2f%% (teacher %+.2f, student %+.2f points)",
            plainPixelKNN[20]!, teacherKNN[20]! - plainPixelKNN[20]!, studentKNN[20]! - plainPixelKNN[20]!,
            pixelKNN[20]!, teacherKNN[20]! - pixelKNN[20]!, studentKNN[20]! - pixelKNN[20]!))
    lesson.claim(
        String(
            format:
                "DINO features beat the plain pixels: the better of teacher and student, %.2f%%, > %.2f%%",
            best, plainPixelKNN[20]!), best > plainPixelKNN[20]!)
    if best <= pixelKNN[20]! {
        print(
            String(
                format:
                    "not yet the normalised pixels (%.2f%%): in this budget the stronger pixel baseline stays ahead",
                pixelKNN[20]!))
    }
}

// Retrieval: for 6 test scenes, the 5 nearest bank scenes by cosine of DINO teacher features (left)
// and of raw pixels (right); a green frame where the neighbour's class is the query's, red where not.
func normalizedRows(_ x: Tensor) -> Tensor {
    var y = x
    for i in 0..<x.rows {
        var n: Float = 0
        for j in 0..<x.cols { n += x[i, j] * x[i, j] }
        let inv = 1 / max(n.squareRoot(), 1e-12)
        for j in 0..<x.cols { y[i, j] = x[i, j] * inv }
    }
    return y
}
func nearest(_ bankF: Tensor, _ queryF: Tensor, k: Int) -> [[Int]] {
    let a = normalizedRows(bankF), q = normalizedRows(queryF)
    var sims = Tensor(shape: [q.rows, a.rows])
    SIMDKernels.matmul(q, a, layout: .nt, bias: nil, accumulate: false, into: &sims)
    return (0..<q.rows).map { i in
        let row = sims.row(i)
        return Array(row.indices.sorted { row[$0] > row[$1] }.prefix(k))
    }
}
let queries = Array(firstOfClass.prefix(6))
var queryTeacher = Tensor(shape: [queries.count, testTeacher.cols])
for (r, q) in queries.enumerated() {
    for j in 0..<testTeacher.cols { queryTeacher[r, j] = testTeacher[q, j] }
}
let pixelBank = evaluator.pixels(bank, normalization: normalization, limit: nBank)
let pixelQueries = evaluator.pixels(test.subset(queries), normalization: normalization, limit: nil)
let dinoNeighbours = nearest(bankTeacher, queryTeacher, k: 5),
    pixelNeighbours = nearest(pixelBank, pixelQueries, k: 5)
func framed(_ i: Int, match: Bool) -> Image {
    var image = bank.image(i).rgb
    image.strokeRectangle(
        x: 0, y: 0, width: image.width, height: image.height,
        color: match ? [0.1, 0.8, 0.2] : [0.9, 0.1, 0.1], thickness: 2)
    return image
}
var retrievalRows: [[Image]] = []
var dinoHits = 0, pixelHits = 0
for (r, q) in queries.enumerated() {
    let label = test.labels[q]
    dinoHits += dinoNeighbours[r].filter { bank.labels[$0] == label }.count
    pixelHits += pixelNeighbours[r].filter { bank.labels[$0] == label }.count
    var row = [test.image(q).rgb]
    row += dinoNeighbours[r].map { framed($0, match: bank.labels[$0] == label) }
    row += pixelNeighbours[r].map { framed($0, match: bank.labels[$0] == label) }
    retrievalRows.append(row)
}
// Captions: sheet(_:scale:gapAfter:) puts cell c at 4 + c·(2s + 4), plus 12 after column 5.
let (cell, step) = (2 * s, 2 * s + 4)
func cellStart(_ c: Int) -> Int { 4 + c * step + (c > 5 ? 12 : 0) }
let ordinals = ["1st", "2nd", "3rd", "4th", "5th"]
var retrievalCaptions = SheetCaptions(
    title:
        "Retrieval: each test scene's 5 nearest bank scenes, by DINO teacher features and by normalised pixels",
    footer:
        "Green frame: the neighbour's class is the query's; red: another class. Nearest = highest cosine similarity."
)
retrievalCaptions.columnBands = [
    [
        SheetCaptions.Label(
            "by DINO teacher features", start: cellStart(1), length: cellStart(5) + cell - cellStart(1)),
        SheetCaptions.Label(
            "by normalised pixels", start: cellStart(6), length: cellStart(10) + cell - cellStart(6)),
    ],
    [SheetCaptions.Label("query", start: cellStart(0), length: cell)]
        + (1...10).map { SheetCaptions.Label(ordinals[($0 - 1) % 5], start: cellStart($0), length: cell) },
]
retrievalCaptions.rows = SheetCaptions.grid(
    queries.map { test.classNames[test.labels[$0]] }, origin: 4, cell: cell, gap: 4)
try sheet(retrievalRows, scale: 2, gapAfter: 5).captioned(retrievalCaptions).writePNG(
    lesson.plotDirectory + "/retrieval.png")
print(
    "wrote \(lesson.plotDirectory)/retrieval.png: rows = query scenes ("
        + queries.map { test.classNames[test.labels[$0]] }.joined(separator: ", ")
        + "); then its 5 nearest bank scenes by DINO teacher features, then by raw pixels (green frame = same class)"
)
print(
    "same class among the 5 nearest: DINO teacher \(dinoHits) of \(5 * queries.count), raw pixels \(pixelHits) of \(5 * queries.count)"
)

// MARK: 7 · Teacher and student through training (the paper's Fig. 6)
// The teacher is an exponential moving average of the student: θt ← λ·θt + (1 − λ)·θs after every
// step, with λ following a cosine from its start value to 1. That is Polyak-Ruppert averaging (the
// Mean Teacher of semi-supervised learning): an average over the last ~1/(1 − λ) students. In the
// paper (100+ epochs, λ from 0.996) the teacher stays ahead of the student throughout. An average
// lags behind a student that is still improving fast, and is ahead of it once the student mostly
// wanders around a good solution: which of the two wins in a short run is what the curves show.
lesson.section("7 · Teacher and student through training (the paper's Fig. 6)")
let evals = dinoCheckpoint.evaluations
print(
    "  epochs    λ        k-NN@20 teacher  student     Jaccard teacher  student   (\(config.knnTrainSize) bank / \(config.knnTestSize) test scenes)"
)
for e in evals {
    print(
        String(
            format: "  %5.2f   %.5f      %6.2f%%      %6.2f%%        %6.2f       %6.2f", e.epochs, e.momentum,
            e.knnTeacher ?? .nan, e.knnStudent ?? .nan, e.jaccardTeacher?.best ?? .nan,
            e.jaccardStudent?.best ?? .nan))
}
var curves = Series(columns: [
    "epochs", "knn_teacher", "knn_student", "jaccard_teacher", "jaccard_student", "momentum",
])
curves.append([
    0, randomKNN[20]!, randomKNN[20]!, randomJaccard.best, randomJaccard.best, config.teacherMomentum,
])
for e in evals {
    curves.append([
        e.epochs, e.knnTeacher ?? .nan, e.knnStudent ?? .nan, e.jaccardTeacher?.best ?? .nan,
        e.jaccardStudent?.best ?? .nan, e.momentum,
    ])
}
try lesson.plot(
    "teacher-vs-student-knn", curves,
    ChartSpec(
        title: "k-NN@20 of teacher and student during training (Fig. 6 left); λ on the right axis",
        x: "epochs", y: "k-NN@20 top-1 (%)",
        curves: [
            .init(using: "1:2", title: "teacher", style: "linespoints lw 2 pt 7"),
            .init(using: "1:3", title: "student", style: "linespoints lw 2 pt 5"),
            .init(
                using: "1:6", title: "teacher momentum λ (right)",
                style: "lines dt 2 lw 1.5 lc rgb 'gray' axes x1y2"),
        ],
        extra: ["set y2tics", "set y2label \"λ\"", "set key bottom right inside"]))
try lesson.plot(
    "teacher-vs-student-jaccard", curves,
    ChartSpec(
        title: "Jaccard (best head) of teacher and student during training", x: "epochs", y: "Jaccard (%)",
        curves: [
            .init(using: "1:4", title: "teacher", style: "linespoints lw 2 pt 7"),
            .init(using: "1:5", title: "student", style: "linespoints lw 2 pt 5"),
        ],
        extra: ["set key bottom right inside", "set yrange [0:*]"]))
if let last = evals.last, let kt = last.knnTeacher, let ks_ = last.knnStudent,
    let jt = last.jaccardTeacher?.best,
    let js = last.jaccardStudent?.best
{
    let aheadKNN = evals.filter { ($0.knnTeacher ?? 0) > ($0.knnStudent ?? 0) }.count
    let aheadJ = evals.filter { ($0.jaccardTeacher?.best ?? 0) > ($0.jaccardStudent?.best ?? 0) }.count
    print(
        String(
            format:
                "at the end: k-NN teacher %.2f%% vs student %.2f%% (%+.2f); Jaccard teacher %.2f vs student %.2f (%+.2f)",
            kt, ks_, kt - ks_, jt, js, jt - js))
    print(
        "the teacher was ahead at \(aheadKNN) of \(evals.count) points on k-NN and \(aheadJ) of \(evals.count) on Jaccard"
    )
    print(
        "on the full test set (§5, §6): k-NN@20 teacher "
            + String(
                format: "%.2f%% vs student %.2f%%; Jaccard %.2f vs %.2f",
                teacherKNN[20]!, studentKNN[20]!, teacherJ.best, studentJ.best))
}
lesson.claim(
    "the run logged teacher and student \(evals.count) times (\(config.evalsPerEpoch ?? 1) per epoch)",
    evals.count >= Int(config.epochs.rounded(.down)) * (config.evalsPerEpoch ?? 1) && evals.count >= 2)

// MARK: 8 · Timing
lesson.section("8 · Timing")
let dinoImages = Double(dinoCheckpoint.steps.count * config.batchSize)
print(
    String(
        format:
            "DINO: %@ epochs (%d iterations) in %@ of training (%.0f images/s, %d crops each); with its evaluations %@",
        config.epochsText as NSString, dinoCheckpoint.steps.count, clockText(dinoSeconds) as NSString,
        dinoImages / max(dinoSeconds, 1e-9),
        2 + config.localCount, clockText(dinoWall) as NSString))
print(
    String(
        format: "supervised: %@ epochs in %@ of training; with its evaluations %@",
        supervisedConfig.epochsText as NSString,
        clockText(supervisedSeconds) as NSString, clockText(supervisedWall) as NSString))
print("evaluation of §5-6 (\(nBank) bank / \(nTest) test scenes, 4 networks): \(clockText(evalSeconds))")
print("\(Threads.count) thread(s), SIMD kernels")
if !lesson.quick {
    lesson.claim(
        String(
            format: "the DINO run fits the 10-minute budget: %@ of training",
            clockText(dinoSeconds) as NSString),
        dinoSeconds <= 600)
}
if lesson.quick { try? FileManager.default.removeItem(atPath: runRoot) }
lesson.finish()
