import DINOCore
import DINOData
import Foundation

/// The numbers of `dino eval`: the trained model (a DINO run's teacher, or a supervised run's
/// backbone), raw pixels and a random-init ViT of the same config, all through the same
/// weighted k-NN on the same images; and, when the test images have object masks (scenes), the
/// paper's segmentation measure of the model and of the random-init ViT (``Segmentation``).
public struct EvaluationReport: Sendable, Encodable {
    public var source: String
    /// What the model is: "DINO teacher", "supervised ViT" or "backbone".
    public var kind: String
    public var dataset: String
    public var trainImages: Int, testImages: Int
    /// The k of the weighted k-NN, in the order reported, and the temperature of its votes.
    public var ks: [Int]
    public var temperature: Double
    public var modelScores: KNNScores
    public var linear: Double?
    public var rawPixelScores: KNNScores
    public var randomInitScores: KNNScores
    /// Jaccard of the model's and of the random-init ViT's attention (nil without masks).
    public var jaccard: JaccardResult?
    public var jaccardRandomInit: JaccardResult?
    /// Test images the Jaccard was averaged over.
    public var jaccardImages: Int?

    /// Top-1 (%) by k of the model, of raw pixels and of the random-init ViT.
    public var model: [Int: Double] { modelScores.top1 }
    public var rawPixels: [Int: Double] { rawPixelScores.top1 }
    public var randomInit: [Int: Double] { randomInitScores.top1 }

    /// The official `eval_knn.py` defaults: `--nb_knn 10 20 100 200`, `--temperature 0.07`.
    public static let defaultKs = [10, 20, 100, 200]
    public static let defaultTemperature = 0.07

    /// What to measure and on how many images.
    public struct Options: Sendable {
        /// Use the first N training / test images (nil = all).
        public var trainSize: Int?, testSize: Int?
        /// Test images for the Jaccard (nil = `testSize`, or all).
        public var jaccardSize: Int?
        public var linear = true
        public var ks = EvaluationReport.defaultKs
        public var temperature = EvaluationReport.defaultTemperature
        /// Make every image a `side × side` square first (``Evaluator/side``).
        public var side: Int?
        /// Log top-5 beside top-1 (`dino eval` does; lesson 07 logs top-1).
        public var logTop5 = false

        public init(trainSize: Int? = nil, testSize: Int? = nil, linear: Bool = true) {
            self.trainSize = trainSize
            self.testSize = testSize
            self.linear = linear
        }
    }

    /// The report of a checkpoint written by `dino train` (a teacher file or a run folder) on
    /// its own dataset or on `dataset`: the model normalised as it trained.
    /// - Parameter dataset: a dataset spec to evaluate on instead of the run's own (`idx:DIR`,
    ///   `scenes`, …; default: the run's `knnDataset`, else its `dataset`).
    public static func compute<K: KernelSet>(
        _ kernels: K.Type, checkpoint: String, dataset: String? = nil, options: Options,
        log: (String) -> Void = { _ in }
    ) throws -> EvaluationReport {
        let loaded = try Checkpoint.teacher(at: checkpoint)
        let savedConfig = loaded.config
        let spec = dataset ?? savedConfig.knnDataset ?? savedConfig.dataset
        let ownTrain = try DataSources.load(
            savedConfig.dataset, split: .train, imageSize: savedConfig.imageSize)
        var trained = try TrainedModel<K>(loaded: loaded, train: ownTrain)
        let train =
            spec == savedConfig.dataset
            ? ownTrain : try DataSources.load(spec, split: .train, imageSize: savedConfig.imageSize)
        let test = try DataSources.load(spec, split: .test, imageSize: savedConfig.imageSize)
        guard train.channels == ownTrain.channels else {
            throw ModelError(
                "\(spec): \(train.channels)-channel images for a model trained on \(ownTrain.channels) channels"
            )
        }
        return try compute(
            K.self, model: &trained, train: train, test: test, spec: spec, options: options, log: log)
    }

