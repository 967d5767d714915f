import DINOCore
import DINOData
import DINOPlot
import Foundation

/// A whole `dino train` run around ``DINOTrainer``: the run folder, logs, a progress line,
/// a checkpoint every epoch, charts after every epoch. Used by the CLI and lesson 07.
public struct TrainingRun {
    public var config: TrainingConfig
    public var folder: String
    public var resume = false
    /// Start again in a folder that already holds a run (its checkpoints are deleted first).
    /// Without it such a folder is refused: a typo in `--out` must not destroy a finished run.
    public var overwrite = false
    /// Also keep the checkpoint of every N-th epoch as `checkpointNNNN/` (the official
    /// `saveckp_freq`, `checkpoint0004.pth`); nil keeps only the latest.
    public var saveEvery: Int?
    /// Print a progress line every N iterations when stdout is not a terminal.
    public var printEvery = 50
    public var quiet = false

    public init(config: TrainingConfig, folder: String) {
        self.config = config
        self.folder = folder
    }

    /// Trains and returns the finished trainer (its teacher is the model to evaluate).
    public func run<K: KernelSet>(_ kernels: K.Type) throws -> DINOTrainer<K> {
        let (train, scenes, bank, test) = try DataSources.run(config)
        var trainer = try DINOTrainer<K>(config: config, train: train, test: test, bank: bank, scenes: scenes)
        try prepareFolder()
        if resume && (try? Checkpoint.folder(run: folder)) != nil {
            let checkpoint = try Checkpoint.load(run: folder)
            try trainer.restore(checkpoint)
            say("resumed \(folder) after epoch \(checkpoint.epoch + 1) of \(trainer.epochCount)")
            // Logs on disk are rewritten from the checkpoint: lines of an interrupted epoch go.
            try writeLogs(trainer)
        } else if resume {
            // Stopped before its first checkpoint: the run starts from its beginning, same config.
            say("\(folder) has no checkpoint yet: starting the run from its beginning with its saved config")
            try Files.atomicWrite(config.encoded(), to: folder + "/config.json")
            try writeLogs(trainer)
        } else {
            try Files.atomicWrite(config.encoded(), to: folder + "/config.json")
            try writeLogs(trainer)
        }
        let total = trainer.totalIterations, epochCount = trainer.epochCount
        say(
            "training \(config.name): \(trainer.train.count) images, \(trainer.itersPerEpoch) iterations/epoch × \(config.epochsText) epochs = \(total) iterations, "
                + "batch \(config.batchSize), \(2 + config.localCount) crops, lr \(String(format: "%.2g", config.scaledLR)), "
                + "\(trainer.step.student.parameterCount) parameters, \(K.self) on \(Threads.count) thread(s)"
        )
        var meter = ProgressMeter(
            total: total, done: trainer.startEpoch * trainer.itersPerEpoch, batch: config.batchSize,
            printEvery: printEvery, quiet: quiet)
        let terminal = meter.terminal
        var logBuffer = ""
        var evalsWritten = trainer.evaluations.count
        try trainer.run(
            progress: { r in
                logBuffer += jsonLine(r) + "\n"
                meter.step(r) { done, rate, elapsed, remaining in
                    // Fits 80 columns; entropy, KL and the rest of each step are in log.jsonl.
                    String(
                        format: "epoch %d/%d %@ %d/%d loss %.4f lr %.1e %.0f img/s ETA %@",
                        r.epoch + 1, epochCount, bar(Double(done) / Double(total), width: 10), done, total,
                        r.loss, r.lr, rate, clock(remaining))
                }
            },
            epochDone: { t, record in
                if terminal && !quiet { print("") }
                try appendFile(logBuffer, to: folder + "/log.jsonl")
                logBuffer = ""
                try appendFile(jsonLine(record) + "\n", to: folder + "/epochs.jsonl")
                try appendFile(
                    t.evaluations[evalsWritten...].map { jsonLine($0) + "\n" }.joined(),
                    to: folder + "/evals.jsonl")
                evalsWritten = t.evaluations.count
                var knn =
                    record.knnTeacher.map {
                        String(
                            format: "  k-NN@20 teacher %.2f%%, student %.2f%% (%d/%d images)", $0,
                            record.knnStudent ?? .nan, config.knnTrainSize, config.knnTestSize)
                    } ?? ""
                if let j = record.jaccardTeacher {
                    knn += String(
                        format: "; Jaccard teacher %.1f, student %.1f", j, record.jaccardStudent ?? .nan)
                }
                say(
                    String(
                        format: "epoch %d done in %.0f s: mean loss %.4f", record.epoch + 1, record.seconds,
                        record.meanLoss) + knn)
                try t.checkpoint.save(run: folder)
                say("checkpoint: \(folder)/checkpoint (epoch \(record.epoch + 1))")
                try keepPeriodic(epoch: record.epoch)
                for result in try TrainingCharts.write(
                    steps: t.steps, epochs: t.epochs, config: config, folder: folder) where !quiet
                {
                    print(result)
                }
            })
        return trainer
    }

