import DINOCore
import DINOData
import Foundation
import Testing

/// A smooth RGB test picture with structure in every channel (so crops differ visibly).
func testPhoto(width: Int = 45, height: Int = 30) -> Image {
    var image = Image(width: width, height: height, channels: 3)
    for y in 0..<height {
        for x in 0..<width {
            image[0, y, x] = Float(x) / Float(width - 1)
            image[1, y, x] = Float(y) / Float(height - 1)
            image[2, y, x] = 0.5 + 0.5 * sin(Float(x + 2 * y) * 0.3)
        }
    }
    return image
}

/// A recipe whose random operations are all switched off (crop boxes still random).
func plainConfig(size: Int = 8) -> MultiCropConfig {
    var c = MultiCropConfig()
    (c.globalSize, c.localSize, c.localCount) = (size, size, 2)
    (c.flipProbability, c.jitterProbability, c.grayscaleProbability) = (0, 0, 0)
    (c.blurProbabilityGlobal1, c.blurProbabilityGlobal2, c.blurProbabilityLocal, c.solarizeProbability) = (
        0, 0, 0, 0
    )
    c.normalizationRGB = Normalization(mean: [0, 0, 0], std: [1, 1, 1])
    c.normalizationGray = Normalization(mean: [0], std: [1])
    return c
}

/// Binomial count check: |k − np| ≤ 5·√(np(1−p)). For a fresh seed a correct sampler fails this
/// with probability < 6·10⁻⁷ (normal tail beyond 5σ); a sampler with the wrong p (say 0.1 vs
/// 0.2 over 4000 draws, 21σ apart) cannot pass.
func withinFiveSigma(_ k: Int, n: Int, p: Double) -> Bool {
    if p == 0 || p == 1 { return k == Int(Double(n) * p) }
    return abs(Double(k) - Double(n) * p) <= 5 * (Double(n) * p * (1 - p)).squareRoot()
}

@Suite("multi-crop augmentation") struct AugmentTests {
    let images = [testPhoto(), testPhoto(width: 30, height: 41), testPhoto(width: 64, height: 20)]

