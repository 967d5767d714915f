import Foundation

// Colour operations on planar crops (each plane `count` floats, values in [0, 1]), with
// torchvision's PIL semantics. PIL blends with `Image.blend(degenerate, image, f)`, i.e.
// `degenerate·(1 - f) + image·f`, and clips to 0…255; we do the same in Float without rounding.

@inline(__always) private func clip01(_ v: Float) -> Float { v > 0 ? (v < 1 ? v : 1) : 0 }

/// Luma of ITU-R 601-2, PIL's `convert("L")`.
@usableFromInline let lumaR: Float = 0.299
@usableFromInline let lumaG: Float = 0.587
@usableFromInline let lumaB: Float = 0.114

/// Brightness: blend with black, `v·f` (ImageEnhance.Brightness).
func adjustBrightness(_ planes: UnsafeMutablePointer<Float>, count: Int, factor f: Float) {
    for i in 0..<count { planes[i] = clip01(planes[i] * f) }
}

/// Contrast: blend with the mean of the grayscale image, `m + f·(v - m)` (ImageEnhance.Contrast;
/// PIL rounds m to an 8-bit level, we keep it exact). For one channel the grayscale image is the
/// image itself.
func adjustContrast(_ planes: UnsafeMutablePointer<Float>, channels: Int, plane: Int, factor f: Float) {
    var sum: Double = 0
    if channels == 3 {
        let (r, g, b) = (planes, planes + plane, planes + 2 * plane)
        var partial: Float = 0
        for i in 0..<plane {
            partial += lumaR * r[i] + lumaG * g[i] + lumaB * b[i]
            if i & 1023 == 1023 {
                sum += Double(partial)
                partial = 0
            }  // Float runs of ≤ 1024 terms
        }
        sum += Double(partial)
    } else {
        var partial: Float = 0
        for i in 0..<plane {
            partial += planes[i]
            if i & 1023 == 1023 {
                sum += Double(partial)
                partial = 0
            }
        }
        sum += Double(partial)
    }
    let mean = Float(sum / Double(plane))
    let offset = mean * (1 - f)
    for i in 0..<channels * plane { planes[i] = clip01(offset + planes[i] * f) }
}

/// Saturation: blend with the grayscale image (ImageEnhance.Color). Three channels only.
func adjustSaturation(_ planes: UnsafeMutablePointer<Float>, plane: Int, factor f: Float) {
    let (r, g, b) = (planes, planes + plane, planes + 2 * plane)
    let keep = 1 - f
    for i in 0..<plane {
        let y = (lumaR * r[i] + lumaG * g[i] + lumaB * b[i]) * keep
        r[i] = clip01(y + r[i] * f)
        g[i] = clip01(y + g[i] * f)
        b[i] = clip01(y + b[i] * f)
    }
}

/// Hue: rotate H in HSV by `shift` turns (torchvision `adjust_hue`: PIL converts to HSV, adds
/// `shift·255` to the 8-bit hue with wrap-around, converts back). Three channels only.
///
/// RGB → HSV keeps V = max and S = (max - min)/max; only H moves, so the new colour is rebuilt
/// from (H + shift, S, V) with the branch-free form of HSV → RGB:
/// `c_n = V - V·S·clamp(min(k, 4 - k), 0, 1)`, `k = (n + 6H) mod 6`, n = 5, 3, 1 for R, G, B.
func adjustHue(_ planes: UnsafeMutablePointer<Float>, plane: Int, shift: Float) {
    let (r, g, b) = (planes, planes + plane, planes + 2 * plane)
    for i in 0..<plane {
        let (rv, gv, bv) = (r[i], g[i], b[i])
        let maxc = max(rv, max(gv, bv))
        let minc = min(rv, min(gv, bv))
        let chroma = maxc - minc
        if chroma <= 0 { continue }  // gray: no hue to rotate
        // Hue in sixths of a turn (torchvision _rgb2hsv), then shifted and wrapped into [0, 6).
        var h6: Float
        if maxc == rv {
            h6 = (gv - bv) / chroma
        } else if maxc == gv {
            h6 = 2 + (bv - rv) / chroma
        } else {
            h6 = 4 + (rv - gv) / chroma
        }
        h6 += 6 * shift
        h6 -= 6 * (h6 / 6).rounded(.down)
        func channel(_ n: Float) -> Float {
            var k = n + h6
            if k >= 6 { k -= 6 }
            let ramp = min(k, 4 - k)
            return maxc - chroma * (ramp > 0 ? (ramp < 1 ? ramp : 1) : 0)
        }
        r[i] = channel(5)
        g[i] = channel(3)
        b[i] = channel(1)
    }
}

