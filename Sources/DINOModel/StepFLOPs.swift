import DINOCore

/// Floating-point operations of one DINO training step, counted from the shapes (multiply-adds
/// ×2; softmax, LayerNorm and GELU are not counted, like torch's FlopCounterMode).
public enum StepFLOPs {
    /// FLOPs of one forward of backbone + head on `batch` images of side `size`.
    public static func forward(_ c: TrainingConfig, channels: Int, batch: Int, size: Int) -> Double {
        var vit = c.vit
        vit.channels = channels
        return forward(vit, c.headConfig(), batch: batch, height: size, width: size)
    }

    /// FLOPs of one forward of backbone + head on `batch` images of `height × width`, as
    /// `ViT.forward` runs it: every block on all T tokens except the last, which runs qkv on all
    /// of them and the attention (one query), projection and MLP on the CLS row. Multiply-adds
    /// count 2; softmax, LayerNorm and GELU are not counted, as in torch's FlopCounterMode.
    public static func forward(
        _ v: ViTConfig, _ h: DINOHeadConfig, batch: Int, height: Int, width: Int
    ) -> Double {
        let b = Double(batch), d = Double(v.dim), n = Double((height / v.patchSize) * (width / v.patchSize)),
            t = n + 1
        let patch = 2 * b * n * d * Double(v.channels * v.patchSize * v.patchSize)
        // qkv 3D², proj D², MLP 2·D·hidden per token; scores and A·V 2·T·D per query.
        let block = 2 * b * t * (4 * d * d + 2 * d * Double(v.mlpHidden)) + 4 * b * t * t * d
        let last = 2 * b * t * 3 * d * d + 4 * b * t * d + 2 * b * (d * d + 2 * d * Double(v.mlpHidden))
        var head = 0.0
        for i in 0..<h.layers { let s = h.layerShape(i); head += 2 * b * Double(s.inputs * s.outputs) }
        head += 2 * b * Double(h.bottleneckDim * h.outDim)
        return patch + Double(v.depth - 1) * block + last + head
    }

    /// Teacher forward on the globals + student forward and backward (≈ 2× forward) on all crops.
    public static func count(_ c: TrainingConfig, channels: Int) -> Double {
        let globals = forward(c, channels: channels, batch: 2 * c.batchSize, size: c.globalSize)
        let locals = forward(c, channels: channels, batch: c.localCount * c.batchSize, size: c.localSize)
        return globals + 3 * (globals + locals)
    }
}
