// Lessons/01-views/main.swift · Lesson 01 · Multi-crop views · Walkthroughs/01-views.md
// DINO never sees a label: it learns by asking two *views* of one picture to agree. This lesson
// builds those views exactly as the official code does (2 global + 8 local crops, torchvision/PIL
// semantics), prints every random draw, and draws them. Uses DINOData's MultiCrop, Image, Dataset.
// Run: swift run -c release lesson01-views   (about 5 s; --quick: fewer draws for the histograms)
import DINOCore
import DINOData
import DINOLesson
import DINOPlot
import Foundation

var lesson = Lesson("01-views", title: "Multi-crop views")

/// Writes a picture into the lesson's plot folder and says so (the smoke test looks for `wrote plots/…`).
func writePicture(_ image: Image, _ name: String) throws {
    try Gnuplot.ensureDirectory(lesson.plotDirectory)
    let path = lesson.plotDirectory + "/" + name + ".png"
    try image.writePNG(path)
    print("wrote \(path) (\(image.width)x\(image.height))")
}

/// Colours of the crop outlines: global 1 red, global 2 blue, the locals in eight other hues.
let outlineColours: [[Float]] = [
    [0.90, 0.10, 0.10], [0.10, 0.35, 0.95], [1.00, 0.60, 0.00], [0.15, 0.70, 0.20], [0.60, 0.20, 0.80],
    [0.00, 0.75, 0.80], [0.95, 0.25, 0.70], [0.95, 0.90, 0.10], [0.55, 0.35, 0.15], [0.40, 0.40, 0.40],
]

// MARK: 1 · One photograph
// Chelsea the cat, 451 × 300 pixels, from scikit-image's sample data (CC0). DINO works on any
// picture size: every crop is resized to a fixed side, so only the crop *boxes* depend on 451 × 300.
lesson.section("1 · One photograph")
let photoPath = Lesson.assetsDirectory + "/chelsea.png"
let photo = try Image.readPNG(photoPath)
print(
    "read \(Lesson.displayPath(photoPath)): \(photo.width)x\(photo.height), \(photo.channels) channels, planar [C, H, W] Float in [0, 1]"
)
let photoMean = (0..<3).map { c in
    photo.pixels[c * photo.width * photo.height..<(c + 1) * photo.width * photo.height].reduce(0, +)
        / Float(photo.width * photo.height)
}
print("channel means R G B: " + photoMean.map { format($0, digits: 3) }.joined(separator: " "))
lesson.claim(
    "the photograph loads as 451×300 RGB", photo.width == 451 && photo.height == 300 && photo.channels == 3)

// MARK: 2 · The recipe
// DataAugmentationDINO in main_dino.py, step by step and in this order for every crop:
// RandomResizedCrop → flip → colour jitter (p 0.8) → grayscale (p 0.2) → Gaussian blur → solarize
// (global 2 only) → normalise. The two global crops differ only in blur and solarize: global 1 is
// always blurred, global 2 rarely, and only global 2 can be solarized. The asymmetry is deliberate:
// the teacher sees both globals, so each student crop is pulled towards a mildly and a heavily
// distorted version of the same picture.
lesson.section("2 · The recipe (the official DataAugmentationDINO)")
let config = MultiCropConfig.dino
let crop = try MultiCrop(config)
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
print("normalise with ImageNet mean \(config.normalizationRGB.mean) and std \(config.normalizationRGB.std)")

// MARK: 3 · Ten views of the cat, every draw printed
// `batch` draws each image's parameters from its own stream, seeded by (seed, epoch, index), then
// renders them crop-major: crops[v] is [B, 3, S, S], all images' view v (the layout the ViT eats).
// Read the lines: box = the window cut from the 451 × 300 picture, s and r = the area fraction
// and aspect ratio drawn for it, then which coins came up.
lesson.section("3 · Ten views of the cat, every draw printed")
let views = try crop.batch([photo], indices: [0], seed: lesson.seed, epoch: 0)
print("crops: " + views.crops.map { "\($0.shape)" }.joined(separator: " "))
for v in 0..<views.viewCount { print(views.parameters(image: 0, view: v)) }
let drawn = views.parameters
lesson.claim(
    "2 global crops of 224 and 8 local crops of 96, crop-major [1, 3, S, S]",
    views.crops.count == 10 && views.crops.prefix(2).allSatisfy { $0.shape == [1, 3, 224, 224] }
        && views.crops.dropFirst(2).allSatisfy { $0.shape == [1, 3, 96, 96] })
lesson.claim(
    "global 1 is blurred (p 1.0) and no view but global 2 is solarized",
    drawn[0].blurSigma != nil && drawn.enumerated().allSatisfy { $0.offset == 1 || !$0.element.solarized })

