import DINOCore
import DINOData
import Foundation

/// What the DINO and the supervised trainers share about their data.
enum TrainingData {
    /// The scene generator limited like the training set (`trainLimit`), checked against it;
    /// throws when the training set is smaller than one batch.
    static func scenes(
        _ scenes: SceneGenerator?, config: TrainingConfig, train: Dataset
    ) throws -> SceneGenerator? {
        guard train.count >= config.batchSize else {
            throw TrainingError(
                "\(train.name): \(train.count) images, fewer than one batch of \(config.batchSize)")
        }
        guard var s = scenes else { return nil }
        if let limit = config.trainLimit {
            s = try SceneGenerator(items: s.items.prefix(limit), config: s.config)
        }
        guard s.items.count == train.count else {
            throw TrainingError(
                "\(s.items.count) scene items for a bank of \(train.count) scenes: they must be one per item")
        }
        return s
    }

    /// The iteration layout of a run over `count` images: `drop_last` batches per epoch (the
    /// official loader drops the incomplete last batch), the whole run's iterations
    /// (`epochs·itersPerEpoch` rounded), the epochs visited, and the lr warm-up in iterations.
    static func layout(
        _ config: TrainingConfig, count: Int
    ) throws
        -> (itersPerEpoch: Int, total: Int, epochCount: Int, warmup: Int)
    {
        let itersPerEpoch = count / config.batchSize
        let total = config.totalIterations(itersPerEpoch: itersPerEpoch)
        guard total >= 1 else {
            throw TrainingError(
                "\(config.epochsText) epochs of \(itersPerEpoch) iterations is less than one iteration")
        }
        guard total <= 10_000_000 else {
            throw TrainingError(
                "\(config.epochsText) epochs of \(itersPerEpoch) iterations would be \(total) iterations; "
                    + "at most 10000000 are allowed (fewer epochs, a larger batch or more images)")
        }
        return (
            itersPerEpoch, total, (total + itersPerEpoch - 1) / itersPerEpoch,
            min(total, Int((config.warmupEpochs * Double(itersPerEpoch)).rounded()))
        )
    }

    /// The data order of `epoch`: a shuffle seeded by (seed, epoch), independent of any other state.
    static func order(_ config: TrainingConfig, count: Int, epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: MultiCrop.streamSeed(seed: config.seed ^ 0x5EED, epoch: epoch, index: -1))
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        return order
    }

    /// The views of `indices` in `epoch`: from fresh scenes when the run has them, else from `train`.
    static func batch(
        _ multiCrop: MultiCrop, train: Dataset, scenes: SceneGenerator?, config: TrainingConfig,
        indices: [Int], epoch: Int
    ) throws -> MultiCropBatch {
        if let scenes {
            return try multiCrop.batch(
                scenes.source(seed: config.seed ^ 0x5CE7E5, epoch: epoch), indices: indices,
                seed: config.seed, epoch: epoch)
        }
        return try multiCrop.batch(train, indices: indices, seed: config.seed, epoch: epoch)
    }

    /// The multi-crop recipe of a run: the config's sizes and scales, the training set's own
    /// channel statistics for normalisation (ImageNet's for ImageNet).
    static func crops(_ config: TrainingConfig, train: Dataset) -> MultiCropConfig {
        var crop = MultiCropConfig.fashionMNIST(localCount: config.localCount, localSize: config.localSize)
        crop.globalSize = config.globalSize
        crop.globalScale = config.globalScale[0]...config.globalScale[1]
        crop.localScale = config.localScale[0]...config.localScale[1]
        if let largest = config.blurSigmaMax { crop.blurSigma = crop.blurSigma.lowerBound...largest }
        let stats = train.channelStatistics()
        let own = Normalization(mean: stats.mean.map(Float.init), std: stats.std.map(Float.init))
        if train.channels == 1 { crop.normalizationGray = own } else { crop.normalizationRGB = own }
        return crop
    }
}