    /// The report of `model` (any source, ``TrainedModel``) on `train` (the bank) and `test`.
    /// Images are converted to the model's channel count when they differ (gray repeated into
    /// RGB); the Jaccard then needs the images as they are and is skipped.
    public static func compute<K: KernelSet>(
        _ kernels: K.Type, model trained: inout TrainedModel<K>, train: Dataset, test: Dataset, spec: String,
        options: Options, log: (String) -> Void = { _ in }
    ) throws -> EvaluationReport {
        let normalization = trained.normalization
        var eval = Evaluator(trainSize: options.trainSize, testSize: options.testSize)
        eval.side = options.side
        let channels = trained.backbone.config.channels
        let convert = train.channels != channels || test.channels != channels
        if convert { eval.channels = channels }
        let ks = options.ks, temperature = options.temperature
        let nTrain = min(options.trainSize ?? train.count, train.count),
            nTest = min(options.testSize ?? test.count, test.count)
        log(
            "evaluating \(trained.source) (\(trained.config.name), \(trained.kind)) on \(nTrain) train / \(nTest) test images of \(spec)"
        )
        if convert {
            log("  the \(train.channels)-channel images are converted to the model's \(channels) channels")
        }
        if let side = options.side { log("  every image is made a \(side)×\(side) square first") }
        func knn(_ trainFeatures: Tensor, _ testFeatures: Tensor) throws -> KNNScores {
            try eval.scores(
                K.self, train: trainFeatures, trainLabels: train.labels, test: testFeatures,
                testLabels: test.labels, classes: train.classCount, ks: ks, temperature: temperature)
        }
        func format(_ s: KNNScores) -> String {
            ks.map {
                options.logTop5
                    ? String(format: "k=%d %.2f%% (top-5 %.2f%%)", $0, s.top1[$0] ?? .nan, s.top5[$0] ?? .nan)
                    : String(format: "k=%d %.2f%%", $0, s.top1[$0] ?? .nan)
            }
            .joined(separator: ", ")
        }

        let trainF = eval.features(
            K.self, backbone: &trained.backbone, data: train, normalization: normalization,
            limit: options.trainSize)
        let testF = eval.features(
            K.self, backbone: &trained.backbone, data: test, normalization: normalization,
            limit: options.testSize)
        let model = try knn(trainF, testF)
        let short =
            trained.kind == "DINO teacher" ? "teacher" : trained.kind
        log("  \(short) k-NN: " + format(model))
        var linearTop1: Double?
        if options.linear {
            let probe = LinearProbe(seed: trained.config.seed)
            linearTop1 =
                probe.run(
                    K.self, train: trainF, trainLabels: Array(train.labels.prefix(nTrain)),
                    test: testF, testLabels: Array(test.labels.prefix(nTest)), classes: train.classCount
                ).top1
            log(String(format: "  \(short) linear probe: %.2f%%", linearTop1!))
        }
        let pixels = try knn(
            eval.pixels(train, normalization: normalization, limit: options.trainSize),
            eval.pixels(test, normalization: normalization, limit: options.testSize))
        log("  raw pixels k-NN: " + format(pixels))
        let randomKNN = try knn(
            eval.features(
                K.self, backbone: &trained.randomInit, data: train, normalization: normalization,
                limit: options.trainSize),
            eval.features(
                K.self, backbone: &trained.randomInit, data: test, normalization: normalization,
                limit: options.testSize))
        log("  random-init ViT k-NN: " + format(randomKNN))
        var report = EvaluationReport(
            source: trained.source, kind: trained.kind, dataset: spec, trainImages: nTrain,
            testImages: nTest, ks: ks, temperature: temperature, modelScores: model, linear: linearTop1,
            rawPixelScores: pixels, randomInitScores: randomKNN)
        if test.masks != nil && eval.side == nil && eval.channels == nil {
            let n = min(options.jaccardSize ?? options.testSize ?? test.count, test.count)
            report.jaccard = try Segmentation.evaluate(
                &trained.backbone, data: test, normalization: normalization, limit: n)
            report.jaccardRandomInit = try Segmentation.evaluate(
                &trained.randomInit, data: test, normalization: normalization, limit: n)
            report.jaccardImages = n
            log(
                String(
                    format:
                        "  Jaccard (60%% mass, best head, %d test images): \(trained.kind) %.2f, random-init ViT %.2f",
                    n, report.jaccard!.best, report.jaccardRandomInit!.best))
        } else if test.masks != nil {
            log("  (the Jaccard with the object masks needs the images unconverted: skipped)")
        }
        return report
    }

    // MARK: JSON

