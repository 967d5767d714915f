import DINOCore

extension ReferenceKernels {
    /// The convolution written out: each token is one dot product of a patch with each filter,
    /// in Double.
    public static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch p: Int, into tokens: inout Tensor
    ) {
        let s = KernelContract.patchEmbed(images, weight: weight, bias: bias, patch: p, into: tokens)
        for b in 0..<s.b {
            for r in 0..<s.gh {
                for c in 0..<s.gw {
                    for o in 0..<s.d {
                        var sum = Double(bias.storage[o])
                        for ch in 0..<s.ch {
                            for i in 0..<p {
                                for j in 0..<p {
                                    let pixel = images.storage[
                                        ((b * s.ch + ch) * s.h + r * p + i) * s.w + c * p + j]
                                    sum +=
                                        Double(weight.storage[((o * s.ch + ch) * p + i) * p + j])
                                        * Double(pixel)
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
        let s = KernelContract.patchEmbedBackward(
            dTokens, images: images, patch: p, dWeight: dWeight, dBias: dBias)
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
                                    let pixel = images.storage[
                                        ((b * s.ch + ch) * s.h + r * p + i) * s.w + c * p + j]
                                    sum +=
                                        Double(dTokens.storage[(b * n + r * s.gw + c) * s.d + o])
                                        * Double(pixel)
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