/// One logged iteration: everything Fig. 7 of the paper and the schedules chart need.
public struct StepRecord: Codable, Sendable, Equatable {
    public var iteration: Int
    public var epoch: Int
    public var loss: Double
    public var lr: Double
    public var wd: Double
    public var momentum: Double
    public var teacherTemperature: Double
    /// Mean teacher entropy h(P_t), nats.
    public var entropy: Double
    /// Mean KL(P_t ‖ P_s) over the loss's pairs, nats.
    public var kl: Double
    public var imagesPerSecond: Double
}

/// One finished epoch.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var meanLoss: Double
    /// Weighted k-NN@20 top-1 (%) of teacher and student on the evaluation subsets.
    public var knnTeacher: Double?
    public var knnStudent: Double?
    public var seconds: Double
    /// Best-head Jaccard (%) of teacher and student attention with the object masks, when the
    /// test set has masks (scenes).
    public var jaccardTeacher: Double?
    public var jaccardStudent: Double?
}

/// One evaluation of teacher and student during training (``TrainingConfig/evalsPerEpoch`` of
/// them per epoch): the curves of the paper's Fig. 6, k-NN and segmentation.
public struct EvalRecord: Codable, Sendable, Equatable {
    /// Iterations done when it was taken.
    public var iteration: Int
    /// `iteration / itersPerEpoch`.
    public var epochs: Double
    /// The teacher momentum λ of that iteration.
    public var momentum: Double
    public var knnTeacher: Double?
    public var knnStudent: Double?
    public var jaccardTeacher: JaccardResult?
    public var jaccardStudent: JaccardResult?
}

public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The DINO training loop of `main_dino.py` for any kernel core, with the run folder that keeps
/// it: schedules per iteration, multi-crop batches, the step (``DINOTrainStep``), logs, k-NN
/// checks, atomic checkpoints every epoch and exact resume.
///
/// Reproducibility: the data order of epoch e is a shuffle seeded by (seed, e); every image's
/// crops come from its own stream (``MultiCrop/streamSeed(seed:epoch:index:)``); drop path is
/// reseeded from (seed, iteration). So a run resumed from a checkpoint at the end of epoch e
/// continues exactly as the uninterrupted run (same thread count, same numbers).
public struct DINOTrainer<K: KernelSet> {
    public let config: TrainingConfig
    public let train: Dataset
    public let test: Dataset?
    /// The k-NN bank when it is not `train` (see ``init(config:train:test:bank:scenes:)``).
    public let bank: Dataset?
    /// The labelled images the k-NN compares the test images with.
    public var knnBank: Dataset { bank ?? train }
    /// Fresh training scenes every epoch (the `scenes` datasets), instead of the images of `train`.
    public let scenes: SceneGenerator?
    public var step: DINOTrainStep<K>
    public let multiCrop: MultiCrop
    public let itersPerEpoch: Int
    /// Iterations of the whole run, `epochs·itersPerEpoch` rounded (epochs may be fractional).
    public let totalIterations: Int
    /// Epochs the loop visits: the last one is partial when `epochs` is fractional.
    public let epochCount: Int
    public let lrSchedule: [Double], wdSchedule: [Double], momentumSchedule: [Double],
        teacherTemperatures: [Double]
    /// The first epoch still to run (0 for a new run, e + 1 after resuming from epoch e).
    public private(set) var startEpoch = 0
    public private(set) var steps: [StepRecord] = []
    public private(set) var epochs: [EpochRecord] = []
    public private(set) var evaluations: [EvalRecord] = []

