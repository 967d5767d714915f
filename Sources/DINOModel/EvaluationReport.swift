import DINOCore
import DINOData
import Foundation
import SIMDCore

/// The numbers of `dino eval`: the trained teacher, raw pixels and a random-init ViT of the same
/// config, all through the same weighted k-NN on the same images.
public struct EvaluationReport: Sendable {
    public var source: String
    public var trainImages: Int, testImages: Int
    public var model: [Int: Double]
    public var linear: Double?
    public var rawPixels: [Int: Double]
    public var randomInit: [Int: Double]

    public static let ks = [10, 20, 100, 200]

    public static func compute(checkpoint: String, trainSize: Int?, testSize: Int?, linear: Bool,
                               log: (String) -> Void = { _ in }) throws -> EvaluationReport {
        let (tensors, config, source) = try Checkpoint.teacher(at: checkpoint)
        let train = try DataSources.load(config.dataset, split: .train)
        let test = try DataSources.load(config.dataset, split: .test)
        var vit = config.vit
        vit.channels = train.channels
        vit.dropPathRate = 0
        var teacher = try DINONetwork<SIMDKernels>(backbone: vit, head: config.headConfig(), seed: config.seed)
        try teacher.load(tensors)
        var random = try DINONetwork<SIMDKernels>(backbone: vit, head: config.headConfig(), seed: config.seed)
        let stats = (config.trainLimit.map { train.prefix($0) } ?? train).channelStatistics()
        let normalization = Normalization(mean: stats.mean.map(Float.init), std: stats.std.map(Float.init))
        let eval = Evaluator(trainSize: trainSize, testSize: testSize)
        let nTrain = min(trainSize ?? train.count, train.count), nTest = min(testSize ?? test.count, test.count)
        log("evaluating \(source) (\(config.name)) on \(nTrain) train / \(nTest) test images of \(config.dataset)")

        let trainF = eval.features(SIMDKernels.self, backbone: &teacher.backbone, data: train, normalization: normalization, limit: trainSize)
        let testF = eval.features(SIMDKernels.self, backbone: &teacher.backbone, data: test, normalization: normalization, limit: testSize)
        let model = try eval.knn(SIMDKernels.self, train: trainF, trainLabels: train.labels, test: testF, testLabels: test.labels,
                                 classes: train.classCount, ks: ks)
        log("  teacher k-NN: " + format(model))
        var linearTop1: Double?
        if linear {
            let probe = LinearProbe(seed: config.seed)
            linearTop1 = probe.run(SIMDKernels.self, train: trainF, trainLabels: Array(train.labels.prefix(nTrain)),
                                   test: testF, testLabels: Array(test.labels.prefix(nTest)), classes: train.classCount).top1
            log(String(format: "  teacher linear probe: %.2f%%", linearTop1!))
        }
        let pixels = try eval.knn(SIMDKernels.self, train: eval.pixels(train, normalization: normalization, limit: trainSize),
                                  trainLabels: train.labels, test: eval.pixels(test, normalization: normalization, limit: testSize),
                                  testLabels: test.labels, classes: train.classCount, ks: ks)
        log("  raw pixels k-NN: " + format(pixels))
        let randomKNN = try eval.knn(SIMDKernels.self, backbone: &random.backbone, train: train, test: test,
                                     normalization: normalization, ks: ks)
        log("  random-init ViT k-NN: " + format(randomKNN))
        return EvaluationReport(source: source, trainImages: nTrain, testImages: nTest, model: model, linear: linearTop1,
                                rawPixels: pixels, randomInit: randomKNN)
    }

    static func format(_ r: [Int: Double]) -> String {
        ks.map { String(format: "k=%d %.2f%%", $0, r[$0] ?? .nan) }.joined(separator: ", ")
    }

    /// `{"model": {"knn": {"10": a, …}, "linear": e}, "raw_pixels": {"knn": {…}}, "random_init": {"knn": {…}}}`
    public var json: String {
        func knn(_ r: [Int: Double]) -> String {
            "{" + Self.ks.map { "\"\($0)\": " + String(format: "%.2f", r[$0] ?? .nan) }.joined(separator: ", ") + "}"
        }
        let lin = linear.map { String(format: "%.2f", $0) } ?? "null"
        return "{\"model\": {\"knn\": \(knn(model)), \"linear\": \(lin)}, \"raw_pixels\": {\"knn\": \(knn(rawPixels))}, "
            + "\"random_init\": {\"knn\": \(knn(randomInit))}, \"train_images\": \(trainImages), \"test_images\": \(testImages)}"
    }

    public var table: String {
        var s = "weighted k-NN top-1 (%), T = 0.07, \(trainImages) train / \(testImages) test images\n"
        s += "features              k=10    k=20   k=100   k=200   linear\n"
        func row(_ name: String, _ r: [Int: Double], _ lin: Double?) -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + Self.ks.map { String(format: "%8.2f", r[$0] ?? .nan) }.joined()
                + (lin.map { String(format: "%9.2f", $0) } ?? "        -") + "\n"
        }
        s += row("DINO teacher", model, linear)
        s += row("raw pixels", rawPixels, nil)
        s += row("random-init ViT", randomInit, nil)
        return s
    }
}
