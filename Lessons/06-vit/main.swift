// Lessons/06-vit/main.swift · Lesson 06 · The Vision Transformer and the DINO head · Walkthroughs/06-vit.md
// The network DINO trains, built on the two kernel cores with hand-written backward passes: an
// image becomes patches and tokens, goes through pre-norm attention blocks, leaves as the CLS
// feature, and the DINO head turns it into K cosine logits. Then the backward pass, checked three
// ways (finite differences, reference vs SIMD, PyTorch's golden vectors), the speed of both cores,
// and the last block's CLS attention drawn over a Fashion-MNIST item and a photograph.
// Run: swift run -c release lesson06-vit   (about 5-12 s; --quick: about 4 s)
// Knobs (--help lists them): --dim D, --depth N, --heads H, --patch P, --k K, --batch B
import Benchmarks
import DINOCore
import DINOData
import DINOLesson
import DINOModel
import DINOPlot
import KernelCheck
import Foundation
import ReferenceCore
import SIMDCore

var lesson = Lesson(
    "06-vit", title: "The Vision Transformer and the DINO head",
    knobs: [
        Knob("--dim", "D", "token width of the Fashion-MNIST ViT (a multiple of --heads)", default: "64"),
        Knob("--depth", "N", "its number of blocks", default: "4"),
        Knob("--heads", "H", "attention heads per block", default: "4"),
        Knob("--patch", "P", "patch side in pixels: 2, 4, 7 or 14 (28-px images)", default: "7"),
        Knob("--k", "K", "prototypes of the DINO head (its logits)", default: "2048"),
        Knob("--batch", "B", "images per forward + backward in the timing of §7", default: "32; --quick 8"),
    ])
let dim = lesson.int("--dim", default: 64, in: 1...1024)
let depth = lesson.int("--depth", default: 4, in: 1...24)
let heads = lesson.int("--heads", default: 4, in: 1...64)
let patch = Int(lesson.choice("--patch", default: "7", from: ["2", "4", "7", "14"]))!
let prototypes = lesson.int("--k", default: 2048, in: 2...65536)
let benchBatch = lesson.int("--batch", default: lesson.quick ? 8 : 32, in: 1...512)
guard dim % heads == 0 else {
    lessonFail("--heads \(heads) does not divide --dim \(dim): each head gets dim/heads of the width")
}
/// Patches per side of a 28-px image, and tokens (CLS + patches).
let grid = 28 / patch, tokens = 1 + grid * grid
/// The local crop of §3: 14 px, half the image, as lesson 07's local crops.
let localSide = 14, localGrid = localSide / patch

/// Ends the lesson with a one-line error (naming the file) instead of a crash.
@discardableResult
func orExit<T>(_ what: String, _ body: () throws -> T) -> T {
    do { return try body() } catch {
        FileHandle.standardError.write(Data("error: \(what): \(error)\n".utf8))
        exit(1)
    }
}

// MARK: 1 · A Fashion-MNIST item becomes patches and tokens
// The ViT of lesson 07: 28-pixel gray images, patch 7 → a 4 × 4 grid of 16 patches, width D = 64,
// 4 blocks of 4 heads (the knobs change these). The patch embedding is a convolution with kernel =
// stride = 7: each patch's 49 pixels are multiplied by D filters. A learned CLS token is put in
// front, and the learned position table (1 + 16 rows) is added: 17 tokens of 64 numbers per image.
lesson.section("1 · A Fashion-MNIST item becomes patches and tokens")
let fashion = orExit("Fashion-MNIST test set") { try Dataset.fashionMNIST(split: .test) }
let item = 0
let itemImage = fashion.image(item)
let normalizedItem = Evaluator().normalized(itemImage.tensor.reshaped([1, 1, 28, 28]), .fashionMNIST)
print(
    "item \(item): \(fashion.classNames[fashion.labels[item]]), \(itemImage.width)×\(itemImage.height) pixels, \(itemImage.channels) channel"
)
let config = ViTConfig(imageSize: 28, patchSize: patch, channels: 1, dim: dim, depth: depth, heads: heads)
var vit = orExit("ViT") { try ViT<SIMDKernels>(config, seed: lesson.seed) }
print("ViT: \(config), \(vit.parameterCount) parameters")
var patches = Tensor(shape: [1, grid * grid, dim])
let named = Dictionary(uniqueKeysWithValues: vit.parameters.map { ($0.name, $0.value) })
SIMDKernels.patchEmbed(
    normalizedItem, weight: named["patch_embed.proj.weight"]!, bias: named["patch_embed.proj.bias"]!,
    patch: patch, into: &patches)
