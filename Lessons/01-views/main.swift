// Lessons/01-views/main.swift · Lesson 01 · Multi-crop views · Walkthroughs/01-views.md
// DINO never sees a label: it learns by asking two *views* of one picture to agree. This lesson
// builds those views exactly as the official code does (2 global + 8 local crops, torchvision/PIL
// semantics), prints every random draw, and draws them; then the recipe lesson 07 trains with, on
// Fashion-MNIST. Uses DINOData's MultiCrop, Image, Dataset, and DINOModel's trainer for that recipe.
// Run: swift run -c release lesson01-views   (about 2 s; --quick: fewer draws for the histograms)
// Knobs (--help lists them): --locals N, --global-scale A,B, --local-scale A,B, --photo PATH,
//        --photo-crop W,H, --gray yes, --draws N
import DINOCore
import DINOData
import DINOLesson
import DINOModel
import DINOPlot
import Foundation
import SIMDCore

var lesson = Lesson(
    "01-views", title: "Multi-crop views",
    knobs: [
        Knob(
            "--locals", "N", "local crops per image, on the photograph and on Fashion-MNIST",
            default: "8 on the photograph, 6 on Fashion-MNIST as lesson 07 trains"),
        Knob("--global-scale", "A,B", "area range of the global crops, both recipes", default: "0.4,1"),
        Knob("--local-scale", "A,B", "area range of the local crops, both recipes", default: "0.05,0.4"),
        Knob("--photo", "PATH", "the photograph (any PNG)", default: "Lessons/assets/chelsea.png"),
        Knob("--photo-crop", "W,H", "use only the centre W × H pixels of the photograph"),
        Knob("--gray", "yes|no", "give the photograph to MultiCrop as one gray channel", default: "no"),
        Knob(
            "--draws", "N", "images of crop boxes drawn for the histograms of §8",
            default: "20000; --quick 2000"),
    ])

/// A scale range from a knob: two numbers 0 < A ≤ B ≤ 1.
func scaleKnob(_ flag: String, default fallback: ClosedRange<Double>) -> ClosedRange<Double> {
    let v = lesson.doubles(flag, default: [fallback.lowerBound, fallback.upperBound], count: 2, in: 0...1)
    guard v[0] > 0, v[0] <= v[1] else { lessonFail("\(flag) needs 0 < A ≤ B ≤ 1, got \(v[0]),\(v[1])") }
    return v[0]...v[1]
}
let localsKnob: Int? = lesson.option("--locals") == nil ? nil : lesson.int("--locals", default: 8, in: 1...16)
let globalScale = scaleKnob("--global-scale", default: 0.4...1.0)
let localScale = scaleKnob("--local-scale", default: 0.05...0.4)
let gray = lesson.choice("--gray", default: "no", from: ["yes", "no"]) == "yes"

extension Double {
    /// The number as "%g" writes it: 0.4, 1, 0.05.
    var shortText: String { String(format: "%g", self) }
}

/// "40–100%": a crop-area range as percentages of the picture.
func pctRange(_ r: ClosedRange<Double>) -> String {
    String(format: "%g–%g%%", 100 * r.lowerBound, 100 * r.upperBound)
}

/// Writes a picture into the lesson's plot folder and says so (the smoke test looks for `wrote plots/…`).
func writePicture(_ image: Image, _ name: String) throws {
    try Files.ensureDirectory(lesson.plotDirectory)
    let path = lesson.plotDirectory + "/" + name + ".png"
    try image.writePNG(path)
    print("wrote \(path) (\(image.width)x\(image.height))")
}

/// The colour of the sheets' captions (dark gray).
let ink: [Float] = [0.12, 0.12, 0.12]

/// Colours of the crop outlines: global 1 red, global 2 blue, the locals in eight other hues.
let outlineColours: [[Float]] = [
    [0.90, 0.10, 0.10], [0.10, 0.35, 0.95], [1.00, 0.60, 0.00], [0.15, 0.70, 0.20], [0.60, 0.20, 0.80],
    [0.00, 0.75, 0.80], [0.95, 0.25, 0.70], [0.95, 0.90, 0.10], [0.55, 0.35, 0.15], [0.40, 0.40, 0.40],
]

