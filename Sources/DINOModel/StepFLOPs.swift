import DINOCore

/// Floating-point operations of one DINO training step, counted from the shapes (multiply-adds
/// ×2; softmax, LayerNorm and GELU are not counted, like torch's FlopCounterMode).
public enum StepFLOPs {
    /// FLOPs of one forward of backbone + head on `batch` images of side `size`.
    public static func forward(_ c: TrainingConfig, channels: Int, batch: Int, size: Int) -> Double {
        let b = Double(batch), d = Double(c.dim), grid = Double(size / c.patchSize)
        let n = grid * grid, t = n + 1, hidden = d * c.mlpRatio
        let patch = 2 * b * n * d * Double(channels * c.patchSize * c.patchSize)
        // qkv 3D², proj D², MLP 2·D·hidden per token; scores and A·V 2·T·D per token.
        let block = 2 * b * t * (3 * d * d + d * d + 2 * d * hidden) + 2 * 2 * b * t * t * d
        // The last block: qkv for every token, the rest for the CLS row (ViT.forward).
        let last = 2 * b * t * 3 * d * d + 2 * 2 * b * t * d + 2 * b * (d * d + 2 * d * hidden)
        let head = 2 * b * (d * Double(c.headHidden) + Double(c.headHidden * c.headHidden)
                            + Double(c.headHidden * c.headBottleneck) + Double(c.headBottleneck * c.outDim))
        return patch + Double(c.depth - 1) * block + last + head
    }

    /// Teacher forward on the globals + student forward and backward (≈ 2× forward) on all crops.
    public static func count(_ c: TrainingConfig, channels: Int) -> Double {
        let globals = forward(c, channels: channels, batch: 2 * c.batchSize, size: c.globalSize)
        let locals = forward(c, channels: channels, batch: c.localCount * c.batchSize, size: c.localSize)
        return globals + 3 * (globals + locals)
    }
}