print(
    "image            \(normalizedItem.shape)   (B, C, H, W), normalised with the training-set mean 0.286 and std 0.353"
)
print("conv weight      \(named["patch_embed.proj.weight"]!.shape)   (D, C, p, p)")
print("patch embeddings \(patches.shape)   (B, \(grid)·\(grid) patches, D)")
print("cls token        \(named["cls_token"]!.shape)    pos_embed \(named["pos_embed"]!.shape)")
print(
    "tokens           [1, \(tokens), \(dim)]   CLS + \(grid * grid) patches, each plus its row of pos_embed")
lesson.claim(
    "a 28-pixel image with patch \(patch) gives \(grid * grid) patch embeddings of width \(dim)",
    patches.shape == [1, grid * grid, dim])

// MARK: 2 · Through the blocks: CLS feature, attention, the last blocks' outputs
// Each block is pre-norm: x ← x + Attn(LN1(x)); x ← x + MLP(LN2(x)). Attention splits D = 64 into
// 4 heads of 16 and scales the scores by 16^-0.5 (not 64^-0.5). After the final LayerNorm the CLS
// row is the image's feature. For inspection the ViT also keeps the last block's attention
// probabilities (the CLS query row is what DINO's attention maps show) and can return the output of
// the last n blocks, each through the final LayerNorm (the linear probe uses 4 of them).
// Only the CLS row leaves the network, so the last block needs every token as a key and a value
// (its LayerNorm and qkv run on all 17 rows) but its attention output, projection, MLP and the
// final LayerNorm only for the CLS row: `forward` runs it that way (about 15% of a training
// step saved at depth 4). The block outputs of every token need the full last block:
// `forward(_, allTokens: true)`. Both give the same feature.
lesson.section("2 · Through the blocks: CLS feature, attention, the last blocks' outputs")
let clsOnly = vit.forward(normalizedItem)
let cls = vit.forward(normalizedItem, allTokens: true)
let clsAttention = vit.lastBlockAttention(queries: 1)
let lastBlocks = min(4, depth)
let lastFour = vit.lastBlockOutputs(lastBlocks)
lesson.show("CLS feature", cls, limit: 8)
let clsGap = zip(clsOnly.storage, cls.storage).map { abs($0 - $1) }.max()!
lesson.claim(
    String(format: "the CLS-only last block gives the full network's feature (max |Δ| %.1e)", clsGap),
    clsGap <= 1e-6)
print("last block attention, CLS query: \(clsAttention.shape)   (B, heads, 1 query, \(tokens) keys)")
var rowSums: [Float] = []
for h in 0..<heads {
    let row = Array(clsAttention.storage[(h * tokens)..<((h + 1) * tokens)])
    rowSums.append(row.reduce(0, +))
    print(
        String(
            format: "  head %d: CLS→CLS %.3f, max to a patch %.3f, entropy %.3f nats (uniform: ln %d = %.3f)",
            h, row[0], row[1...].max()!, Stats.entropy(row), tokens, log(Double(tokens))))
}
print("outputs of the last \(lastBlocks) blocks: \(lastFour.map(\.shape))")
lesson.claim(
    "each head's CLS attention row is a probability distribution over the \(tokens) tokens",
    rowSums.allSatisfy { abs($0 - 1) < 1e-5 })
lesson.claim(
    "the CLS feature is row 0 of the last block's output after the final LayerNorm",
    Array(lastFour[lastBlocks - 1].storage[0..<dim]) == cls.row(0))