    /// - Parameters:
    ///   - train: the training images (for scenes: the fixed k-NN bank, which also gives the
    ///     normalisation statistics);
    ///   - scenes: when given, every batch is rendered afresh from it instead of read from `train`.
    /// - Throws: when the config is invalid or the data does not fit it.
    ///   - bank: the k-NN's labelled training images when they are not `train` (a run on
    ///     unlabelled pictures measured on a labelled dataset, `knnDataset`).
    public init(
        config: TrainingConfig, train: Dataset, test: Dataset?, bank: Dataset? = nil,
        scenes: SceneGenerator? = nil
    ) throws {
        try config.validate()
        self.config = config
        self.train = config.trainLimit.map { train.prefix($0) } ?? train
        self.test = test
        self.bank = bank
        for (role, data) in [("k-NN bank", bank), ("test set", test)] {
            if let data, data.channels != train.channels {
                throw TrainingError(
                    "\(role) \(data.name) has \(data.channels)-channel images, the training images \(train.channels)"
                )
            }
        }
        self.scenes = try TrainingData.scenes(scenes, config: config, train: self.train)
        var vit = config.vit
        vit.channels = train.channels
        var network = try DINONetwork<K>(backbone: vit, head: config.headConfig(), seed: config.seed)
        network.backbone.rng = SplitMix64(seed: config.seed ^ 0xD1)
        step = DINOTrainStep(
            student: network, studentTemperature: config.studentTemperature,
            centerMomentum: config.centerMomentum)
        multiCrop = try MultiCrop(TrainingData.crops(config, train: self.train))
        let layout = try TrainingData.layout(config, count: self.train.count)
        itersPerEpoch = layout.itersPerEpoch
        let total = layout.total, warm = layout.warmup
        totalIterations = total
        epochCount = layout.epochCount
        // Schedule.cosine with one "epoch" per iteration gives warm-up lengths in iterations.
        lrSchedule = Schedule.cosine(
            base: config.scaledLR, final: config.minLR, epochs: total, itersPerEpoch: 1,
            warmupEpochs: warm)
        wdSchedule = Schedule.cosine(
            base: config.weightDecay, final: config.weightDecayEnd, epochs: total, itersPerEpoch: 1)
        momentumSchedule =
            config.momentumTeacher
            ? Schedule.cosine(base: config.teacherMomentum, final: 1, epochs: total, itersPerEpoch: 1)
            : [Double](repeating: 0, count: total)
        teacherTemperatures = Schedule.teacherTemperature(
            warmup: config.warmupTeacherTemperature, final: config.teacherTemperature,
            warmupEpochs: config.warmupTeacherTemperatureEpochs, epochs: epochCount)
    }

    /// Iterations of `epoch`: `itersPerEpoch`, fewer in a partial last epoch.
    public func iterations(inEpoch epoch: Int) -> Int {
        min(itersPerEpoch, totalIterations - epoch * itersPerEpoch)
    }

    /// The data order of `epoch`: a shuffle seeded by (seed, epoch), independent of any other state.
    public func order(epoch: Int) -> [Int] { TrainingData.order(config, count: train.count, epoch: epoch) }

    /// The settings of iteration `it` (global index) in `epoch`.
    public func hyper(iteration it: Int, epoch: Int) -> TrainStepHyper {
        TrainStepHyper(
            lr: Float(lrSchedule[it]), weightDecay: Float(wdSchedule[it]),
            teacherTemperature: Float(teacherTemperatures[epoch]),
            teacherMomentum: Float(momentumSchedule[it]),
            freezeLastLayer: Double(it) < config.freezeLastLayerEpochs * Double(itersPerEpoch),
            clipGrad: config.clipGrad, centering: config.centering)
    }

    /// The multi-crop views of iteration `i` of `epoch`.
    public func batch(epoch: Int, iteration i: Int, order: [Int]) throws -> MultiCropBatch {
        let indices = Array(order[i * config.batchSize..<(i + 1) * config.batchSize])
        return try TrainingData.batch(
            multiCrop, train: train, scenes: scenes, config: config, indices: indices, epoch: epoch)
    }

