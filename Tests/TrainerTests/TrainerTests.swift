import DINOCore
import DINOData
import DINOModel
import Foundation
import SIMDCore
import Testing

/// The trainer on a tiny config and 256 Fashion-MNIST images: a few steps, not a real run.
@Suite("trainer", .serialized)
struct TrainerTests {
    static func tinyConfig(epochs: Double = 2) -> TrainingConfig {
        var c = try! TrainingConfig.preset("smoke")
        c.trainLimit = 256
        c.batchSize = 32
        c.epochs = epochs
        c.knnEvery = 0
        c.dim = 16; c.heads = 2; c.depth = 1; c.headHidden = 32; c.headBottleneck = 16; c.outDim = 64
        return c
    }

    /// Runs `trainer` until its first epoch ends, checkpoints into `run` and stops there, as a run
    /// killed right after that checkpoint would.
    static func trainFirstEpochAndStop(
        _ trainer: inout DINOTrainer<SIMDKernels>, checkpointingInto run: String
    ) throws {
        struct Stop: Error {}
        do {
            try trainer.run(epochDone: { t, _ in
                try t.checkpoint.save(run: run)
                throw Stop()
            })
        } catch is Stop {}
    }

    /// The first 256 Fashion-MNIST images; a machine without the dataset fails each test that
    /// needs it with the loader's message (naming the missing file) instead of crashing the run.
    static let loaded = Result { try Dataset.fashionMNIST(split: .train).prefix(256) }
    static var train: Dataset { get throws { try loaded.get() } }

