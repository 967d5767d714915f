import DINOCore
import DINOData
import Foundation

/// A trained backbone loaded from a checkpoint, the way `dino eval`, `dino attention` and the
/// lessons all load one: the teacher of a DINO run (or the backbone of a supervised run), the
/// same ViT at its initial weights (the random-init baseline), and the normalisation the run
/// trained with (channel statistics of its training images, `trainLimit` prefix included).
public struct TrainedModel<K: KernelSet> {
    public var backbone: ViT<K>
    public var randomInit: ViT<K>
    public let config: TrainingConfig
    public let normalization: Normalization
    /// The file the weights came from.
    public let source: String

    /// - Parameters:
    ///   - path: a `teacher.safetensors` written by `dino train` or a run folder (its latest
    ///     checkpoint);
    ///   - train: the run's training set if already loaded (else it is loaded from the config).
    /// - Throws: errors naming the file: missing, not written by `dino train`, wrong tensors.
    public init(checkpoint path: String, train: Dataset? = nil) throws {
        try self.init(loaded: try Checkpoint.teacher(at: path), train: train)
    }

    /// The same from a checkpoint already read with ``Checkpoint/teacher(at:)``.
    public init(
        loaded: (tensors: [String: Tensor], config: TrainingConfig, source: String), train: Dataset? = nil
    ) throws {
        let (tensors, config, source) = loaded
        let data = try train ?? DataSources.load(config.dataset, split: .train, imageSize: config.imageSize)
        var vit = config.vit
        vit.channels = data.channels
        vit.dropPathRate = 0
        // Random init exactly as the run started: the DINO network's backbone of the same seed.
        randomInit = try DINONetwork<K>(backbone: vit, head: config.headConfig(), seed: config.seed).backbone
        backbone = randomInit
        try backbone.load(tensors)
        let stats = (config.trainLimit.map { data.prefix($0) } ?? data).channelStatistics()
        normalization = Normalization(mean: stats.mean.map(Float.init), std: stats.std.map(Float.init))
        self.config = config
        self.source = source
        kind = config.supervised == true ? "supervised ViT" : "DINO teacher"
    }

    /// A backbone in the official layout (`.safetensors` converted from a `.pth`: the released
    /// `dino_deitsmall16_pretrain.pth`, a teacher of `checkpoint.pth`, or `dino train`'s own
    /// teacher), its shape read from the tensors and `heads`. Normalised as the official
    /// evaluations do, with ImageNet's statistics (their mean for a 1-channel backbone); the
    /// random-init baseline is the same ViT at seed 0. `config` describes the backbone only.
    /// - Throws: ``CheckpointError`` naming the file (missing tensors, wrong shapes).
    public init(weights path: String, heads: Int) throws {
        let tensors = try Safetensors.readDictionary(path)
        var vit: ViTConfig
        do { vit = try ViTConfig.inferred(from: tensors, heads: heads) } catch let e as CheckpointError {
            throw e.at(path)
        }
        vit.dropPathRate = 0
        randomInit = try ViT<K>(vit, seed: 0)
        backbone = randomInit
        do { try backbone.load(tensors) } catch let e as CheckpointError { throw e.at(path) }
        let imageNet = Normalization.imageNet
        normalization =
            vit.channels == 3
            ? imageNet
            : Normalization(
                mean: [imageNet.mean.reduce(0, +) / 3], std: [imageNet.std.reduce(0, +) / 3])
        var c = TrainingConfig()
        c.name = URL(fileURLWithPath: path).lastPathComponent
        c.imageSize = vit.imageSize
        c.globalSize = vit.imageSize
        c.patchSize = vit.patchSize
        c.dim = vit.dim
        c.depth = vit.depth
        c.heads = vit.heads
        c.mlpRatio = vit.mlpRatio
        c.dataset = ""
        config = c
        source = path
        kind = "backbone"
    }

    /// What the model is: "DINO teacher", "supervised ViT", or "backbone" (official-layout weights).
    public let kind: String
}