// MARK: 1 · One photograph
// Chelsea the cat, 451 × 300 pixels, from scikit-image's sample data (CC0). DINO works on any
// picture size: every crop is resized to a fixed side, so only the crop *boxes* depend on 451 × 300.
// Like the official loader (PIL's convert("RGB")), any other PNG given with --photo is read as RGB;
// --gray yes then hands MultiCrop its one-channel luma instead.
lesson.section("1 · One photograph")
let defaultPhoto = Lesson.assetsDirectory + "/chelsea.png"
let photoPath = lesson.option("--photo") ?? defaultPhoto
var photo: Image
do { photo = try Image.readPNG(photoPath).rgb } catch { lessonFail("\(error)") }
print(
    "read \(Lesson.displayPath(photoPath)): \(photo.width)x\(photo.height), \(photo.channels) channels, planar [C, H, W] Float in [0, 1]"
)
if lesson.option("--photo-crop") != nil {
    let wh = lesson.doubles("--photo-crop", default: [], count: 2, in: 1...1_000_000)
    let (w, h) = (Int(wh[0]), Int(wh[1]))
    guard Double(w) == wh[0], Double(h) == wh[1], w <= photo.width, h <= photo.height else {
        lessonFail(
            "--photo-crop needs whole numbers W ≤ \(photo.width) and H ≤ \(photo.height), got \(wh[0]),\(wh[1])"
        )
    }
    photo = photo.cropped(top: (photo.height - h) / 2, left: (photo.width - w) / 2, height: h, width: w)
    print("--photo-crop: the centre \(w)x\(h) of it")
}
let photoMean = (0..<3).map { c in
    photo.pixels[c * photo.width * photo.height..<(c + 1) * photo.width * photo.height].reduce(0, +)
        / Float(photo.width * photo.height)
}
print("channel means R G B: " + photoMean.map { format($0, digits: 3) }.joined(separator: " "))
if photoPath == defaultPhoto && lesson.option("--photo-crop") == nil {
    lesson.claim(
        "the photograph loads as 451×300 RGB",
        photo.width == 451 && photo.height == 300 && photo.channels == 3)
}
if gray {
    photo = photo.gray
    print("--gray yes: MultiCrop gets the luma 0.299 R + 0.587 G + 0.114 B, one channel")
}
let (photoW, photoH) = (photo.width, photo.height)

// MARK: 2 · The recipe
// DataAugmentationDINO in main_dino.py, step by step and in this order for every crop:
// RandomResizedCrop → flip → colour jitter (p 0.8) → grayscale (p 0.2) → Gaussian blur → solarize
// (global 2 only) → normalise. The two global crops differ only in blur and solarize: global 1 is
// always blurred, global 2 rarely, and only global 2 can be solarized. The asymmetry is deliberate:
// the teacher sees both globals, so each student crop is pulled towards a mildly and a heavily
// distorted version of the same picture.
lesson.section("2 · The recipe (the official DataAugmentationDINO)")
var config = MultiCropConfig.dino
config.localCount = localsKnob ?? config.localCount
config.globalScale = globalScale
config.localScale = localScale
// A gray photograph is normalised with ImageNet's statistics through the same luma weights.
if gray { config.normalizationGray = Normalization(mean: [0.459], std: [0.226]) }
let crop = try MultiCrop(config)
let views0 = config.localCount
print("view       size  area scale s    flip  jitter  gray  blur p  solarize p")
for v in [0, 1, 2] {
    let kind = ViewKind(view: v)
    let scale = kind.isGlobal ? config.globalScale : config.localScale
    let blur =
        v == 0
        ? config.blurProbabilityGlobal1
        : (v == 1 ? config.blurProbabilityGlobal2 : config.blurProbabilityLocal)
    let name = v < 2 ? "\(kind)" : "local ×\(config.localCount)"
    print(
        name.padding(toLength: 10, withPad: " ", startingAt: 0)
            + String(
                format: " %4d  U[%.2f, %.2f)  %4.1f  %6.1f  %4.1f  %6.1f  %10.1f", config.size(ofView: v),
                scale.lowerBound,
                scale.upperBound, config.flipProbability, config.jitterProbability,
                config.grayscaleProbability, blur,
                v == 1 ? config.solarizeProbability : 0))
}
print(
    String(
        format:
            "aspect ratio log-uniform in [%.3f, %.3f]; jitter b %.1f c %.1f s %.1f h %.1f; blur σ ~ U[%.1f, %.1f) px",
        config.aspectRatio.lowerBound, config.aspectRatio.upperBound, config.brightness, config.contrast,
        config.saturation, config.hue, config.blurSigma.lowerBound, config.blurSigma.upperBound))
