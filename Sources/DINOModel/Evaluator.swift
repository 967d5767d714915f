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
    /// When set, every image is made a `side × side` square first (``Image/centreSquare(_:filter:)``
    /// with the bicubic filter, as the official `eval_knn.py` resizes): for a backbone trained at
    /// another size than the data's (released weights on small images).
    public var side: Int?
    /// When set, every image is converted to this many channels first (gray repeated into RGB,
    /// or RGB to luma): for a backbone trained on the other kind.
    public var channels: Int?

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
            let images = normalized(batch(data, Array(start..<(start + count))), normalization)
            let cls = backbone.forward(images, training: false)
            out.setRows(start, cls)
            start += count
        }
        return out
    }

    /// Raw normalised pixels `[N, C·H·W]` of the first `limit` images (the pixel baseline).
    public func pixels(_ data: Dataset, normalization: Normalization, limit: Int?) -> Tensor {
        let n = min(limit ?? data.count, data.count)
        let t = normalized(batch(data, Array(0..<n)), normalization)
        return t.reshaped([n, t.count / max(n, 1)])
    }

    /// Images `indices` of `data` as `[B, C, H, W]` in [0, 1], squared and converted as `side`
    /// and `channels` say.
    public func batch(_ data: Dataset, _ indices: [Int]) -> Tensor {
        let raw = data.tensor(indices)
        guard side != nil || (channels != nil && channels != data.channels) else { return raw }
        let images = indices.indices.map { k -> Image in
            var image = Image(raw, item: k)
            if let channels, channels != image.channels { image = channels == 3 ? image.rgb : image.gray }
            if let side, image.width != side || image.height != side {
                image = image.centreSquare(side, filter: .bicubic)
            }
            return image
        }
        let first =
            images.first
            ?? Image(
                width: side ?? data.width, height: side ?? data.height, channels: channels ?? data.channels)
        var out = Tensor(shape: [indices.count, first.channels, first.height, first.width])
        for (k, image) in images.enumerated() {
            let size = image.pixels.count
            out.storage[(k * size)..<((k + 1) * size)] = image.pixels[...]
        }
        return out
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
        try scores(
            K.self, train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
            classes: classes, ks: ks
        ).top1
    }

    /// Weighted k-NN top-1 and top-5 (%) on given features for each k (a k above the number of
    /// training images uses them all), neighbours' votes `exp(cosine / temperature)`.
    public func scores<K: KernelSet>(
        _ kernels: K.Type, train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int], classes: Int,
        ks: [Int], temperature: Double = 0.07
    ) throws -> KNNScores {
        var out = KNNScores()
        for k in ks {
            let r = try WeightedKNN.classify(
                K.self, train: train, trainLabels: Array(trainLabels.prefix(train.rows)),
                test: test, testLabels: Array(testLabels.prefix(test.rows)),
                k: min(k, train.rows), temperature: Float(temperature), classes: classes)
            out.top1[k] = r.top1 ?? .nan
            out.top5[k] = r.top5 ?? .nan
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

/// Weighted k-NN top-1 and top-5 accuracy (%) by k.
public struct KNNScores: Sendable, Equatable {
    public var top1: [Int: Double] = [:]
    public var top5: [Int: Double] = [:]
    public init() {}
}