    /// The supervised baseline (`config.supervised`): the same run folder layout, logs and
    /// checkpoints (the trained backbone and classifier as "teacher"), no resume.
    public func runSupervised<K: KernelSet>(_ kernels: K.Type) throws -> SupervisedTrainer<K> {
        guard !resume else {
            throw TrainingError(
                "--resume is not supported for a supervised run; start it again in a new folder")
        }
        guard config.knnDataset == nil, !config.dataset.hasPrefix("images:") else {
            throw TrainingError(
                "a supervised run trains on labels: give a labelled dataset, not images:DIR or a knnDataset")
        }
        let (train, scenes, _, test) = try DataSources.run(config)
        var trainer = try SupervisedTrainer<K>(config: config, train: train, test: test, scenes: scenes)
        try prepareFolder()
        try Files.atomicWrite(config.encoded(), to: folder + "/config.json")
        try Files.atomicWrite("", to: folder + "/log.jsonl")
        try Files.atomicWrite("", to: folder + "/epochs.jsonl")
        let total = trainer.totalIterations, epochCount = trainer.epochCount
        say(
            "training \(config.name) (supervised): \(trainer.train.count) images, \(trainer.itersPerEpoch) iterations/epoch × \(config.epochsText) epochs = \(total) iterations, "
                + "batch \(config.batchSize), 1 crop, lr \(String(format: "%.2g", config.scaledLR)), \(K.self) on \(Threads.count) thread(s)"
        )
        var meter = ProgressMeter(
            total: total, done: 0, batch: config.batchSize, printEvery: printEvery, quiet: quiet)
        let terminal = meter.terminal
        var logBuffer = ""
        try trainer.run(
            progress: { r in
                logBuffer += jsonLine(r) + "\n"
                meter.step(r) { done, rate, elapsed, remaining in
                    String(
                        format: "epoch %d/%d %@ %d/%d loss %.4f lr %.1e %.0f img/s ETA %@",
                        r.epoch + 1, epochCount, bar(Double(done) / Double(total), width: 10), done, total,
                        r.loss, r.lr, rate, clock(remaining))
                }
            },
            epochDone: { t, record in
                if terminal && !quiet { print("") }
                try appendFile(logBuffer, to: folder + "/log.jsonl")
                logBuffer = ""
                try appendFile(jsonLine(record) + "\n", to: folder + "/epochs.jsonl")
                var knn = record.knnTeacher.map { String(format: "  k-NN@20 %.2f%%", $0) } ?? ""
                if let j = record.jaccardTeacher { knn += String(format: ", Jaccard %.1f", j) }
                say(
                    String(
                        format: "epoch %d done in %.0f s: mean loss %.4f", record.epoch + 1, record.seconds,
                        record.meanLoss) + knn)
                try t.checkpoint.save(run: folder)
                try keepPeriodic(epoch: record.epoch)
            })
        if let accuracy = trainer.accuracy() {
            say(
                String(
                    format: "classifier test accuracy: %.2f%% (%d test images)", accuracy,
                    trainer.test?.count ?? 0))
        }
        return trainer
    }

    private func say(_ s: String) { if !quiet { print(s) } }

