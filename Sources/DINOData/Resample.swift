import Foundation

/// PIL's bicubic kernel, Keys' cubic convolution with `a = -0.5` (Pillow `Resample.c`):
///
///     w(x) = (a+2)|x|³ - (a+3)|x|² + 1          for |x| < 1
///     w(x) = a(|x|³ - 5|x|² + 8|x| - 4)          for 1 ≤ |x| < 2
///     w(x) = 0                                    otherwise
///
/// OpenCV and PyTorch tensors use a = -0.75; torchvision on PIL images (what DINO feeds) uses PIL's -0.5.
@inline(__always)
func bicubicWeight(_ x: Double) -> Double {
    let a = -0.5
    let x = abs(x)
    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
    return 0
}

/// PIL's triangle (bilinear) kernel, support 1: what torchvision's `Resize` uses by default
/// (`visualize_attention.py` resizes with it).
@inline(__always)
func bilinearWeight(_ x: Double) -> Double {
    let x = abs(x)
    return x < 1 ? 1 - x : 0
}

/// The resampling filters of ``Image/resized(width:height:filter:)``, PIL's names.
public enum ResampleFilter: Sendable {
    /// Keys' cubic, a = -0.5, support 2 (torchvision's `BICUBIC` on PIL images).
    case bicubic
    /// The triangle, support 1 (torchvision's default `BILINEAR`).
    case bilinear

    var support: Double { self == .bicubic ? 2 : 1 }

    @inline(__always)
    func weight(_ x: Double) -> Double { self == .bicubic ? bicubicWeight(x) : bilinearWeight(x) }
}

/// The filter taps that resample one axis from `inSize` to `outSize` samples, PIL-style.
///
/// Output sample `o` is centred at `center = (o + 0.5)·scale` in input coordinates with
/// `scale = inSize / outSize`. When downscaling (`scale > 1`) the kernel is stretched by `scale`
/// (support 2·scale), which is PIL's antialiasing: every input pixel under the output pixel's
/// footprint contributes, instead of 4 point samples that would alias. Taps falling outside the
/// input are dropped and the rest renormalised to sum to 1, so edges are neither darkened nor
/// mirrored (PIL's `precompute_coeffs`).
///
/// Computed once per crop and axis (not per pixel): `outSize × taps` weights in a reusable buffer.
struct ResampleTaps {
    /// Largest number of taps of any output sample (`2·ceil(support) + 1`).
    private(set) var taps = 0
    private(set) var outSize = 0
    /// First input index of output `o`.
    private(set) var first: [Int32] = []
    /// Number of taps of output `o` (≤ `taps`).
    private(set) var count: [Int32] = []
    /// `[outSize, taps]`, zero beyond `count[o]`.
    private(set) var weights: [Float] = []

    /// Recomputes the taps in place; allocates only when the table must grow.
    mutating func compute(inSize: Int, outSize: Int, filter: ResampleFilter = .bicubic) {
        precondition(inSize > 0 && outSize > 0, "ResampleTaps: sizes \(inSize) → \(outSize) must be positive")
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(support.rounded(.up)) * 2 + 1
        self.taps = taps
        self.outSize = outSize
        if first.count < outSize {
            first = [Int32](repeating: 0, count: outSize)
            count = [Int32](repeating: 0, count: outSize)
        }
        if weights.count < outSize * taps { weights = [Float](repeating: 0, count: outSize * taps) }
        let inverse = 1 / filterScale
        first.withUnsafeMutableBufferPointer { first in
            count.withUnsafeMutableBufferPointer { count in
                weights.withUnsafeMutableBufferPointer { weights in
                    for o in 0..<outSize {
                        let center = (Double(o) + 0.5) * scale
                        // PIL rounds the window ends with (int)(v + 0.5), i.e. truncation.
                        let lo = max(Int(center - support + 0.5), 0)
                        let hi = min(Int(center + support + 0.5), inSize)
                        var total = 0.0
                        for k in 0..<(hi - lo) {
                            total += filter.weight((Double(k + lo) - center + 0.5) * inverse)
                        }
                        let norm = total != 0 ? 1 / total : 1
                        let base = o * taps
                        for k in 0..<taps {
                            weights[base + k] =
                                k < hi - lo
                                ? Float(filter.weight((Double(k + lo) - center + 0.5) * inverse) * norm) : 0
                        }
                        first[o] = Int32(lo)
                        count[o] = Int32(hi - lo)
                    }
                }
            }
        }
    }
}