let photoNormalization = config.normalization(channels: photo.channels)
print(
    "normalise with \(gray ? "the gray" : "ImageNet") mean \(photoNormalization.mean) and std \(photoNormalization.std)"
)

// MARK: 3 · Ten views of the cat, every draw printed (2 + --locals)
// `batch` draws each image's parameters from its own stream, seeded by (seed, epoch, index), then
// renders them crop-major: crops[v] is [B, 3, S, S], all images' view v (the layout the ViT eats).
// Read the lines: box = the window cut from the 451 × 300 picture, s and r = the area fraction
// and aspect ratio drawn for it, then which coins came up.
lesson.section(
    "3 · \(config.viewCount == 10 ? "Ten" : "\(config.viewCount)") views of the cat, every draw printed")
let views = try crop.batch([photo], indices: [0], seed: lesson.seed, epoch: 0)
print("crops: " + views.crops.map { "\($0.shape)" }.joined(separator: " "))
for v in 0..<views.viewCount { print(views.parameters(image: 0, view: v)) }
let drawn = views.parameters
let c = photo.channels
lesson.claim(
    "2 global crops of 224 and \(views0) local crops of 96, crop-major [1, \(c), S, S]",
    views.crops.count == config.viewCount
        && views.crops.prefix(2).allSatisfy { $0.shape == [1, c, 224, 224] }
        && views.crops.dropFirst(2).allSatisfy { $0.shape == [1, c, 96, 96] })
lesson.claim(
    "global 1 is blurred (p 1.0) and no view but global 2 is solarized",
    drawn[0].blurSigma != nil && drawn.enumerated().allSatisfy { $0.offset == 1 || !$0.element.solarized })

// MARK: 4 · The contact sheet → plots/01-views/views.png
// Top row: the photograph with every crop box outlined in its view's colour, then the two global
// views. Bottom row: the local views, framed in the colour of their box. The views are
// normalised tensors; for display we undo the normalisation (v·std + mean). Each picture is
// labelled in the sheet itself (BitmapFont), so the PNG says what it shows without this text.
lesson.section("4 · The contact sheet")
func contactSheet(
    _ source: Image, _ batch: MultiCropBatch, item: Int, _ normalization: Normalization
) -> Image {
    let shown = source.resized(
        width: Int((Double(source.width) * 224 / Double(source.height)).rounded()), height: 224)
    let (margin, gap, frame, scale) = (12, 10, 3, 2)
    let band = Image.textHeight("global 1", scale: scale) + frame + 5  // a label line above each picture
    let topWidth = shown.width + 2 * (224 + gap)
    let localWidth = batch.viewCount - 2 > 0 ? (batch.viewCount - 2) * (96 + gap) - gap : 0
    let (top, localTop) = (margin + band, margin + band + 224 + 2 * gap + band)
    var sheet = Image(
        width: 2 * margin + max(topWidth, localWidth), height: localTop + 96 + margin, channels: 3, fill: [1])
    var boxed = shown.rgb
    let k = Double(shown.height) / Double(source.height)
    for v in (0..<batch.viewCount).reversed() {  // globals drawn last, on top
        let p = batch.parameters(image: item, view: v)
        func scaled(_ n: Int) -> Int { Int(Double(n) * k) }
        let thickness = v < 2 ? 3 : 2
        boxed.strokeRectangle(
            x: scaled(p.left), y: scaled(p.top), width: max(scaled(p.width), 3),
            height: max(scaled(p.height), 3), color: outlineColours[v % outlineColours.count],
            thickness: thickness)
    }
    sheet.paste(boxed, x: margin, y: top)
    let photoLabel =
        Image.textWidth("the photograph, every box", scale: scale) <= shown.width
        ? "the photograph, every box" : "every box"
    sheet.drawText(
        photoLabel, centeredAt: margin + shown.width / 2, y: top - band + 2, color: ink, scale: scale)
    for v in 0..<batch.viewCount {
        let view = normalization.unnormalized(batch.crops[v], item: item).rgb
        let (x, y) =
            v < 2
            ? (margin + shown.width + gap + v * (224 + gap), top)
            : (margin + (v - 2) * (96 + gap), localTop)
        sheet.fillRectangle(
            x: x - frame, y: y - frame, width: view.width + 2 * frame, height: view.height + 2 * frame,
            color: outlineColours[v % outlineColours.count])
        sheet.paste(view, x: x, y: y)
        let name = v < 2 ? "global \(v + 1)" : "local \(v - 1)"
        sheet.drawText(name, centeredAt: x + view.width / 2, y: y - band + 2, color: ink, scale: scale)
    }
    return sheet
}
let viewsSheet = contactSheet(photo, views, item: 0, photoNormalization).captioned(
    SheetCaptions(
        title:
            "DINO's official recipe on one photograph: 2 global crops (224 px) and \(views0) local crops (96 px), seed \(lesson.seed)",
        footer:
            "Each view is framed in the colour of its box; globals cover \(pctRange(config.globalScale)) of the "
            + "picture, locals \(pctRange(config.localScale))."))
