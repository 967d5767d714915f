import Foundation
import Testing

/// Runs every lesson with `--quick` (charts into a temporary folder, so the committed full-run
/// charts are never overwritten) and checks its exit status, its claims and its charts.
@Suite("lessons --quick")
struct LessonSmokeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Lesson folders that have a main.swift, e.g. "02-temperature".
    static let lessons: [String] = {
        let dir = repository.appendingPathComponent("Lessons").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/main.swift") }.sorted()
    }()

    /// The folder holding the built executables (the same as this test bundle's).
    static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/"
            && !FileManager.default.fileExists(atPath: url.appendingPathComponent("dino").path)
        {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = products.appendingPathComponent(executable)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func everyLessonIsWired() {
        #expect(!Self.lessons.isEmpty)
        for lesson in Self.lessons {
            #expect(
                FileManager.default.isExecutableFile(
                    atPath: Self.products.appendingPathComponent("lesson\(lesson)").path),
                "lesson\(lesson) was not built next to the tests (\(Self.products.path))")
        }
    }

    @Test(arguments: lessons)
    func quickRunHoldsItsClaimsAndWritesCharts(_ lesson: String) throws {
        let plots = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-smoke-\(lesson)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: plots) }
        let (status, output) = try Self.run("lesson\(lesson)", ["--quick", "--plots", plots.path])
        #expect(status == 0, "lesson\(lesson) --quick exited \(status):\n\(output.suffix(3000))")
        #expect(!output.contains("✗"), "a claim failed:\n\(output.suffix(3000))")
        #expect(output.contains("✓"), "lesson\(lesson) made no claims")
        #expect(
            output.contains("wrote \(plots.path)/\(lesson)/"),
            "lesson\(lesson) wrote no chart:\n\(output.suffix(2000))")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: plots.path + "/" + lesson)) ?? []
        #expect(written.contains { $0.hasSuffix(".png") }, "no PNG in \(written)")
    }

    @Test func aLessonRejectsAnUnknownFlag() throws {
        guard let lesson = Self.lessons.first else { return }
        let (status, output) = try Self.run("lesson\(lesson)", ["--no-such-flag"])
        #expect(status == 2 && output.contains("unknown argument"), "\(output)")
    }

    @Test func dinoCheckPassesEveryCase() throws {
        let (status, output) = try Self.run("dino", ["check", "--threads", "1"])
        #expect(status == 0, "\(output.suffix(2000))")
        let last = output.split(separator: "\n").last ?? ""
        #expect(last.contains(" passed, 0 failed (paths: avx2, avx512-on-avx2"), "\(last)")
        // Every path this CPU runs is checked, and the output says which.
        #expect(
            output.contains("— SIMD core, path avx2") && output.contains("— SIMD core, path avx512-on-avx2"))
    }

    /// `dino train --config FILE.json`: a run's config.json, edited, drives a new run; a file that
    /// is not a config is refused with its name.
    @Test func trainAcceptsAnEditedConfigFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first").path
        let (s1, o1) = try Self.run(
            "dino", ["train", "--config", "smoke", "--limit", "128", "--epochs", "1", "--out", first])
        #expect(s1 == 0, "\(o1.suffix(2000))")
        let saved = try String(contentsOfFile: first + "/config.json", encoding: .utf8)
        #expect(saved.contains("\"studentTemperature\" : 0.1"))
        let edited = dir.appendingPathComponent("edited.json").path
        try saved.replacingOccurrences(
            of: "\"studentTemperature\" : 0.1", with: "\"studentTemperature\" : 0.2"
        )
        .write(toFile: edited, atomically: true, encoding: .utf8)
        let second = dir.appendingPathComponent("second").path
        let (s2, o2) = try Self.run("dino", ["train", "--config", edited, "--out", second])
        #expect(s2 == 0, "\(o2.suffix(2000))")
        let used = try String(contentsOfFile: second + "/config.json", encoding: .utf8)
        #expect(used.contains("\"studentTemperature\" : 0.2"), "\(used)")

        let broken = dir.appendingPathComponent("broken.json").path
        try "{ \"epochs\": ".write(toFile: broken, atomically: true, encoding: .utf8)
        let (s3, o3) = try Self.run(
            "dino", ["train", "--config", broken, "--out", dir.appendingPathComponent("third").path])
        #expect(s3 != 0 && o3.contains("broken.json") && o3.contains("not a training config"), "\(o3)")
        let (s4, o4) = try Self.run(
            "dino", ["train", "--config", dir.appendingPathComponent("missing.json").path, "--out", second])
        #expect(s4 != 0 && o4.contains("missing.json"), "\(o4)")
        // A finished run resumed with its own length has nothing left to do; another length
        // would change every schedule, so it is refused (fractional epochs are accepted).
        let (s5, o5) = try Self.run("dino", ["train", "--resume", "--epochs", "1", "--out", first])
        #expect(s5 == 0 && o5.contains("resumed"), "\(o5.suffix(2000))")
        let (s6, o6) = try Self.run("dino", ["train", "--resume", "--epochs", "1.5", "--out", first])
        #expect(s6 != 0 && o6.contains("--epochs 1.5") && o6.contains("1 epochs"), "\(o6)")
    }

    /// The emerging-properties pipeline through the CLI: `dino scenes` writes a scenes folder
    /// (refusing to overwrite it), DINO and the supervised baseline train on it as `idx:DIR`,
    /// `dino eval --json` reports the Jaccard of model and random init for both, also on another
    /// dataset spec, and `dino attention` draws the masks' column.
    @Test func scenesTrainEvalAndAttentionThroughTheCLI() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-scenes-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let scenes = dir + "/scenes"
        let (s1, o1) = try Self.run("dino", ["scenes", "--size", "42", "--clutter", "4", "--out", scenes])
        #expect(s1 == 0 && o1.contains("10000 scenes of 42x42"), "\(o1)")
        for file in ["train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "t10k-masks-idx3-ubyte.gz"] {
            #expect(FileManager.default.fileExists(atPath: scenes + "/" + file), "\(file)")
        }
        let (s2, o2) = try Self.run("dino", ["scenes", "--size", "42", "--out", scenes])
        #expect(s2 != 0 && o2.contains("already holds"), "\(o2)")
        let dino = dir + "/dino", supervised = dir + "/supervised"
        let (s3, o3) = try Self.run(
            "dino",
            [
                "train", "--config", "smoke", "--dataset", "idx:" + scenes, "--limit", "256",
                "--epochs", "1", "--out", dino,
            ])
        #expect(s3 == 0 && o3.contains("Jaccard teacher"), "\(o3.suffix(2000))")
        let (s4, o4) = try Self.run(
            "dino",
            [
                "train", "--config", "smoke", "--supervised", "--dataset", "idx:" + scenes,
                "--limit", "256", "--epochs", "2", "--out", supervised,
            ])
        #expect(
            s4 == 0 && o4.contains("(supervised)") && o4.contains("classifier test accuracy"),
            "\(o4.suffix(2000))")
        for run in [dino, supervised] {
            let (s, o) = try Self.run(
                "dino",
                [
                    "eval", "--checkpoint", run, "--train-size", "256", "--test-size", "128",
                    "--no-linear", "--json",
                ])
            #expect(s == 0, "\(o.suffix(2000))")
            let json = try JSONSerialization.jsonObject(with: Data(o.utf8)) as? [String: Any]
            for part in ["model", "random_init"] {
                let jaccard = (json?[part] as? [String: Any])?["jaccard"] as? [String: Any]
                #expect(
                    jaccard?["best"] is Double && (jaccard?["per_head"] as? [Double])?.count == 2,
                    "\(part) in \(o)")
            }
            #expect((json?["raw_pixels"] as? [String: Any])?["knn"] != nil)
        }
        // Any dataset spec: the same model on scenes made at another size, from the generator itself.
        let (s5, o5) = try Self.run(
            "dino",
            [
                "eval", "--checkpoint", dino, "--dataset", "scenes:35,2", "--train-size", "256",
                "--test-size", "64", "--no-linear",
            ])
        #expect(s5 == 0 && o5.contains("scenes:35,2") && o5.contains("Jaccard"), "\(o5.suffix(2000))")
        let picture = dir + "/attention.png"
        let (s6, o6) = try Self.run(
            "dino", ["attention", "--checkpoint", supervised, "--images", "2", "--output", picture])
        #expect(s6 == 0 && FileManager.default.fileExists(atPath: picture), "\(o6)")
        let (s7, o7) = try Self.run("dino", ["eval", "--checkpoint", dino, "--dataset", "scenes:x"])
        #expect(s7 != 0 && o7.contains("scenes:x"), "\(o7)")
    }

    /// A run folder is never overwritten by accident: a second `dino train` into it is refused,
    /// naming the run, and leaves its checkpoint as it was; `--overwrite` starts it again;
    /// `--resume` on a folder stopped before its first checkpoint starts it from the beginning;
    /// `--resume` on a folder that is no run says so in one line.
    @Test func runFoldersAreProtected() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-protect-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = dir + "/run"
        let args = ["train", "--config", "smoke", "--limit", "128", "--epochs", "1", "--out", run]
        let (s1, o1) = try Self.run("dino", args)
        #expect(s1 == 0, "\(o1.suffix(2000))")
        let teacher = run + "/checkpoint/teacher.safetensors"
        let before = try Data(contentsOf: URL(fileURLWithPath: teacher))
        let (s2, o2) = try Self.run("dino", args + ["--seed", "5"])
        #expect(
            s2 != 0 && o2.contains("already holds a run (config smoke, 1 of 1 epochs done)")
                && o2.contains("--overwrite"), "\(o2)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: teacher)) == before)
        let (s3, o3) = try Self.run("dino", args + ["--seed", "5", "--overwrite", "--save-every", "1"])
        #expect(s3 == 0, "\(o3.suffix(2000))")
        #expect(
            FileManager.default.fileExists(atPath: run + "/checkpoint0001/teacher.safetensors"),
            "\(o3.suffix(1000))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: teacher)) != before)
        // Killed before the first checkpoint: only config.json is there.
        try FileManager.default.removeItem(atPath: run + "/checkpoint")
        let (s4, o4) = try Self.run("dino", ["train", "--resume", "--out", run])
        #expect(s4 == 0 && o4.contains("no checkpoint yet"), "\(o4.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: teacher))
        let (s5, o5) = try Self.run("dino", ["train", "--resume", "--out", dir + "/missing"])
        #expect(
            s5 != 0 && o5.contains("missing/config.json cannot be read")
                && !o5.contains("NSCocoaErrorDomain"), "\(o5)")
        // --resume keeps the run's own settings: a flag that would change one is refused, not ignored.
        for flag in [
            ["--batch", "32"], ["--seed", "3"], ["--supervised"], ["--config", "tiny"], ["--limit", "64"],
        ] {
            let (s, o) = try Self.run("dino", ["train", "--resume", "--out", run] + flag)
            #expect(s == 64 && o.contains("\(flag[0]) cannot change them"), "\(flag): \(o)")
        }
    }

    /// One error style for the whole CLI: a parse error, a bad value, a failed run and a trap
    /// that used to be reachable each print `error: ...` (and for usage mistakes the help line
    /// to read), never ArgumentParser's "Error:"/usage block, a Swift trap or a Foundation dump.
    @Test func oneErrorStyleForEveryFailure() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-errors-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [([String], Int32, String)] = [
            (["train", "--bogus", "--out", dir], 64, "Unknown option '--bogus'"),
            (["train", "--batch", "0", "--out", dir], 64, "--batch must be at least 1, got 0"),
            (
                ["train", "--config", "smoke", "--epochs", "1e12", "--out", dir], 1,
                "epochs must be at most 100000"
            ),
            (
                ["train", "--config", "smoke", "--out", "/dev/null"], 1,
                "/dev/null: exists and is not a folder"
            ),
            (["eval", "--checkpoint", dir + "/none"], 1, "no such checkpoint file or run folder"),
            (["bench", "kernels", "--op", "nope"], 64, "--op nope: no benchmark matches"),
        ]
        for (arguments, status, words) in cases {
            let (s, o) = try Self.run("dino", arguments)
            #expect(s == status && o.hasPrefix("error: ") && o.contains(words), "\(arguments): \(s) \(o)")
            #expect(
                !o.contains("Usage:") && !o.contains("Error:") && !o.contains("Fatal error")
                    && !o.contains("NSCocoa"),
                "\(arguments): \(o)")
            if status == 64 { #expect(o.contains("--help' for more information"), "\(arguments): \(o)") }
        }
    }

    @Test func versionIsPrinted() throws {
        let (status, output) = try Self.run("dino", ["--version"])
        #expect(status == 0 && output.hasPrefix("dino-by-hand "), "\(output)")
    }

    /// Bad command-line input to the benchmarks: a thread list with a non-number, and a
    /// `--library` that is missing or is not a shared library, each refused with one clear line.
    @Test func benchmarksRefuseBadThreadListsAndLibraries() throws {
        let (s1, o1) = try Self.run("dino", ["check", "--threads", "1,x"])
        #expect(s1 != 0 && o1.contains("--threads") && o1.contains("1,x"), "\(o1)")
        let (s2, o2) = try Self.run("dino", ["bench", "kernels", "--threads", "0", "--op", "add"])
        #expect(s2 != 0 && o2.contains("--threads"), "\(o2)")
        let missing = "/nonexistent/libopenblas.so"
        let (s3, o3) = try Self.run("dino", ["bench", "blas", "--library", missing])
        #expect(s3 != 0 && o3.contains(missing) && o3.contains("no such file"), "\(o3)")
        let notALibrary = FileManager.default.temporaryDirectory.appendingPathComponent(
            "not-a-blas-\(UUID().uuidString).so")
        try "plain text".write(to: notALibrary, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: notALibrary) }
        let (s4, o4) = try Self.run("dino", ["bench", "blas", "--library", notALibrary.path])
        #expect(s4 != 0 && o4.contains(notALibrary.path) && o4.contains("cannot load"), "\(o4)")
    }

    /// `dino train` takes every setting under its official `main_dino.py` name, in kebab-case, or
    /// under this tool's names (old flags and a config JSON in either naming), with the same
    /// config; options override the JSON, which overrides its preset; `--print-config` shows it.
    @Test func trainTakesTheOfficialFlagNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-official-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Each value differs from the default preset's.
        let settings: [(official: String, field: String, value: [String], json: Any)] = [
            ("arch", "", ["vit_tiny"], "vit_tiny"), ("patch_size", "patchSize", ["4"], 4),
            ("out_dim", "outDim", ["4096"], 4096), ("norm_last_layer", "normLastLayer", ["false"], false),
            ("momentum_teacher", "teacherMomentum", ["0.995"], 0.995),
            ("use_bn_in_head", "headBatchNorm", ["false"], false),
            ("warmup_teacher_temp", "warmupTeacherTemperature", ["0.03"], 0.03),
            ("teacher_temp", "teacherTemperature", ["0.05"], 0.05),
            ("warmup_teacher_temp_epochs", "warmupTeacherTemperatureEpochs", ["2"], 2),
            ("weight_decay", "weightDecay", ["0.05"], 0.05),
            ("weight_decay_end", "weightDecayEnd", ["0.3"], 0.3),
            ("clip_grad", "clipGrad", ["1.5"], 1.5), ("freeze_last_layer", "freezeLastLayerEpochs", ["1"], 1),
            ("lr", "lr", ["0.001"], 0.001), ("warmup_epochs", "warmupEpochs", ["1"], 1),
            ("min_lr", "minLR", ["1e-05"], 1e-5), ("drop_path_rate", "dropPathRate", ["0.05"], 0.05),
            ("global_crops_scale", "globalScale", ["0.3", "1.0"], [0.3, 1.0]),
            ("local_crops_number", "localCount", ["4"], 4),
            ("local_crops_scale", "localScale", ["0.05", "0.3"], [0.05, 0.3]),
            ("batch_size_per_gpu", "batchSize", ["32"], 32), ("epochs", "epochs", ["3"], 3),
            ("seed", "seed", ["7"], 7),
        ]
        func printed(_ arguments: [String]) throws -> String {
            let (s, o) = try Self.run("dino", ["train", "--print-config"] + arguments)
            #expect(s == 0, "\(arguments): \(o)")
            return o
        }
        func write(_ object: [String: Any], _ name: String) throws -> String {
            let path = dir + "/" + name
            try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
            return path
        }
        let official = try printed(settings.flatMap { ["--" + $0.official] + $0.value })
        let kebab = try printed(
            settings.flatMap { ["--" + $0.official.replacingOccurrences(of: "_", with: "-")] + $0.value })
        // This tool's own names: the old flags, and the rest as config.json fields.
        var fields: [String: Any] = ["dim": 192, "depth": 12, "heads": 3, "mlpRatio": 4]
        for s in settings where !["", "batchSize", "epochs", "seed"].contains(s.field) {
            fields[s.field] = s.json
        }
        let ours = try printed(
            ["--config", try write(fields, "ours.json"), "--batch", "32", "--epochs", "3", "--seed", "7"])
        let officialJSON = try printed(
            [
                "--config",
                try write(
                    Dictionary(uniqueKeysWithValues: settings.map { ($0.official, $0.json) }), "o.json"),
            ])
        #expect(official == kebab && official == ours && official == officialJSON, "\(official)\n\(ours)")
        let plain = try printed([])
        for line in [
            "\"patchSize\" : 4", "\"outDim\" : 4096", "\"normLastLayer\" : false",
            "\"headBatchNorm\" : false",
            "\"teacherTemperature\" : 0.05", "\"dim\" : 192", "\"depth\" : 12", "\"heads\" : 3",
            "\"batchSize\" : 32", "\"seed\" : 7", "\"localCount\" : 4", "\"lr\" : 0.001",
        ] {
            #expect(official.contains(line) && !plain.contains(line), "\(line)")
        }
        // Booleans as the official bool_flag reads them (and yes/no), in any case.
        for (text, value) in [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("On", true)] {
            let o = try printed(["--config", "smoke", "--use_bn_in_head", text])
            #expect(o.contains("\"headBatchNorm\" : \(value)"), "\(text): \(o)")
        }
        for text in ["false", "0", "No", "OFF"] {
            let o = try printed(["--norm_last_layer", text])
            #expect(o.contains("\"normLastLayer\" : false"), "\(text): \(o)")
        }
        #expect(try printed(["--config", "smoke"]).contains("\"headBatchNorm\" : false"))
        // preset < JSON < options: smoke's backbone, the JSON's τt, the option's epochs.
        let layered = try printed([
            "--config", try write(["name": "smoke", "teacher_temp": 0.06, "epochs": 3], "layered.json"),
            "--epochs", "1",
        ])
        #expect(
            layered.contains("\"epochs\" : 1,") && layered.contains("\"teacherTemperature\" : 0.06")
                && layered.contains("\"dim\" : 32") && layered.contains("\"name\" : \"smoke\""), "\(layered)")
        // What the official script does anyway is accepted.
        #expect(try printed(["--use_fp16", "false", "--optimizer", "adamw"]) == plain)

        let refused: [([String], Int32, [String])] = [
            (["--use_bn_in_head", "maybe"], 64, ["--use_bn_in_head", "'maybe'", "true or false"]),
            (["--norm-last-layer", "2"], 64, ["--norm-last-layer", "'2'", "true or false"]),
            (["--use_fp16", "true"], 64, ["--use_fp16", "Float32"]),
            (["--optimizer", "sgd"], 64, ["--optimizer sgd", "AdamW"]),
            (["--data_path", "/imagenet/train"], 64, ["--data_path", "use --dataset"]),
            (["--num_workers", "10"], 64, ["--num_workers", "--threads"]),
            (["--dist_url", "env://"], 64, ["--dist_url", "one process"]),
            (["--arch", "resnet50"], 64, ["--arch", "resnet50", "vit_small"]),
            (["--global_crops_scale", "0.4"], 64, ["--global_crops_scale takes two numbers"]),
            (["--batch_size_per_gpu", "0"], 64, ["--batch_size_per_gpu must be at least 1, got 0"]),
            (["--saveckp_freq", "-1"], 64, ["--saveckp_freq must be at least 0"]),
            // Validation as before, naming the option that set the field.
            (["--teacher_temp", "0"], 1, ["--teacher_temp: teacherTemperature must be > 0"]),
            (["--patch-size", "16"], 1, ["--patch-size: localSize (14 px) is smaller than a patch"]),
            (["--momentum_teacher", "1.5"], 1, ["--momentum_teacher: teacherMomentum must lie in [0, 1]"]),
        ]
        for (arguments, status, words) in refused {
            let (s, o) = try Self.run("dino", ["train"] + arguments + ["--out", dir + "/run"])
            #expect(
                s == status && o.hasPrefix("error: ") && words.allSatisfy { o.contains($0) },
                "\(arguments): \(s) \(o)")
            #expect(!o.contains("Usage:") && !o.contains("Error:"), "\(arguments): \(o)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/run"), "a refused run made its folder")
        // A resumed run keeps its settings: an official option that would change one is refused too.
        let run = dir + "/resumed"
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try plain.write(toFile: run + "/config.json", atomically: true, encoding: .utf8)
        for flag in [["--teacher_temp", "0.05"], ["--arch", "vit_tiny"], ["--batch-size-per-gpu", "16"]] {
            let (s, o) = try Self.run("dino", ["train", "--resume", "--output_dir", run] + flag)
            #expect(s == 64 && o.contains("\(flag[0]) cannot change them"), "\(flag): \(o)")
        }
    }

    /// `dino eval` takes the official `--nb_knn` (several numbers, or a comma list) and
    /// `--temperature`, and reports top-5 beside top-1 for each k.
    @Test func evalTakesNbKnnAndReportsTopFive() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dino-eval-knn-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (s1, o1) = try Self.run(
            "dino", ["train", "--config", "smoke", "--limit", "128", "--epochs", "1", "--output_dir", dir])
        #expect(s1 == 0, "\(o1.suffix(2000))")
        let common = [
            "eval", "--checkpoint", dir, "--train-size", "256", "--test-size", "128", "--no-linear",
        ]
        func report(_ arguments: [String]) throws -> (text: String, json: [String: Any]) {
            let (s, o) = try Self.run("dino", common + arguments + ["--json"])
            #expect(s == 0, "\(arguments): \(o.suffix(2000))")
            return (o, (try? JSONSerialization.jsonObject(with: Data(o.utf8)) as? [String: Any]) ?? [:])
        }
        let spaced = try report(["--nb_knn", "10", "20"])
        #expect(spaced.json["nb_knn"] as? [Int] == [10, 20] && spaced.json["temperature"] as? Double == 0.07)
        for part in ["model", "raw_pixels", "random_init"] {
            let scores = spaced.json[part] as? [String: Any]
            let top1 = scores?["knn"] as? [String: Double] ?? [:],
                top5 = scores?["knn_top5"] as? [String: Double] ?? [:]
            #expect(
                Set(top1.keys) == ["10", "20"] && Set(top5.keys) == ["10", "20"], "\(part): \(spaced.text)")
            for k in ["10", "20"] {
                #expect((top5[k] ?? -1) >= (top1[k] ?? 101), "\(part) k=\(k): \(spaced.text)")
            }
        }
        #expect(try report(["--nb-knn", "10,20"]).text == spaced.text)
        let softer = try report(["--nb_knn", "20", "--temperature", "0.5"])
        #expect(softer.json["temperature"] as? Double == 0.5 && softer.json["nb_knn"] as? [Int] == [20])
        // The table: a top-5 row under each top-1 row.
        let (s2, o2) = try Self.run("dino", common + ["--nb_knn", "5", "50"])
        #expect(
            s2 == 0 && o2.contains("k=5    k=50") && o2.components(separatedBy: "\n  top-5 ").count == 4,
            "\(o2)")
        for (arguments, words) in [
            (["--nb_knn", "0"], "--nb_knn takes whole numbers ≥ 1"), (["--nb_knn", "10,x"], "got 'x'"),
            (["--temperature", "0"], "--temperature must be a positive number"),
        ] {
            let (s, o) = try Self.run("dino", common + arguments)
            #expect(s == 64 && o.hasPrefix("error: ") && o.contains(words), "\(arguments): \(s) \(o)")
        }
    }
}
