import DINOCore
import DINOData
import Foundation

/// The numbers of `dino eval`: the trained model (a DINO run's teacher, or a supervised run's
/// backbone), raw pixels and a random-init ViT of the same config, all through the same
/// weighted k-NN on the same images; and, when the test images have object masks (scenes), the
/// paper's segmentation measure of the model and of the random-init ViT (``Segmentation``).
public struct EvaluationReport: Sendable, Encodable {
    public var source: String
    /// What the model is: "DINO teacher" or "supervised ViT".
    public var kind: String
    public var dataset: String
    public var trainImages: Int, testImages: Int
    public var model: [Int: Double]
    public var linear: Double?
    public var rawPixels: [Int: Double]
    public var randomInit: [Int: Double]
    /// Jaccard of the model's and of the random-init ViT's attention (nil without masks).
    public var jaccard: JaccardResult?
    public var jaccardRandomInit: JaccardResult?
    /// Test images the Jaccard was averaged over.
    public var jaccardImages: Int?

    public static let ks = [10, 20, 100, 200]

    /// - Parameters:
    ///   - dataset: a dataset spec to evaluate on instead of the run's own (`idx:DIR`, `scenes`, …).
    ///   - jaccardSize: test images for the Jaccard (nil = `testSize`, or all).
    public static func compute<K: KernelSet>(
        _ kernels: K.Type, checkpoint: String, dataset: String? = nil, trainSize: Int?, testSize: Int?,
        jaccardSize: Int? = nil, linear: Bool, log: (String) -> Void = { _ in }
    ) throws -> EvaluationReport {
        let loaded = try Checkpoint.teacher(at: checkpoint)
        let savedConfig = loaded.config
        let spec = dataset ?? savedConfig.dataset
        let ownTrain = try DataSources.load(savedConfig.dataset, split: .train)
        var trained = try TrainedModel<K>(loaded: loaded, train: ownTrain)
        let train = spec == savedConfig.dataset ? ownTrain : try DataSources.load(spec, split: .train)
        let test = try DataSources.load(spec, split: .test)
        guard train.channels == ownTrain.channels else {
            throw ModelError(
                "\(spec): \(train.channels)-channel images for a model trained on \(ownTrain.channels) channels"
            )
        }
        let normalization = trained.normalization
        let eval = Evaluator(trainSize: trainSize, testSize: testSize)
        let nTrain = min(trainSize ?? train.count, train.count),
            nTest = min(testSize ?? test.count, test.count)
        log(
            "evaluating \(trained.source) (\(trained.config.name), \(trained.kind)) on \(nTrain) train / \(nTest) test images of \(spec)"
        )

        let trainF = eval.features(
            K.self, backbone: &trained.backbone, data: train, normalization: normalization, limit: trainSize)
        let testF = eval.features(
            K.self, backbone: &trained.backbone, data: test, normalization: normalization, limit: testSize)
        let model = try eval.knn(
            K.self, train: trainF, trainLabels: train.labels, test: testF, testLabels: test.labels,
            classes: train.classCount, ks: ks)
        let short = trained.config.supervised == true ? "supervised ViT" : "teacher"
        log("  \(short) k-NN: " + format(model))
        var linearTop1: Double?
        if linear {
            let probe = LinearProbe(seed: trained.config.seed)
            linearTop1 =
                probe.run(
                    K.self, train: trainF, trainLabels: Array(train.labels.prefix(nTrain)),
                    test: testF, testLabels: Array(test.labels.prefix(nTest)), classes: train.classCount
                ).top1
            log(String(format: "  \(short) linear probe: %.2f%%", linearTop1!))
        }
        let pixels = try eval.knn(
            K.self, train: eval.pixels(train, normalization: normalization, limit: trainSize),
            trainLabels: train.labels, test: eval.pixels(test, normalization: normalization, limit: testSize),
            testLabels: test.labels, classes: train.classCount, ks: ks)
        log("  raw pixels k-NN: " + format(pixels))
        let randomKNN = try eval.knn(
            K.self, backbone: &trained.randomInit, train: train, test: test,
            normalization: normalization, ks: ks)
        log("  random-init ViT k-NN: " + format(randomKNN))
        var report = EvaluationReport(
            source: trained.source, kind: trained.kind, dataset: spec, trainImages: nTrain,
            testImages: nTest, model: model, linear: linearTop1, rawPixels: pixels,
            randomInit: randomKNN)
        if test.masks != nil {
            let n = min(jaccardSize ?? testSize ?? test.count, test.count)
            report.jaccard = try Segmentation.evaluate(
                &trained.backbone, data: test, normalization: normalization, limit: n)
            report.jaccardRandomInit = try Segmentation.evaluate(
                &trained.randomInit, data: test, normalization: normalization,
                limit: n)
            report.jaccardImages = n
            log(
                String(
                    format:
                        "  Jaccard (60%% mass, best head, %d test images): \(trained.kind) %.2f, random-init ViT %.2f",
                    n, report.jaccard!.best, report.jaccardRandomInit!.best))
        }
        return report
    }

