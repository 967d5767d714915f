import DINOCore
import Foundation

/// Per-channel `(v - mean) / std`, applied after every other augmentation (torchvision
/// `Normalize`), and undone for display.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]
    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }
    /// ImageNet statistics, what DINO uses for RGB crops.
    public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Fashion-MNIST training-set pixel mean and standard deviation (0.2860, 0.3530).
    public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])

    /// Item `item` of a normalised `[B, C, H, W]` (or `[C, H, W]`) tensor back in [0, 1], for
    /// display: `v·std + mean`, clamped.
    public func unnormalized(_ tensor: Tensor, item: Int = 0) -> Image {
        var image = Image(tensor, item: item)
        precondition(
            image.channels == mean.count, "unnormalized: \(image.channels) channels, \(mean.count) means")
        let plane = image.width * image.height
        for c in 0..<image.channels {
            for i in 0..<plane {
                let v = image.pixels[c * plane + i] * std[c] + mean[c]
                image.pixels[c * plane + i] = v > 0 ? (v < 1 ? v : 1) : 0
            }
        }
        return image
    }
}

/// The multi-crop recipe of DINO (`DataAugmentationDINO` of `main_dino.py`): two global crops and
/// `localCount` local crops, each drawn independently from the original image. Defaults are the
/// official ones for ViT-S/16 on ImageNet.
public struct MultiCropConfig: Sendable, Equatable {
    /// Side of the two global crops (224).
    public var globalSize = 224
    /// Side of each local crop (96).
    public var localSize = 96
    /// Number of local crops (8), so every image gives `2 + localCount` views.
    public var localCount = 8
    /// RandomResizedCrop area fraction of the global crops, s ~ U[0.4, 1).
    public var globalScale: ClosedRange<Double> = 0.4...1.0
    /// RandomResizedCrop area fraction of the local crops, s ~ U[0.05, 0.4).
    public var localScale: ClosedRange<Double> = 0.05...0.4
    /// Aspect ratio w/h, log-uniform in [3/4, 4/3].
    public var aspectRatio: ClosedRange<Double> = (3.0 / 4.0)...(4.0 / 3.0)
    public var flipProbability = 0.5
    /// Probability that colour jitter runs at all (RandomApply p 0.8).
    public var jitterProbability = 0.8
    /// Jitter strengths: brightness and contrast factors ~ U[1 - x, 1 + x], saturation factor
    /// ~ U[1 - s, 1 + s], hue shift ~ U[-h, h] turns of the colour wheel.
    public var brightness = 0.4, contrast = 0.4, saturation = 0.2, hue = 0.1
    public var grayscaleProbability = 0.2
    /// Gaussian blur probabilities: global 1 always, global 2 rarely, locals half the time.
    public var blurProbabilityGlobal1 = 1.0, blurProbabilityGlobal2 = 0.1, blurProbabilityLocal = 0.5
    /// Blur standard deviation in pixels of the resized crop, σ ~ U[0.1, 2.0).
    public var blurSigma: ClosedRange<Double> = 0.1...2.0
    /// Solarization probability, global 2 only.
    public var solarizeProbability = 0.2
    /// Normalisation of RGB crops (ImageNet) and of gray crops (Fashion-MNIST by default).
    public var normalizationRGB = Normalization.imageNet
    public var normalizationGray = Normalization.fashionMNIST

    public init() {}

    /// The official recipe (2 × 224 + 8 × 96).
    public static let dino = MultiCropConfig()

    /// The recipe scaled to 28 × 28 Fashion-MNIST: 2 × 28 global crops and `localCount` local
    /// crops of `localSize` (14 keeps the 224 : 96 ≈ 2 : 1 ratio and patch 7 divides both).
    public static func fashionMNIST(localCount: Int = 6, localSize: Int = 14) -> MultiCropConfig {
        var c = MultiCropConfig()
        c.globalSize = 28
        c.localSize = localSize
        c.localCount = localCount
        return c
    }

    /// Number of views per image, 2 + localCount.
    public var viewCount: Int { 2 + localCount }

    /// Output side of view `v` (0 and 1 global, the rest local).
    public func size(ofView v: Int) -> Int { v < 2 ? globalSize : localSize }

    public func normalization(channels: Int) -> Normalization {
        channels == 3 ? normalizationRGB : normalizationGray
    }