    struct Scores: Encodable {
        var knn: [String: Double]
        var knnTop5: [String: Double]
        var linear: Double??
        var jaccard: JaccardResult?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(knn, forKey: .knn)
            try c.encode(knnTop5, forKey: .knnTop5)
            if let linear { try c.encode(linear, forKey: .linear) }  // null when not run
            try c.encodeIfPresent(jaccard, forKey: .jaccard)
        }
        enum Keys: String, CodingKey { case knn, knnTop5 = "knn_top5", linear, jaccard }
    }

    enum CodingKeys: String, CodingKey {
        case model, rawPixels = "raw_pixels", randomInit = "random_init", trainImages = "train_images"
        case testImages = "test_images", jaccardImages = "jaccard_images", kind, dataset, source
        case ks = "nb_knn", temperature
    }

    public func encode(to encoder: Encoder) throws {
        func rounded(_ r: [Int: Double]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: ks.map { (String($0), ((r[$0] ?? .nan) * 100).rounded() / 100) })
        }
        func rounded(_ j: JaccardResult?) -> JaccardResult? {
            j.map { JaccardResult(perHead: $0.perHead.map { ($0 * 100).rounded() / 100 }) }
        }
        func scores(_ s: KNNScores, linear: Double??, jaccard: JaccardResult?) -> Scores {
            Scores(knn: rounded(s.top1), knnTop5: rounded(s.top5), linear: linear, jaccard: rounded(jaccard))
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(
            scores(modelScores, linear: .some(linear.map { ($0 * 100).rounded() / 100 }), jaccard: jaccard),
            forKey: .model)
        try c.encode(scores(rawPixelScores, linear: nil, jaccard: nil), forKey: .rawPixels)
        try c.encode(scores(randomInitScores, linear: nil, jaccard: jaccardRandomInit), forKey: .randomInit)
        try c.encode(trainImages, forKey: .trainImages)
        try c.encode(testImages, forKey: .testImages)
        try c.encodeIfPresent(jaccardImages, forKey: .jaccardImages)
        try c.encode(kind, forKey: .kind)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(source, forKey: .source)
        try c.encode(ks, forKey: .ks)
        try c.encode(temperature, forKey: .temperature)
    }

    /// `{"model": {"knn": {"10": a, …}, "knn_top5": {"10": b, …}, "linear": e, "jaccard": {"best": j,
    /// "per_head": […]}}, "raw_pixels": {…}, "random_init": {…, "jaccard": {…}}, "nb_knn": [10, …],
    /// "temperature": 0.07, …}`
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The top-1 table (what lesson 07 prints).
    public var table: String { table(top5: false) }

    /// One row per features (model, raw pixels, random-init ViT) and k, each followed by its
    /// top-5 row when `top5`; then the Jaccard, when measured.
    public func table(top5: Bool) -> String {
        func right(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        var s =
            "weighted k-NN top-1\(top5 ? " and top-5" : "") (%), T = \(String(format: "%g", temperature)), "
            + "\(trainImages) train / \(testImages) test images\n"
        // The header's columns sit 2 characters left of the numbers.
        s += "features          " + ks.map { right("k=\($0)", 8) }.joined() + "   linear\n"
        func row(_ name: String, _ r: [Int: Double], _ lin: String) -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + ks.map { String(format: "%8.2f", r[$0] ?? .nan) }.joined() + lin + "\n"
        }
        for (name, scores, lin) in [
            (kind, modelScores, linear), ("raw pixels", rawPixelScores, nil),
            ("random-init ViT", randomInitScores, nil),
        ] {
            s += row(name, scores.top1, lin.map { String(format: "%9.2f", $0) } ?? "        -")
            if top5 { s += row("  top-5", scores.top5, "") }
        }
        if let jaccard, let jaccardRandomInit {
            s +=
                "\nJaccard of the [CLS] attention's 60%-mass mask with the object mask (%), \(jaccardImages ?? 0) test images\n"
            s += "features              best   per head\n"
            for (name, j) in [(kind, jaccard), ("random-init ViT", jaccardRandomInit)] {
                s +=
                    name.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(format: "%6.2f   ", j.best)
                    + j.perHead.map { String(format: "%.2f", $0) }.joined(separator: " ") + "\n"
            }
        }
        return s
    }
}
