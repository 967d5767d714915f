import Foundation
import DINOCore

/// A linear classifier trained on frozen features: the second of DINO's evaluation protocols
/// (the first is the weighted k-NN).
///
/// The official `eval_linear.py` trains `Linear(D, classes)` with SGD (momentum 0.9, lr
/// 0.001·batch/256, cosine over 100 epochs) on features of augmented images. On a CPU we
/// precompute the features once (no augmentation) and standardise each dimension with the
/// training set's mean and spread, so a short run of AdamW on the softmax cross-entropy
/// converges; that simplification is printed with the result.
public struct LinearProbe: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var weightDecay: Float
    public var seed: UInt64

    public init(
        epochs: Int = 30, batchSize: Int = 256, learningRate: Float = 2e-3, weightDecay: Float = 1e-4,
        seed: UInt64 = 0
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.seed = seed
    }

    /// What the probe learned and how well it does.
    public struct Result: Sendable {
        /// Top-1 accuracy on the test features, in percent.
        public var top1: Double
        /// Mean training cross-entropy of the last epoch.
        public var finalLoss: Double
    }

    /// Trains on `train` and returns the top-1 accuracy on `test`.
    /// - Parameters:
    ///   - train: `[N, D]` features; `trainLabels`: N labels in `0..<classes`.
    ///   - test: `[M, D]` features; `testLabels`: M labels.
    public func run<K: KernelSet>(
        _ kernels: K.Type, train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int], classes: Int
    ) -> Result {
        precondition(
            train.rows == trainLabels.count && test.rows == testLabels.count && train.cols == test.cols,
            "LinearProbe: features \(train.shape)/\(test.shape), labels \(trainLabels.count)/\(testLabels.count)"
        )
        precondition(
            classes >= 2 && (trainLabels + testLabels).allSatisfy { (0..<classes).contains($0) },
            "LinearProbe: labels must lie in 0..<\(classes)")
        let d = train.cols
        // Standardise with the training statistics (a frozen BatchNorm without affine terms).
        var mean = [Double](repeating: 0, count: d), spread = [Double](repeating: 0, count: d)
        for i in 0..<train.rows { for j in 0..<d { mean[j] += Double(train[i, j]) } }
        for j in 0..<d { mean[j] /= Double(train.rows) }
        for i in 0..<train.rows {
            for j in 0..<d { let x = Double(train[i, j]) - mean[j]; spread[j] += x * x }
        }
        for j in 0..<d { spread[j] = (spread[j] / Double(train.rows)).squareRoot() + 1e-6 }
        func standardised(_ x: Tensor) -> Tensor {
            var y = x
            for i in 0..<x.rows {
                for j in 0..<d { y[i, j] = Float((Double(x[i, j]) - mean[j]) / spread[j]) }
            }
            return y
        }
        let xs = standardised(train), xt = standardised(test)

        var rng = SplitMix64(seed: seed)
        // Official init: weight N(0, 0.01), bias 0.
        var weight = rng.normalTensor([classes, d], std: 0.01), bias = Tensor(shape: [classes])
        var mW = Tensor(shape: weight.shape), vW = Tensor(shape: weight.shape)
        var mB = Tensor(shape: bias.shape), vB = Tensor(shape: bias.shape)
        let steps = (train.rows + batchSize - 1) / batchSize
        let lr = Schedule.cosine(base: Double(learningRate), final: 0, epochs: epochs, itersPerEpoch: steps)
        var order = Array(0..<train.rows)
        var step = 0, lastLoss = 0.0
        for _ in 0..<epochs {
            order.shuffle(using: &rng)
            var epochLoss = 0.0
            for s in 0..<steps {
                let rows = Array(order[s * batchSize..<min(train.rows, (s + 1) * batchSize)])
                var x = Tensor(shape: [rows.count, d])
                for (r, i) in rows.enumerated() { for j in 0..<d { x[r, j] = xs[i, j] } }
                var logits = Tensor(shape: [rows.count, classes]), p = Tensor(shape: [rows.count, classes])
                K.matmul(x, weight, layout: .nt, bias: bias, accumulate: false, into: &logits)
                K.softmax(logits, temperature: 1, into: &p)
                // ∂(mean cross-entropy)/∂logits = (p - onehot) / batch
                for (r, i) in rows.enumerated() {
                    epochLoss -= log(Double(max(p[r, trainLabels[i]], 1e-30)))
                    p[r, trainLabels[i]] -= 1
                }
                var dLogits = Tensor(shape: p.shape)
                K.scale(p, by: 1 / Float(rows.count), into: &dLogits)
                var gW = Tensor(shape: weight.shape), gB = Tensor(shape: bias.shape)
                K.matmul(dLogits, x, layout: .tn, bias: nil, accumulate: false, into: &gW)
                K.columnSums(dLogits, accumulate: false, into: &gB)
                step += 1
                let hyper = AdamWHyper(lr: Float(lr[step - 1]), weightDecay: weightDecay)
                K.adamWStep(&weight, grad: gW, m: &mW, v: &vW, step: step, hyper: hyper)
                K.adamWStep(&bias, grad: gB, m: &mB, v: &vB, step: step, hyper: AdamWHyper(lr: hyper.lr))
            }
            lastLoss = epochLoss / Double(train.rows)
        }
        var logits = Tensor(shape: [test.rows, classes])
        K.matmul(xt, weight, layout: .nt, bias: bias, accumulate: false, into: &logits)
        var correct = 0
        for i in 0..<test.rows {
            let row = logits.row(i)
            if row.indices.max(by: { row[$0] < row[$1] }) == testLabels[i] { correct += 1 }
        }
        return Result(top1: 100 * Double(correct) / Double(max(test.rows, 1)), finalLoss: lastLoss)
    }
}
