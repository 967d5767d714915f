import DINOCore

/// Checks the shapes of a patch embedding and returns (B, Cin, H, W, D, gh, gw).
private func patchEmbedShape(_ images: Tensor, weightShape: [Int], patch p: Int, _ op: String)
    -> (b: Int, ch: Int, h: Int, w: Int, d: Int, gh: Int, gw: Int)
{
    check(images.shape.count == 4, "\(op): images must be [B, C, H, W], got \(images.shape)")
    let (b, ch, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    check(p >= 1 && h >= p && w >= p, "\(op): patch \(p) does not fit images of \(h)×\(w)")
    check(weightShape.count == 4 && weightShape[1] == ch && weightShape[2] == p && weightShape[3] == p,
          "\(op): weight must be [D, \(ch), \(p), \(p)], got \(weightShape)")
    return (b, ch, h, w, weightShape[0], h / p, w / p)
}

/// im2col: each patch becomes one row `[ch, i, j]` of a `[B·gh·gw, Cin·p·p]` matrix, so the
/// convolution is one matmul with the filters viewed as `[D, Cin·p·p]`.
private func patchRows(_ images: Tensor, patch p: Int, ch: Int, h: Int, w: Int, gh: Int, gw: Int) -> Tensor {
    let b = images.shape[0], k = ch * p * p
    var rows = Tensor(shape: [b * gh * gw, k])
    images.storage.withUnsafeBufferPointer { ip in
        rows.storage.withUnsafeMutableBufferPointer { rp in
            for image in 0..<b {
                for r in 0..<gh {
                    for c in 0..<gw {
                        var dst = rp.baseAddress! + ((image * gh + r) * gw + c) * k
                        for channel in 0..<ch {
                            for i in 0..<p {
                                let src = ip.baseAddress! + ((image * ch + channel) * h + r * p + i) * w + c * p
                                dst.update(from: src, count: p)
                                dst += p
                            }
                        }
                    }
                }
            }
        }
    }
    return rows
}

extension SIMDKernels {
    /// Patch embedding as im2col + one `.nt` matmul with bias.
    /// - Faster: the convolution becomes the blocked, threaded matmul (the copy is O(pixels)).
    /// - Costs: the matmul's Float32 sums (≈ √(Cin·p²)·u relative).
    /// - Twin: ``ReferenceKernels/patchEmbed(_:weight:bias:patch:into:)``
    public static func patchEmbed(_ images: Tensor, weight: Tensor, bias: Tensor, patch p: Int, into tokens: inout Tensor) {
        let s = patchEmbedShape(images, weightShape: weight.shape, patch: p, "patchEmbed")
        check(bias.count == s.d, "patchEmbed: bias has \(bias.count) values, expected \(s.d)")
        check(tokens.shape == [s.b, s.gh * s.gw, s.d], "patchEmbed: tokens is \(tokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        let rows = patchRows(images, patch: p, ch: s.ch, h: s.h, w: s.w, gh: s.gh, gw: s.gw)
        matmul(rows, weight.reshaped([s.d, s.ch * p * p]), layout: .nt, bias: bias, accumulate: false, into: &tokens)
    }

    /// Patch-embedding parameter gradients: `dW += dTokensᵀ·patchRows` (`.tn` matmul) and the
    /// column sums of dTokens.
    /// - Twin: ``ReferenceKernels/patchEmbedBackward(_:images:patch:dWeight:dBias:)``
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch p: Int, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let s = patchEmbedShape(images, weightShape: dWeight.shape, patch: p, "patchEmbedBackward")
        check(dBias.count == s.d, "patchEmbedBackward: dBias has \(dBias.count) values, expected \(s.d)")
        check(dTokens.shape == [s.b, s.gh * s.gw, s.d], "patchEmbedBackward: dTokens is \(dTokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        let rows = patchRows(images, patch: p, ch: s.ch, h: s.h, w: s.w, gh: s.gh, gw: s.gw)
        let shape = dWeight.shape
        dWeight.resize(to: [s.d, s.ch * p * p])     // same storage, viewed as a matrix
        matmul(dTokens, rows, layout: .tn, bias: nil, accumulate: true, into: &dWeight)
        dWeight.resize(to: shape)
        columnSums(dTokens, accumulate: true, into: &dBias)
    }
}
