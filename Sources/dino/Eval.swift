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
        help: ArgumentHelp(
            "A teacher .safetensors written by dino train, or a run folder (its latest checkpoint).",
            valueName: "run"))
    var checkpoint: String?

    @Option(
        name: [.customLong("weights"), .customLong("pretrained_weights"), .customLong("pretrained-weights")],
        help: ArgumentHelp(
            "Instead of --checkpoint: a backbone in the official layout (.safetensors, e.g. converted from dino_deitsmall16_pretrain.pth), normalised with ImageNet's statistics; needs --dataset.",
            valueName: "file"))
    var weights: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "vit_tiny, vit_small or vit_base: the head count of --weights (a state dict does not record it).",
            valueName: "name"))
    var arch = "vit_small"

    @Option(
        name: .long, help: ArgumentHelp("Attention heads of --weights (overrides --arch).", valueName: "n"))
    var heads: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Evaluate on this dataset instead of the run's own (fashion-mnist, scenes, idx:DIR, cifar10:DIR, folder:DIR).",
            valueName: "spec"))
    var dataset: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Make every image an S×S square first (shorter side resized, bicubic, then the centre), e.g. 224 for released weights.",
            valueName: "S"))
    var imageSize: Int?

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
        guard (checkpoint == nil) != (weights == nil) else {
            throw ValidationError(
                "give exactly one of --checkpoint (a run) and --weights (an official-layout file)")
        }
        if weights != nil && dataset == nil {
            throw ValidationError("--weights needs --dataset (labelled images to run the k-NN on)")
        }
        if heads == nil && weights != nil && PhotoAttention.headsOfArchitecture[arch] == nil {
            throw ValidationError(
                "--arch \(arch): expected vit_tiny, vit_small or vit_base (or give --heads)")
        }
        for (name, value) in [
            ("--train-size", trainSize), ("--test-size", testSize), ("--jaccard-size", jaccardSize),
            ("--heads", heads), ("--image-size", imageSize),
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
        if nbKnn.isEmpty { return EvaluationReport.defaultKs }
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
        var options = EvaluationReport.Options(trainSize: trainSize, testSize: testSize, linear: !noLinear)
        options.jaccardSize = jaccardSize
        options.ks = try ks()
        options.temperature = temperature
        options.side = imageSize
        options.logTop5 = true
        do {
            let report =
                switch kernels {
                case .simd: try evaluate(SIMDKernels.self, options)
                case .reference: try evaluate(ReferenceKernels.self, options)
                }
            print(json ? report.json : report.table(top5: true))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    func evaluate<K: KernelSet>(
        _ kernels: K.Type, _ options: EvaluationReport.Options
    ) throws -> EvaluationReport {
        let log: (String) -> Void = { if !json { print($0) } }
        guard let weights else {
            return try EvaluationReport.compute(
                K.self, checkpoint: checkpoint!, dataset: dataset, options: options, log: log)
        }
        var model = try TrainedModel<K>(
            weights: weights, heads: heads ?? PhotoAttention.headsOfArchitecture[arch]!)
        let spec = dataset!
        return try EvaluationReport.compute(
            K.self, model: &model, train: try DataSources.load(spec, split: .train),
            test: try DataSources.load(spec, split: .test), spec: spec, options: options, log: log)
    }
}