try writePicture(viewsSheet, "views")

// MARK: 5 · One crop, one operation at a time → plots/01-views/pipeline.png
// The same steps by hand with the public Image operations, in DINO's order, on global 2's box with
// every coin forced to "yes" so each step is visible: crop + bicubic resize, flip, the four jitter
// operations in this crop's random order, grayscale is skipped (it would hide the jitter), blur,
// solarize. The last picture must equal what MultiCrop renders in one fused pass.
lesson.section("5 · One crop, one operation at a time")
var forced = drawn[1]
(forced.flipped, forced.jittered, forced.grayscale, forced.solarized) = (true, true, false, true)
if !drawn[1].jittered {
    (forced.brightness, forced.contrast, forced.saturation, forced.hue) = (1.3, 0.8, 1.2, 0.05)
}
forced.blurSigma = 1.5
var steps: [(String, Image)] = []
var step = photo.cropped(top: forced.top, left: forced.left, height: forced.height, width: forced.width)
    .resized(width: forced.outputSize, height: forced.outputSize)
steps.append(("crop + resize", step))
step = step.flippedHorizontally()
steps.append(("flip", step))
for k in 0..<4 {
    switch forced.jitterOrder[k] {
    case 0:
        step = step.brightnessAdjusted(by: forced.brightness)
        steps.append((String(format: "brightness ×%.2f", forced.brightness), step))
    case 1:
        step = step.contrastAdjusted(by: forced.contrast)
        steps.append((String(format: "contrast ×%.2f", forced.contrast), step))
    case 2:
        step = step.saturationAdjusted(by: forced.saturation)
        steps.append((String(format: "saturation ×%.2f", forced.saturation), step))
    default:
        step = step.hueShifted(by: forced.hue)
        steps.append((String(format: "hue %+.3f turn", forced.hue), step))
    }
}
step = step.gaussianBlurred(sigma: Double(forced.blurSigma!))
steps.append(("blur σ 1.5", step))
step = step.solarized()
steps.append(("solarize", step))
print(steps.enumerated().map { "\($0.offset + 1). \($0.element.0)" }.joined(separator: " → "))
let fused = photoNormalization.unnormalized(crop.render(forced, of: photo))
let stepDelta = zip(fused.pixels, step.pixels).map { abs($0 - $1) }.max()!
print(
    "largest |fused − step by step| = \(format(stepDelta, digits: 2)) (normalise and un-normalise round in Float)"
)
lesson.claim("the fused renderer equals the operations applied one at a time (|Δ| < 1e-5)", stepDelta < 1e-5)
// Shown at 160 px (bicubic, the same resampler) to keep the committed PNG small.
var strip = Image(width: steps.count * (160 + 8) - 8, height: 160, channels: 3, fill: [1])
for (i, s) in steps.enumerated() { strip.paste(s.1.resized(width: 160, height: 160), x: i * 168, y: 0) }
var stripCaptions = SheetCaptions(
    title:
        "Global 2's box, one operation at a time in DINO's order, every coin forced to yes (grayscale left out)"
)
stripCaptions.columnBands = [
    SheetCaptions.grid(
        steps.enumerated().map { "\($0.offset + 1). \($0.element.0)" },
        origin: 0, cell: 160, gap: 8)
]
try writePicture(strip.captioned(stripCaptions), "pipeline")