    /// Checks every setting, naming the first bad one.
    /// - Throws: ``DataError`` with path `MultiCropConfig.<setting>`.
    public func validate() throws {
        func fail(_ field: String, _ problem: String) -> DataError {
            DataError("MultiCropConfig.\(field)", problem)
        }
        guard globalSize >= 1, localSize >= 1 else {
            throw fail("globalSize/localSize", "crop sizes \(globalSize), \(localSize) must be ≥ 1")
        }
        guard localCount >= 0 else { throw fail("localCount", "\(localCount) must be ≥ 0") }
        for (name, r) in [("globalScale", globalScale), ("localScale", localScale)] {
            guard r.lowerBound > 0, r.upperBound <= 1 else { throw fail(name, "\(r) must lie inside (0, 1]") }
        }
        guard aspectRatio.lowerBound > 0 else { throw fail("aspectRatio", "\(aspectRatio) must be positive") }
        let probabilities = [
            ("flipProbability", flipProbability), ("jitterProbability", jitterProbability),
            ("grayscaleProbability", grayscaleProbability),
            ("blurProbabilityGlobal1", blurProbabilityGlobal1),
            ("blurProbabilityGlobal2", blurProbabilityGlobal2),
            ("blurProbabilityLocal", blurProbabilityLocal),
            ("solarizeProbability", solarizeProbability),
        ]
        for (name, p) in probabilities where !(0...1).contains(p) {
            throw fail(name, "\(p) is not a probability")
        }
        for (name, x) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation)]
        where !(0...1).contains(x) {
            throw fail(name, "\(x) must lie in [0, 1] (the factor range 1 ± x must stay non-negative)")
        }
        guard (0...0.5).contains(hue) else { throw fail("hue", "\(hue) must lie in [0, 0.5] turns") }
        guard blurSigma.lowerBound > 0 else { throw fail("blurSigma", "\(blurSigma) must be positive") }
        for (name, n) in [("normalizationRGB", normalizationRGB), ("normalizationGray", normalizationGray)] {
            guard n.mean.count == n.std.count, n.std.allSatisfy({ $0 > 0 }) else {
                throw fail(name, "mean \(n.mean) / std \(n.std): one positive std per mean needed")
            }
        }
        guard normalizationRGB.mean.count == 3 else {
            throw fail("normalizationRGB", "needs 3 means, has \(normalizationRGB.mean.count)")
        }
        guard normalizationGray.mean.count == 1 else {
            throw fail("normalizationGray", "needs 1 mean, has \(normalizationGray.mean.count)")
        }
    }
}

/// Which of the `2 + L` views a crop is.
public enum ViewKind: Sendable, Equatable, CustomStringConvertible {
    case global1, global2
    case local(Int)
    public init(view: Int) { self = view == 0 ? .global1 : (view == 1 ? .global2 : .local(view - 2)) }
    public var isGlobal: Bool { if case .local = self { return false } else { return true } }
    public var description: String {
        switch self {
        case .global1: return "global 1"
        case .global2: return "global 2"
        case .local(let i): return "local \(i + 1)"
        }
    }
}

/// Everything that was drawn for one crop: enough to re-render it, and what lesson 01 prints.
public struct CropParameters: Sendable, Equatable, CustomStringConvertible {
    public var view: ViewKind
    /// Size of the source image the crop was taken from.
    public var sourceWidth: Int, sourceHeight: Int
    /// Crop box in the source (pixels), before resizing to `outputSize × outputSize`.
    public var top = 0, left = 0, height = 0, width = 0
    public var outputSize: Int
    /// The area fraction s and aspect ratio r drawn in the accepted try (nil after a fallback).
    public var sampledScale: Double?, sampledRatio: Double?
    /// RandomResizedCrop tries used (1…10); `fellBack` when none fitted and the centre crop was used.
    public var attempts = 0
    public var fellBack = false
    public var flipped = false
    /// Colour jitter: whether it ran, its factors, and the order of its four operations
    /// (0 brightness, 1 contrast, 2 saturation, 3 hue), drawn per call as in torchvision.
    public var jittered = false
    public var brightness: Float = 1, contrast: Float = 1, saturation: Float = 1, hue: Float = 0
    public var jitterOrder = SIMD4<UInt8>(0, 1, 2, 3)
    public var grayscale = false
    /// Blur standard deviation in output pixels, nil when the blur coin said no.
    public var blurSigma: Float?
    public var solarized = false