    @Test func shapesAreCropMajor() throws {
        let crop = try MultiCrop(.fashionMNIST(localCount: 4, localSize: 12))
        let batch = try crop.batch(images, indices: [0, 1, 2, 1], seed: 1, epoch: 0)
        #expect(batch.crops.count == 6 && batch.viewCount == 6 && batch.batchSize == 4)
        #expect(batch.crops[0].shape == [4, 3, 28, 28] && batch.crops[1].shape == [4, 3, 28, 28])
        for v in 2..<6 { #expect(batch.crops[v].shape == [4, 3, 12, 12]) }
        #expect(batch.parameters.count == 24)
        #expect(batch.parameters(image: 2, view: 3).view == .local(1))
        #expect(batch.parameters(image: 2, view: 3).sourceWidth == 64)
    }

    @Test func sameSeedSameViewsAndIndependentOfThreadsAndBatch() throws {
        let crop = try MultiCrop(.fashionMNIST(localCount: 3, localSize: 14))
        let a = try Threads.with(1) { try crop.batch(images, indices: [0, 1, 2], seed: 42, epoch: 3) }
        let b = try Threads.with(2) { try crop.batch(images, indices: [0, 1, 2], seed: 42, epoch: 3) }
        #expect(a.crops == b.crops && a.parameters == b.parameters)
        // Image 2 alone draws the same views: its stream depends on (seed, epoch, index) only.
        let alone = try crop.batch(images, indices: [2], seed: 42, epoch: 3)
        for v in 0..<5 {
            #expect(Image(alone.crops[v], item: 0) == Image(a.crops[v], item: 2))
        }
        let otherSeed = try crop.batch(images, indices: [0, 1, 2], seed: 43, epoch: 3)
        let otherEpoch = try crop.batch(images, indices: [0, 1, 2], seed: 42, epoch: 4)
        #expect(otherSeed.parameters != a.parameters && otherEpoch.parameters != a.parameters)
        #expect(otherSeed.crops[0] != a.crops[0])
    }

    @Test func cropAreasStayInTheirScaleRanges() throws {
        let crop = try MultiCrop()
        let (w, h) = (451, 300)
        var rng = SplitMix64(seed: 5)
        var fallbacks = 0
        for _ in 0..<2000 {
            for p in crop.sampleViews(width: w, height: h, rng: &rng) {
                guard let scale = p.sampledScale, let ratio = p.sampledRatio else {
                    // torchvision's fallback for a 451×300 picture (ratio 1.50 > 4/3): full
                    // height, w = round(300 · 4/3) = 400, centred.
                    #expect(p.fellBack && p.view.isGlobal)
                    #expect((p.top, p.left, p.height, p.width) == (0, 25, 300, 400))
                    fallbacks += 1
                    continue
                }
                let range = p.view.isGlobal ? crop.config.globalScale : crop.config.localScale
                #expect(range.contains(scale) && scale < range.upperBound)
                #expect(ratio >= 0.75 - 1e-12 && ratio <= 4.0 / 3 + 1e-12)
                // w and h are rounded from w' = √(sAr), h' = √(sA/r) by at most ½ each, so
                // |wh − sA| ≤ (w' + h')/2 + ¼: the realised area leaves the range only by that.
                let target = scale * Double(w * h)
                let (w0, h0) = ((target * ratio).squareRoot(), (target / ratio).squareRoot())
                #expect(abs(Double(p.width * p.height) - target) <= (w0 + h0) / 2 + 0.25)
                #expect(p.top >= 0 && p.left >= 0 && p.top + p.height <= h && p.left + p.width <= w)
            }
        }
        // A global try misses when h' > 300 or w' > 451, i.e. s > 0.665·r or s > 1.503/r: about
        // half the tries for s ~ U[0.4, 1). Ten misses in a row then happen for ~0.1% of global
        // crops (0.5¹⁰), a handful of the 4000 here; local tries (s < 0.4) always fit.
        #expect(fallbacks < 40, "\(fallbacks) fallbacks in 4000 global crops")
    }

    @Test func fallbackIsTorchvisionsCentreCrop() {
        var rng = SplitMix64(seed: 6)
        var p = CropParameters(view: .global1, sourceWidth: 100, sourceHeight: 1, outputSize: 8)
        MultiCrop.sampleBox(
            width: 100, height: 1, scale: 0.4...1, ratio: 0.75...(4.0 / 3), into: &p, rng: &rng)
        // No crop with ratio ≤ 4/3 and area ≥ 40 fits a 100×1 strip; the image ratio 100 > 4/3,
        // so torchvision keeps the full height and w = round(1 · 4/3) = 1, centred.
        #expect(p.fellBack && p.attempts == 10)
        #expect((p.top, p.left, p.height, p.width) == (0, 49, 1, 1))
        var q = CropParameters(view: .global1, sourceWidth: 3, sourceHeight: 100, outputSize: 8)
        MultiCrop.sampleBox(
            width: 3, height: 100, scale: 0.4...1, ratio: 0.75...(4.0 / 3), into: &q, rng: &rng)
        #expect(q.fellBack && (q.top, q.left, q.height, q.width) == (48, 0, 4, 3))
    }

    @Test func probabilitiesAreHonoured() throws {
        let crop = try MultiCrop()
        var rng = SplitMix64(seed: 7)
        let n = 4000
        var blur = [0, 0, 0]
        var solarize = [0, 0, 0]
        var jitter = 0
        var flip = 0
        var gray = 0
        var views = 0
        var sigmaOK = true
        for _ in 0..<n {
            for p in crop.sampleViews(width: 60, height: 40, rng: &rng) {
                let slot: Int
                switch p.view {
                case .global1: slot = 0
                case .global2: slot = 1
                case .local: slot = 2
                }
                if let s = p.blurSigma {
                    blur[slot] += 1
                    sigmaOK = sigmaOK && s >= 0.1 && s < 2.0
                }
                if p.solarized { solarize[slot] += 1 }
                views += 1
                if p.jittered { jitter += 1 }
                if p.flipped { flip += 1 }
                if p.grayscale { gray += 1 }
            }
        }
        #expect(blur[0] == n)  // p 1.0
        #expect(withinFiveSigma(blur[1], n: n, p: 0.1), "global 2 blurred \(blur[1]) of \(n)")
        #expect(withinFiveSigma(blur[2], n: 8 * n, p: 0.5), "locals blurred \(blur[2]) of \(8 * n)")
        #expect(sigmaOK)
        #expect(solarize[0] == 0 && solarize[2] == 0)  // solarize on global 2 only
        #expect(withinFiveSigma(solarize[1], n: n, p: 0.2), "global 2 solarized \(solarize[1]) of \(n)")
        #expect(withinFiveSigma(jitter, n: views, p: 0.8))
        #expect(withinFiveSigma(flip, n: views, p: 0.5))
        #expect(withinFiveSigma(gray, n: views, p: 0.2))
    }

    @Test func solarizeMirrorsBrightValues() throws {
        var config = plainConfig()
        config.solarizeProbability = 1
        let crop = try MultiCrop(config)
        let batch = try crop.batch(
            [Image(width: 20, height: 20, channels: 3, fill: [0.9, 0.2, 0.6])],
            indices: [0], seed: 1, epoch: 0)
        #expect(batch.parameters(image: 0, view: 1).solarized)
        // Global 1 keeps the colour, global 2 maps 0.9 → 0.1 and 0.6 → 0.4, leaves 0.2 alone.
        let g1 = Image(batch.crops[0])
        let g2 = Image(batch.crops[1])
        for (c, (before, after)) in [(0.9, 0.1), (0.2, 0.2), (0.6, 0.4)].enumerated() {
            #expect(abs(g1[c, 3, 3] - Float(before)) < 1e-6 && abs(g2[c, 3, 3] - Float(after)) < 1e-6)
        }
    }

    @Test func bicubicResizeKeepsAConstantImageConstant() {
        let flat = Image(width: 37, height: 23, channels: 3, fill: [0.3, 0.75, 1.0])
        for (w, h) in [(11, 7), (80, 50), (37, 23), (5, 41)] {
            let out = flat.resized(width: w, height: h)
            for c in 0..<3 {
                let target: Float = [0.3, 0.75, 1.0][c]
                let plane = out.pixels[c * w * h..<(c + 1) * w * h]
                // Weights are renormalised to sum 1 in Double, then rounded to Float: a few ulps.
                #expect(plane.allSatisfy { abs($0 - target) <= 1e-6 }, "\(w)x\(h) channel \(c)")
            }
        }
        // Same size: the kernel samples its zeros and its centre, so the image comes back as is.
        let photo = testPhoto()
        #expect(
            zip(photo.resized(width: 45, height: 30).pixels, photo.pixels).allSatisfy { abs($0 - $1) <= 1e-6 }
        )
    }