// MARK: 6 · Same seed, same views
// Every draw comes from a SplitMix64 stream seeded by (seed, epoch, image index), so a run is
// reproducible bit for bit, on any number of threads, whichever other images share the batch.
lesson.section("6 · Same seed, same views")
let again = try crop.batch([photo], indices: [0], seed: lesson.seed, epoch: 0)
let threadsBefore = Threads.count
Threads.count = 1
let fourCopies = [photo, photo, photo, photo]
let oneThread = try crop.batch(fourCopies, indices: [0, 1, 2, 3], seed: lesson.seed, epoch: 0)
Threads.count = 2
let twoThreads = try crop.batch(fourCopies, indices: [0, 1, 2, 3], seed: lesson.seed, epoch: 0)
Threads.count = threadsBefore
let nextEpoch = try crop.batch([photo], indices: [0], seed: lesson.seed, epoch: 1)
lesson.claim(
    "the same seed gives the same crops, bit for bit",
    again.crops == views.crops && again.parameters == views.parameters)
lesson.claim("1 thread and 2 threads give identical batches", oneThread.crops == twoThreads.crops)
lesson.claim(
    "image 0 of a 4-image batch equals the 1-image batch",
    (0..<config.viewCount).allSatisfy {
        Image(oneThread.crops[$0], item: 0) == Image(views.crops[$0], item: 0)
    })
let movedBoxes = zip(nextEpoch.parameters, views.parameters).filter {
    ($0.0.left, $0.0.top, $0.0.width) != ($0.1.left, $0.1.top, $0.1.width)
}.count
print("epoch 1 vs epoch 0: \(movedBoxes) of \(config.viewCount) crop boxes moved")
lesson.claim(
    "the next epoch draws new views",
    nextEpoch.parameters != views.parameters && nextEpoch.crops[0] != views.crops[0])

// MARK: 7 · Fashion-MNIST: 28 × 28 gray, the recipe lesson 07 trains with
// Lesson 07's default run (`TrainingConfig.preset("default")`) scales the recipe down: global
// crops of 28 (the full resolution), 6 local crops of 14, blur σ at most 1 px instead of 2 (the
// official range is for 224-px crops), and normalisation with the training split's own
// statistics. The recipe below is taken from the trainer itself (`DINOTrainer.multiCrop`, built
// from that preset), so this sheet shows exactly the views lesson 07 learns from. On one channel
// saturation, hue and grayscale are no-ops (their coins are still tossed, so the boxes are the
// same as for an RGB copy) and contrast blends with the image mean.
lesson.section("7 · Fashion-MNIST: 28 × 28 gray, the recipe lesson 07 trains with")
let fashion: Dataset, fashionTrain: Dataset
do {
    fashion = try Dataset.fashionMNIST(split: .test)
    fashionTrain = try Dataset.fashionMNIST(split: .train)
} catch { lessonFail("\(error)") }
let (fashionMean, fashionStd) = fashion.channelStatistics()
print(
    "\(fashion.name): \(fashion.count) images \(fashion.width)x\(fashion.height)x\(fashion.channels), \(fashion.classCount) classes"
)
print(
    String(
        format: "pixel mean %.4f std %.4f (published, training split: 0.2860 / 0.3530)", fashionMean[0],
        fashionStd[0]))
lesson.claim(
    "the test split's pixel statistics are within 0.005 of the published 0.2860 / 0.3530",
    abs(fashionMean[0] - 0.2860) < 0.005 && abs(fashionStd[0] - 0.3530) < 0.005)
var lesson07 = try TrainingConfig.preset("default")
if let n = localsKnob { lesson07.localCount = n }
lesson07.globalScale = [globalScale.lowerBound, globalScale.upperBound]
lesson07.localScale = [localScale.lowerBound, localScale.upperBound]
let fashionCrop: MultiCrop
do {
    fashionCrop = try DINOTrainer<SIMDKernels>(config: lesson07, train: fashionTrain, test: nil).multiCrop
} catch {
    lessonFail("lesson 07's recipe: \(error)")
}
let fashionConfig = fashionCrop.config
let fashionNormalization = fashionConfig.normalizationGray
print(
    String(
        format:
            "lesson 07's recipe (preset 'default'%@): 2 × %d px global, %d × %d px local, area U[%.2f, %.2f) / U[%.2f, %.2f),",
        localsKnob == nil && lesson.option("--global-scale") == nil && lesson.option("--local-scale") == nil
            ? "" : " with this run's knobs", fashionConfig.globalSize, fashionConfig.localCount,
        fashionConfig.localSize,
        fashionConfig.globalScale.lowerBound, fashionConfig.globalScale.upperBound,
        fashionConfig.localScale.lowerBound,
        fashionConfig.localScale.upperBound))