/// Floats of scratch ``resamplePlane`` needs.
func resampleScratch(cropWidth: Int, cropHeight: Int, outWidth: Int, outHeight: Int) -> Int {
    cropWidth * cropHeight + 2 * outWidth * cropHeight
}

/// `dst[j·rows + i] = src[i·srcStride + j]` for a `rows × cols` block: a transpose in strips of
/// 8 source rows, so each write touches 8 consecutive floats and each read 8 open cache lines.
@inline(__always)
private func transpose(
    _ src: UnsafePointer<Float>, srcStride: Int, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>
) {
    var i0 = 0
    while i0 < rows {
        let i1 = min(i0 + 8, rows)
        for j in 0..<cols {
            let d = dst + j * rows
            for i in i0..<i1 { d[i] = src[i * srcStride + j] }
        }
        i0 = i1
    }
}

/// One resampling pass along the slow axis: output row `o` is `Σ_k w[o, k] · input row
/// (first[o] + k)`, each row `length` contiguous floats, then clamped to [0, 1]. Output row `o`
/// goes to row `outSize − 1 − o` when `mirror`. The inner loop runs over contiguous memory and
/// vectorises.
@inline(__always)
private func resampleRows(
    _ input: UnsafePointer<Float>, length: Int, taps t: ResampleTaps,
    into out: UnsafeMutablePointer<Float>, mirror: Bool
) {
    t.first.withUnsafeBufferPointer { first in
        t.count.withUnsafeBufferPointer { count in
            t.weights.withUnsafeBufferPointer { weights in
                for o in 0..<t.outSize {
                    let dst = out + (mirror ? t.outSize - 1 - o : o) * length
                    let w = weights.baseAddress! + o * t.taps
                    let base = input + Int(first[o]) * length
                    let w0 = w[0]
                    for x in 0..<length { dst[x] = w0 * base[x] }
                    for k in 1..<max(Int(count[o]), 1) {
                        let wk = w[k]
                        let src = base + k * length
                        for x in 0..<length { dst[x] += wk * src[x] }
                    }
                    for x in 0..<length {
                        let v = dst[x]
                        dst[x] = v > 0 ? (v < 1 ? v : 1) : 0
                    }
                }
            }
        }
    }
}

/// Resamples the `cropHeight × cropWidth` window at (`top`, `left`) of one `sourceWidth`-wide
/// plane to `outHeight × outWidth` with PIL's antialiased bicubic filter: horizontal pass first,
/// then vertical, each clamped to [0, 1] as PIL clamps to 0…255 (bicubic overshoots at edges).
/// `mirror` writes the horizontal pass right to left: a free horizontal flip.
///
/// - Faster: the horizontal pass runs on the transposed crop, so both passes are weighted sums of
///   whole contiguous rows (8 lanes at a time) instead of one short dot product per pixel; the
///   two transposes cost less than the serial sums they replace. Measured: `dino bench augment`
///   photo workload (2 × 224 + 8 × 96 from 451 × 300), 286 → 157 ms per 80 crops, 1 thread,
///   AMD EPYC (shared, noisy).
/// - Costs: scratch of ``resampleScratch(cropWidth:cropHeight:outWidth:outHeight:)`` floats.
/// - Differences from PIL: Float arithmetic and no rounding to 8 bits between the passes
///   (PIL's 8-bit path rounds its weights to fixed point and each pass to integers), so results
///   agree with Pillow within about one 8-bit level (PillowReferenceTests).
func resamplePlane(
    _ source: UnsafePointer<Float>, sourceWidth: Int,
    top: Int, left: Int, cropHeight: Int, cropWidth: Int,
    into out: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int, mirror: Bool,
    horizontal: ResampleTaps, vertical: ResampleTaps, scratch: UnsafeMutablePointer<Float>
) {
    let transposed = scratch  // (cropWidth, cropHeight)
    let across = scratch + cropWidth * cropHeight  // (outWidth, cropHeight)
    let rows = across + outWidth * cropHeight  // (cropHeight, outWidth)
    transpose(
        source + top * sourceWidth + left, srcStride: sourceWidth, rows: cropHeight, cols: cropWidth,
        into: transposed)
    resampleRows(transposed, length: cropHeight, taps: horizontal, into: across, mirror: mirror)
    transpose(across, srcStride: cropHeight, rows: outWidth, cols: cropHeight, into: rows)
    resampleRows(rows, length: outWidth, taps: vertical, into: out, mirror: false)
}