    public init(view: ViewKind, sourceWidth: Int, sourceHeight: Int, outputSize: Int) {
        self.view = view
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.outputSize = outputSize
    }

    /// Crop area as a fraction of the source area (the realised s, after rounding w and h).
    public var areaFraction: Double { Double(width * height) / Double(sourceWidth * sourceHeight) }

    public static let jitterNames = ["brightness", "contrast", "saturation", "hue"]

    public var description: String {
        let head = "\(view)".padding(toLength: 8, withPad: " ", startingAt: 0)
        var s =
            head
            + String(format: " box %3d×%-3d at (%3d,%3d) area %.3f", width, height, left, top, areaFraction)
        if let scale = sampledScale, let ratio = sampledRatio {
            s += String(format: " s %.3f r %.2f", scale, ratio)
        } else {
            s += " centre fallback"
        }
        s += String(format: " → %3d", outputSize)
        s += flipped ? " flip" : "     "
        if jittered {
            let letters = ["b", "c", "s", "h"]
            let order = (0..<4).map { letters[Int(jitterOrder[$0])] }.joined()
            s +=
                " jitter[" + order + "]"
                + String(format: " b %.2f c %.2f s %.2f h %+.3f", brightness, contrast, saturation, hue)
        } else {
            s += " no jitter" + String(repeating: " ", count: 33)  // as wide as the jitter field
        }
        s += grayscale ? " gray" : "     "
        s += blurSigma.map { String(format: " blur σ %.2f", $0) } ?? " no blur    "
        if solarized { s += " solarize" }
        return s
    }
}

/// An unbiased integer in 0..<n (Lemire's multiply-and-reject), so draws do not depend on how a
/// Swift version implements `Int.random(in:)`.
@inline(__always)
func randomBelow(_ n: Int, _ rng: inout SplitMix64) -> Int {
    precondition(n > 0)
    let bound = UInt64(n)
    var m = rng.next().multipliedFullWidth(by: bound)
    if m.low < bound {
        let threshold = (0 &- bound) % bound
        while m.low < threshold { m = rng.next().multipliedFullWidth(by: bound) }
    }
    return Int(m.high)
}

/// A batch of augmented views, crop-major: `crops[v]` is `[B, C, S_v, S_v]` with all images'
/// view v, the order the ViT and the DINO loss expect (globals 0 and 1 first, as the official loss reads them).
public struct MultiCropBatch: Sendable {
    public var crops: [Tensor]
    /// What was drawn, image-major: `parameters[b * viewCount + v]`.
    public var parameters: [CropParameters]
    public var viewCount: Int { crops.count }
    public var batchSize: Int { crops.first?.shape[0] ?? 0 }
    public func parameters(image b: Int, view v: Int) -> CropParameters { parameters[b * viewCount + v] }
}

/// Anything augmentation can read pictures from: a ``Dataset`` or an array of ``Image``s.
public protocol ImageSource {
    var count: Int { get }
    /// Channels of image `index` (1 or 3).
    func channels(of index: Int) -> Int
    func size(of index: Int) -> (width: Int, height: Int)
    /// Writes image `index` as planar `[C, H, W]` Float in [0, 1].
    func copyPixels(of index: Int, into buffer: UnsafeMutablePointer<Float>)
}

extension Array: ImageSource where Element == Image {
    public func channels(of index: Int) -> Int { self[index].channels }
    public func size(of index: Int) -> (width: Int, height: Int) { (self[index].width, self[index].height) }
    public func copyPixels(of index: Int, into buffer: UnsafeMutablePointer<Float>) {
        self[index].pixels.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: $0.count) }
    }
}

/// Reusable buffers for rendering crops on one thread: filter taps and scratch planes, grown on
/// demand, so rendering allocates nothing per crop once warm.
final class CropWorkspace {
    var horizontal = ResampleTaps()
    var vertical = ResampleTaps()
    private(set) var scratch: UnsafeMutablePointer<Float>
    private var capacity: Int

    init() {
        capacity = 1024
        scratch = .allocate(capacity: capacity)
    }
    deinit { scratch.deallocate() }

    func reserve(_ n: Int) {
        guard n > capacity else { return }
        scratch.deallocate()
        capacity = max(n, capacity * 2)
        scratch = .allocate(capacity: capacity)
    }
}