print(
    String(
        format: "  blur σ ~ U[%.1f, %.1f) px, normalise with the training split's mean %.4f std %.4f",
        fashionConfig.blurSigma.lowerBound, fashionConfig.blurSigma.upperBound, fashionNormalization.mean[0],
        fashionNormalization.std[0]))
let items = [0, 1, 2, 3, 4]
let fashionViews = try fashionCrop.batch(fashion, indices: items, seed: lesson.seed, epoch: 0)
print("item 0 (\(fashion.classNames[fashion.labels[0]])), its \(fashionViews.viewCount) views:")
for v in 0..<fashionViews.viewCount { print(fashionViews.parameters(image: 0, view: v)) }
let fashionLocals = fashionConfig.localCount
lesson.claim(
    "gray crops are [5, 1, 28, 28] ×2 and [5, 1, 14, 14] ×\(fashionLocals)",
    fashionViews.crops.prefix(2).allSatisfy { $0.shape == [5, 1, 28, 28] }
        && fashionViews.crops.dropFirst(2).allSatisfy { $0.shape == [5, 1, 14, 14] })
// Contact sheet: one row per item, the original then its views, enlarged 4× by pixel repetition
// (the locals stay half the size of the globals: they really have half the pixels).
let (zoom, fashionMargin, fashionGap) = (4, 12, 10)
let (bigTile, smallTile) = (28 * zoom, 14 * zoom)
var fashionSheet = Image(
    width: 2 * fashionMargin + 3 * bigTile + fashionLocals * smallTile + (2 + fashionLocals) * fashionGap,
    height: 2 * fashionMargin + items.count * (bigTile + fashionGap) - fashionGap,
    channels: 3, fill: [1])
var columnStarts: [Int] = []
for (row, item) in items.enumerated() {
    let y = fashionMargin + row * (bigTile + fashionGap)
    var x = fashionMargin
    fashionSheet.paste(fashion.image(item).upscaledNearest(zoom), x: x, y: y)
    if row == 0 { columnStarts.append(x) }
    x += bigTile + fashionGap
    for v in 0..<fashionViews.viewCount {
        let view = fashionNormalization.unnormalized(fashionViews.crops[v], item: row).upscaledNearest(zoom)
        fashionSheet.paste(view, x: x, y: y)
        if row == 0 { columnStarts.append(x) }
        x += view.width + fashionGap
    }
}
// Labels: a band of group names (the image, the 28-px globals, the 14-px locals) over a band of
// view numbers; the class of each row on the left.
var fashionCaptions = SheetCaptions(
    title:
        "Fashion-MNIST with lesson 07's recipe: 2 global + \(fashionLocals) local views per item, enlarged \(zoom)×",
    footer: String(
        format: "Blur σ at most %.0f px (lesson 07's), not the photograph's 2 px. ",
        fashionConfig.blurSigma.upperBound)
        + "The 14-px locals really have half the pixels of the 28-px globals.")
let localStart = columnStarts[3], localSpan = columnStarts.last! + smallTile - localStart
fashionCaptions.columnBands = [
    [
        SheetCaptions.Label("global crops, 28 px", start: columnStarts[1], length: 2 * bigTile + fashionGap),
        SheetCaptions.Label(
            ["local crops, 14 px", "locals, 14 px", "locals"].first {
                Image.textWidth($0, scale: 2) <= localSpan
            }
                ?? "L", start: localStart, length: localSpan),
    ],
    [
        SheetCaptions.Label("original", start: columnStarts[0], length: bigTile),
        SheetCaptions.Label("1", start: columnStarts[1], length: bigTile),
        SheetCaptions.Label("2", start: columnStarts[2], length: bigTile),
    ]
        + (0..<fashionLocals).map {
            SheetCaptions.Label("\($0 + 1)", start: columnStarts[3 + $0], length: smallTile)
        },
]
fashionCaptions.rows = SheetCaptions.grid(
    items.map { fashion.classNames[fashion.labels[$0]] }, origin: fashionMargin,
    cell: bigTile, gap: fashionGap)
