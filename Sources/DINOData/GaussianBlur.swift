import Foundation

/// PIL's `ImageFilter.GaussianBlur(radius: σ)`, which DINO's `GaussianBlur` calls: not a sampled
/// Gaussian kernel but three passes of an *extended* box filter per axis (Gwosdek et al. 2011,
/// "Theoretical foundations of Gaussian convolution by extended box filtering"; Pillow
/// `BoxBlur.c`). A box of integer radius r plus a fractional weight on the two pixels just
/// outside it has the exact variance σ²/3, so three passes have variance σ², and by the central
/// limit theorem look Gaussian. Cost per pixel is O(1) whatever σ (a running sum), which is why
/// PIL does it and why we copy it.
///
/// The box radius for one pass (Pillow `_gaussian_blur_radius`): with s² = σ²/passes,
///
///     L = √(12 s² + 1),  l = ⌊(L - 1)/2⌋,
///     a = (2l + 1)(l(l + 1) - 3s²) / (6(s² - (l + 1)²)),   radius = l + a.
func extendedBoxRadius(sigma: Double, passes: Int = 3) -> Double {
    let s2 = sigma * sigma / Double(passes)
    let length = (12 * s2 + 1).squareRoot()
    let l = ((length - 1) / 2).rounded(.down)
    var a = (2 * l + 1) * (l * (l + 1) - 3 * s2)
    a /= 6 * (s2 - (l + 1) * (l + 1))
    return l + a
}

/// Weights of one extended-box pass of fractional radius `radius`: the 2r + 1 pixels of the box
/// get `inner` each, the two pixels at distance r + 1 get `outer` each (r = ⌊radius⌋).
@inline(__always)
private func boxWeights(_ radius: Double) -> (r: Int, inner: Float, outer: Float) {
    let r = Int(radius)
    let inner = 1 / (2 * radius + 1)
    let outer = (1 - Double(2 * r + 1) * inner) / 2
    return (r, Float(inner), Float(outer))
}

/// Blurs one `height × width` plane in place with PIL's Gaussian approximation of standard
/// deviation `sigma` pixels: 3 extended-box passes along x, then 3 along y, edges extended
/// (PIL repeats the border pixel). Needs ``gaussianBlurScratch(width:height:maxSigma:)`` floats
/// of `scratch`.
///
/// Every weight is ≥ 0 and they sum to 1, so values stay in [0, 1] and a constant plane is
/// unchanged. Differences from PIL: Float arithmetic, no 8-bit rounding after each pass.
///
/// - Faster: for the radii DINO uses (σ ≤ 2 gives r ≤ 1) each output is a direct sum of
///   2r + 3 taps, loops over contiguous pixels that vectorise; PIL's running sum (O(1) per pixel
///   for any r, but a serial dependency) is used from r = 5 up.
/// - Costs: the running sum leaves Float residue (≈ 1e-7) where the exact result is 0.
func gaussianBlurPlane(
    _ plane: UnsafeMutablePointer<Float>, width: Int, height: Int, sigma: Double,
    scratch: UnsafeMutablePointer<Float>
) {
    let (r, inner, outer) = boxWeights(extendedBoxRadius(sigma: sigma))
    let pad = r + 2
    let direct = r <= 4
    // Horizontal: copy each row into a padded line (border pixels repeated), then filter it.
    let line = scratch
    for _ in 0..<3 {
        for y in 0..<height {
            let row = plane + y * width
            for i in 0..<pad {
                line[i] = row[0]
                line[pad + width + i] = row[width - 1]
            }
            for x in 0..<width { line[pad + x] = row[x] }
            let p = line + pad  // p[-pad ..< width + pad] is valid
            if direct {
                let far = p - r - 1
                let near = p + r + 1
                for x in 0..<width { row[x] = (far[x] + near[x]) * outer }
                for k in -r...r {
                    let q = p + k
                    for x in 0..<width { row[x] += q[x] * inner }
                }
            } else {
                var acc: Float = 0  // window [x - r, x + r], started at x = -1
                for i in (-r - 1)..<r { acc += p[i] }
                for x in 0..<width {
                    acc += p[x + r] - p[x - r - 1]
                    row[x] = acc * inner + (p[x - r - 1] + p[x + r + 1]) * outer
                }
            }
        }
    }
    // Vertical: the same filter with whole rows as the unit, so the inner loops run over
    // contiguous memory. The pass reads a copy of the plane (rows are needed after they change).
    let copy = scratch + max(width, height) + 2 * pad
    let acc = scratch  // the line buffer becomes the running row sum (width ≤ its length)
    @inline(__always) func row(_ y: Int) -> UnsafeMutablePointer<Float> {
        copy + (y < 0 ? 0 : (y >= height ? height - 1 : y)) * width
    }
    for _ in 0..<3 {
        copy.update(from: plane, count: width * height)
        if direct {
            for y in 0..<height {
                let dst = plane + y * width
                let far = row(y - r - 1)
                let near = row(y + r + 1)
                for x in 0..<width { dst[x] = (far[x] + near[x]) * outer }
                for k in -r...r {
                    let q = row(y + k)
                    for x in 0..<width { dst[x] += q[x] * inner }
                }
            }
            continue
        }
        for x in 0..<width { acc[x] = 0 }
        for y in (-r - 1)..<r {
            let s = row(y)
            for x in 0..<width { acc[x] += s[x] }
        }
        for y in 0..<height {
            let add = row(y + r)
            let sub = row(y - r - 1)
            let far = row(y + r + 1)
            let dst = plane + y * width
            for x in 0..<width {
                let a = acc[x] + add[x] - sub[x]
                acc[x] = a
                dst[x] = a * inner + (sub[x] + far[x]) * outer
            }
        }
    }
}

/// Scratch floats ``gaussianBlurPlane(_:width:height:sigma:scratch:)`` needs for `sigma ≤ maxSigma`.
func gaussianBlurScratch(width: Int, height: Int, maxSigma: Double) -> Int {
    let r = Int(extendedBoxRadius(sigma: maxSigma))
    return max(width, height) + 2 * (r + 2) + width * height
}

extension Image {
    /// This image blurred as PIL's `GaussianBlur(radius: sigma)` does (three extended box passes
    /// per axis, variance σ²). Float version of what DINO applies to its crops.
    public func gaussianBlurred(sigma: Double) -> Image {
        precondition(sigma > 0, "Image.gaussianBlurred: sigma \(sigma) must be positive")
        var out = self
        var scratch = [Float](
            repeating: 0, count: gaussianBlurScratch(width: width, height: height, maxSigma: sigma))
        out.pixels.withUnsafeMutableBufferPointer { px in
            scratch.withUnsafeMutableBufferPointer { tmp in
                for c in 0..<channels {
                    gaussianBlurPlane(
                        px.baseAddress! + c * width * height, width: width, height: height,
                        sigma: sigma, scratch: tmp.baseAddress!)
                }
            }
        }
        return out
    }
}
