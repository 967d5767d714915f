import DINOCore

/// Checks the shapes of a patch embedding and returns (B, Cin, H, W, D, gh, gw).
func patchEmbedShape(_ images: Tensor, weightShape: [Int], patch p: Int, _ op: String)
    -> (b: Int, ch: Int, h: Int, w: Int, d: Int, gh: Int, gw: Int)
{
    check(images.shape.count == 4, "\(op): images must be [B, C, H, W], got \(images.shape)")
    let (b, ch, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    check(p >= 1 && h >= p && w >= p, "\(op): patch \(p) does not fit images of \(h)×\(w)")
    check(weightShape.count == 4 && weightShape[1] == ch && weightShape[2] == p && weightShape[3] == p,
          "\(op): weight must be [D, \(ch), \(p), \(p)], got \(weightShape)")
    return (b, ch, h, w, weightShape[0], h / p, w / p)
}

extension ReferenceKernels {
    /// The convolution written out: each token is one dot product of a patch with each filter,
    /// in Double.
    public static func patchEmbed(_ images: Tensor, weight: Tensor, bias: Tensor, patch p: Int, into tokens: inout Tensor) {
        let s = patchEmbedShape(images, weightShape: weight.shape, patch: p, "patchEmbed")
        check(bias.count == s.d, "patchEmbed: bias has \(bias.count) values, expected \(s.d)")
        check(tokens.shape == [s.b, s.gh * s.gw, s.d], "patchEmbed: tokens is \(tokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        for b in 0..<s.b {
            for r in 0..<s.gh {
                for c in 0..<s.gw {
                    for o in 0..<s.d {
                        var sum = Double(bias.storage[o])
                        for ch in 0..<s.ch {
                            for i in 0..<p {
                                for j in 0..<p {
                                    let pixel = images.storage[((b * s.ch + ch) * s.h + r * p + i) * s.w + c * p + j]
                                    sum += Double(weight.storage[((o * s.ch + ch) * p + i) * p + j]) * Double(pixel)
                                }
                            }
                        }
                        tokens.storage[(b * s.gh * s.gw + r * s.gw + c) * s.d + o] = Float(sum)
                    }
                }
            }
        }
    }

    /// `dW[o, ch, i, j] += Σ_{b, r, c} dTokens[b, r·gw + c, o] · img[b, ch, r·p + i, c·p + j]`,
    /// `dBias[o] += Σ dTokens[·, ·, o]`, in Double.
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch p: Int, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let s = patchEmbedShape(images, weightShape: dWeight.shape, patch: p, "patchEmbedBackward")
        check(dBias.count == s.d, "patchEmbedBackward: dBias has \(dBias.count) values, expected \(s.d)")
        check(dTokens.shape == [s.b, s.gh * s.gw, s.d], "patchEmbedBackward: dTokens is \(dTokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        let n = s.gh * s.gw
        for o in 0..<s.d {
            var db = Double(dBias.storage[o])
            for t in 0..<(s.b * n) { db += Double(dTokens.storage[t * s.d + o]) }
            dBias.storage[o] = Float(db)
            for ch in 0..<s.ch {
                for i in 0..<p {
                    for j in 0..<p {
                        let wIndex = ((o * s.ch + ch) * p + i) * p + j
                        var sum = Double(dWeight.storage[wIndex])
                        for b in 0..<s.b {
                            for r in 0..<s.gh {
                                for c in 0..<s.gw {
                                    let pixel = images.storage[((b * s.ch + ch) * s.h + r * p + i) * s.w + c * p + j]
                                    sum += Double(dTokens.storage[(b * n + r * s.gw + c) * s.d + o]) * Double(pixel)
                                }
                            }
                        }
                        dWeight.storage[wIndex] = Float(sum)
                    }
                }
            }
        }
    }
}