// MARK: 3 · The position table for a local crop: bicubic, with the +0.1
// The table has one row per patch of a TRAINING image. A 14-pixel local crop has a 2 × 2 grid, so
// `interpolate_pos_encoding` resamples the 4 × 4 grid of rows bicubically (A = -0.75), with scale
// factor (2 + 0.1)/4 instead of 2/4: the +0.1 guards against floor(size·scale) losing a row to
// rounding (facebookresearch/dino issue #8), and it shifts where the output samples the grid. The source coordinate
// (i + 0.5)/s - 0.5 is not clamped; only the four taps are. The same for the real DINO model:
// 224-pixel training images with patch 16 (14 × 14 grid) and 96-pixel local crops (6 × 6).
lesson.section("3 · The position table for a local crop: bicubic, with the +0.1")
let localCrop = Tensor(shape: [1, 1, localSide, localSide])
_ = vit.forward(localCrop)
print("\(localSide)-pixel crop: pass \(vit.lastPass!), tokens \(vit.lastPass!.tokens)")
let resampled = ViT<SIMDKernels>.positionEmbedding(
    named["pos_embed"]!, sourceGrid: grid, height: localSide, width: localSide,
    patch: patch)
print("pos_embed \(named["pos_embed"]!.shape) → \(resampled.table.shape) (resampled: \(resampled.resampled))")
for (g, out) in [(grid, localGrid), (14, 6)] {
    let s = (Double(out) + 0.1) / Double(g)
    print(String(format: "grid %d → %d: scale (%d + 0.1)/%d = %.4f", g, out, out, g, s))
    for i in 0..<out {
        let taps = Bicubic.taps(i, outSize: out, inSize: g)
        let src = (Double(i) + 0.5) / s - 0.5, plain = (Double(i) + 0.5) * Double(g) / Double(out) - 0.5
        print(
            String(
                format: "  output %d samples source %.3f (without +0.1: %.3f); taps %@ weights %@", i, src,
                plain,
                "\(taps.index)", taps.weight.map { String(format: "%.3f", $0) }.joined(separator: " ")))
    }
}
let goldenFolder = Lesson.repositoryRoot + "/Tests/golden"
let positionCases = [
    "ops/pos_embed_interpolation_small", "ops/pos_embed_interpolation_large",
    "ops/pos_embed_interpolation_nonsquare",
]
let positionResults = positionCases.map {
    GoldenRunner.run(SIMDKernels.self, directory: goldenFolder, path: $0)
}
positionResults.forEach { print($0) }
lesson.claim(
    "the resampled table has 1 + \(localGrid)·\(localGrid) rows and matches PyTorch's interpolate_pos_encoding on the 3 golden cases",
    resampled.table.shape == [1 + localGrid * localGrid, dim] && positionResults.allSatisfy(\.passed))
// A chart: a table that varies only along columns, so the 2-D resampling is a 1-D one per row.
let g = 14, out = 6
var table = Tensor(shape: [1 + g * g, 1])
for r in 0..<g {
    for c in 0..<g { table.storage[1 + r * g + c] = Float(sin(Double(c) * 0.7) + 0.05 * Double(c)) }
}
var sampled = Tensor(shape: [1 + out * out, 1])
ReferenceKernels.resamplePositionEmbedding(table, sourceGrid: g, rows: out, cols: out, into: &sampled)
var positionCurve = Series(columns: ["source_column", "value"])
positionCurve.newBlock("the 14 table values along a row")
for c in 0..<g { positionCurve.append([Double(c), Double(table.storage[1 + c])]) }
positionCurve.newBlock("the 6 resampled values at their source coordinates (scale 6.1/14)")
for j in 0..<out {
    positionCurve.append([
        (Double(j) + 0.5) * Double(g) / (Double(out) + 0.1) - 0.5, Double(sampled.storage[1 + j]),
    ])
}
positionCurve.newBlock("where a plain 6/14 resize would sample")
for j in 0..<out {
    positionCurve.append([(Double(j) + 0.5) * Double(g) / Double(out) - 0.5, Double(sampled.storage[1 + j])])
}
orExit("chart") {
    try lesson.plot(
        "pos-embed-resample", positionCurve,
        ChartSpec(
            title: "Position table, 14 → 6 columns (224 px → 96 px crop, patch 16)",
            x: "source column (grid coordinate)", y: "table value (one feature)",
            curves: [
                .init(using: "1:2", title: "table (14 columns)", style: "linespoints pt 7 lw 1", block: 0),
                .init(using: "1:2", title: "resampled (6 columns)", style: "points pt 9 ps 2", block: 1),
                .init(
                    using: "1:(-1.4)", title: "a plain 6/14 resize would sample here",
                    style: "points pt 2 ps 2", block: 2),
            ],
            extra: ["set yrange [-1.6:1.9]", "set key inside top left"]))
}