    /// Copies the latest checkpoint to `checkpointNNNN` (NNNN = epochs done) when `saveEvery`
    /// says so: into a temporary folder first, then renamed, so a copy is whole or absent.
    private func keepPeriodic(epoch: Int) throws {
        guard let n = saveEvery, n > 0, (epoch + 1) % n == 0 else { return }
        let fm = FileManager.default
        let name = String(format: "checkpoint%04d", epoch + 1)
        let target = folder + "/" + name, temporary = target + ".tmp"
        try? fm.removeItem(atPath: temporary)
        do {
            try fm.copyItem(atPath: folder + "/checkpoint", toPath: temporary)
            try? fm.removeItem(atPath: target)
            try fm.moveItem(atPath: temporary, toPath: target)
        } catch {
            try? fm.removeItem(atPath: temporary)
            throw TrainingError(
                "\(target): cannot keep the periodic checkpoint (\(error.localizedDescription)); the latest checkpoint is intact"
            )
        }
        say("kept \(target)")
    }

    /// Creates the run folder, or checks that an existing one may be used: resuming, or
    /// `overwrite` (which deletes its checkpoints), or a folder that holds no run.
    private func prepareFolder() throws {
        try Files.ensureDirectory(folder)
        guard !resume else { return }
        let fm = FileManager.default
        let marks = ["config.json", "checkpoint", "checkpoint.old"].filter {
            fm.fileExists(atPath: folder + "/" + $0)
        }
        guard !marks.isEmpty else { return }
        if overwrite {
            for name in ["checkpoint", "checkpoint.old", "checkpoint.tmp", "evals.jsonl"] {
                try? fm.removeItem(atPath: folder + "/" + name)
            }
            return
        }
        var what = "a run"
        if let text = try? String(contentsOfFile: folder + "/config.json", encoding: .utf8),
            let saved = try? TrainingConfig.decoded(text, source: folder + "/config.json")
        {
            let done = (try? Checkpoint.load(run: folder)).map { "\($0.epoch + 1)" } ?? "0"
            what = "a run (config \(saved.name), \(done) of \(saved.epochsText) epochs done)"
        }
        throw TrainingError(
            "\(folder) already holds \(what); nothing was changed. Continue it with --resume, "
                + "choose a new folder, or pass --overwrite to start it again (its checkpoint is deleted)")
    }

    private func writeLogs<K>(_ t: DINOTrainer<K>) throws {
        try Files.atomicWrite(
            t.steps.map(jsonLine).joined(separator: "\n") + (t.steps.isEmpty ? "" : "\n"),
            to: folder + "/log.jsonl")
        try Files.atomicWrite(
            t.epochs.map(jsonLine).joined(separator: "\n") + (t.epochs.isEmpty ? "" : "\n"),
            to: folder + "/epochs.jsonl")
        try Files.atomicWrite(t.evaluations.map { jsonLine($0) + "\n" }.joined(), to: folder + "/evals.jsonl")
    }
}

/// The progress line of a run: images/s as the median of the last 20 iterations, the ETA from
/// it; redrawn in place on a terminal, every `printEvery` iterations otherwise.
struct ProgressMeter {
    let total: Int, batch: Int, printEvery: Int, quiet: Bool
    let terminal = isatty(1) != 0
    let started = Date()
    var done: Int
    var window: [Double] = []

    init(total: Int, done: Int, batch: Int, printEvery: Int, quiet: Bool) {
        self.total = total
        self.done = done
        self.batch = batch
        self.printEvery = printEvery
        self.quiet = quiet
    }

    /// Counts iteration `r` and prints `line(done, images/s, elapsed, remaining)` when due.
    mutating func step(_ r: StepRecord, line: (Int, Double, Double, Double) -> String) {
        done += 1
        window.append(r.imagesPerSecond)
        if window.count > 20 { window.removeFirst() }
        let rate = Stats.median(window)
        guard !quiet, terminal || done % printEvery == 0 || done == total else { return }
        let text = line(
            done, rate, Date().timeIntervalSince(started),
            Double(total - done) * Double(batch) / max(rate, 1e-9))
        if terminal { print("\r" + text, terminator: ""); fflush(stdout) } else { print(text) }
    }
}

func jsonLine<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
}

/// Appends to a log file (creating it), or throws an error naming the file: a run whose logs
/// cannot be written stops at the epoch boundary instead of training on without a record.
func appendFile(_ text: String, to path: String) throws {
    guard !text.isEmpty else { return }
    if let handle = FileHandle(forWritingAtPath: path) {
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            throw ModelError("\(path): cannot append to the log (\(error.localizedDescription))")
        }
    } else if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) {
        throw ModelError("\(path): cannot create the log file (is the folder writable?)")
    }
}