try writePicture(fashionSheet.captioned(fashionCaptions), "fashion-views")

// MARK: 8 · Where do the crop areas fall? → plots/01-views/crop-areas.png, crop-areas-28px.png
// Draw many crop boxes (no rendering needed: the parameters are the whole story) and histogram the
// realised area fraction w·h / (W·H). torchvision draws s ~ U[lo, hi), but it keeps a draw only if
// the box fits inside the picture, and retries otherwise. On the 3:2 photograph a box of area s and
// aspect r is 300·√(s/0.665r) px tall, so every s above 0.665·r is rejected: big global crops are
// rare, none exceeds 0.887 (r = 4/3, a 400 × 300 box), and after ten misses in a row torchvision
// takes exactly that 400 × 300 centre crop. Local draws (s < 0.4) always fit, so their histogram is
// flat. At 28 × 28 the rounding of w and h to whole pixels makes the histograms spiky.
lesson.section("8 · Where do the crop areas fall?")
let draws = lesson.int("--draws", default: lesson.quick ? 2_000 : 20_000, in: 100...1_000_000)
let bins = 100  // 0.01 wide: 0.05 and 0.4 fall on bin edges
func areaHistogram(
    width: Int, height: Int, recipe: MultiCrop
) -> (
    global: [Double], local: [Double],
    stats: (fallbacks: Int, globals: Int, outside: Int, blurred: [Int], solarized: [Int])
) {
    var rng = SplitMix64(seed: lesson.seed &+ UInt64(width))
    var global = [Double](repeating: 0, count: bins)
    var local = [Double](repeating: 0, count: bins)
    var fallbacks = 0
    var globals = 0
    var outside = 0
    var blurred = [0, 0, 0]
    var solarized = [0, 0, 0]
    for _ in 0..<draws {
        for p in recipe.sampleViews(width: width, height: height, rng: &rng) {
            let bin = min(Int(p.areaFraction * Double(bins)), bins - 1)
            let slot = p.view == .global1 ? 0 : (p.view == .global2 ? 1 : 2)
            if p.view.isGlobal {
                global[bin] += 1
                globals += 1
            } else {
                local[bin] += 1
            }
            if p.fellBack { fallbacks += 1 }
            if p.blurSigma != nil { blurred[slot] += 1 }
            if p.solarized { solarized[slot] += 1 }
            if let s = p.sampledScale, let r = p.sampledRatio {
                // Rounding w' = √(sAr), h' = √(sA/r) to whole pixels moves the area by at most (w' + h')/2 + ¼.
                let range = p.view.isGlobal ? recipe.config.globalScale : recipe.config.localScale
                let target = s * Double(width * height)
                let slack = ((target * r).squareRoot() + (target / r).squareRoot()) / 2 + 0.25
                if !(range.lowerBound <= s && s < range.upperBound)
                    || abs(Double(p.width * p.height) - target) > slack
                {
                    outside += 1
                }
            }
        }
    }
    // Densities: count / (draws · bin width), so a uniform draw on [lo, hi) sits at 1/(hi − lo).
    let globalTotal = Double(2 * draws)
    let localTotal = Double((recipe.config.viewCount - 2) * draws)
    return (
        global.map { $0 / globalTotal * Double(bins) }, local.map { $0 / localTotal * Double(bins) },
        (fallbacks, globals, outside, blurred, solarized)
    )
}
let photoAreas = areaHistogram(width: photoW, height: photoH, recipe: crop)
let fashionAreas = areaHistogram(width: 28, height: 28, recipe: fashionCrop)
// gnuplot's "steps" draws each row from its x to the next row's x, so rows start at bin edges.
func areaChart(
    _ name: String, _ areas: (global: [Double], local: [Double]), picture: String, recipe: MultiCropConfig
) throws {
    let (gs, ls) = (recipe.globalScale, recipe.localScale)
    var series = Series(columns: ["area_bin_start", "global", "local", "uniform_global", "uniform_local"])
    for b in 0...bins {
        let edge = Double(b) / Double(bins)
        let i = min(b, bins - 1)
        series.append([
            edge, areas.global[i], areas.local[i],
            edge >= gs.lowerBound && edge < gs.upperBound ? 1 / (gs.upperBound - gs.lowerBound) : 0,
            edge >= ls.lowerBound && edge < ls.upperBound ? 1 / (ls.upperBound - ls.lowerBound) : 0,
        ])
    }
    try lesson.plot(
        name, series,
        ChartSpec(
            title:
                "Crop area w·h/(W·H) on the \(picture): \(draws) images × (2 global + \(recipe.localCount) local)",
            x: "area fraction of the picture",
            y: "density",
            curves: [
                .init(using: "1:2", title: "global crops", style: "steps lw 2 lc rgb '#d62728'"),
                .init(using: "1:3", title: "local crops", style: "steps lw 2 lc rgb '#1f77b4'"),
                .init(
                    using: "1:4",
                    title:
                        "if s ~ U[\(gs.lowerBound.shortText), \(gs.upperBound.shortText)) were kept as drawn",
                    style: "steps lw 1 dt 2 lc rgb '#d62728'"),
                .init(
                    using: "1:5",
                    title:
                        "if s ~ U[\(ls.lowerBound.shortText), \(ls.upperBound.shortText)) were kept as drawn",
                    style: "steps lw 1 dt 2 lc rgb '#1f77b4'"),
            ], extra: ["set xrange [0:1]", "set yrange [0:*]", "set key inside top right"]))
}
try areaChart(
    "crop-areas", (photoAreas.global, photoAreas.local), picture: "\(photoW)x\(photoH) photograph",
    recipe: config)
