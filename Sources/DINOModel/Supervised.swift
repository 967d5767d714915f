import DINOCore
import DINOData
import Foundation

/// The supervised baseline the paper compares DINO with (Table 7: "supervised" ViT): the SAME
/// backbone, from the same initial weights, with a linear classifier on its [CLS] feature,
/// trained on the labels with cross-entropy and AdamW, on the same crops as DINO's global views
/// (RandomResizedCrop of area 0.4–1 and a flip; no colour jitter, blur or solarisation, as the
/// PyTorch anchor). One crop per image per iteration, so an epoch costs about a quarter of a
/// DINO epoch.
///
/// Settings come from the run's ``TrainingConfig`` (backbone, batch, epochs, base lr scaled by
/// batch/256, warm-up, min lr, clip, data); the weight decay is a constant 0.05 on every tensor
/// (the PyTorch anchor's `AdamW(weight_decay=0.05)`).
public struct SupervisedTrainer<K: KernelSet> {
    public let config: TrainingConfig
    public let train: Dataset
    public let test: Dataset?
    public let scenes: SceneGenerator?
    public var backbone: ViT<K>
    /// `classifier.weight [classes, D]` and `classifier.bias [classes]`.
    public var classifier: [Parameter]
    public let multiCrop: MultiCrop
    public let itersPerEpoch: Int
    public let totalIterations: Int
    public let epochCount: Int
    public let lrSchedule: [Double]
    public static var weightDecay: Float { 0.05 }
    public private(set) var steps: [StepRecord] = []
    public private(set) var epochs: [EpochRecord] = []
    var firstMoments: [Tensor], secondMoments: [Tensor], adamSteps: [Int]

    public init(config: TrainingConfig, train: Dataset, test: Dataset?, scenes: SceneGenerator? = nil) throws
    {
        try config.validate()
        self.config = config
        self.train = config.trainLimit.map { train.prefix($0) } ?? train
        self.test = test
        self.scenes = try TrainingData.scenes(scenes, config: config, train: self.train)
        var vit = config.vit
        vit.channels = train.channels
        vit.dropPathRate = 0
        // The DINO run's initial backbone: the same config and seed give the same weights.
        backbone = try DINONetwork<K>(backbone: vit, head: config.headConfig(), seed: config.seed).backbone
        var rng = SplitMix64(seed: config.seed ^ 0xC1A5)
        let classes = self.train.classCount, d = config.dim
        // PyTorch's nn.Linear default: U(±1/√in) for weight and bias.
        classifier = [
            Parameter("weight", Initializer.kaimingUniform([classes, d], fanIn: d, &rng)),
            Parameter("bias", Initializer.kaimingUniform([classes], fanIn: d, &rng)),
        ]
        // DINO's global crops without the photometric part: RandomResizedCrop and a flip.
        var crop = TrainingData.crops(config, train: self.train)
        crop.localCount = 0
        crop.jitterProbability = 0
        crop.grayscaleProbability = 0
        crop.blurProbabilityGlobal1 = 0
        crop.blurProbabilityGlobal2 = 0
        crop.solarizeProbability = 0
        multiCrop = try MultiCrop(crop)
        let layout = try TrainingData.layout(config, count: self.train.count)
        itersPerEpoch = layout.itersPerEpoch
        totalIterations = layout.total
        epochCount = layout.epochCount
        lrSchedule = Schedule.cosine(
            base: config.scaledLR, final: config.minLR, epochs: totalIterations, itersPerEpoch: 1,
            warmupEpochs: layout.warmup)
        let all = backbone.parameters + classifier
        firstMoments = all.map { Tensor(shape: $0.value.shape) }
        secondMoments = firstMoments
        adamSteps = Array(repeating: 0, count: all.count)
    }

    public var normalization: Normalization { multiCrop.config.normalization(channels: train.channels) }

    /// One iteration on `images [B, C, H, W]` with `labels`: the mean cross-entropy before the update.
    public mutating func step(images: Tensor, labels: [Int], lr: Float) -> Double {
        let b = images.shape[0], classes = classifier[0].value.shape[0]
        let features = backbone.forward(images, training: true)
        var logits = Tensor(shape: [b, classes]), p = Tensor(shape: [b, classes])
        Linear<K>.forward(features, weight: classifier[0].value, bias: classifier[1].value, into: &logits)
        K.softmax(logits, temperature: 1, into: &p)
        var loss = 0.0
        for r in 0..<b {
            loss -= log(Double(max(p[r, labels[r]], 1e-30)))
            p[r, labels[r]] -= 1  // ∂CE/∂logits = p − onehot
        }
        var dLogits = Tensor(shape: p.shape)
        K.scale(p, by: 1 / Float(b), into: &dLogits)
        for i in classifier.indices { classifier[i].zeroGradient() }
        classifier.withGradients(0, 1) { dW, db in
            Linear<K>.parameterGradients(dLogits, x: features, dWeight: &dW, dBias: &db)
        }
        var dFeatures = Tensor(shape: features.shape)
        Linear<K>.inputGradient(dLogits, weight: classifier[0].value, into: &dFeatures)
        backbone.zeroGradients()
        backbone.backward(dFeatures)
        // The moments are moved out for the updates (not copied), as in DINOTrainStep.
        var m = firstMoments, v = secondMoments, counts = adamSteps
        firstMoments = []
        secondMoments = []
        let clip = config.clipGrad, decay = Self.weightDecay
        var index = 0
        func update(_ p: inout Parameter) {
            defer { index += 1 }
            guard p.trainable else { return }
            if clip > 0 {
                let norm = Float(K.sumOfSquares(p.grad).squareRoot())
                let coefficient = clip / (norm + 1e-6)
                if coefficient < 1 { let g = p.grad; K.scale(g, by: coefficient, into: &p.grad) }
            }
            counts[index] += 1
            K.adamWStep(
                &p.value, grad: p.grad, m: &m[index], v: &v[index], step: counts[index],
                hyper: AdamWHyper(lr: lr, weightDecay: decay))
        }
        for i in backbone.parameters.indices { update(&backbone.parameters[i]) }
        for i in classifier.indices { update(&classifier[i]) }
        firstMoments = m
        secondMoments = v
        adamSteps = counts
        return loss / Double(b)
    }