extension Image {
    /// This image resized to `width × height` with PIL's antialiased bicubic filter (a = -0.5),
    /// the resampling torchvision applies to PIL images, or with its bilinear one. Used for
    /// display (contact sheets), by the crops of ``MultiCrop`` and for pictures of any size.
    public func resized(
        width outWidth: Int, height outHeight: Int, filter: ResampleFilter = .bicubic
    ) -> Image {
        precondition(
            outWidth > 0 && outHeight > 0, "Image.resized: size \(outWidth)x\(outHeight) must be positive")
        var horizontal = ResampleTaps()
        var vertical = ResampleTaps()
        horizontal.compute(inSize: width, outSize: outWidth, filter: filter)
        vertical.compute(inSize: height, outSize: outHeight, filter: filter)
        var out = [Float](repeating: 0, count: channels * outWidth * outHeight)
        var scratch = [Float](
            repeating: 0,
            count: resampleScratch(
                cropWidth: width, cropHeight: height,
                outWidth: outWidth, outHeight: outHeight))
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                scratch.withUnsafeMutableBufferPointer { tmp in
                    for c in 0..<channels {
                        resamplePlane(
                            src.baseAddress! + c * width * height, sourceWidth: width,
                            top: 0, left: 0, cropHeight: height, cropWidth: width,
                            into: dst.baseAddress! + c * outWidth * outHeight, outHeight: outHeight,
                            outWidth: outWidth, mirror: false,
                            horizontal: horizontal, vertical: vertical, scratch: tmp.baseAddress!)
                    }
                }
            }
        }
        return Image(width: outWidth, height: outHeight, channels: channels, pixels: out)
    }
}

extension Image {
    /// A `size × size` square of this picture the way torchvision's `Resize(size)` +
    /// `CenterCrop(size)` make one: the shorter side resized to `size` (the longer one in
    /// proportion, rounded down; antialiased, bilinear by default as `Resize`'s), then the
    /// centre kept.
    public func centreSquare(_ size: Int, filter: ResampleFilter = .bilinear) -> Image {
        precondition(size > 0, "Image.centreSquare: size \(size) must be positive")
        let (w, h) =
            width <= height
            ? (size, max(size, Int(Double(size) * Double(height) / Double(width))))
            : (max(size, Int(Double(size) * Double(width) / Double(height))), size)
        let resized = (w == width && h == height) ? self : resized(width: w, height: h, filter: filter)
        let top = Int((Double(h - size) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(w - size) / 2).rounded(.toNearestOrEven))
        var out = [Float](repeating: 0, count: channels * size * size)
        for c in 0..<channels {
            for y in 0..<size {
                let from = (c * h + top + y) * w + left
                out[(c * size + y) * size..<(c * size + y + 1) * size] = resized.pixels[from..<from + size]
            }
        }
        return Image(width: size, height: size, channels: channels, pixels: out)
    }
}