/// DINO's multi-crop augmentation with torchvision/PIL semantics, deterministic from a seed.
///
/// Per view, in this order (as `DataAugmentationDINO`): RandomResizedCrop (area s, log-uniform aspect ratio,
/// 10 tries then torchvision's centre-crop fallback) resized with PIL's antialiased bicubic filter
/// (a = -0.5, kernel stretched by the downscale factor, see ``ResampleTaps``); horizontal flip;
/// colour jitter with its four operations in a random order; grayscale; PIL's Gaussian blur
/// (three extended box passes, see ``gaussianBlurPlane(_:width:height:sigma:scratch:)``);
/// solarization (global 2 only); normalisation. Everything runs in Float on [0, 1] values, where
/// PIL rounds to 8 bits after every step.
///
/// Gray (1-channel) images: saturation, hue and grayscale are no-ops (the draws are still made,
/// so a seed gives the same crop boxes for a gray and an RGB copy); contrast uses the image mean.
///
/// Randomness: image `index` of epoch `epoch` draws from its own stream
/// ``streamSeed(seed:epoch:index:)``, so a batch does not depend on how it is split over threads
/// nor on which other images share it.
public struct MultiCrop: Sendable {
    public let config: MultiCropConfig

    /// - Throws: ``DataError`` naming the first invalid setting.
    public init(_ config: MultiCropConfig = .dino) throws {
        try config.validate()
        self.config = config
    }

    /// The seed of image `index`'s random stream in `epoch`: three rounds of the SplitMix64
    /// finaliser, so neighbouring (seed, epoch, index) triples give unrelated streams.
    public static func streamSeed(seed: UInt64, epoch: Int, index: Int) -> UInt64 {
        var a = SplitMix64(seed: seed)
        var b = SplitMix64(seed: a.next() ^ UInt64(bitPattern: Int64(epoch)))
        var c = SplitMix64(seed: b.next() ^ UInt64(bitPattern: Int64(index)) &* 0xD6E8_FEB8_6659_FD93)
        return c.next()
    }

    // MARK: Sampling

    /// torchvision's `RandomResizedCrop.get_params`: up to 10 tries of s ~ U(scale),
    /// log r ~ U(log ratio), w = round(√(s·A·r)), h = round(√(s·A/r)) (round half to even, as
    /// Python's `round`); the first that fits is placed uniformly. Otherwise a centre crop of
    /// the whole image, narrowed to the ratio range if the image itself is outside it.
    public static func sampleBox(
        width: Int, height: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
        into p: inout CropParameters, rng: inout SplitMix64
    ) {
        let area = Double(width * height)
        let logLo = log(ratio.lowerBound)
        let logHi = log(ratio.upperBound)
        for attempt in 1...10 {
            let s = rng.uniform(scale.lowerBound, scale.upperBound)
            let r = exp(rng.uniform(logLo, logHi))
            let w = Int((s * area * r).squareRoot().rounded(.toNearestOrEven))
            let h = Int((s * area / r).squareRoot().rounded(.toNearestOrEven))
            if w > 0 && w <= width && h > 0 && h <= height {
                p.top = randomBelow(height - h + 1, &rng)
                p.left = randomBelow(width - w + 1, &rng)
                (p.height, p.width) = (h, w)
                (p.sampledScale, p.sampledRatio, p.attempts, p.fellBack) = (s, r, attempt, false)
                return
            }
        }
        let inRatio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        (p.top, p.left, p.height, p.width) = ((height - h) / 2, (width - w) / 2, h, w)
        (p.sampledScale, p.sampledRatio, p.attempts, p.fellBack) = (nil, nil, 10, true)
    }