    /// Top-1 accuracy (%) of the classifier on the first `limit` test images.
    public mutating func accuracy(limit: Int? = nil) -> Double? {
        guard let test else { return nil }
        let n = min(limit ?? test.count, test.count)
        let features = Evaluator().features(
            K.self, backbone: &backbone, data: test, normalization: normalization, limit: n)
        var logits = Tensor(shape: [n, classifier[0].value.shape[0]])
        Linear<K>.forward(features, weight: classifier[0].value, bias: classifier[1].value, into: &logits)
        var correct = 0
        for r in 0..<n {
            let row = logits.row(r)
            if row.indices.max(by: { row[$0] < row[$1] }) == test.labels[r] { correct += 1 }
        }
        return 100 * Double(correct) / Double(max(n, 1))
    }

    /// Trains every epoch; `progress` after each iteration, `epochDone` after each epoch.
    public mutating func run(
        progress: (_ record: StepRecord) -> Void = { _ in },
        epochDone: (_ trainer: inout SupervisedTrainer<K>, _ record: EpochRecord) throws -> Void = { _, _ in }
    ) throws {
        for epoch in 0..<epochCount {
            let started = Date()
            let order = TrainingData.order(config, count: train.count, epoch: epoch)
            let iterations = min(itersPerEpoch, totalIterations - epoch * itersPerEpoch)
            var lossSum = 0.0
            for i in 0..<iterations {
                let t0 = Date()
                let indices = Array(order[i * config.batchSize..<(i + 1) * config.batchSize])
                let views = try TrainingData.batch(
                    multiCrop, train: train, scenes: scenes, config: config, indices: indices,
                    epoch: epoch)
                let it = epoch * itersPerEpoch + i
                let loss = step(
                    images: views.crops[0], labels: indices.map { train.labels[$0] },
                    lr: Float(lrSchedule[it]))
                guard loss.isFinite else {
                    throw TrainingError(
                        "epoch \(epoch) iteration \(i): the loss is \(loss); stopping. Lower the learning rate."
                    )
                }
                lossSum += loss
                let record = StepRecord(
                    iteration: it, epoch: epoch, loss: loss, lr: lrSchedule[it], wd: Double(Self.weightDecay),
                    momentum: 0, teacherTemperature: 0, entropy: 0, kl: 0,
                    imagesPerSecond: Double(config.batchSize) / max(Date().timeIntervalSince(t0), 1e-9))
                steps.append(record)
                progress(record)
            }
            var record = EpochRecord(
                epoch: epoch, meanLoss: lossSum / Double(iterations), knnTeacher: nil, knnStudent: nil,
                seconds: Date().timeIntervalSince(started))
            if let test, config.knnEvery > 0, (epoch + 1) % config.knnEvery == 0 || epoch + 1 == epochCount {
                let n = normalization
                record.knnTeacher = try Evaluator(
                    trainSize: config.knnTrainSize, testSize: config.knnTestSize
                )
                .knn(K.self, backbone: &backbone, train: train, test: test, normalization: n, ks: [20])[20]
                if test.masks != nil {
                    record.jaccardTeacher = try Segmentation.evaluate(
                        &backbone, data: test, normalization: n,
                        limit: config.knnTestSize
                    ).best
                }
            }
            epochs.append(record)
            try epochDone(&self, record)
        }
    }

    /// The trained network in the layout `dino eval` and `dino attention` read: `backbone.*`
    /// and `classifier.*` as both "teacher" and "student", the AdamW moments as the optimiser.
    public var checkpoint: Checkpoint {
        let names =
            backbone.parameters.map { "backbone." + $0.name } + classifier.map { "classifier." + $0.name }
        let tensors = zip(names, backbone.parameters + classifier).map { ($0, $1.value) }
        var optimizer: [(name: String, tensor: Tensor)] = []
        for (i, name) in names.enumerated() {
            optimizer.append(("m." + name, firstMoments[i]))
            optimizer.append(("v." + name, secondMoments[i]))
        }
        optimizer.append(("adam_steps", Tensor(shape: [adamSteps.count], adamSteps.map(Float.init))))
        return Checkpoint(
            config: config, epoch: epochs.count - 1, student: tensors, teacher: tensors, optimizer: optimizer,
            steps: steps, epochs: epochs)
    }
}