try areaChart(
    "crop-areas-28px", (fashionAreas.global, fashionAreas.local), picture: "28x28 Fashion-MNIST item",
    recipe: fashionConfig)
let g = photoAreas.stats
print(
    String(
        format: "%dx%d: %d of %d global crops fell back to the centre crop (%.2f%%)", photoW, photoH,
        g.fallbacks,
        g.globals,
        100 * Double(g.fallbacks) / Double(g.globals)))
print(
    String(
        format: "28x28:   %d of %d global crops fell back", fashionAreas.stats.fallbacks,
        fashionAreas.stats.globals))
let localDraws = config.localCount * draws
print(
    String(
        format:
            "blurred: global 1 %d/%d, global 2 %d/%d (p 0.1), locals %d/%d (p 0.5); solarized global 2 %d/%d (p 0.2)",
        g.blurred[0], draws, g.blurred[1], draws, g.blurred[2], localDraws, g.solarized[1], draws))
lesson.claim(
    "every drawn s lies in its range and every box's area is within pixel rounding of s·W·H",
    g.outside == 0 && fashionAreas.stats.outside == 0)
// A count k of n draws with probability p lands within 5σ = 5√(np(1−p)) of np unless the sampler
// is wrong (a correct one misses with probability < 1e-6).
func fiveSigma(_ k: Int, _ n: Int, _ p: Double) -> Bool {
    abs(Double(k) - Double(n) * p) <= 5 * (Double(n) * p * (1 - p)).squareRoot()
}
lesson.claim(
    "blur probabilities 1.0 / 0.1 / 0.5 and solarize 0.2 (global 2 only) are honoured (5σ)",
    g.blurred[0] == draws && fiveSigma(g.blurred[1], draws, 0.1) && fiveSigma(g.blurred[2], localDraws, 0.5)
        && fiveSigma(g.solarized[1], draws, 0.2) && g.solarized[0] == 0 && g.solarized[2] == 0)

// MARK: 9 · How fast?
// The trainer needs 2 + 6 crops per image per step (lesson 07's recipe, §7); the augmentation must
// not be the bottleneck. `dino bench augment` measures this properly (medians, thread counts);
// here one timing for scale.
lesson.section("9 · How fast?")
let speedBatch = fashionCrop
let indices = Array(0..<256)
_ = try speedBatch.batch(fashion, indices: indices, seed: 1, epoch: 0)  // warm-up
let started = DispatchTime.now().uptimeNanoseconds
let timed = try speedBatch.batch(fashion, indices: indices, seed: 1, epoch: 1)
let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
print(
    String(
        format: "256 Fashion-MNIST images → %d crops (2×28 + %d×14) in %.1f ms: %.0f crops/s on %d thread(s)",
        timed.batchSize * timed.viewCount, fashionLocals, seconds * 1000,
        Double(timed.batchSize * timed.viewCount) / seconds, Threads.count))
print("more: swift run -c release dino bench augment")

lesson.finish()