    static func format(_ r: [Int: Double]) -> String {
        ks.map { String(format: "k=%d %.2f%%", $0, r[$0] ?? .nan) }.joined(separator: ", ")
    }

    // MARK: JSON

    struct Scores: Encodable {
        var knn: [String: Double]
        var linear: Double??
        var jaccard: JaccardResult?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(knn, forKey: .knn)
            if let linear { try c.encode(linear, forKey: .linear) }  // null when not run
            try c.encodeIfPresent(jaccard, forKey: .jaccard)
        }
        enum Keys: String, CodingKey { case knn, linear, jaccard }
    }

    enum CodingKeys: String, CodingKey {
        case model, rawPixels = "raw_pixels", randomInit = "random_init", trainImages = "train_images"
        case testImages = "test_images", jaccardImages = "jaccard_images", kind, dataset, source
    }

    public func encode(to encoder: Encoder) throws {
        func scores(_ r: [Int: Double]) -> [String: Double] {
            Dictionary(
                uniqueKeysWithValues: Self.ks.map { (String($0), ((r[$0] ?? .nan) * 100).rounded() / 100) })
        }
        func rounded(_ j: JaccardResult?) -> JaccardResult? {
            j.map { JaccardResult(perHead: $0.perHead.map { ($0 * 100).rounded() / 100 }) }
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(
            Scores(
                knn: scores(model), linear: .some(linear.map { ($0 * 100).rounded() / 100 }),
                jaccard: rounded(jaccard)), forKey: .model)
        try c.encode(Scores(knn: scores(rawPixels), linear: nil, jaccard: nil), forKey: .rawPixels)
        try c.encode(
            Scores(knn: scores(randomInit), linear: nil, jaccard: rounded(jaccardRandomInit)),
            forKey: .randomInit)
        try c.encode(trainImages, forKey: .trainImages)
        try c.encode(testImages, forKey: .testImages)
        try c.encodeIfPresent(jaccardImages, forKey: .jaccardImages)
        try c.encode(kind, forKey: .kind)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(source, forKey: .source)
    }

    /// `{"model": {"knn": {"10": a, …}, "linear": e, "jaccard": {"best": j, "per_head": […]}},
    /// "raw_pixels": {"knn": {…}}, "random_init": {"knn": {…}, "jaccard": {…}}, …}`
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    public var table: String {
        var s = "weighted k-NN top-1 (%), T = 0.07, \(trainImages) train / \(testImages) test images\n"
        s += "features              k=10    k=20   k=100   k=200   linear\n"
        func row(_ name: String, _ r: [Int: Double], _ lin: Double?) -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + Self.ks.map { String(format: "%8.2f", r[$0] ?? .nan) }.joined()
                + (lin.map { String(format: "%9.2f", $0) } ?? "        -") + "\n"
        }
        s += row(kind, model, linear)
        s += row("raw pixels", rawPixels, nil)
        s += row("random-init ViT", randomInit, nil)
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
