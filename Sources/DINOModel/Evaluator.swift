import DINOCore
import DINOData
import Foundation

/// DINO's evaluations on frozen features: the weighted k-NN (`eval_knn.py`) and a linear probe,
/// with the two baselines that say what the numbers mean (raw pixels; the same ViT untrained).
///
/// The feature of an image is the backbone's CLS token after the final LayerNorm (the
/// TEACHER's weights when evaluating a run), of the whole image normalised like the training
/// crops (the small-image analogue of the official Resize 256 + CenterCrop 224).
public struct Evaluator: Sendable {
    /// Use the first N training / test images (nil = all: the official full split).
    public var trainSize: Int?
    public var testSize: Int?
    /// Images per forward pass.
    public var batchSize = 500

    public init(trainSize: Int? = nil, testSize: Int? = nil) {
        self.trainSize = trainSize
        self.testSize = testSize
    }

    /// CLS features `[N, D]` of the first `limit` images of `data`.
    public func features<K: KernelSet>(
        _ kernels: K.Type, backbone: inout ViT<K>, data: Dataset, normalization: Normalization, limit: Int?
    ) -> Tensor {
        let n = min(limit ?? data.count, data.count)
        var out = Tensor(shape: [n, backbone.config.dim])
        var start = 0
        while start < n {
            let count = min(batchSize, n - start)
            let images = normalized(data.tensor(Array(start..<(start + count))), normalization)
            let cls = backbone.forward(images, training: false)
            out.setRows(start, cls)
            start += count
        }
        return out
    }

    /// Raw normalised pixels `[N, C·H·W]` of the first `limit` images (the pixel baseline).
    public func pixels(_ data: Dataset, normalization: Normalization, limit: Int?) -> Tensor {
        let n = min(limit ?? data.count, data.count)
        let t = normalized(data.tensor(Array(0..<n)), normalization)
        return t.reshaped([n, data.imageSize])
    }

    /// Weighted k-NN top-1 (%) for each k, T = 0.07, classes from the data.
    public func knn<K: KernelSet>(
        _ kernels: K.Type, backbone: inout ViT<K>, train: Dataset, test: Dataset,
        normalization: Normalization,
        ks: [Int] = [10, 20, 100, 200]
    ) throws -> [Int: Double] {
        let a = features(
            K.self, backbone: &backbone, data: train, normalization: normalization, limit: trainSize)
        let b = features(
            K.self, backbone: &backbone, data: test, normalization: normalization, limit: testSize)
        return try knn(
            K.self, train: a, trainLabels: train.labels, test: b, testLabels: test.labels,
            classes: train.classCount, ks: ks)
    }

    /// Weighted k-NN top-1 (%) on given features.
    public func knn<K: KernelSet>(
        _ kernels: K.Type, train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int], classes: Int,
        ks: [Int]
    ) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for k in ks {
            let r = try WeightedKNN.classify(
                K.self, train: train, trainLabels: Array(trainLabels.prefix(train.rows)),
                test: test, testLabels: Array(testLabels.prefix(test.rows)),
                k: min(k, train.rows), temperature: 0.07, classes: classes)
            out[k] = r.top1 ?? .nan
        }
        return out
    }

    /// `(x - mean_c) / std_c` per channel of a `[B, C, H, W]` tensor.
    public func normalized(_ images: Tensor, _ n: Normalization) -> Tensor {
        var t = images
        let c = images.shape[1], plane = images.shape[2] * images.shape[3]
        for b in 0..<images.shape[0] {
            for ch in 0..<c {
                let m = n.mean[ch % n.mean.count], s = n.std[ch % n.std.count]
                let base = (b * c + ch) * plane
                for i in base..<(base + plane) { t.storage[i] = (t.storage[i] - m) / s }
            }
        }
        return t
    }
}