// MARK: 4 · The DINO head: K cosine logits
// An MLP (D → 256 → 256 → 64 with GELU) ends in a 64-d bottleneck that is L2-normalised; the last
// layer is weight-normalised with g = 1, so every prototype is a unit vector and the K = 2048
// logits are cosines in [-1, 1]. Divided by the student temperature 0.1 they span [-10, 10].
lesson.section("4 · The DINO head: K cosine logits")
var head = orExit("head") {
    try DINOHead<SIMDKernels>(
        DINOHeadConfig(inDim: dim, outDim: prototypes, hiddenDim: 256, bottleneckDim: 64),
        seed: lesson.seed &+ 1)
}
let logits = head.forward(cls)
print("head \(head.config): \(head.parameterCount) parameters")
print("logits \(logits.shape): min \(format(logits.storage.min()!)), max \(format(logits.storage.max()!))")
lesson.claim("the logits are cosines: every |logit| ≤ 1", Stats.maxAbs(logits) <= 1 + 1e-6)

// MARK: 5 · Backward, checked by finite differences and by the other core
// Every layer has a hand-written backward (no autograd): the head, the final LayerNorm on the CLS
// rows, then per block the MLP, LN2, the attention core (rebuilding each row of A from the saved
// log-sum-exp), LN1, and at the bottom the position table (through the resampling when there was
// one) and the patch convolution. The central difference (L(θ+h) - L(θ-h))/2h of L = Σ R ⊙ logits
// must match the backward's gradient; and the SIMD core must match the reference core.
lesson.section("5 · Backward, checked by finite differences and by the other core")
var reference = orExit("network") {
    try DINONetwork<ReferenceKernels>(backbone: config, head: head.config, seed: lesson.seed)
}
var fast = orExit("network") {
    try DINONetwork<SIMDKernels>(backbone: config, head: head.config, seed: lesson.seed)
}
var rng = lesson.rng
let batchImages = fashion.tensor(Array(0..<4))
let images = Evaluator().normalized(batchImages, .fashionMNIST)
let r = rng.uniformTensor([4, prototypes], -1, 1)
func loss(_ net: inout DINONetwork<ReferenceKernels>) -> Double {
    let y = net.forward([images])
    return zip(y.storage, r.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}
_ = reference.forward([images]); _ = fast.forward([images])
reference.zeroGradients(); fast.zeroGradients()
reference.backward(r); fast.backward(r)
var worstRelative = 0.0
print("parameter                                   entry   backward      central difference")
for (name, wanted) in [
    ("backbone.pos_embed", 70), ("backbone.patch_embed.proj.weight", 100),
    ("backbone.blocks.0.attn.qkv.weight", 3000),
    ("backbone.blocks.\(min(3, depth - 1)).mlp.fc1.bias", 17), ("backbone.norm.weight", 5),
    ("head.mlp.0.weight", 900),
    ("head.last_layer.weight_v", 4000),
] {
    let index = reference.parameterNames.firstIndex(of: name)!
    let entry = wanted % reference.allParameters[index].value.count  // the same entry whenever the tensor has it
    let analytic = Double(reference.allParameters[index].grad.storage[entry])
    var probe = reference
    let h: Float = 1e-2
    var values: [Double] = []
    for sign: Float in [1, -1] {
        probe.updateParameters { i, _, p in
            if i == index {
                p.value.storage[entry] = reference.allParameters[index].value.storage[entry] + sign * h
            }
        }
        values.append(loss(&probe))
    }
    let numeric = (values[0] - values[1]) / Double(2 * h)
    // Relative to max(|numeric|, 0.01): the central difference of a loss summed over 4·K Float logits
    // carries rounding of about 1e-4 (the largest gap seen over the knobs' settings: 9.5e-5, on an
    // entry of 4.4e-3 at --patch 14), so entries below 0.01 are held to 2% of 0.01 = 2e-4.
    worstRelative = max(worstRelative, abs(analytic - numeric) / max(abs(numeric), 1e-2))
    print(
        name.padding(toLength: 44, withPad: " ", startingAt: 0)
            + String(format: "%5d  %+.6e   %+.6e", entry, analytic, numeric))
}
lesson.claim("backward and central differences agree to 2% on every sampled entry", worstRelative < 0.02)
var logitDelta: Float = 0, gradDelta: Float = 0
let referenceLogits = reference.forward([images]), fastLogits = fast.forward([images])
logitDelta = zip(referenceLogits.storage, fastLogits.storage).map { abs($0 - $1) }.max()!
for (p, q) in zip(reference.allParameters, fast.allParameters) where p.trainable {
    gradDelta = max(
        gradDelta,
        zip(p.grad.storage, q.grad.storage).map { abs($0 - $1) }.max()! / max(Stats.maxAbs(p.grad), 1e-30))
}
print(
    String(
        format:
            "reference vs SIMD: max |Δ logit| %.1e, max |Δ grad| relative to each tensor's largest entry %.1e",
        logitDelta, gradDelta))
lesson.claim(
    "the SIMD core agrees with the reference core (logits to 1e-5, gradients to 1e-4 of their scale)",
    logitDelta < 1e-5 && gradDelta < 1e-4)

// MARK: 6 · PyTorch agrees: the golden vectors
// Tests/golden holds 21 cases computed by PyTorch from the official DINO code (ops, a ViT forward and
// a whole training step: loss, clipped gradients, AdamW, EMA). `dino verify Tests/golden` prints the
// same table; here both cores run every case.
lesson.section("6 · PyTorch agrees: the golden vectors")
let paths = orExit("golden folder") { try GoldenRunner.casePaths(in: goldenFolder) }
var goldenPassed = true
for path in paths {
    let a = GoldenRunner.run(ReferenceKernels.self, directory: goldenFolder, path: path)
    let b = GoldenRunner.run(SIMDKernels.self, directory: goldenFolder, path: path)
    goldenPassed = goldenPassed && a.passed && b.passed
    if path.hasPrefix("models/") || path == "ops/attention" || path == "ops/dino_head" {
        print("reference  \(a)\nsimd       \(b)")
    }
}
lesson.claim("all \(paths.count) golden cases pass on both cores", goldenPassed && paths.count == 21)

// MARK: 7 · Time: forward + backward on both cores
// The same weights, the same batch, interleaved runs, medians. The reference core is plain loops
// with Double sums; the SIMD core uses packed GEMM micro-kernels, the fused per-head attention (no
// N × N matrix is ever stored) and both CPU cores.
lesson.section("7 · Time: forward + backward on both cores")
let timing = orExit("benchmark") {
    try ModelBenchmark.run(
        vit: config, head: head.config, batch: benchBatch, referenceRuns: lesson.quick ? 1 : 3,
        simdRuns: lesson.quick ? 5 : 15, seed: lesson.seed)
}
print(String(format: "batch %d, ViT + head forward + backward (%.2f GFLOP):", benchBatch, timing.flops / 1e9))
print(
    String(
        format: "  reference  median %8.1f ms   %5.2f GFLOP/s", 1e3 * timing.referenceMedian,
        timing.flops / timing.referenceMedian / 1e9))
print(
    String(
        format: "  simd       median %8.1f ms   %5.2f GFLOP/s   (%d threads)", 1e3 * timing.simdMedian,
        timing.flops / timing.simdMedian / 1e9, Threads.count))
print(
    String(
        format: "  speed-up %.1f×   (cores agree: max |Δ logit| %.1e)", timing.speedup, timing.logitDifference
    ))
let lesson07Model = dim == 64 && depth == 4 && heads == 4 && patch == 7 && prototypes == 2048
if !lesson.quick && lesson07Model {
    lesson.claim(
        "the SIMD core is at least 20× faster than the reference core on this batch", timing.speedup >= 20)
} else if !lesson.quick {
    print("(the ≥ 20× claim is made for lesson 07's model, D 64, depth 4, 4 heads, patch 7, K 2048)")
}

// MARK: 8 · Where the CLS token looks: attention maps
// visualize_attention.py takes the last block's attention of the CLS query over the patches, one map
// per head, upsampled by nearest neighbour to the image. The weights here are a RANDOM
// initialisation: the maps show the position table and the pixel statistics, not objects. A
// trained ViT's heads separate the object from the background; lesson 07 draws those maps, and
// lesson 09 measures them on cluttered scenes against the object's true mask (the paper's Jaccard).
lesson.section("8 · Where the CLS token looks: attention maps (random initialisation)")
let photo = orExit("photograph") { try Image.readPNG(Lesson.assetsDirectory + "/chelsea.png") }
let side = lesson.quick ? 112 : 224
let photoSquare = photo.resized(width: side * photo.width / photo.height, height: side)
var cropped = Image(width: side, height: side, channels: 3)
cropped.paste(photoSquare, x: -(photoSquare.width - side) / 2, y: 0)
let photoConfig = ViTConfig(
    imageSize: 224, patchSize: 16, channels: 3, dim: 192, depth: lesson.quick ? 4 : 12, heads: 3)
var photoViT = orExit("ViT") { try ViT<SIMDKernels>(photoConfig, seed: lesson.seed) }
print(
    "photograph \(photo.width)×\(photo.height) → centre \(side)×\(side); ViT-Ti/16 shape (\(photoConfig)), random weights"
)
let photoTensor = Evaluator().normalized(cropped.tensor.reshaped([1, 3, side, side]), .imageNet)
_ = photoViT.forward(photoTensor)
let photoPass = photoViT.lastPass!
let photoMaps = AttentionMaps.clsMaps(
    photoViT.lastBlockAttention(queries: 1), image: 0, gridRows: photoPass.gridRows,
    gridCols: photoPass.gridCols)
print(
    "photo: pass \(photoPass), CLS attention over \(photoPass.gridRows)×\(photoPass.gridCols) patches, \(photoConfig.heads) heads"
)
for (h, map) in photoMaps.enumerated() {
    print(
        String(
            format: "  head %d: patch attention from %.5f to %.5f (uniform: %.5f), entropy / ln %d = %.4f", h,
            map.min()!, map.max()!, 1 / Double(map.count + 1), map.count,
            Stats.entropy(map.map { $0 / map.reduce(0, +) }) / log(Double(map.count))))
}
var itemRows: [(Image, [[Float]])] = []
for i in 0..<4 {
    let t = Evaluator().normalized(fashion.image(i).tensor.reshaped([1, 1, 28, 28]), .fashionMNIST)
    _ = vit.forward(t)
    itemRows.append(
        (
            fashion.image(i),
            AttentionMaps.clsMaps(
                vit.lastBlockAttention(queries: 1), image: 0, gridRows: grid, gridCols: grid)
        ))
}
let spread = photoMaps.map { map in Double(map.max()! - map.min()!) * Double(map.count + 1) }.max()!
// Captions in the pictures themselves: what each column is, and how the colours are scaled.
let photoScale = lesson.quick ? 2 : 1, photoCell = photoPass.gridCols * 16 * photoScale
var photoCaptions = SheetCaptions(
    title: "CLS attention of the last block of a ViT-Ti/16 (\(photoConfig.depth) blocks) with random weights",
    footer: String(
        format:
            "Each map runs from its own minimum (dark) to its maximum (yellow): the whole range is %.0f%% of ",
        100 * spread)
        + "the uniform value, so the squares are noise from the weights, not the cat.")
photoCaptions.columnBands = [
    SheetCaptions.grid(
        ["image"] + (1...photoConfig.heads).map { "head \($0)" }, origin: 4, cell: photoCell, gap: 4)
]
let photoPicture = heatMapSheet(
    [(cropped, photoMaps)], gridRows: photoPass.gridRows, gridCols: photoPass.gridCols, patch: 16,
    scale: photoScale
).captioned(photoCaptions)
let itemCell = grid * patch * 6
var itemCaptions = SheetCaptions(
    title:
        "CLS attention of \(lesson07Model ? "lesson 07's ViT shape" : "a ViT") (28 px, patch \(patch), D \(dim), depth \(depth)) "
        + "with random weights",
    footer:
        "Each map runs from its own minimum (dark) to its maximum (yellow). Every black background patch is the same "
        + "token, so random weights already tell it from the garment.")
itemCaptions.columnBands = [
    SheetCaptions.grid(["image"] + (1...heads).map { "head \($0)" }, origin: 4, cell: itemCell, gap: 4)
]
itemCaptions.rows = SheetCaptions.grid(
    (0..<4).map { fashion.classNames[fashion.labels[$0]] }, origin: 4, cell: itemCell, gap: 4)
let itemPicture = heatMapSheet(itemRows, gridRows: grid, gridCols: grid, patch: patch, scale: 6).captioned(
    itemCaptions)
orExit("attention maps") {
    try Files.ensureDirectory(lesson.plotDirectory)
    try photoPicture.writePNG(lesson.plotDirectory + "/attention-photo.png")
    try itemPicture.writePNG(lesson.plotDirectory + "/attention-fashion.png")
}
print("wrote \(lesson.plotDirectory)/attention-photo.png (the image, then one heat map per head)")
print("wrote \(lesson.plotDirectory)/attention-fashion.png (4 test items, one heat map per head)")
print(
    String(
        format:
            "colours are stretched from each map's minimum to its maximum; the whole range is %.0f%% of the",
        100 * spread))
print(
    "uniform value 1/(1 + patches): the pattern is noise from random weights, not the cat (trained maps: lesson 07)"
)
lesson.claim(
    "with random weights every head's CLS attention is within 1% of uniform entropy",
    photoMaps.allSatisfy { map in
        Stats.entropy(map.map { $0 / map.reduce(0, +) }) / log(Double(map.count)) > 0.99
    })
lesson.finish()

/// A sheet with one row per image: the image, then each head's map over it. Each map's colours
/// run from its own minimum (dark purple) to its maximum (yellow), blended 65/35 with the gray
/// image; nearest-neighbour upsampling by the patch size, like visualize_attention.py.
func heatMapSheet(
    _ rows: [(Image, [[Float]])], gridRows gh: Int, gridCols gw: Int, patch: Int, scale: Int
) -> Image {
    let cellW = gw * patch * scale, cellH = gh * patch * scale, gap = 4, heads = rows[0].1.count
    var sheet = Image(
        width: (1 + heads) * (cellW + gap) + gap, height: rows.count * (cellH + gap) + gap, channels: 3,
        fill: [1])
    for (r, (image, maps)) in rows.enumerated() {
        let rgb = image.rgb, y0 = gap + r * (cellH + gap)
        for y in 0..<cellH {
            for x in 0..<cellW {
                let sy = min(y / scale, rgb.height - 1), sx = min(x / scale, rgb.width - 1)
                let gray = 0.299 * rgb[0, sy, sx] + 0.587 * rgb[1, sy, sx] + 0.114 * rgb[2, sy, sx]
                for c in 0..<3 { sheet[c, y0 + y, gap + x] = rgb[c, sy, sx] }
                for (h, map) in maps.enumerated() {
                    let lo = map.min()!, hi = map.max()!
                    let v = (map[(sy / patch) * gw + sx / patch] - lo) / max(hi - lo, .leastNormalMagnitude)
                    let heat = ramp(v), x0 = gap + (1 + h) * (cellW + gap)
                    for c in 0..<3 { sheet[c, y0 + y, x0 + x] = 0.65 * heat[c] + 0.35 * gray }
                }
            }
        }
    }
    return sheet
}

/// Dark purple → magenta → orange → yellow.
func ramp(_ t: Float) -> [Float] {
    let stops: [[Float]] = [
        [0.05, 0.03, 0.25], [0.55, 0.10, 0.50], [0.95, 0.45, 0.15], [1.0, 0.95, 0.35],
    ]
    let f = min(max(t, 0), 1) * Float(stops.count - 1), i = min(Int(f), stops.count - 2), u = f - Float(i)
    return (0..<3).map { stops[i][$0] + u * (stops[i + 1][$0] - stops[i][$0]) }
}
