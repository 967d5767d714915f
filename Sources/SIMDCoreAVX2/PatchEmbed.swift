import DINOCore

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
                                let src =
                                    ip.baseAddress! + ((image * ch + channel) * h + r * p + i) * w + c * p
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
    public static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch p: Int, into tokens: inout Tensor
    ) {
        let s = KernelContract.patchEmbed(images, weight: weight, bias: bias, patch: p, into: tokens)
        let rows = patchRows(images, patch: p, ch: s.ch, h: s.h, w: s.w, gh: s.gh, gw: s.gw)
        matmul(
            rows, weight.reshaped([s.d, s.ch * p * p]), layout: .nt, bias: bias, accumulate: false,
            into: &tokens)
    }

    /// Patch-embedding parameter gradients: `dW += dTokensᵀ·patchRows` (`.tn` matmul) and the
    /// column sums of dTokens.
    /// - Twin: ``ReferenceKernels/patchEmbedBackward(_:images:patch:dWeight:dBias:)``
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch p: Int, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let s = KernelContract.patchEmbedBackward(
            dTokens, images: images, patch: p, dWeight: dWeight, dBias: dBias)
        let rows = patchRows(images, patch: p, ch: s.ch, h: s.h, w: s.w, gh: s.gh, gw: s.gw)
        let shape = dWeight.shape
        dWeight.resize(to: [s.d, s.ch * p * p])  // same storage, viewed as a matrix
        matmul(dTokens, rows, layout: .tn, bias: nil, accumulate: true, into: &dWeight)
        dWeight.resize(to: shape)
        columnSums(dTokens, accumulate: true, into: &dBias)
    }
}