    static func folder(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-trainer-\(name)-\(UUID().uuidString)"
        ).path
        return dir
    }

    @Test func unlabelledPicturesTrainAndAreMeasuredOnALabelledDataset() throws {
        let dir = Self.folder("pictures")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let items = try Dataset.fashionMNIST(split: .train).prefix(64)
        for i in 0..<items.count {
            let sub = dir + "/photos/\(i % 3)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            // Any sizes, JPEG and PNG mixed.
            let picture = items.image(i).resized(width: 28 + i % 9, height: 30 + i % 5)
            if i % 2 == 0 {
                try picture.writeJPEG(sub + "/\(i).jpg")
            } else {
                try picture.writePNG(sub + "/\(i).png")
            }
        }
        var c = Self.tinyConfig(epochs: 1)
        c.dataset = "images:" + dir + "/photos"  // resized to the config's imageSize, 28
        c.knnTrainSize = 128
        c.knnTestSize = 64
        let plain = try DataSources.run(c)
        #expect(plain.train.count == 64 && plain.train.width == 28 && plain.train.height == 28)
        #expect(plain.bank == nil && plain.test == nil)
        var alone = try DINOTrainer<SIMDKernels>(config: c, train: plain.train, test: plain.test)
        try alone.run()
        #expect(try alone.evaluate(iteration: 2).knnTeacher == nil)  // nothing labelled: no k-NN
        c.knnDataset = "fashion-mnist"
        let data = try DataSources.run(c)
        #expect(data.bank?.count == 60_000 && data.test?.count == 10_000)
        var trainer = try DINOTrainer<SIMDKernels>(
            config: c, train: data.train, test: data.test, bank: data.bank)
        try trainer.run()
        let record = try trainer.evaluate(iteration: 2)
        #expect(record.knnTeacher.map { $0 > 10 && $0 <= 100 } == true, "\(record)")
        // The run's own numbers are those of the trainer that had no k-NN: the bank changes nothing else.
        #expect(
            trainer.step.teacher.backbone.parameters.map(\.value)
                == alone.step.teacher.backbone.parameters.map(\.value))
        // Specs: a size after @, a folder without test/ has no test split, errors name the spec.
        #expect(try DataSources.load("images:\(dir)/photos@14", split: .train).width == 14)
        #expect(try DataSources.testSplit("folder:\(dir)/photos", imageSize: 28) == nil)
        for (spec, problem) in [
            ("images:\(dir)/photos", "images:DIR@SIZE"), ("images:\(dir)/photos@0", "whole number"),
            ("folder:", "no folder"),
        ] {
            do {
                _ = try DataSources.load(spec, split: .train)
                Issue.record("\(spec) loaded")
            } catch let e as DataError {
                #expect(e.path == spec && e.problem.contains(problem), "\(e)")
            }
        }
        do {
            _ = try DataSources.load("images:\(dir)/photos", split: .test, imageSize: 28)
            Issue.record("a test split of unlabelled pictures")
        } catch let e as DataError { #expect(e.problem.contains("no test split")) }
    }

    @Test func lossDecreasesOnRepeatedBatches() throws {
        var c = Self.tinyConfig(epochs: 4)
        c.lr = 0.01
        c.warmupEpochs = 0
        c.freezeLastLayerEpochs = 0
        // Freeze the targets: a teacher with λ = 1, a centre with m = 1, no drop path. Then the
        // only thing that moves is the student, and it must fit the fixed teacher distribution.
        c.teacherMomentum = 1
        c.centerMomentum = 1
        c.dropPathRate = 0
        var trainer = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        let order = trainer.order(epoch: 0)
        let views = try trainer.batch(epoch: 0, iteration: 0, order: order)
        // The same batch again and again: the student must fit its teacher's targets.
        var losses: [Float] = []
        for i in 0..<12 {
            losses.append(
                try trainer.runIteration(epoch: 0, iteration: i % trainer.itersPerEpoch, views: views).loss)
        }
        #expect(losses.last! < 0.9 * losses.first!, "losses \(losses)")
        #expect(losses.allSatisfy { $0.isFinite })
    }

    @Test func checkpointRoundTripsAndResumeReproducesTheRun() throws {
        let c = Self.tinyConfig(epochs: 2)
        // Uninterrupted: 2 epochs.
        var straight = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        try straight.run()
        // Interrupted: 1 epoch, checkpoint, a fresh trainer resumes for the second.
        let run = Self.folder("resume")
        defer { try? FileManager.default.removeItem(atPath: run) }
        var first = try DINOTrainer<SIMDKernels>(
            config: {
                var x = c; x.epochs = 2; return x
            }(), train: try Self.train, test: nil)
        try Self.trainFirstEpochAndStop(&first, checkpointingInto: run)
        let saved = try Checkpoint.load(run: run)
        #expect(saved.epoch == 0)
        #expect(saved.teacher.map(\.name) == first.step.teacher.stateDict.map(\.name))
        for (a, b) in zip(saved.teacher, first.step.teacher.stateDict) {
            #expect(a.tensor == b.tensor, "\(a.name) changed on disk")
        }
        var resumed = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        try resumed.restore(saved)
        #expect(resumed.startEpoch == 1)
        try resumed.run()
        for (a, b) in zip(resumed.step.teacher.stateDict, straight.step.teacher.stateDict) {
            #expect(a.tensor == b.tensor, "teacher \(a.name) differs after resume")
        }
        #expect(resumed.step.loss.center == straight.step.loss.center)
        #expect(resumed.steps.map(\.loss) == straight.steps.map(\.loss))
    }

    @Test func fractionalEpochsEndWithAPartialEpochAndResumeExactly() throws {
        // 256 images / batch 32 = 8 iterations an epoch; 1.5 epochs = 12 iterations, the second
        // epoch taking the first 4 batches of its shuffle, every schedule spanning all 12.
        let c = Self.tinyConfig(epochs: 1.5)
        var straight = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        #expect(straight.itersPerEpoch == 8 && straight.totalIterations == 12 && straight.epochCount == 2)
        #expect(straight.iterations(inEpoch: 0) == 8 && straight.iterations(inEpoch: 1) == 4)
        #expect(
            straight.lrSchedule.count == 12 && straight.wdSchedule.count == 12
                && straight.momentumSchedule.count == 12)
        #expect(straight.teacherTemperatures.count == 2)
        try straight.run()
        #expect(straight.steps.map(\.iteration) == Array(0..<12))
        #expect(straight.epochs.map(\.epoch) == [0, 1])
        // The cosine ends at the run's end, not at the end of a whole second epoch.
        let full = try DINOTrainer<SIMDKernels>(
            config: Self.tinyConfig(epochs: 2), train: try Self.train, test: nil)
        #expect(straight.lrSchedule.last! < full.lrSchedule[11])
        // Resume after the first (whole) epoch reproduces the partial second one.
        let run = Self.folder("fractional")
        defer { try? FileManager.default.removeItem(atPath: run) }
        var first = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        try Self.trainFirstEpochAndStop(&first, checkpointingInto: run)
        var resumed = try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        try resumed.restore(try Checkpoint.load(run: run))
        try resumed.run()
        #expect(resumed.steps.map(\.loss) == straight.steps.map(\.loss))
        for (a, b) in zip(resumed.step.teacher.stateDict, straight.step.teacher.stateDict) {
            #expect(a.tensor == b.tensor, "teacher \(a.name) differs after resume")
        }
        // Too short to make one iteration, or not a positive number: clear errors.
        #expect(throws: TrainingError.self) {
            try DINOTrainer<SIMDKernels>(
                config: Self.tinyConfig(epochs: 0.01), train: try Self.train, test: nil)
        }
        do {
            _ = try DINOTrainer<SIMDKernels>(
                config: Self.tinyConfig(epochs: 0), train: try Self.train, test: nil)
            Issue.record("0 epochs was accepted")
        } catch {
            #expect("\(error)".contains("epochs"), "\(error)")
        }
    }

    @Test func nonFiniteLossStopsAndKeepsTheLastCheckpoint() throws {
        let run = Self.folder("nan")
        defer { try? FileManager.default.removeItem(atPath: run) }
        var trainer = try DINOTrainer<SIMDKernels>(
            config: Self.tinyConfig(epochs: 3), train: try Self.train, test: nil)
        try Self.trainFirstEpochAndStop(&trainer, checkpointingInto: run)
        // Poison the student: a NaN weight makes the next loss NaN.
        trainer.step.student.updateParameters { i, _, p in if i == 0 { p.value.storage[0] = .nan } }
        let views = try trainer.batch(epoch: 1, iteration: 0, order: trainer.order(epoch: 1))
        #expect(throws: TrainingError.self) { try trainer.runIteration(epoch: 1, iteration: 0, views: views) }
        let kept = try Checkpoint.load(run: run)
        #expect(kept.epoch == 0)
        #expect(kept.teacher.allSatisfy { $0.tensor.storage.allSatisfy(\.isFinite) })
    }

    @Test func badInputsGiveClearErrors() throws {
        // A missing run folder, a corrupt state file, a config that cannot train.
        #expect(throws: TrainingError.self) { try Checkpoint.load(run: "/nonexistent/run") }
        let run = Self.folder("corrupt")
        defer { try? FileManager.default.removeItem(atPath: run) }
        try FileManager.default.createDirectory(
            atPath: run + "/checkpoint", withIntermediateDirectories: true)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: run + "/checkpoint/state.json"))
        do {
            _ = try Checkpoint.load(run: run)
            Issue.record("a corrupt state.json loaded")
        } catch {
            #expect("\(error)".contains("state.json"), "\(error)")
        }
        var c = Self.tinyConfig()
        c.heads = 3  // 16 is not divisible by 3
        #expect(throws: (any Error).self) {
            try DINOTrainer<SIMDKernels>(config: c, train: try Self.train, test: nil)
        }
        var big = Self.tinyConfig()
        big.batchSize = 1000  // more than the 256 images
        #expect(throws: TrainingError.self) {
            try DINOTrainer<SIMDKernels>(config: big, train: try Self.train, test: nil)
        }
        #expect(throws: (any Error).self) { try TrainingConfig.preset("no-such-config") }
        var blur = Self.tinyConfig()
        blur.blurSigmaMax = 0.05  // below the σ range's lower end, 0.1
        do {
            _ = try DINOTrainer<SIMDKernels>(config: blur, train: try Self.train, test: nil)
            Issue.record("a blur range ending below 0.1 was accepted")
        } catch {
            #expect("\(error)".contains("blurSigmaMax"), "\(error)")
        }
    }

    /// Sizes that the checks divide by, and other out-of-range fields of a config JSON, are
    /// refused with an error naming the field instead of trapping.
    @Test func everyBadFieldIsNamed() throws {
        let cases: [(String, (inout TrainingConfig) -> Void)] = [
            ("patchSize", { $0.patchSize = 0 }), ("heads", { $0.heads = 0 }), ("dim", { $0.dim = -4 }),
            ("trainLimit", { $0.trainLimit = -1 }), ("localCount", { $0.localCount = -2 }),
            ("outDim", { $0.outDim = 0 }), ("lr", { $0.lr = .nan }),
            ("dropPathRate", { $0.dropPathRate = 1 }),
            ("evalsPerEpoch", { $0.evalsPerEpoch = 0 }), ("centerMomentum", { $0.centerMomentum = 2 }),
            // Upper bounds: values that would overflow a size product or a conversion to Int.
            ("epochs", { $0.epochs = 1e12 }), ("warmupEpochs", { $0.warmupEpochs = 1e300 }),
            ("dim", { $0.dim = 1 << 62 }), ("batchSize", { $0.batchSize = 1 << 40 }),
            ("globalScale", { $0.globalScale = [.nan, 1] }), ("localScale", { $0.localScale = [0.4, 0.05] }),
            // Each field by its own name, so that `dino train` can blame the option that set it.
            ("teacherTemperature", { $0.teacherTemperature = 0 }),
            ("studentTemperature", { $0.studentTemperature = -1 }),
            ("teacherMomentum", { $0.teacherMomentum = 2 }), ("globalScale", { $0.globalScale = [0.5] }),
            ("localSize", { $0.patchSize = 16 }),
            ("warmupTeacherTemperature", { $0.warmupTeacherTemperature = 0 }),
            // Fits every bound but not in memory: about 3 TiB for one step.
            (
                "memory",
                {
                    $0.dim = 4096; $0.depth = 64; $0.heads = 64; $0.batchSize = 4096; $0.outDim = 262_144
                }
            ),
        ]
        for (field, change) in cases {
            var c = Self.tinyConfig()
            change(&c)
            do {
                try c.validate()
                Issue.record("\(field): accepted")
            } catch {
                #expect("\(error)".contains(field), "\(field): \(error)")
            }
        }
    }

    /// Config JSON errors in one line naming the field, without DecodingError's internals.
    @Test func partialConfigsFillFromAPreset() throws {
        let soft = try TrainingConfig.decodedPartial("{\"teacherTemperature\": 0.06}", source: "p.json")
        let defaults = try TrainingConfig.preset("default")
        #expect(soft.teacherTemperature == 0.06 && soft.name == "default" && soft.epochs == defaults.epochs)
        #expect(soft.dim == defaults.dim && soft.outDim == defaults.outDim)
        let small = try TrainingConfig.decodedPartial(
            "{\"name\": \"smoke\", \"epochs\": 3}", source: "p.json")
        #expect(small.dim == (try TrainingConfig.preset("smoke")).dim && small.epochs == 3)
        do {
            _ = try TrainingConfig.decodedPartial("{\"teacherTemprature\": 0.06}", source: "p.json")
            Issue.record("a misspelt field was accepted")
        } catch {
            #expect(
                "\(error)".contains("p.json")
                    && "\(error)".contains("field teacherTemprature is not a setting")
                    && "\(error)".contains("did you mean teacherTemperature"), "\(error)")
        }
        // A partial file still gets the strict decoder's checks on the values it gives.
        do {
            _ = try TrainingConfig.decodedPartial("{\"epochs\": \"many\"}", source: "p.json")
            Issue.record("a wrong type was accepted")
        } catch { #expect("\(error)".contains("field epochs"), "\(error)") }
    }

    @Test func configDecodingErrorsNameTheField() throws {
        var saved =
            try JSONSerialization.jsonObject(with: Data(Self.tinyConfig().encoded().utf8)) as! [String: Any]
        saved["epochs"] = "many"
        let wrongType = String(decoding: try JSONSerialization.data(withJSONObject: saved), as: UTF8.self)
        saved.removeValue(forKey: "epochs")
        let missing = String(decoding: try JSONSerialization.data(withJSONObject: saved), as: UTF8.self)
        saved["epochs"] = 2
        saved["dim"] = 1.5
        let fraction = String(decoding: try JSONSerialization.data(withJSONObject: saved), as: UTF8.self)
        for (text, words) in [
            (wrongType, "field epochs should be Double"), (missing, "field epochs is missing"),
            (fraction, "field dim: 1.5 is not a valid value"),
            ("{ \"epochs\": ", "not valid JSON"),
        ] {
            do {
                _ = try TrainingConfig.decoded(text, source: "c.json")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(
                    "\(error)".contains("c.json") && "\(error)".contains(words)
                        && !"\(error)".contains("CodingKeys"),
                    "\(error)")
            }
        }
    }

    /// The official `main_dino.py` names as keys of a partial config JSON set the same fields as
    /// the config.json names; every official setting is covered, each with a value its preset
    /// does not have.
    @Test func officialNamesInAPartialConfigSetTheSameFields() throws {
        let defaults = try TrainingConfig.preset("default")
        let values: [String: Any] = [
            "patchSize": 4, "outDim": 4096, "normLastLayer": false, "teacherMomentum": 0.995,
            "headBatchNorm": false, "warmupTeacherTemperature": 0.03, "teacherTemperature": 0.05,
            "warmupTeacherTemperatureEpochs": 2, "weightDecay": 0.05, "weightDecayEnd": 0.3, "clipGrad": 1.5,
            "batchSize": 32, "epochs": 3, "freezeLastLayerEpochs": 1, "lr": 0.001, "warmupEpochs": 1,
            "minLR": 1e-5, "dropPathRate": 0.05, "globalScale": [0.3, 1.0], "localCount": 4,
            "localScale": [0.05, 0.3], "seed": 7,
        ]
        #expect(Set(values.keys) == Set(TrainingConfig.officialSettings.map(\.field)))
        func json(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        func field(_ c: TrainingConfig, _ name: String) throws -> String {
            let object = try JSONSerialization.jsonObject(with: Data(c.encoded().utf8)) as! [String: Any]
            return "\(object[name] ?? "nil")"
        }
        var official: [String: Any] = [:]
        for (name, fieldName) in TrainingConfig.officialSettings {
            let value = values[fieldName]!
            official[name] = value
            let one = try TrainingConfig.decodedPartial(try json([name: value]), source: "o.json")
            let same = try TrainingConfig.decodedPartial(try json([fieldName: value]), source: "c.json")
            #expect(one == same, "\(name)")
            #expect(try field(one, fieldName) != field(defaults, fieldName), "\(name) changed nothing")
        }
        let all = try TrainingConfig.decodedPartial(try json(official), source: "o.json")
        #expect(all == (try TrainingConfig.decodedPartial(try json(values), source: "c.json")))
        #expect(all.patchSize == 4 && all.normLastLayer == false && all.globalScale == [0.3, 1.0])
        #expect(all.dim == defaults.dim && all.name == "default")
        // Both styles in one file, and the official booleans.
        let mixed = try TrainingConfig.decodedPartial(
            "{\"teacher_temp\": 0.06, \"use_bn_in_head\": false, \"epochs\": 2, \"normLastLayer\": false}",
            source: "m.json")
        #expect(mixed.teacherTemperature == 0.06 && mixed.headBatchNorm == false && mixed.epochs == 2)
        #expect(!mixed.normLastLayer && mixed.outDim == defaults.outDim)
        // What the official script does anyway is accepted.
        let same = try TrainingConfig.decodedPartial(
            "{\"use_fp16\": false, \"optimizer\": \"adamw\"}", source: "s.json")
        #expect(same == defaults)
    }

    /// `"arch"` sets the backbone (the official three, or a preset's), a field beside it wins;
    /// optional fields absent from the preset are settings too.
    @Test func archAndOptionalFieldsInAPartialConfig() throws {
        let small = try TrainingConfig.decodedPartial("{\"arch\": \"vit_small\"}", source: "a.json")
        #expect(small.dim == 384 && small.depth == 12 && small.heads == 6 && small.mlpRatio == 4)
        let tiny = try TrainingConfig.decodedPartial("{\"arch\": \"deit_tiny\"}", source: "a.json")
        #expect(tiny.dim == 192 && tiny.depth == 12 && tiny.heads == 3)
        let base = try TrainingConfig.architecture(named: "vit_base")
        #expect(base == TrainingConfig.Architecture(dim: 768, depth: 12, heads: 12, mlpRatio: 4))
        let narrow = try TrainingConfig.decodedPartial(
            "{\"arch\": \"vit_small\", \"dim\": 192}", source: "a.json")
        #expect(narrow.dim == 192 && narrow.depth == 12 && narrow.heads == 6)
        let smoke = try TrainingConfig.preset("smoke")
        let likeSmoke = try TrainingConfig.decodedPartial("{\"arch\": \"smoke\"}", source: "a.json")
        #expect(
            likeSmoke.dim == smoke.dim && likeSmoke.depth == smoke.depth && likeSmoke.heads == smoke.heads)
        #expect(likeSmoke.outDim == (try TrainingConfig.preset("default")).outDim)
        // Optional fields that the default preset leaves out (nil) are settings as well.
        let limited = try TrainingConfig.decodedPartial(
            "{\"trainLimit\": 100, \"evalsPerEpoch\": 2}", source: "o.json")
        #expect(limited.trainLimit == 100 && limited.evalsPerEpoch == 2)
    }

    /// Official names that are misspelt, doubled, of the run or without a counterpart here are
    /// refused by name, each saying what to do instead.
    @Test func officialNamesAreRefusedWithAReason() throws {
        let cases: [(String, [String])] = [
            (
                "{\"teacher_tmp\": 0.06}",
                ["field teacher_tmp is not a setting", "did you mean teacher_temp?"]
            ),
            ("{\"use_bn_in_hed\": true}", ["did you mean use_bn_in_head?"]),
            ("{\"teacherTemprature\": 0.06}", ["did you mean teacherTemperature?"]),
            (
                "{\"teacher_temp\": 0.06, \"teacherTemperature\": 0.05}",
                ["teacherTemperature and teacher_temp are the same setting"]
            ),
            ("{\"saveckp_freq\": 2}", ["setting of the run", "--saveckp_freq"]),
            ("{\"output_dir\": \"runs/x\"}", ["setting of the run", "--output_dir"]),
            ("{\"use_fp16\": true}", ["field use_fp16", "Float32"]),
            ("{\"optimizer\": \"lars\"}", ["field optimizer", "AdamW"]),
            ("{\"data_path\": \"/imagenet\"}", ["field data_path", "use --dataset"]),
            ("{\"dist_url\": \"env://\"}", ["field dist_url", "one process"]),
            ("{\"arch\": \"resnet50\"}", ["field arch", "unknown architecture 'resnet50'", "vit_small"]),
            // The official momentum_teacher is the EMA momentum (a number), not the on/off field.
            ("{\"momentum_teacher\": true}", ["field momentum_teacher should be Double"]),
            ("{\"out_dim\": 1.5}", ["field out_dim: 1.5 is not a valid value"]),
        ]
        for (text, words) in cases {
            do {
                _ = try TrainingConfig.decodedPartial(text, source: "p.json")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(
                    "\(error)".contains("p.json") && words.allSatisfy { "\(error)".contains($0) },
                    "\(text): \(error)")
            }
        }
    }

    /// Top-5 of the weighted k-NN: the label among the min(5, k) classes with the most votes.
    /// Each test row is a mix of 5 class directions, its own among them: the neighbours all come
    /// from those 5 classes, so top-5 is 100% while top-1 is right on the rows where the label
    /// weighs most (half of them).
    @Test func topFiveCountsTheLabelAmongTheFiveBestVotedClasses() throws {
        let classes = 10, perClass = 3, dims = 10
        var train = Tensor(shape: [classes * perClass, dims])
        var trainLabels: [Int] = []
        for c in 0..<classes {
            for j in 0..<perClass {
                let row = c * perClass + j
                train.storage[row * dims + c] = 1
                train.storage[row * dims + (c + 5) % dims] = 0.01 * Float(j)  // not exact ties
                trainLabels.append(c)
            }
        }
        let rows = 20
        var test = Tensor(shape: [rows, dims])
        var testLabels: [Int] = []
        for i in 0..<rows {
            let label = i % classes
            testLabels.append(label)
            for offset in 1...4 { test.storage[i * dims + (label + offset) % classes] = 0.3 }
            test.storage[i * dims + label] = i % 2 == 0 ? 1.0 : 0.2  // odd rows: a neighbour class wins
            if i % 2 == 1 { test.storage[i * dims + (label + 1) % classes] = 1.0 }
        }
        let wide = try WeightedKNN.classify(
            SIMDKernels.self, train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
            k: 15,
            classes: classes)
        #expect(
            wide.top1 == 50 && wide.top5 == 100,
            "top-1 \(String(describing: wide.top1)), top-5 \(String(describing: wide.top5))")
        // k = 1: one neighbour, one class with a vote, so top-5 is top-1 (the official fix for k < 5).
        let one = try WeightedKNN.classify(
            SIMDKernels.self, train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
            k: 1,
            classes: classes)
        #expect(one.top1 == 50 && one.top5 == 50)
        // Random features: top-5 ≥ top-1 at every k, and 100% when there are at most 5 classes.
        var rng = SplitMix64(seed: 3)
        var noisyTrain = Tensor(shape: [60, 8]), noisyTest = Tensor(shape: [40, 8])
        for i in noisyTrain.storage.indices { noisyTrain.storage[i] = rng.uniform(-0.5, 0.5) }
        for i in noisyTest.storage.indices { noisyTest.storage[i] = rng.uniform(-0.5, 0.5) }
        let labels10 = (0..<60).map { $0 % 10 }, test10 = (0..<40).map { ($0 * 7) % 10 }
        for k in [1, 3, 5, 10, 20, 60] {
            let r = try WeightedKNN.classify(
                SIMDKernels.self, train: noisyTrain, trainLabels: labels10, test: noisyTest,
                testLabels: test10,
                k: k, classes: 10)
            #expect(r.top5! >= r.top1!, "k \(k): top-5 \(r.top5!) < top-1 \(r.top1!)")
            #expect(r.top1! < 100)
        }
        // 5 classes and every training row a neighbour: every class has votes, all are among the top 5.
        let five = try WeightedKNN.classify(
            SIMDKernels.self, train: noisyTrain, trainLabels: labels10.map { $0 % 5 }, test: noisyTest,
            testLabels: test10.map { $0 % 5 }, k: 60, classes: 5)
        #expect(five.top5 == 100 && five.top1! < 100, "top-1 \(five.top1!), top-5 \(five.top5!)")
    }
}