    /// Draws everything for view `view` of a `width × height` image, in torchvision's call order
    /// (crop box, flip, jitter coin + order + factors, grayscale, blur coin + σ, solarize coin).
    public func sampleParameters(view: Int, width: Int, height: Int, rng: inout SplitMix64) -> CropParameters
    {
        let c = config
        let kind = ViewKind(view: view)
        var p = CropParameters(
            view: kind, sourceWidth: width, sourceHeight: height, outputSize: c.size(ofView: view))
        MultiCrop.sampleBox(
            width: width, height: height, scale: kind.isGlobal ? c.globalScale : c.localScale,
            ratio: c.aspectRatio, into: &p, rng: &rng)
        p.flipped = rng.uniformDouble() < c.flipProbability
        // RandomApply runs its transform unless p < u, i.e. when u ≤ p.
        p.jittered = rng.uniformDouble() <= c.jitterProbability
        if p.jittered {
            var order: [UInt8] = [0, 1, 2, 3]  // torch.randperm(4), by Fisher-Yates
            for i in stride(from: 3, to: 0, by: -1) { order.swapAt(i, randomBelow(i + 1, &rng)) }
            p.jitterOrder = SIMD4(order[0], order[1], order[2], order[3])
            p.brightness = Float(rng.uniform(max(0, 1 - c.brightness), 1 + c.brightness))
            p.contrast = Float(rng.uniform(max(0, 1 - c.contrast), 1 + c.contrast))
            p.saturation = Float(rng.uniform(max(0, 1 - c.saturation), 1 + c.saturation))
            p.hue = Float(rng.uniform(-c.hue, c.hue))
        }
        p.grayscale = rng.uniformDouble() < c.grayscaleProbability
        let blurP: Double
        switch kind {
        case .global1: blurP = c.blurProbabilityGlobal1
        case .global2: blurP = c.blurProbabilityGlobal2
        case .local: blurP = c.blurProbabilityLocal
        }
        // DINO's GaussianBlur: `random.random() <= p`, then σ ~ U(radius_min, radius_max).
        if rng.uniformDouble() <= blurP {
            p.blurSigma = Float(rng.uniform(c.blurSigma.lowerBound, c.blurSigma.upperBound))
        }
        if kind == .global2 { p.solarized = rng.uniformDouble() < c.solarizeProbability }
        return p
    }

    /// The parameters of all `2 + L` views of one image, drawn in view order from `rng`.
    public func sampleViews(width: Int, height: Int, rng: inout SplitMix64) -> [CropParameters] {
        (0..<config.viewCount).map { sampleParameters(view: $0, width: width, height: height, rng: &rng) }
    }

    // MARK: Rendering

    /// Scratch floats one render of `p` on a `channels`-channel source needs.
    static func scratchNeeded(_ p: CropParameters, maxSigma: Double) -> Int {
        let s = p.outputSize
        return max(
            resampleScratch(cropWidth: p.width, cropHeight: p.height, outWidth: s, outHeight: s),
            gaussianBlurScratch(width: s, height: s, maxSigma: maxSigma))
    }

    /// Renders one crop: `source` is the planar `[C, sourceHeight, sourceWidth]` image in [0, 1],
    /// `out` receives the normalised `[C, S, S]` view. No allocation once `workspace` is warm.
    func render(
        _ p: CropParameters, source: UnsafePointer<Float>, channels: Int,
        into out: UnsafeMutablePointer<Float>,
        workspace: CropWorkspace
    ) {
        let s = p.outputSize
        let plane = s * s
        workspace.reserve(MultiCrop.scratchNeeded(p, maxSigma: Double(p.blurSigma ?? 0.1)))
        workspace.horizontal.compute(inSize: p.width, outSize: s)
        workspace.vertical.compute(inSize: p.height, outSize: s)
        let sourcePlane = p.sourceWidth * p.sourceHeight
        for c in 0..<channels {
            resamplePlane(
                source + c * sourcePlane, sourceWidth: p.sourceWidth,
                top: p.top, left: p.left, cropHeight: p.height, cropWidth: p.width,
                into: out + c * plane, outHeight: s, outWidth: s, mirror: p.flipped,
                horizontal: workspace.horizontal, vertical: workspace.vertical,
                scratch: workspace.scratch)
        }
        if p.jittered {
            for k in 0..<4 {
                switch p.jitterOrder[k] {
                case 0: adjustBrightness(out, count: channels * plane, factor: p.brightness)
                case 1: adjustContrast(out, channels: channels, plane: plane, factor: p.contrast)
                case 2: if channels == 3 { adjustSaturation(out, plane: plane, factor: p.saturation) }
                default: if channels == 3 { adjustHue(out, plane: plane, shift: p.hue) }
                }
            }
        }
        if p.grayscale && channels == 3 { grayscale(out, plane: plane) }
        if let sigma = p.blurSigma {
            for c in 0..<channels {
                gaussianBlurPlane(
                    out + c * plane, width: s, height: s, sigma: Double(sigma), scratch: workspace.scratch)
            }
        }
        let n = config.normalization(channels: channels)
        solarizeAndNormalize(
            out, channels: channels, plane: plane, solarize: p.solarized, mean: n.mean, std: n.std)
    }