    /// Runs one iteration; throws when the loss is not finite (the run stops, the last good
    /// checkpoint stays).
    @discardableResult
    public mutating func runIteration(
        epoch: Int, iteration i: Int, views: MultiCropBatch
    ) throws -> TrainStepResult {
        let it = epoch * itersPerEpoch + i
        step.student.backbone.rng = SplitMix64(
            seed: MultiCrop.streamSeed(seed: config.seed ^ 0xD20, epoch: epoch, index: i))
        let result = step.step(
            globals: Array(views.crops[0..<2]), locals: Array(views.crops[2...]),
            hyper: hyper(iteration: it, epoch: epoch))
        guard result.loss.isFinite else {
            throw TrainingError(
                "epoch \(epoch) iteration \(i): the loss is \(result.loss); stopping (the last good checkpoint is kept). "
                    + "Lower the learning rate or the teacher temperature.")
        }
        return result
    }

    /// The normalisation of whole images for evaluation: the training crops' own.
    public var normalization: Normalization { multiCrop.config.normalization(channels: train.channels) }

    /// k-NN@20 (on the config's evaluation subsets) and, when the test set has masks, the
    /// Jaccard of teacher and student, after `iteration` iterations.
    public mutating func evaluate(iteration: Int) throws -> EvalRecord {
        var record = EvalRecord(
            iteration: iteration, epochs: Double(iteration) / Double(itersPerEpoch),
            momentum: momentumSchedule[max(0, min(iteration, totalIterations) - 1)])
        guard let test else { return record }
        let eval = Evaluator(trainSize: config.knnTrainSize, testSize: config.knnTestSize)
        let n = normalization
        record.knnTeacher = try eval.knn(
            K.self, backbone: &step.teacher.backbone, train: knnBank, test: test,
            normalization: n, ks: [20])[20]
        record.knnStudent = try eval.knn(
            K.self, backbone: &step.student.backbone, train: knnBank, test: test,
            normalization: n, ks: [20])[20]
        if test.masks != nil {
            record.jaccardTeacher = try Segmentation.evaluate(
                &step.teacher.backbone, data: test, normalization: n,
                limit: config.knnTestSize)
            record.jaccardStudent = try Segmentation.evaluate(
                &step.student.backbone, data: test, normalization: n,
                limit: config.knnTestSize)
        }
        return record
    }

    /// Iterations of `epoch` (local indices, counted from 1) after which an evaluation is due.
    func evaluationPoints(epoch: Int) -> Set<Int> {
        guard let n = config.evalsPerEpoch, n > 1, test != nil else { return [] }
        let iterations = iterations(inEpoch: epoch)
        var points = Set<Int>()
        for k in 1..<n {
            let i = Int((Double(k) * Double(itersPerEpoch) / Double(n)).rounded())
            if i >= 1 && i < iterations { points.insert(i) }
        }
        return points
    }

