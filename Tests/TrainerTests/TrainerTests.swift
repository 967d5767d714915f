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
        let small = try TrainingConfig.decodedPartial("{\"name\": \"smoke\", \"epochs\": 3}", source: "p.json")
        #expect(small.dim == (try TrainingConfig.preset("smoke")).dim && small.epochs == 3)
        do {
            _ = try TrainingConfig.decodedPartial("{\"teacherTemprature\": 0.06}", source: "p.json")
            Issue.record("a misspelt field was accepted")
        } catch {
            #expect("\(error)".contains("p.json") && "\(error)".contains("field teacherTemprature is not a setting")
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
}