    /// Renders view `p` of `image` alone, as a normalised `[C, S, S]` tensor (for lessons and tests).
    public func render(_ p: CropParameters, of image: Image) -> Tensor {
        precondition(
            p.sourceWidth == image.width && p.sourceHeight == image.height,
            "render: parameters drawn for \(p.sourceWidth)x\(p.sourceHeight), image is \(image.width)x\(image.height)"
        )
        let workspace = CropWorkspace()
        let s = p.outputSize
        var out = [Float](repeating: 0, count: image.channels * s * s)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                render(
                    p, source: src.baseAddress!, channels: image.channels, into: dst.baseAddress!,
                    workspace: workspace)
            }
        }
        return Tensor(shape: [image.channels, s, s], out)
    }

    // MARK: Batches

    /// All `2 + L` views of the images `indices` of `source`, crop-major (see ``MultiCropBatch``).
    ///
    /// Image `indices[b]` draws from the stream ``streamSeed(seed:epoch:index:)`` of its own
    /// index, so the result is the same for any `Threads.count` and any batch composition. The
    /// images are split over `Threads.count` threads, each with its own workspace.
    /// - Throws: ``DataError`` if an index is out of range or the images' channel counts differ.
    public func batch<Source: ImageSource>(
        _ source: Source, indices: [Int], seed: UInt64, epoch: Int
    ) throws
        -> MultiCropBatch
    {
        guard !indices.isEmpty else { throw DataError("MultiCrop.batch", "no image indices given") }
        let batchSize = indices.count
        let channels = indices.first.map { $0 >= 0 && $0 < source.count ? source.channels(of: $0) : 0 } ?? 0
        var offsets = [Int](repeating: 0, count: batchSize + 1)
        for (b, i) in indices.enumerated() {
            guard i >= 0 && i < source.count else {
                throw DataError("MultiCrop.batch", "image index \(i) outside 0..<\(source.count)")
            }
            guard source.channels(of: i) == channels else {
                throw DataError(
                    "MultiCrop.batch",
                    "image \(i) has \(source.channels(of: i)) channels, image \(indices[0]) has \(channels)")
            }
            let (w, h) = source.size(of: i)
            offsets[b + 1] = offsets[b] + channels * w * h
        }
        // 1. Draw every view's parameters from the image's own stream (cheap, serial).
        let views = config.viewCount
        var parameters: [CropParameters] = []
        parameters.reserveCapacity(batchSize * views)
        for i in indices {
            var rng = SplitMix64(seed: MultiCrop.streamSeed(seed: seed, epoch: epoch, index: i))
            let (w, h) = source.size(of: i)
            parameters += sampleViews(width: w, height: h, rng: &rng)
        }
        // 2. Stage the source pixels as Float, back to back.
        let staged = UnsafeMutablePointer<Float>.allocate(capacity: offsets[batchSize])
        defer { staged.deallocate() }
        for (b, i) in indices.enumerated() { source.copyPixels(of: i, into: staged + offsets[b]) }
        // 3. Render view by view straight into each output tensor's storage.
        let chunks = max(1, min(Threads.count, batchSize))
        let workspaces = (0..<chunks).map { _ in CropWorkspace() }
        var crops: [Tensor] = []
        for v in 0..<views {
            let s = config.size(ofView: v)
            let stride = channels * s * s
            let storage = [Float](unsafeUninitializedCapacity: batchSize * stride) { buffer, initialized in
                let out = buffer.baseAddress!
                Threads.parallelFor(chunks) { chunk in
                    for b in (chunk * batchSize / chunks)..<((chunk + 1) * batchSize / chunks) {
                        render(
                            parameters[b * views + v], source: staged + offsets[b], channels: channels,
                            into: out + b * stride, workspace: workspaces[chunk])
                    }
                }
                initialized = batchSize * stride
            }
            crops.append(Tensor(shape: [batchSize, channels, s, s], storage))
        }
        return MultiCropBatch(crops: crops, parameters: parameters)
    }
}