// MARK: 4 · The contact sheet → plots/01-views/views.png
// Top row: the photograph with every crop box outlined in its view's colour, then the two global
// views. Bottom row: the eight local views, framed in the colour of their box. The views are
// normalised tensors; for display we undo the normalisation (v·std + mean).
lesson.section("4 · The contact sheet")
func contactSheet(_ source: Image, _ batch: MultiCropBatch, item: Int, _ normalization: Normalization) -> Image {
    let shown = source.resized(
        width: Int((Double(source.width) * 224 / Double(source.height)).rounded()), height: 224)
    let (margin, gap, frame) = (12, 10, 3)
    let topWidth = shown.width + 2 * (224 + gap)
    let localWidth = batch.viewCount - 2 > 0 ? (batch.viewCount - 2) * (96 + gap) - gap : 0
    var sheet = Image(
        width: 2 * margin + max(topWidth, localWidth), height: 2 * margin + 224 + 2 * gap + 96,
        channels: 3, fill: [1])
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
    sheet.paste(boxed, x: margin, y: margin)
    for v in 0..<batch.viewCount {
        let view = normalization.unnormalized(batch.crops[v], item: item).rgb
        let (x, y) =
            v < 2
            ? (margin + shown.width + gap + v * (224 + gap), margin)
            : (margin + (v - 2) * (96 + gap), margin + 224 + 2 * gap)
        sheet.fillRectangle(
            x: x - frame, y: y - frame, width: view.width + 2 * frame, height: view.height + 2 * frame,
            color: outlineColours[v % outlineColours.count])
        sheet.paste(view, x: x, y: y)
    }
    return sheet
}
try writePicture(contactSheet(photo, views, item: 0, config.normalizationRGB), "views")

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
let fused = config.normalizationRGB.unnormalized(crop.render(forced, of: photo))
let stepDelta = zip(fused.pixels, step.pixels).map { abs($0 - $1) }.max()!
print(
    "largest |fused − step by step| = \(format(stepDelta, digits: 2)) (normalise and un-normalise round in Float)"
)
lesson.claim("the fused renderer equals the operations applied one at a time (|Δ| < 1e-5)", stepDelta < 1e-5)
// Shown at 160 px (bicubic, the same resampler) to keep the committed PNG small.
var strip = Image(width: steps.count * (160 + 8) - 8, height: 160, channels: 3, fill: [1])
for (i, s) in steps.enumerated() { strip.paste(s.1.resized(width: 160, height: 160), x: i * 168, y: 0) }
try writePicture(strip, "pipeline")

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
    (0..<10).allSatisfy {
        Image(oneThread.crops[$0], item: 0) == Image(views.crops[$0], item: 0)
    })
let movedBoxes = zip(nextEpoch.parameters, views.parameters).filter {
    ($0.0.left, $0.0.top, $0.0.width) != ($0.1.left, $0.1.top, $0.1.width)
}.count
print("epoch 1 vs epoch 0: \(movedBoxes) of 10 crop boxes moved")
lesson.claim(
    "the next epoch draws new views",
    nextEpoch.parameters != views.parameters && nextEpoch.crops[0] != views.crops[0])

// MARK: 7 · Fashion-MNIST: 28 × 28 gray
// The same recipe, scaled down: global crops of 28 (the full resolution), local crops of 14. On one
// channel saturation, hue and grayscale are no-ops (their coins are still tossed, so the boxes are
// the same as for an RGB copy), contrast blends with the image mean, and normalisation uses
// Fashion-MNIST's own statistics.
lesson.section("7 · Fashion-MNIST: 28 × 28 gray")
let fashion = try Dataset.fashionMNIST(split: .test)
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
let fashionConfig = MultiCropConfig.fashionMNIST(localCount: 8, localSize: 14)
let fashionCrop = try MultiCrop(fashionConfig)
let items = [0, 1, 2, 3, 4]
let fashionViews = try fashionCrop.batch(fashion, indices: items, seed: lesson.seed, epoch: 0)
print("item 0 (\(fashion.classNames[fashion.labels[0]])), its 10 views:")
for v in 0..<fashionViews.viewCount { print(fashionViews.parameters(image: 0, view: v)) }
lesson.claim(
    "gray crops are [5, 1, 28, 28] ×2 and [5, 1, 14, 14] ×8",
    fashionViews.crops.prefix(2).allSatisfy { $0.shape == [5, 1, 28, 28] }
        && fashionViews.crops.dropFirst(2).allSatisfy { $0.shape == [5, 1, 14, 14] })
// Contact sheet: one row per item, the original then its 10 views, enlarged 4× by pixel repetition
// (the locals stay half the size of the globals: they really have half the pixels).
let zoom = 4
var fashionSheet = Image(
    width: 12 * 2 + 3 * 28 * zoom + 8 * 14 * zoom + 11 * 10,
    height: 12 * 2 + items.count * (28 * zoom + 10) - 10,
    channels: 3, fill: [1])
