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
            "Writes OUT/config.json, OUT/log.jsonl, OUT/epochs.jsonl, OUT/checkpoint/ (every epoch, atomic) and OUT/plots/."
    )

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Preset (\(TrainingConfig.presets.keys.sorted().joined(separator: ", ")); default: default) or a JSON file of settings.",
            discussion:
                "A JSON file holds any of the fields of a run's config.json (dino train --print-config shows them all); "
                + "the rest come from the preset its \"name\" names, else from default. A field that is not a setting is refused."
        ))
    var config: String?

    @Option(name: .long, help: "Epochs (overrides the preset); fractional allowed, e.g. 4.5.")
    var epochs: Double?

    @Option(name: .long, help: "Batch size (overrides the preset).")
    var batch: Int?

    @Option(name: .long, help: "Use only the first N training images.")
    var limit: Int?

    @Option(
        name: .long,
        help: "Dataset: fashion-mnist, scenes[:SIZE[,CLUTTER]], idx:DIR, cifar10:DIR, folder:DIR.")
    var dataset: String?

    @Option(name: .long, help: "Run folder.")
    var out: String?

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

    @Option(
        name: .long,
        help:
            "Also keep the checkpoint of every N-th epoch as OUT/checkpointNNNN (the latest is always kept).")
    var saveEvery: Int?

    @Flag(
        name: .long, help: "Start again in an --out folder that already holds a run, deleting its checkpoint."
    )
    var overwrite = false

    @Option(name: .long, help: "Kernel core: reference or simd.")
    var kernels: KernelChoice = .simd

    @Option(name: .long, help: "Seed (overrides the preset).")
    var seed: UInt64?

    @Flag(name: .long, help: "Print the full training config this command would run (JSON) and stop; needs no --out.")
    var printConfig = false

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        if (!printConfig || resume) && out == nil { throw ValidationError("Missing expected argument '--out <out>'") }
    }

    func run() throws {
        threads.apply()
        let out = self.out ?? ""
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
            let changed = [
                ("--config", config != nil), ("--batch", batch != nil), ("--limit", limit != nil),
                ("--dataset", dataset != nil), ("--seed", seed != nil), ("--supervised", supervised),
            ]
            .filter(\.1).map(\.0)
            if let option = changed.first {
                throw ValidationError(
                    "--resume continues \(out) with the settings in its config.json; \(option) cannot change them. "
                        + "Start a new run (a new --out) to train with other settings.")
            }
            if let epochs, epochs != c.epochs {
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
            if let batch { c.batchSize = batch }
            if let limit { c.trainLimit = limit }
            if let dataset { c.dataset = dataset }
            if let seed { c.seed = seed }
            if supervised {
                c.supervised = true
                c.localCount = 0
            }
        }
        if let epochs { c.epochs = epochs }
        if printConfig {
            print(try c.encoded())
            return
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1 image, got \(limit)") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
        if resume && overwrite { throw ValidationError("--resume and --overwrite exclude each other") }
        var run = TrainingRun(config: c, folder: out)
        run.resume = resume
        run.overwrite = overwrite
        if let saveEvery {
            guard saveEvery >= 1 else {
                throw ValidationError("--save-every must be at least 1, got \(saveEvery)")
            }
            run.saveEvery = saveEvery
        }
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
}
