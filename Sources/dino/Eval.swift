import ArgumentParser
import DINOCore
import DINOData
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore

/// `dino eval`: weighted k-NN (top-1 and top-5) and a linear probe of a trained teacher, beside raw
/// pixels and the same ViT randomly initialised, on the full split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Evaluate a checkpoint: weighted k-NN top-1 and top-5 (by default k = 10, 20, 100, 200 and T = 0.07) and a linear probe, with baselines.",
        discussion:
            "On a dataset with object masks (scenes, or an idx: folder with t10k-masks-idx3-ubyte.gz) it also reports the Jaccard of the last block's [CLS] attention (60% mass) with the masks, per head, for the model and the random-init ViT."
    )

    @Option(
        name: .long,
        help: "A teacher .safetensors written by dino train, or a run folder (its latest checkpoint).")
    var checkpoint: String

    @Option(
        name: .long,
        help:
            "Evaluate on this dataset instead of the run's own (fashion-mnist, scenes, idx:DIR, cifar10:DIR, folder:DIR)."
    )
    var dataset: String?

    @Option(
        name: [.customLong("nb_knn"), .customLong("nb-knn")], parsing: .upToNextOption,
        help: ArgumentHelp(
            "Numbers of neighbours, as the official eval_knn.py: --nb_knn 10 20 100 200 (the default) or --nb_knn 10,20.",
            discussion: "A k above the number of training images uses them all.", valueName: "k"))
    var nbKnn: [String] = []

    @Option(
        name: .long, parsing: .unconditional,
        help: "Temperature T of the neighbours' votes exp(cosine / T) (official default 0.07).")
    var temperature: Double = 0.07

    @Option(name: .long, help: "Kernel core: reference or simd.")
    var kernels: KernelChoice = .simd

    @Option(name: .long, help: "Use the first N test images for the Jaccard (default: as for k-NN).")
    var jaccardSize: Int?

    @Option(name: .long, help: "Use the first N training images (default: all).")
    var trainSize: Int?

    @Option(name: .long, help: "Use the first N test images (default: all).")
    var testSize: Int?

    @Flag(name: .long, help: "Skip the linear probe.")
    var noLinear = false

    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        for (name, value) in [
            ("--train-size", trainSize), ("--test-size", testSize), ("--jaccard-size", jaccardSize),
        ] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
        _ = try ks()
        guard temperature > 0 && temperature.isFinite else {
            throw ValidationError("--temperature must be a positive number, got \(temperature)")
        }
    }

    /// The k of `--nb_knn`, in the order given, each once.
    func ks() throws -> [Int] {
        if nbKnn.isEmpty { return EvaluationReport.ks }
        var out: [Int] = []
        for part in nbKnn.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let k = Int(part), k >= 1 else {
                throw ValidationError(
                    "--nb_knn takes whole numbers ≥ 1 (e.g. --nb_knn 10 20 100 200 or 10,20), got '\(part)'")
            }
            if !out.contains(k) { out.append(k) }
        }
        return out
    }

    func run() throws {
        threads.apply()
        let ks = try ks()
        do {
            let log: (String) -> Void = { if !json { print($0) } }
            let report =
                switch kernels {
                case .simd:
                    try KNNEvaluation.compute(
                        SIMDKernels.self, checkpoint: checkpoint, dataset: dataset, trainSize: trainSize,
                        testSize: testSize, jaccardSize: jaccardSize, linear: !noLinear, ks: ks,
                        temperature: temperature, log: log)
                case .reference:
                    try KNNEvaluation.compute(
                        ReferenceKernels.self, checkpoint: checkpoint, dataset: dataset, trainSize: trainSize,
                        testSize: testSize, jaccardSize: jaccardSize, linear: !noLinear, ks: ks,
                        temperature: temperature, log: log)
                }
            print(json ? report.json : report.table)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Weighted k-NN top-1 and top-5 (%) for each k.
struct KNNScores {
    var top1: [Int: Double] = [:]
    var top5: [Int: Double] = [:]
}

/// The numbers of `dino eval`: those of ``EvaluationReport`` (the model, raw pixels and the
/// random-init ViT through the same weighted k-NN on the same images, the linear probe, the
/// Jaccard on masked data), computed by the same steps in the same order, for the k and T given
/// and with top-5 beside top-1. (``EvaluationReport``, which lesson 07 prints, has k and T fixed and
/// top-1 only.)
struct KNNEvaluation: Encodable {
    var source: String
    var kind: String
    var dataset: String
    var trainImages: Int, testImages: Int
    var ks: [Int]
    var temperature: Double
    var model: KNNScores
    var linear: Double?
    var rawPixels: KNNScores
    var randomInit: KNNScores
    var jaccard: JaccardResult?
    var jaccardRandomInit: JaccardResult?
    var jaccardImages: Int?

    static func compute<K: KernelSet>(
        _ kernels: K.Type, checkpoint: String, dataset: String?, trainSize: Int?, testSize: Int?,
        jaccardSize: Int?, linear: Bool, ks: [Int], temperature: Double, log: (String) -> Void
    ) throws -> KNNEvaluation {
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
        func knn(_ trainFeatures: Tensor, _ testFeatures: Tensor) throws -> KNNScores {
            var scores = KNNScores()
            for k in ks {
                let r = try WeightedKNN.classify(
                    K.self, train: trainFeatures, trainLabels: Array(train.labels.prefix(trainFeatures.rows)),
                    test: testFeatures, testLabels: Array(test.labels.prefix(testFeatures.rows)),
                    k: min(k, trainFeatures.rows), temperature: Float(temperature), classes: train.classCount)
                scores.top1[k] = r.top1 ?? .nan
                scores.top5[k] = r.top5 ?? .nan
            }
            return scores
        }
        func format(_ s: KNNScores) -> String {
            ks.map {
                String(format: "k=%d %.2f%% (top-5 %.2f%%)", $0, s.top1[$0] ?? .nan, s.top5[$0] ?? .nan)
            }
            .joined(separator: ", ")
        }

        let trainF = eval.features(
            K.self, backbone: &trained.backbone, data: train, normalization: normalization, limit: trainSize)
        let testF = eval.features(
            K.self, backbone: &trained.backbone, data: test, normalization: normalization, limit: testSize)
        let model = try knn(trainF, testF)
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
        let pixels = try knn(
            eval.pixels(train, normalization: normalization, limit: trainSize),
            eval.pixels(test, normalization: normalization, limit: testSize))
        log("  raw pixels k-NN: " + format(pixels))
        let randomKNN = try knn(
            eval.features(
                K.self, backbone: &trained.randomInit, data: train, normalization: normalization,
                limit: trainSize),
            eval.features(
                K.self, backbone: &trained.randomInit, data: test, normalization: normalization,
                limit: testSize))
        log("  random-init ViT k-NN: " + format(randomKNN))
        var report = KNNEvaluation(
            source: trained.source, kind: trained.kind, dataset: spec, trainImages: nTrain, testImages: nTest,
            ks: ks, temperature: temperature, model: model, linear: linearTop1, rawPixels: pixels,
            randomInit: randomKNN)
        if test.masks != nil {
            let n = min(jaccardSize ?? testSize ?? test.count, test.count)
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

    func encode(to encoder: Encoder) throws {
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
            scores(model, linear: .some(linear.map { ($0 * 100).rounded() / 100 }), jaccard: jaccard),
            forKey: .model)
        try c.encode(scores(rawPixels, linear: nil, jaccard: nil), forKey: .rawPixels)
        try c.encode(scores(randomInit, linear: nil, jaccard: jaccardRandomInit), forKey: .randomInit)
        try c.encode(trainImages, forKey: .trainImages)
        try c.encode(testImages, forKey: .testImages)
        try c.encodeIfPresent(jaccardImages, forKey: .jaccardImages)
        try c.encode(kind, forKey: .kind)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(source, forKey: .source)
        try c.encode(ks, forKey: .ks)
        try c.encode(temperature, forKey: .temperature)
    }

    /// `{"model": {"knn": {"10": a, …}, "knn_top5": {"10": b, …}, "linear": e, "jaccard": {…}},
    /// "raw_pixels": {…}, "random_init": {…}, "nb_knn": [10, …], "temperature": 0.07, …}`: the keys of
    /// ``EvaluationReport/json`` and `knn_top5`, `nb_knn`, `temperature`.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// The table of ``EvaluationReport/table`` for these k and T, each top-1 row followed by its top-5 row.
    var table: String {
        func right(_ text: String, _ width: Int) -> String {
            String(repeating: " ", count: max(0, width - text.count)) + text
        }
        var s =
            "weighted k-NN top-1 and top-5 (%), T = \(String(format: "%g", temperature)), \(trainImages) train / \(testImages) test images\n"
        // The header's columns sit 2 characters left of the numbers, as in ``EvaluationReport/table``.
        s += "features          " + ks.map { right("k=\($0)", 8) }.joined() + "   linear\n"
        func row(_ name: String, _ r: [Int: Double], _ lin: String) -> String {
            name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + ks.map { String(format: "%8.2f", r[$0] ?? .nan) }.joined() + lin + "\n"
        }
        for (name, scores, lin) in [
            (kind, model, linear), ("raw pixels", rawPixels, nil), ("random-init ViT", randomInit, nil),
        ] {
            s += row(name, scores.top1, lin.map { String(format: "%9.2f", $0) } ?? "        -")
            s += row("  top-5", scores.top5, "")
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