for (row, item) in items.enumerated() {
    let y = 12 + row * (28 * zoom + 10)
    var x = 12
    fashionSheet.paste(fashion.image(item).upscaledNearest(zoom), x: x, y: y)
    x += 28 * zoom + 10
    for v in 0..<fashionViews.viewCount {
        let view = fashionConfig.normalizationGray.unnormalized(fashionViews.crops[v], item: row)
            .upscaledNearest(zoom)
        fashionSheet.paste(view, x: x, y: y)
        x += view.width + 10
    }
}
try writePicture(fashionSheet, "fashion-views")

// MARK: 8 · Where do the crop areas fall? → plots/01-views/crop-areas.png, crop-areas-28px.png
// Draw many crop boxes (no rendering needed: the parameters are the whole story) and histogram the
// realised area fraction w·h / (W·H). torchvision draws s ~ U[lo, hi), but it keeps a draw only if
// the box fits inside the picture, and retries otherwise. On the 3:2 photograph a box of area s and
// aspect r is 300·√(s/0.665r) px tall, so every s above 0.665·r is rejected: big global crops are
// rare, none exceeds 0.887 (r = 4/3, a 400 × 300 box), and after ten misses in a row torchvision
// takes exactly that 400 × 300 centre crop. Local draws (s < 0.4) always fit, so their histogram is
// flat. At 28 × 28 the rounding of w and h to whole pixels makes the histograms spiky.
lesson.section("8 · Where do the crop areas fall?")
let draws = lesson.quick ? 2_000 : 20_000
let bins = 100  // 0.01 wide: 0.05 and 0.4 fall on bin edges
func areaHistogram(width: Int, height: Int, recipe: MultiCrop) -> (
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
let photoAreas = areaHistogram(width: 451, height: 300, recipe: crop)
let fashionAreas = areaHistogram(width: 28, height: 28, recipe: fashionCrop)
// gnuplot's "steps" draws each row from its x to the next row's x, so rows start at bin edges.
func areaChart(_ name: String, _ areas: (global: [Double], local: [Double]), picture: String) throws {
    var series = Series(columns: ["area_bin_start", "global", "local", "uniform_global", "uniform_local"])
    for b in 0...bins {
        let edge = Double(b) / Double(bins)
        let i = min(b, bins - 1)
        series.append([
            edge, areas.global[i], areas.local[i], edge >= 0.4 && b < bins ? 1 / 0.6 : 0,
            edge >= 0.05 && edge < 0.4 ? 1 / 0.35 : 0,
        ])
    }
    try lesson.plot(
        name, series,
        ChartSpec(
            title: "Crop area w·h/(W·H) on the \(picture): \(draws) images × (2 global + 8 local)",
            x: "area fraction of the picture",
            y: "density",
            curves: [
                .init(using: "1:2", title: "global crops", style: "steps lw 2 lc rgb '#d62728'"),
                .init(using: "1:3", title: "local crops", style: "steps lw 2 lc rgb '#1f77b4'"),
                .init(
                    using: "1:4", title: "if s ~ U[0.4, 1) were kept as drawn",
                    style: "steps lw 1 dt 2 lc rgb '#d62728'"),
                .init(
                    using: "1:5", title: "if s ~ U[0.05, 0.4) were kept as drawn",
                    style: "steps lw 1 dt 2 lc rgb '#1f77b4'"),
            ], extra: ["set xrange [0:1]", "set yrange [0:*]", "set key inside top right"]))
}
try areaChart("crop-areas", (photoAreas.global, photoAreas.local), picture: "451x300 photograph")
try areaChart(
    "crop-areas-28px", (fashionAreas.global, fashionAreas.local), picture: "28x28 Fashion-MNIST item")
let g = photoAreas.stats
print(
    String(
        format: "451x300: %d of %d global crops fell back to the centre crop (%.2f%%)", g.fallbacks,
        g.globals,
        100 * Double(g.fallbacks) / Double(g.globals)))
print(
    String(
        format: "28x28:   %d of %d global crops fell back", fashionAreas.stats.fallbacks,
        fashionAreas.stats.globals))
let localDraws = 8 * draws
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
// The trainer needs ~8 crops per image per step; the augmentation must not be the bottleneck.
// `dino bench augment` measures this properly (medians, thread counts); here one timing for scale.
lesson.section("9 · How fast?")
let speedBatch = try MultiCrop(.fashionMNIST(localCount: 6, localSize: 14))
let indices = Array(0..<256)
_ = try speedBatch.batch(fashion, indices: indices, seed: 1, epoch: 0)  // warm-up
let started = DispatchTime.now().uptimeNanoseconds
let timed = try speedBatch.batch(fashion, indices: indices, seed: 1, epoch: 1)
let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
print(
    String(
        format: "256 Fashion-MNIST images → %d crops (2×28 + 6×14) in %.1f ms: %.0f crops/s on %d thread(s)",
        timed.batchSize * timed.viewCount, seconds * 1000,
        Double(timed.batchSize * timed.viewCount) / seconds, Threads.count))
print("more: swift run -c release dino bench augment")

lesson.finish()