    @Test func blurKeepsConstantsAndHasVarianceSigmaSquared() {
        let flat = Image(width: 9, height: 6, channels: 1, fill: [0.6])
        #expect(flat.gaussianBlurred(sigma: 1.7).pixels.allSatisfy { abs($0 - 0.6) <= 1e-6 })
        // An impulse in a 201-pixel row: three extended box passes give exactly variance σ²
        // (Gwosdek et al.), up to Float rounding of the weights (relative 1e-6 per pass).
        // σ = 6 (box radius 5) takes the running-sum path, whose Float residue (≈ 1e-7 per
        // pixel) is weighted by (x − 100)² ≤ 10⁴ over 201 pixels: allow 1e-3·σ² there.
        for sigma in [0.1, 0.7, 1.3, 2.0, 6.0] {
            var line = Image(width: 201, height: 1, channels: 1)
            line[0, 0, 100] = 1
            let out = line.gaussianBlurred(sigma: sigma)
            var mass = 0.0
            var variance = 0.0
            for x in 0..<201 {
                mass += Double(out[0, 0, x])
                variance += Double(out[0, 0, x]) * Double((x - 100) * (x - 100))
            }
            #expect(abs(mass - 1) < 1e-5)
            let tolerance = sigma > 2 ? 1e-3 * sigma * sigma : 1e-4 * max(1, sigma * sigma)
            #expect(abs(variance - sigma * sigma) < tolerance, "σ \(sigma): variance \(variance)")
            // The vertical passes are the same filter: the transposed picture blurs the same.
            var column = Image(width: 1, height: 201, channels: 1)
            column[0, 100, 0] = 1
            let down = column.gaussianBlurred(sigma: sigma)
            #expect((0..<201).allSatisfy { abs(down[0, $0, 0] - out[0, 0, $0]) < 1e-6 })
        }
    }