    /// Trains the epochs `startEpoch..<epochCount` (the last one partial when `epochs` is
    /// fractional: it takes the first images of its shuffle), calling `progress` after every
    /// iteration and `epochDone` after every epoch (where the caller checkpoints and plots).
    public mutating func run(
        progress: (_ record: StepRecord) -> Void = { _ in },
        epochDone: (_ trainer: inout DINOTrainer<K>, _ record: EpochRecord) throws -> Void = { _, _ in }
    ) throws {
        for epoch in startEpoch..<epochCount {
            let started = Date()
            let order = order(epoch: epoch)
            let iterations = iterations(inEpoch: epoch)
            var lossSum = 0.0
            let due = evaluationPoints(epoch: epoch)
            var evaluationSeconds = 0.0
            for i in 0..<iterations {
                let t0 = Date()
                let views = try batch(epoch: epoch, iteration: i, order: order)
                let result = try runIteration(epoch: epoch, iteration: i, views: views)
                let it = epoch * itersPerEpoch + i
                lossSum += Double(result.loss)
                let record = StepRecord(
                    iteration: it, epoch: epoch, loss: Double(result.loss), lr: lrSchedule[it],
                    wd: wdSchedule[it],
                    momentum: momentumSchedule[it], teacherTemperature: teacherTemperatures[epoch],
                    entropy: result.teacherEntropy, kl: result.kl,
                    imagesPerSecond: Double(config.batchSize) / max(Date().timeIntervalSince(t0), 1e-9))
                steps.append(record)
                progress(record)
                if due.contains(i + 1) {
                    let t1 = Date()
                    evaluations.append(try evaluate(iteration: it + 1))
                    evaluationSeconds += Date().timeIntervalSince(t1)  // training time only in `seconds`
                }
            }
            var record = EpochRecord(
                epoch: epoch, meanLoss: lossSum / Double(iterations), knnTeacher: nil,
                knnStudent: nil, seconds: Date().timeIntervalSince(started) - evaluationSeconds)
            if config.knnEvery > 0, (epoch + 1) % config.knnEvery == 0 || epoch + 1 == epochCount, test != nil
            {
                let e = try evaluate(iteration: epoch * itersPerEpoch + iterations)
                record.knnTeacher = e.knnTeacher
                record.knnStudent = e.knnStudent
                record.jaccardTeacher = e.jaccardTeacher?.best
                record.jaccardStudent = e.jaccardStudent?.best
                if config.evalsPerEpoch != nil { evaluations.append(e) }
            }
            epochs.append(record)
            startEpoch = epoch + 1
            try epochDone(&self, record)
        }
    }

    /// Restores weights, optimiser state, centre, logs and the next epoch from a checkpoint.
    public mutating func restore(_ checkpoint: Checkpoint) throws {
        guard checkpoint.config == config else {
            throw TrainingError(
                "the checkpoint was written by a run with another config; resume with the same settings")
        }
        try step.student.load(checkpoint.dictionary(\.student))
        try step.teacher.load(checkpoint.dictionary(\.teacher))
        let optimizer = checkpoint.dictionary(\.optimizer)
        let names = step.student.parameterNames
        var m: [Tensor] = [], v: [Tensor] = []
        for (i, name) in names.enumerated() {
            guard let a = optimizer["m." + name], let b = optimizer["v." + name],
                a.shape == step.firstMoments[i].shape, b.shape == step.secondMoments[i].shape
            else {
                throw TrainingError("checkpoint optimiser state lacks or mis-shapes the moments of \(name)")
            }
            m.append(a)
            v.append(b)
        }
        guard let steps = optimizer["adam_steps"], steps.count == names.count,
            steps.storage.allSatisfy({ $0 >= 0 && $0 <= 1e9 && $0.rounded() == $0 }),
            let center = optimizer["dino_loss.center"], center.shape == step.loss.center.shape
        else {
            throw TrainingError(
                "checkpoint optimiser state lacks adam_steps (whole step counts) or dino_loss.center")
        }
        step.firstMoments = m
        step.secondMoments = v
        step.adamSteps = steps.storage.map { Int($0) }
        step.loss.center = center
        self.steps = checkpoint.steps
        self.epochs = checkpoint.epochs
        self.evaluations = checkpoint.evaluations
        startEpoch = checkpoint.epoch + 1
    }

    /// The state to save at the end of an epoch.
    public var checkpoint: Checkpoint {
        var optimizer: [String: Tensor] = [:]
        for (i, name) in step.student.parameterNames.enumerated() {
            optimizer["m." + name] = step.firstMoments[i]
            optimizer["v." + name] = step.secondMoments[i]
        }
        optimizer["adam_steps"] = Tensor(shape: [step.adamSteps.count], step.adamSteps.map(Float.init))
        optimizer["dino_loss.center"] = step.loss.center
        return Checkpoint(
            config: config, epoch: startEpoch - 1, student: step.student.stateDict,
            teacher: step.teacher.stateDict,
            optimizer: optimizer.keys.sorted().map { ($0, optimizer[$0]!) }, steps: steps, epochs: epochs,
            evaluations: evaluations)
    }
}
