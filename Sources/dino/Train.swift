import ArgumentParser
import DINOCore
import DINOModel
import Foundation
import ReferenceCore
import SIMDCore

enum KernelChoice: String, ExpressibleByArgument, CaseIterable {
    case reference, simd
}

/// `dino train`: a DINO run into a folder you can watch, keep and resume.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a ViT with DINO (default: lesson 07's Fashion-MNIST run).",
        discussion:
            "Writes OUT/config.json, OUT/log.jsonl, OUT/epochs.jsonl, OUT/checkpoint/ (every epoch, atomic) and OUT/plots/. "
            + "The settings come from the preset, then the --config JSON, then the options (each overrides the one before); "
            + "the options of the official main_dino.py work under their own names (--teacher_temp) and in kebab-case (--teacher-temp)."
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Preset (\(TrainingConfig.presets.keys.sorted().joined(separator: ", ")); default: default) or a JSON file of settings.",
            discussion:
                "A JSON file holds any of the fields of a run's config.json (dino train --print-config shows them all) "
                + "or their official main_dino.py names (\"teacher_temp\", \"use_bn_in_head\", \"arch\"); "
                + "the rest come from the preset its \"name\" names, else from default. A field that is not a setting is refused."
        ))
    var config: String?

    @Option(name: .long, help: "Use only the first N training images.")
    var limit: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Dataset: fashion-mnist, scenes[:SIZE[,CLUTTER]], idx:DIR, cifar10:DIR, folder:DIR[@SIZE] (class sub-folders of PNG/JPEG), images:DIR[@SIZE] (unlabelled PNG/JPEG, resized to SIZE, default the config's imageSize).",
            valueName: "spec"))
    var dataset: String?

    @Option(
        name: [.customLong("knn-dataset"), .customLong("knn_dataset")],
        help: ArgumentHelp(
            "A labelled dataset for the k-NN during training (its train split the bank, its test split the queries): how a run on images:DIR is measured.",
            valueName: "spec"))
    var knnDataset: String?

    @Flag(
        name: .long,
        help:
            "Train the supervised baseline instead: the same backbone and global crops, a linear classifier on the labels (cross-entropy, AdamW)."
    )
    var supervised = false

    @Flag(
        name: .long,
        help: "Continue the run in --out from its last checkpoint (or from its beginning if it has none yet)."
    )
    var resume = false

    @Flag(
        name: .long, help: "Start again in an --out folder that already holds a run, deleting its checkpoint."
    )
    var overwrite = false

    @Option(name: .long, help: "Kernel core: reference or simd.")
    var kernels: KernelChoice = .simd

    @Flag(
        name: .long,
        help: "Print the full training config this command would run (JSON) and stop; needs no --out.")
    var printConfig = false

    @OptionGroup var threads: ThreadOptions

    @OptionGroup(title: "main_dino.py options (also in kebab-case: --patch-size)")
    var official: OfficialTrainOptions

    @OptionGroup(title: "main_dino.py options this project has no counterpart for")
    var missing: OfficialOptionsWithoutCounterpart

    func validate() throws {
        if (!printConfig || resume) && official.outputDir == nil {
            throw ValidationError("Missing expected argument '--out <dir>' (or --output_dir)")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 image, got \(limit)") }
        if supervised, let n = official.localCropsNumber, n > 0 {
            throw ValidationError(
                "\(spelling("local_crops_number")) \(n): --supervised trains on one crop per image, without local crops"
            )
        }
    }

    func run() throws {
        threads.apply()
        let out = official.outputDir ?? ""
        let overrides = try official.overrides()
        var c: TrainingConfig
        if resume {
            // A resumed run keeps its own settings: every schedule was laid out for its length, so
            // a different --epochs would not continue the same run.
            guard let saved = try? String(contentsOfFile: out + "/config.json", encoding: .utf8) else {
                throw ValidationError(
                    "--resume: \(out)/config.json cannot be read (is \(out) a run folder written by dino train?)"
                )
            }
            c = try TrainingConfig.decoded(saved, source: out + "/config.json")
            // Every other setting is the run's own too: refuse rather than silently ignore one.
            let changed =
                [("--config", config != nil)]
                + overrides.filter { $0.fields != ["epochs"] }.map { ($0.flag, true) }
                + [
                    ("--limit", limit != nil), ("--dataset", dataset != nil),
                    ("--knn-dataset", knnDataset != nil),
                    ("--supervised", supervised),
                ]
            if let option = changed.filter(\.1).map(\.0).first {
                throw ValidationError(
                    "--resume continues \(out) with the settings in its config.json; \(option) cannot change them. "
                        + "Start a new run (a new --out) to train with other settings.")
            }
            if let epochs = official.epochs, epochs != c.epochs {
                throw ValidationError(
                    "--resume continues \(out) as it was started, with \(c.epochsText) epochs; "
                        + "--epochs \(String(format: "%g", epochs)) would change every schedule. Start a new run instead."
                )
            }
        } else {
            let config = config ?? "default"
            do { c = try TrainingConfig.load(config) } catch let error as ModelError {
                throw ValidationError("--config \(error.description)")
            }
            // preset < JSON < options
            for o in overrides { o.apply(&c) }
            if let limit { c.trainLimit = limit }
            if let dataset { c.dataset = dataset }
            if let knnDataset { c.knnDataset = knnDataset }
            if supervised {
                c.supervised = true
                c.localCount = 0
            }
        }
        if printConfig {
            print(try c.encoded())
            return
        }
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        if !resume {
            // Checked here (the trainer checks again) so that an error can name the option that set the field.
            do { try c.validate() } catch let error as ModelError {
                let limited =
                    limit == nil ? [] : [Override(flag: "--limit", fields: ["trainLimit"], apply: { _ in })]
                FileHandle.standardError.write(
                    Data("error: \(Self.blame(error.description, on: overrides + limited))\n".utf8))
                throw ExitCode.failure
            }
        }
        var run = TrainingRun(config: c, folder: out)
        run.resume = resume
        run.overwrite = overwrite
        if let n = official.saveckpFreq, n > 0 { run.saveEvery = n }
        do {
            switch (kernels, c.supervised == true) {
            case (.reference, false): _ = try run.run(ReferenceKernels.self)
            case (.simd, false): _ = try run.run(SIMDKernels.self)
            case (.reference, true): _ = try run.runSupervised(ReferenceKernels.self)
            case (.simd, true): _ = try run.runSupervised(SIMDKernels.self)
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// A config error with the options that set the fields it names put in front, the config's
    /// name dropped ("config default: teacherTemperature must be > 0, got 0.0" after
    /// `--teacher_temp 0` becomes "--teacher_temp: teacherTemperature must be > 0, got 0.0"); the
    /// message as it is when no option set a field it names.
    static func blame(_ message: String, on overrides: [Override]) -> String {
        var found: [(position: String.Index, flag: String)] = []
        for o in overrides {
            for field in o.fields {
                if let position = firstWord(field, in: message) { found.append((position, o.flag)) }
            }
        }
        guard !found.isEmpty else { return message }
        var flags: [String] = []
        for f in found.sorted(by: { $0.position < $1.position }).map(\.flag) where !flags.contains(f) {
            flags.append(f)
        }
        var text = message
        if let prefix = text.range(of: "^config [^:]*: ", options: .regularExpression) {
            text.removeSubrange(prefix)
        }
        return flags.joined(separator: ", ") + ": " + text
    }

    /// Where `word` first occurs in `text` as a whole word (not inside `warmupEpochs` for `epochs`).
    static func firstWord(_ word: String, in text: String) -> String.Index? {
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
        var start = text.startIndex
        while let r = text.range(of: word, range: start..<text.endIndex) {
            let before = r.lowerBound == text.startIndex ? nil : text[text.index(before: r.lowerBound)]
            let after = r.upperBound == text.endIndex ? nil : text[r.upperBound]
            if !(before.map(isWordCharacter) ?? false) && !(after.map(isWordCharacter) ?? false) {
                return r.lowerBound
            }
            start = r.upperBound
        }
        return nil
    }
}

/// One option that changes the config: the spelling it was given as and the fields it sets.
struct Override {
    var flag: String
    var fields: [String]
    var apply: (inout TrainingConfig) -> Void
}

/// The spelling of an option as it was typed (`--patch-size`, or an old name such as `--batch`),
/// for messages; the official `--patch_size` if it was not typed.
func spelling(_ official: String, aliases: [String] = []) -> String {
    let names =
        ["--" + official, "--" + official.replacingOccurrences(of: "_", with: "-")]
        + aliases.map { "--" + $0 }
    for argument in CommandLine.arguments.dropFirst().reversed() {
        if let name = names.first(where: { argument == $0 || argument.hasPrefix($0 + "=") }) { return name }
    }
    return names[0]
}

/// The presets by backbone: "dim 64, depth 4, 4 heads, MLP ratio 4 (default, scenes, …); …".
let presetBackbones: String = {
    var groups: [(summary: String, names: [String])] = []
    for name in TrainingConfig.presets.keys.sorted() {
        let summary = (try? TrainingConfig.architecture(named: name).summary) ?? ""
        if let i = groups.firstIndex(where: { $0.summary == summary }) {
            groups[i].names.append(name)
        } else {
            groups.append((summary, [name]))
        }
    }
    return groups.map { "\($0.summary) (\($0.names.joined(separator: ", ")))" }.joined(separator: "; ")
}()

/// A boolean option's value as the official `utils.bool_flag` reads it, with yes/no as well.
func booleanFlag(_ text: String) throws -> Bool {
    switch text.lowercased() {
    case "true", "1", "yes", "on": return true
    case "false", "0", "no", "off": return false
    default: throw BooleanFlagError()
    }
}

struct BooleanFlagError: Error, CustomStringConvertible {
    var description: String { "expected true or false (or 1/0, yes/no, on/off, in any case)" }
}

/// The two numbers of `--global_crops_scale 0.4 1.0` (also `0.4,1.0`), nil when not given.
func scalePair(_ values: [String], _ official: String) throws -> [Double]? {
    if values.isEmpty { return nil }
    let parts = values.flatMap { $0.split(separator: ",").map(String.init) }
    let numbers = parts.compactMap(Double.init)
    guard numbers.count == parts.count, numbers.count == 2 else {
        throw ValidationError(
            "\(spelling(official)) takes two numbers, MIN MAX (fractions of the image area, e.g. 0.4 1.0), got '\(values.joined(separator: " "))'"
        )
    }
    return numbers
}

/// The options of the official `main_dino.py` that this project has, under the script's names
/// (snake_case) and in kebab-case; a few keep an older name of this tool as an alias.
struct OfficialTrainOptions: ParsableArguments {
    @Option(
        name: .customLong("arch"),
        help: ArgumentHelp(
            "Backbone: vit_tiny (\(TrainingConfig.officialArchitectures[0].shape.summary)), vit_small (dim 384, 6 heads), vit_base (dim 768, 12 heads), all depth 12; or a preset's name for its backbone.",
            discussion:
                "Sets dim, depth, heads and mlpRatio (default: the preset's). The presets' backbones: \(presetBackbones).",
            valueName: "name"),
        transform: { try TrainingConfig.architecture(named: $0) })
    var arch: TrainingConfig.Architecture?

    @Option(
        name: [.customLong("patch_size"), .customLong("patch-size")], parsing: .unconditional,
        help: "Patch size in pixels (patchSize; official default 16 on 224-px crops).")
    var patchSize: Int?

    @Option(
        name: [.customLong("out_dim"), .customLong("out-dim")], parsing: .unconditional,
        help: "Prototypes K of the head's last layer (outDim; official default 65536).")
    var outDim: Int?

    @Option(
        name: [.customLong("norm_last_layer"), .customLong("norm-last-layer")],
        help: ArgumentHelp(
            "true: the prototypes stay unit vectors (g frozen); false: g trains (normLastLayer).",
            valueName: "bool"),
        transform: booleanFlag)
    var normLastLayer: Bool?

    @Option(
        name: [.customLong("momentum_teacher"), .customLong("momentum-teacher")], parsing: .unconditional,
        help:
            "Base EMA momentum λ of the teacher, cosine to 1 over the run (teacherMomentum; not the on/off field momentumTeacher)."
    )
    var momentumTeacher: Double?

    @Option(
        name: [.customLong("use_bn_in_head"), .customLong("use-bn-in-head")],
        help: ArgumentHelp("BatchNorm after the head's hidden layers (headBatchNorm).", valueName: "bool"),
        transform: booleanFlag)
    var useBnInHead: Bool?

    @Option(
        name: [.customLong("warmup_teacher_temp"), .customLong("warmup-teacher-temp")],
        parsing: .unconditional,
        help: "Teacher temperature τt at the start of its warm-up (warmupTeacherTemperature).")
    var warmupTeacherTemp: Double?

    @Option(
        name: [.customLong("teacher_temp"), .customLong("teacher-temp")], parsing: .unconditional,
        help: "Teacher temperature τt after its warm-up (teacherTemperature).")
    var teacherTemp: Double?

    @Option(
        name: [.customLong("warmup_teacher_temp_epochs"), .customLong("warmup-teacher-temp-epochs")],
        parsing: .unconditional,
        help: "Whole epochs of the τt warm-up (warmupTeacherTemperatureEpochs).")
    var warmupTeacherTempEpochs: Int?

    @Option(
        name: [.customLong("weight_decay"), .customLong("weight-decay")], parsing: .unconditional,
        help: "Weight decay at the start of its cosine (weightDecay).")
    var weightDecay: Double?

    @Option(
        name: [.customLong("weight_decay_end"), .customLong("weight-decay-end")], parsing: .unconditional,
        help: "Weight decay at the end of the run (weightDecayEnd).")
    var weightDecayEnd: Double?

    @Option(
        name: [.customLong("clip_grad"), .customLong("clip-grad")], parsing: .unconditional,
        help: "Largest L2 norm of each parameter's gradient, 0 = no clipping (clipGrad).")
    var clipGrad: Float?

    @Option(
        name: [.customLong("batch_size_per_gpu"), .customLong("batch-size-per-gpu"), .customLong("batch")],
        parsing: .unconditional,
        help:
            "Images per iteration (batchSize). One process here, so this is also the total batch that --lr is scaled by."
    )
    var batchSizePerGpu: Int?

    @Option(
        name: .customLong("epochs"), parsing: .unconditional,
        help: "Length of the run in epochs (epochs); fractional allowed, e.g. 4.5.")
    var epochs: Double?

    @Option(
        name: [.customLong("freeze_last_layer"), .customLong("freeze-last-layer")], parsing: .unconditional,
        help: "Epochs during which the last layer gets no update (freezeLastLayerEpochs); fractional allowed."
    )
    var freezeLastLayer: Double?

    @Option(
        name: .customLong("lr"), parsing: .unconditional,
        help:
            "Peak learning rate for a batch of 256, as the official --lr (lr): the run uses lr × batch / 256 after a linear warm-up."
    )
    var lr: Double?

    @Option(
        name: [.customLong("warmup_epochs"), .customLong("warmup-epochs")], parsing: .unconditional,
        help: "Epochs of the linear lr warm-up from 0 (warmupEpochs); fractional allowed.")
    var warmupEpochs: Double?

    @Option(
        name: [.customLong("min_lr"), .customLong("min-lr")], parsing: .unconditional,
        help: "Learning rate the cosine ends at, not scaled by the batch (minLR).")
    var minLr: Double?

    @Option(
        name: [.customLong("drop_path_rate"), .customLong("drop-path-rate")], parsing: .unconditional,
        help: "Stochastic depth of the student's last block, 0 … rate across blocks (dropPathRate).")
    var dropPathRate: Float?

    @Option(
        name: [.customLong("global_crops_scale"), .customLong("global-crops-scale")],
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Area range of the global crops, two numbers: --global_crops_scale 0.4 1.0 (globalScale).",
            valueName: "min max"))
    var globalCropsScale: [String] = []

    @Option(
        name: [.customLong("local_crops_number"), .customLong("local-crops-number")], parsing: .unconditional,
        help: "Local crops per image, 0 = no multi-crop (localCount).")
    var localCropsNumber: Int?

    @Option(
        name: [.customLong("local_crops_scale"), .customLong("local-crops-scale")], parsing: .upToNextOption,
        help: ArgumentHelp(
            "Area range of the local crops, two numbers: --local_crops_scale 0.05 0.4 (localScale).",
            valueName: "min max"))
    var localCropsScale: [String] = []

    @Option(
        name: .customLong("seed"), parsing: .unconditional,
        help: "Seed of the initial weights, the crops and the data order (seed).")
    var seed: UInt64?

    @Option(
        name: [.customLong("out"), .customLong("output_dir"), .customLong("output-dir")],
        help: ArgumentHelp(
            "Run folder (required; the official default is the current folder).", valueName: "dir"))
    var outputDir: String?

    @Option(
        name: [.customLong("saveckp_freq"), .customLong("saveckp-freq"), .customLong("save-every")],
        parsing: .unconditional,
        help: ArgumentHelp(
            "Also keep the checkpoint every N epochs as OUT/checkpointNNNN; 0 = none (the default here; official 20).",
            discussion:
                "Kept after epochs N, 2N, … and named by the epochs done (checkpoint0020 after 20 epochs); the official script keeps checkpoint0000.pth, checkpoint0020.pth, … after its 0-based epochs 0, N, 2N, …, one epoch earlier. The latest checkpoint is always kept."
        ))
    var saveckpFreq: Int?

    func validate() throws {
        _ = try scalePair(globalCropsScale, "global_crops_scale")
        _ = try scalePair(localCropsScale, "local_crops_scale")
        if let n = batchSizePerGpu, n < 1 {
            throw ValidationError(
                "\(spelling("batch_size_per_gpu", aliases: ["batch"])) must be at least 1, got \(n)")
        }
        if let n = saveckpFreq, n < 0 {
            throw ValidationError(
                "\(spelling("saveckp_freq", aliases: ["save-every"])) must be at least 0 (0 = no extra checkpoints), got \(n)"
            )
        }
    }

    /// The options given, in the order of the official script, each with the fields it sets.
    func overrides() throws -> [Override] {
        var list: [Override] = []
        func add<T>(
            _ official: String, _ value: T?, aliases: [String] = [],
            _ set: @escaping (inout TrainingConfig, T) -> Void
        ) {
            guard let value else { return }
            list.append(
                Override(
                    flag: spelling(official, aliases: aliases),
                    fields: [TrainingConfig.officialField[official] ?? official], apply: { set(&$0, value) }))
        }
        if let arch {
            list.append(
                Override(flag: "--arch", fields: ["dim", "depth", "heads", "mlpRatio"], apply: arch.apply))
        }
        add("patch_size", patchSize) { $0.patchSize = $1 }
        add("out_dim", outDim) { $0.outDim = $1 }
        add("norm_last_layer", normLastLayer) { $0.normLastLayer = $1 }
        add("momentum_teacher", momentumTeacher) { $0.teacherMomentum = $1 }
        add("use_bn_in_head", useBnInHead) { $0.headBatchNorm = $1 }
        add("warmup_teacher_temp", warmupTeacherTemp) { $0.warmupTeacherTemperature = $1 }
        add("teacher_temp", teacherTemp) { $0.teacherTemperature = $1 }
        add("warmup_teacher_temp_epochs", warmupTeacherTempEpochs) { $0.warmupTeacherTemperatureEpochs = $1 }
        add("weight_decay", weightDecay) { $0.weightDecay = $1 }
        add("weight_decay_end", weightDecayEnd) { $0.weightDecayEnd = $1 }
        add("clip_grad", clipGrad) { $0.clipGrad = $1 }
        add("batch_size_per_gpu", batchSizePerGpu, aliases: ["batch"]) { $0.batchSize = $1 }
        add("epochs", epochs) { $0.epochs = $1 }
        add("freeze_last_layer", freezeLastLayer) { $0.freezeLastLayerEpochs = $1 }
        add("lr", lr) { $0.lr = $1 }
        add("warmup_epochs", warmupEpochs) { $0.warmupEpochs = $1 }
        add("min_lr", minLr) { $0.minLR = $1 }
        add("drop_path_rate", dropPathRate) { $0.dropPathRate = $1 }
        add("global_crops_scale", try scalePair(globalCropsScale, "global_crops_scale")) {
            $0.globalScale = $1
        }
        add("local_crops_number", localCropsNumber) { $0.localCount = $1 }
        add("local_crops_scale", try scalePair(localCropsScale, "local_crops_scale")) { $0.localScale = $1 }
        add("seed", seed) { $0.seed = $1 }
        return list
    }
}

/// Options of the official `main_dino.py` that have no counterpart here: each is refused with
/// what this project does instead (never silently ignored), except the two values that say what
/// it does anyway, `--use_fp16 false` and `--optimizer adamw`.
struct OfficialOptionsWithoutCounterpart: ParsableArguments {
    static func reason(_ name: String) -> String { TrainingConfig.officialWithoutCounterpart[name] ?? "" }

    @Option(
        name: [.customLong("use_fp16"), .customLong("use-fp16")],
        help: ArgumentHelp("Only false is accepted: this project trains in Float32.", valueName: "bool"),
        transform: booleanFlag)
    var useFp16: Bool?

    @Option(help: ArgumentHelp("Only adamw is accepted: this project trains with AdamW.", valueName: "name"))
    var optimizer: String?

    @Option(
        name: [.customLong("data_path"), .customLong("data-path")],
        help: ArgumentHelp("Refused: \(reason("data_path")).", valueName: "path"))
    var dataPath: String?

    @Option(
        name: [.customLong("num_workers"), .customLong("num-workers")],
        help: ArgumentHelp("Refused: \(reason("num_workers")).", valueName: "n"))
    var numWorkers: String?

    @Option(
        name: [.customLong("dist_url"), .customLong("dist-url")],
        help: ArgumentHelp("Refused: \(reason("dist_url")).", valueName: "url"))
    var distUrl: String?

    @Option(
        name: [.customLong("local_rank"), .customLong("local-rank")],
        help: ArgumentHelp("Refused: \(reason("local_rank")).", valueName: "n"))
    var localRank: String?

    func validate() throws {
        if useFp16 == true {
            throw ValidationError("\(spelling("use_fp16")) true: \(Self.reason("use_fp16"))")
        }
        if let optimizer, optimizer.lowercased() != "adamw" {
            throw ValidationError("\(spelling("optimizer")) \(optimizer): \(Self.reason("optimizer"))")
        }
        for (name, value) in [
            ("data_path", dataPath), ("num_workers", numWorkers), ("dist_url", distUrl),
            ("local_rank", localRank),
        ] where value != nil {
            throw ValidationError("\(spelling(name)): \(Self.reason(name))")
        }
    }
}