    @Test func flipGrayscaleHueAndOneChannelNoOps() throws {
        let crop = try MultiCrop(plainConfig(size: 16))
        let photo = testPhoto()
        var p = CropParameters(view: .global1, sourceWidth: 45, sourceHeight: 30, outputSize: 16)
        (p.top, p.left, p.height, p.width) = (3, 5, 20, 30)
        let plain = Image(crop.render(p, of: photo))
        p.flipped = true
        #expect(Image(crop.render(p, of: photo)) == plain.flippedHorizontally())
        p.flipped = false
        p.grayscale = true
        let gray = Image(crop.render(p, of: photo))
        #expect(
            gray.pixels[0..<256] == gray.pixels[256..<512] && gray.pixels[0..<256] == gray.pixels[512..<768])
        // Hue: a third of a turn sends pure red to pure green; a zero shift changes nothing.
        let red = Image(width: 1, height: 1, channels: 3, fill: [1, 0, 0])
        #expect(
            red.hueShifted(by: 1.0 / 3).pixels.enumerated().allSatisfy { abs($1 - [0, 1, 0][$0]) < 1e-5 })
        #expect(zip(photo.hueShifted(by: 0).pixels, photo.pixels).allSatisfy { abs($0 - $1) < 1e-5 })
        // On one channel, saturation, hue and grayscale do nothing.
        let mono = photo.gray
        var q = CropParameters(view: .local(0), sourceWidth: 45, sourceHeight: 30, outputSize: 16)
        (q.top, q.left, q.height, q.width) = (0, 0, 30, 45)
        let base = crop.render(q, of: mono)
        (q.jittered, q.saturation, q.hue, q.grayscale) = (true, 0.3, 0.2, true)
        #expect(crop.render(q, of: mono) == base)
    }

    @Test func invalidSettingsAreNamed() {
        var c = MultiCropConfig()
        c.localScale = 0.0...0.4
        #expect(dataError { _ = try MultiCrop(c) }?.path == "MultiCropConfig.localScale")
        c = MultiCropConfig()
        c.blurProbabilityGlobal2 = 1.5
        #expect(dataError { _ = try MultiCrop(c) }?.path == "MultiCropConfig.blurProbabilityGlobal2")
        c = MultiCropConfig()
        c.normalizationGray = Normalization(mean: [0.5, 0.5], std: [1, 1])
        #expect(dataError { _ = try MultiCrop(c) }?.path == "MultiCropConfig.normalizationGray")
        let crop = try! MultiCrop()
        #expect(
            dataError { _ = try crop.batch([testPhoto()], indices: [1], seed: 0, epoch: 0) }?.problem
                .contains("outside") == true)
        #expect(
            dataError {
                _ = try crop.batch([testPhoto(), testPhoto().gray], indices: [0, 1], seed: 0, epoch: 0)
            } != nil)
    }
}