func bar(_ fraction: Double, width: Int = 20) -> String {
    let filled = Int((fraction * Double(width)).rounded(.down))
    return "[" + String(repeating: "█", count: max(0, min(width, filled)))
        + String(repeating: "·", count: max(0, width - filled)) + "]"
}

func clock(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--:--" }
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
}

/// The charts of a run: loss, schedules, collapse monitors (h and KL), k-NN per epoch.
public enum TrainingCharts {
    public static func write(
        steps: [StepRecord], epochs: [EpochRecord], config: TrainingConfig, folder: String
    ) throws -> [PlotResult] {
        guard !steps.isEmpty else { return [] }
        let dir = folder + "/plots"
        let header = ["written by dino train (config \(config.name), seed \(config.seed))"]
        var results: [PlotResult] = []
        var loss = Series(columns: ["iteration", "loss", "loss_smoothed", "log_K"])
        var smooth = steps[0].loss
        for s in steps {
            smooth = 0.98 * smooth + 0.02 * s.loss
            loss.append([Double(s.iteration), s.loss, smooth, log(Double(config.outDim))])
        }
        results.append(
            try Gnuplot.plot(
                "loss", in: dir, data: loss,
                chart: ChartSpec(
                    title: "DINO loss (ln K = uniform collapse)", x: "iteration", y: "cross-entropy (nats)",
                    curves: [
                        .init(using: "1:2", title: "loss", style: "lines lc rgb '#b0c4de'"),
                        .init(using: "1:3", title: "loss (EMA 0.98)", style: "lines lw 2 lc rgb '#1f4e9c'"),
                        .init(using: "1:4", title: "ln K", style: "lines dt 2 lc rgb 'gray'"),
                    ]), header: header))
        var sched = Series(columns: [
            "iteration", "lr", "weight_decay", "teacher_momentum", "teacher_temperature",
        ])
        for s in steps { sched.append([Double(s.iteration), s.lr, s.wd, s.momentum, s.teacherTemperature]) }
        var sc = ChartSpec(
            title: "Schedules (per iteration; τt per epoch)", x: "iteration", y: "lr",
            curves: [
                .init(using: "1:2", title: "lr (left)"),
                .init(using: "1:3", title: "weight decay (right)", style: "lines lw 2 axes x1y2"),
                .init(using: "1:4", title: "teacher momentum λ (right)", style: "lines lw 2 axes x1y2"),
                .init(using: "1:5", title: "τt (right)", style: "lines lw 2 axes x1y2"),
            ])
        sc.extra = ["set y2tics", "set y2label \"wd, λ, τt\"", "set format y \"%.0e\""]
        results.append(try Gnuplot.plot("schedules", in: dir, data: sched, chart: sc, header: header))
        var collapse = Series(columns: ["iteration", "teacher_entropy", "kl_teacher_student", "log_K"])
        for s in steps {
            collapse.append([Double(s.iteration), s.entropy, s.kl, log(Double(config.outDim))])
        }
        results.append(
            try Gnuplot.plot(
                "collapse", in: dir, data: collapse,
                chart: ChartSpec(
                    title: "Collapse monitors: teacher entropy h(Pt) and KL(Pt || Ps)", x: "iteration",
                    y: "nats",
                    curves: [
                        .init(using: "1:2", title: "h(Pt)"), .init(using: "1:3", title: "KL(Pt || Ps)"),
                        .init(using: "1:4", title: "ln K (uniform)", style: "lines dt 2 lc rgb 'gray'"),
                    ]), header: header))
        let evaluated = epochs.filter { $0.knnTeacher != nil }
        if !evaluated.isEmpty {
            var knn = Series(columns: ["epoch", "teacher_knn20", "student_knn20"])
            for e in evaluated {
                knn.append([Double(e.epoch + 1), e.knnTeacher ?? .nan, e.knnStudent ?? .nan])
            }
            results.append(
                try Gnuplot.plot(
                    "knn", in: dir, data: knn,
                    chart: ChartSpec(
                        title:
                            "Weighted k-NN@20 during training (\(config.knnTrainSize) train / \(config.knnTestSize) test images)",
                        x: "epoch", y: "top-1 (%)",
                        curves: [
                            .init(using: "1:2", title: "teacher", style: "linespoints lw 2 pt 7"),
                            .init(using: "1:3", title: "student", style: "linespoints lw 2 pt 5"),
                        ]), header: header))
        }
        return results
    }
}
