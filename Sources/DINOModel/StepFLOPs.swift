import DINOCore

/// Floating-point operations of one DINO training step, counted from the shapes (multiply-adds
/// ×2; softmax, LayerNorm and GELU are not counted, like torch's FlopCounterMode).
public enum StepFLOPs {
    /// FLOPs of one forward of backbone + head on `batch` images of side `size`
    /// (``ModelBenchmark/forwardFLOPs(_:_:batch:height:width:)``).
    public static func forward(_ c: TrainingConfig, channels: Int, batch: Int, size: Int) -> Double {
        var vit = c.vit
        vit.channels = channels
        return ModelBenchmark.forwardFLOPs(vit, c.headConfig(), batch: batch, height: size, width: size)
    }

    /// Teacher forward on the globals + student forward and backward (≈ 2× forward) on all crops.
    public static func count(_ c: TrainingConfig, channels: Int) -> Double {
        let globals = forward(c, channels: channels, batch: 2 * c.batchSize, size: c.globalSize)
        let locals = forward(c, channels: channels, batch: c.localCount * c.batchSize, size: c.localSize)
        return globals + 3 * (globals + locals)
    }
}