/// Grayscale with 3 output channels: every channel becomes the luma (RandomGrayscale).
func grayscale(_ planes: UnsafeMutablePointer<Float>, plane: Int) {
    let (r, g, b) = (planes, planes + plane, planes + 2 * plane)
    for i in 0..<plane {
        let y = lumaR * r[i] + lumaG * g[i] + lumaB * b[i]
        r[i] = y
        g[i] = y
        b[i] = y
    }
}

/// Solarize then normalise in one pass: `v ≥ 0.5 → 1 - v` (PIL's `ImageOps.solarize` with
/// threshold 128; on 8-bit levels v = k/255 the tests `v ≥ 0.5` and `k ≥ 128` agree), then
/// `(v - mean_c) / std_c` per channel.
func solarizeAndNormalize(
    _ planes: UnsafeMutablePointer<Float>, channels: Int, plane: Int, solarize: Bool,
    mean: [Float], std: [Float]
) {
    for c in 0..<channels {
        let p = planes + c * plane
        let m = mean[c]
        let inv = 1 / std[c]
        if solarize {
            for i in 0..<plane {
                let v = p[i]
                p[i] = ((v >= 0.5 ? 1 - v : v) - m) * inv
            }
        } else {
            for i in 0..<plane { p[i] = (p[i] - m) * inv }
        }
    }
}

// MARK: - The same operations on whole images (for lessons, tests and display)

extension Image {
    private func applying(_ body: (UnsafeMutablePointer<Float>, Int) -> Void) -> Image {
        var out = self
        let plane = width * height
        out.pixels.withUnsafeMutableBufferPointer { body($0.baseAddress!, plane) }
        return out
    }

    /// Brightness factor `f`: `v·f`, clipped (torchvision `adjust_brightness`).
    public func brightnessAdjusted(by factor: Float) -> Image {
        applying { p, plane in adjustBrightness(p, count: channels * plane, factor: factor) }
    }

    /// Contrast factor `f`: blend with the mean gray level (torchvision `adjust_contrast`).
    public func contrastAdjusted(by factor: Float) -> Image {
        applying { p, plane in adjustContrast(p, channels: channels, plane: plane, factor: factor) }
    }

    /// Saturation factor `f`: blend with the grayscale image; no-op for 1 channel.
    public func saturationAdjusted(by factor: Float) -> Image {
        channels == 1 ? self : applying { p, plane in adjustSaturation(p, plane: plane, factor: factor) }
    }

    /// Hue rotated by `shift` turns (−0.5…0.5); no-op for 1 channel.
    public func hueShifted(by shift: Float) -> Image {
        channels == 1 ? self : applying { p, plane in adjustHue(p, plane: plane, shift: shift) }
    }

    /// Luma copied into all 3 channels (RandomGrayscale); no-op for 1 channel.
    public func grayscaled() -> Image {
        channels == 1 ? self : applying { p, plane in grayscale(p, plane: plane) }
    }

    /// `v ≥ 0.5 → 1 - v` (PIL `ImageOps.solarize`, threshold 128).
    public func solarized() -> Image {
        var out = self
        for i in 0..<out.pixels.count where out.pixels[i] >= 0.5 { out.pixels[i] = 1 - out.pixels[i] }
        return out
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        var out = self
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width { out[c, y, x] = self[c, y, width - 1 - x] }
            }
        }
        return out
    }

    /// The `height × width` window whose top-left corner is (`top`, `left`).
    public func cropped(top: Int, left: Int, height h: Int, width w: Int) -> Image {
        precondition(
            top >= 0 && left >= 0 && h > 0 && w > 0 && top + h <= height && left + w <= width,
            "Image.cropped: box \(w)x\(h) at (\(left), \(top)) outside \(width)x\(height)")
        var out = Image(width: w, height: h, channels: channels)
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w { out[c, y, x] = self[c, top + y, left + x] }
            }
        }
        return out
    }
}
