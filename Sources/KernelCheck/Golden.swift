import DINOCore
import DINOModel
import Foundation

/// Numbers with a shape, in Double: golden values are float32 printed with 9 digits (exact in
/// Double) except the schedules, which are float64.
public struct GoldenValues: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Double]
    public init(shape: [Int], data: [Double]) {
        self.shape = shape
        self.data = data
    }
    public init(_ t: Tensor) { self.init(shape: t.shape, data: t.storage.map(Double.init)) }
    public init(scalar: Double) { self.init(shape: [], data: [scalar]) }

    /// As a Float32 tensor (the JSON's `%.9g` round-trips exactly).
    public var tensor: Tensor { Tensor(shape: shape, data.map { Float($0) }) }
}

/// One case of a golden folder (format `dino-golden/1`, see `Tests/golden/README.md`).
public struct GoldenCase {
    /// The case path without `.json`, e.g. `ops/dino_loss`: the name printed in the report.
    public let path: String
    public let directory: String
    public let op: String
    public let json: [String: Any]
    public let params: [String: Any]
    public let inputs: [String: GoldenValues]
    /// Expected outputs by name, including `ROLE:NAME` tensors of `expected_weights` files.
    public let expected: [String: GoldenValues]
    public let absolute: Double, relative: Double
    public let overrides: [Override]

    public struct Override {
        public var output: String
        public var range: Range<Int>?
        public var absolute: Double, relative: Double
    }

    /// Reads `DIR/PATH.json` (and any safetensors it names).
    public init(directory: String, path: String) throws {
        let file = directory + "/" + path + ".json"
        func fail(_ m: String) -> GoldenError { GoldenError(file: file, problem: m) }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw fail("cannot read (\(error.localizedDescription))")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard let format = json["format"] as? String, format == "dino-golden/1" else {
            throw fail("format is \(json["format"] ?? "missing"), expected dino-golden/1")
        }
        guard let op = json["op"] as? String else { throw fail("no \"op\"") }
        self.path = path
        self.directory = directory
        self.op = op
        self.json = json
        params = json["params"] as? [String: Any] ?? [:]
        func tensors(_ key: String) throws -> [String: GoldenValues] {
            guard let object = json[key] as? [String: Any] else { return [:] }
            var out: [String: GoldenValues] = [:]
            for (name, value) in object {
                guard let t = value as? [String: Any], let shape = t["shape"] as? [Int],
                    let values = t["data"] as? [Any]
                else {
                    throw fail("\(key).\(name) is not {\"shape\", \"data\"}")
                }
                let numbers = try values.map { v -> Double in
                    guard let n = v as? NSNumber else { throw fail("\(key).\(name): non-numeric value \(v)") }
                    return n.doubleValue
                }
                guard numbers.count == shape.reduce(1, *) else {
                    throw fail(
                        "\(key).\(name): shape \(shape) needs \(shape.reduce(1, *)) values, has \(numbers.count)"
                    )
                }
                out[name] = GoldenValues(shape: shape, data: numbers)
            }
            return out
        }
        inputs = try tensors("inputs")
        var expected = try tensors("expected")
        if let files = json["expected_weights"] as? [String: String] {
            for (role, name) in files {
                do {
                    for (tensor, value) in try Safetensors.read(
                        directory + "/" + (path as NSString).deletingLastPathComponent + "/" + name)
                    {
                        expected["\(role):\(tensor)"] = GoldenValues(value)
                    }
                } catch { throw fail("expected_weights.\(role): \(error)") }
            }
        }
        self.expected = expected
        let tolerance = json["tolerance"] as? [String: Any] ?? [:]
        guard let a = (tolerance["abs"] as? NSNumber)?.doubleValue,
            let r = (tolerance["rel"] as? NSNumber)?.doubleValue
        else {
            throw fail("tolerance needs abs and rel")
        }
        absolute = a
        relative = r
        overrides = (tolerance["overrides"] as? [[String: Any]] ?? []).compactMap { o in
            guard let output = o["output"] as? String, let a = (o["abs"] as? NSNumber)?.doubleValue,
                let r = (o["rel"] as? NSNumber)?.doubleValue
            else { return nil }
            let range = (o["range"] as? [Int]).flatMap { $0.count == 2 ? $0[0]..<$0[1] : nil }
            return Override(output: output, range: range, absolute: a, relative: r)
        }
    }

    /// A file next to the case JSON.
    func sibling(_ name: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return directory + "/" + (folder.isEmpty ? "" : folder + "/") + name
    }

    // Typed access with errors that name the case.
    func input(_ name: String) throws -> Tensor {
        guard let v = inputs[name] else { throw GoldenError(file: path, problem: "missing input '\(name)'") }
        return v.tensor
    }
    func number(_ name: String, in object: [String: Any]? = nil) throws -> Double {
        guard let v = (object ?? params)[name] as? NSNumber else {
            throw GoldenError(file: path, problem: "missing number '\(name)'")
        }
        return v.doubleValue
    }
    func integer(_ name: String, in object: [String: Any]? = nil) throws -> Int {
        let v = try number(name, in: object)
        guard v == v.rounded(), abs(v) <= 1e9 else {
            throw GoldenError(file: path, problem: "'\(name)' = \(v) is not a whole number in ±10⁹")
        }
        return Int(v)
    }

    /// Throws naming the case when `condition` (a shape or size the case kind needs) is false: a
    /// golden file with inconsistent shapes gets an error instead of reaching a kernel's
    /// shape precondition.
    func require(_ condition: Bool, _ problem: @autoclosure () -> String) throws {
        guard condition else { throw GoldenError(file: path, problem: problem()) }
    }
    func flag(_ name: String, in object: [String: Any]? = nil, default value: Bool? = nil) throws -> Bool {
        if let b = (object ?? params)[name] as? Bool { return b }
        if let value { return value }
        throw GoldenError(file: path, problem: "missing flag '\(name)'")
    }
}

public struct GoldenError: Error, CustomStringConvertible {
    public var file: String
    public var problem: String
    public var description: String { "\(file): \(problem)" }
}

/// The result of one case: the line the report prints, and why it failed.
public struct GoldenResult: CustomStringConvertible, Sendable {
    public var path: String
    public var maxAbs: Double
    public var maxRel: Double
    public var passed: Bool
    /// Why the case failed (missing/misshapen outputs, an error, the worst element), for stderr.
    public var problems: [String]

    public init(path: String, maxAbs: Double, maxRel: Double, passed: Bool, problems: [String]) {
        self.path = path
        self.maxAbs = maxAbs
        self.maxRel = maxRel
        self.passed = passed
        self.problems = problems
    }

    /// `<case> max_abs=<%.3e> max_rel=<%.3e> PASS|FAIL`, exactly the README's format.
    public var description: String {
        "\(path) max_abs=\(String(format: "%.3e", maxAbs)) max_rel=\(String(format: "%.3e", maxRel)) \(passed ? "PASS" : "FAIL")"
    }
}

/// Runs golden cases on kernel core `K` and compares with the README's rule
/// `|g - e| ≤ abs + rel·|e|` (per-output overrides on flat index ranges).
public enum GoldenRunner {
    /// The case list: `index.json`'s `cases`, else every `ops/*.json` and `models/*.json`.
    public static func casePaths(in directory: String) throws -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GoldenError(file: directory, problem: "not a folder")
        }
        let index = directory + "/index.json"
        if fm.fileExists(atPath: index) {
            guard let data = fm.contents(atPath: index),
                let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                let cases = json["cases"] as? [String]
            else {
                throw GoldenError(file: index, problem: "expected {\"cases\": [\"ops/...\", ...]}")
            }
            return cases
        }
        var paths: [String] = []
        for sub in ["ops", "models"] {
            let files = (try? fm.contentsOfDirectory(atPath: directory + "/" + sub)) ?? []
            paths += files.filter { $0.hasSuffix(".json") }.sorted().map {
                sub + "/" + String($0.dropLast(5))
            }
        }
        guard !paths.isEmpty else {
            throw GoldenError(file: directory, problem: "no index.json and no ops/*.json or models/*.json")
        }
        return paths
    }

    /// Loads and runs one case; any error makes it a failed case with `nan` maxima.
    public static func run<K: KernelSet>(_ kernels: K.Type, directory: String, path: String) -> GoldenResult {
        do {
            let c = try GoldenCase(directory: directory, path: path)
            let outputs = try compute(K.self, c)
            return compare(c, outputs)
        } catch {
            return GoldenResult(path: path, maxAbs: .nan, maxRel: .nan, passed: false, problems: ["\(error)"])
        }
    }

    /// Compares computed outputs with every expected output of the case.
    public static func compare(_ c: GoldenCase, _ outputs: [String: GoldenValues]) -> GoldenResult {
        var maxAbs = 0.0, maxRel = 0.0, passed = true, problems: [String] = []
        var worst: (ratio: Double, text: String) = (0, "")
        for name in c.expected.keys.sorted() {
            let e = c.expected[name]!
            guard let g = outputs[name] else {
                passed = false
                problems.append("output '\(name)' was not produced")
                continue
            }
            guard g.shape == e.shape else {
                passed = false
                problems.append("output '\(name)' has shape \(g.shape), expected \(e.shape)")
                continue
            }
            for i in e.data.indices {
                let override = c.overrides.last { $0.output == name && ($0.range?.contains(i) ?? true) }
                let a = override?.absolute ?? c.absolute, r = override?.relative ?? c.relative
                let delta = abs(g.data[i] - e.data[i])
                let limit = a + r * abs(e.data[i])
                let ok = delta <= limit  // false for NaN
                if !ok {
                    passed = false
                    let ratio = delta.isNaN ? .infinity : delta / limit
                    if ratio >= worst.ratio || worst.text.isEmpty {
                        worst = (
                            ratio,
                            "\(name)[\(i)]: got \(g.data[i]), expected \(e.data[i]), |Δ| \(delta) > limit \(limit)"
                        )
                    }
                }
                if override != nil && ok { continue }  // passing overridden elements are left out
                if delta.isNaN { maxAbs = .nan; maxRel = .nan; continue }
                if !maxAbs.isNaN { maxAbs = max(maxAbs, delta) }
                if !maxRel.isNaN { maxRel = max(maxRel, delta / max(abs(e.data[i]), c.absolute)) }
            }
        }
        if !worst.text.isEmpty { problems.append("worst element " + worst.text) }
        return GoldenResult(path: c.path, maxAbs: maxAbs, maxRel: maxRel, passed: passed, problems: problems)
    }

    /// What the implementation computes for the case, by op.
    public static func compute<K: KernelSet>(
        _ kernels: K.Type, _ c: GoldenCase
    ) throws -> [String: GoldenValues] {
        switch c.op {
        case "softmax_temperature": return try softmaxTemperature(K.self, c)
        case "centering": return try centering(K.self, c)
        case "dino_loss": return try dinoLoss(K.self, c)
        case "ema_update": return try emaUpdate(K.self, c)
        case "cosine_schedule": return try cosineSchedule(c)
        case "teacher_temp_schedule": return try teacherTemperatureSchedule(c)
        case "layernorm": return try layerNorm(K.self, c)
        case "gelu": return try gelu(K.self, c)
        case "linear": return try linear(K.self, c)
        case "attention": return try attention(K.self, c)
        case "pos_embed_interpolation": return try positionEmbedding(K.self, c)
        case "dino_head": return try dinoHead(K.self, c)
        case "dino_head_bn_train": return try batchNormHead(K.self, c)
        case "knn_classify": return try knn(K.self, c)
        case "vit_forward": return try vitForward(K.self, c)
        case "dino_train_step": return try trainStep(K.self, c)
        default: throw GoldenError(file: c.path, problem: "unknown op '\(c.op)'")
        }
    }

    // MARK: Ops

    static func softmaxTemperature<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues]
    {
        let x = try c.input("x")
        try c.require(x.shape.count >= 2 && x.count > 0, "x must be [rows, K] with K ≥ 1, got \(x.shape)")
        var p = Tensor(shape: x.shape), h = Tensor(shape: Array(x.shape.dropLast()))
        K.softmax(x, temperature: Float(try c.number("tau")), into: &p)
        K.rowEntropy(p, into: &h)
        return ["probs": GoldenValues(p), "entropy": GoldenValues(h)]
    }

    /// The centre and the teacher probabilities through ``DINOLoss`` itself (its student side is
    /// irrelevant here and fed the teacher rows).
    static func centering<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let teacher = try c.input("teacher_out"), center = try c.input("center")
        let batch = (try? c.integer("batch")) ?? teacher.rows / 2
        try c.require(
            teacher.shape.count == 2 && batch >= 1 && teacher.rows == 2 * batch
                && center.count == teacher.cols,
            "teacher_out must be [2·batch, K] and center K values, got \(teacher.shape), batch \(batch), center \(center.shape)"
        )
        var loss = DINOLoss(outDim: teacher.cols, centerMomentum: Float(try c.number("momentum")))
        loss.center = center.reshaped([1, teacher.cols])
        let out = loss.evaluate(
            K.self, student: teacher, teacher: teacher, batch: batch,
            teacherTemperature: Float(try c.number("teacher_temp")))
        return [
            "teacher_probs": GoldenValues(out.teacherProbabilities),
            "new_center": GoldenValues(loss.center.reshaped(center.shape)),
        ]
    }

    static func dinoLoss<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let student = try c.input("student_out"), teacher = try c.input("teacher_out"),
            center = try c.input("center")
        let batch = try c.integer("batch")
        try c.require(
            student.shape.count == 2 && teacher.shape.count == 2 && batch >= 1 && teacher.rows == 2 * batch
                && student.rows % batch == 0 && student.rows >= 2 * batch && student.cols == teacher.cols
                && center.count == teacher.cols,
            "student_out [V·batch, K], teacher_out [2·batch, K], center [K] needed; got \(student.shape), \(teacher.shape), \(center.shape), batch \(batch)"
        )
        var loss = DINOLoss(
            outDim: student.cols, studentTemperature: Float(try c.number("student_temp")),
            centerMomentum: Float(try c.number("center_momentum")))
        loss.center = center.reshaped([1, student.cols])
        let out = loss.evaluate(
            K.self, student: student, teacher: teacher, batch: batch,
            teacherTemperature: Float(try c.number("teacher_temp")))
        return [
            "loss": GoldenValues(scalar: Double(out.loss)),
            "grad_student_out": GoldenValues(out.studentGradient),
            "new_center": GoldenValues(loss.center.reshaped(center.shape)),
        ]
    }

    static func emaUpdate<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        var teacher = try c.input("teacher")
        let student = try c.input("student")
        try c.require(
            teacher.shape == student.shape,
            "teacher \(teacher.shape) and student \(student.shape) differ in shape")
        K.emaUpdate(&teacher, toward: student, momentum: Float(try c.number("momentum")))
        return ["new_teacher": GoldenValues(teacher)]
    }

    static func cosineSchedule(_ c: GoldenCase) throws -> [String: GoldenValues] {
        let epochs = try c.integer("epochs"), iters = try c.integer("niter_per_ep"),
            warmup = try c.integer("warmup_epochs")
        try c.require(
            (1...100_000).contains(epochs) && (1...1_000_000).contains(iters) && (0...epochs).contains(warmup)
                && epochs * iters <= 100_000_000,
            "epochs \(epochs), niter_per_ep \(iters), warmup_epochs \(warmup) out of range")
        let s = Schedule.cosine(
            base: try c.number("base_value"), final: try c.number("final_value"), epochs: epochs,
            itersPerEpoch: iters, warmupEpochs: warmup, start: try c.number("start_warmup_value"))
        return ["schedule": GoldenValues(shape: [s.count], data: s)]
    }

    static func teacherTemperatureSchedule(_ c: GoldenCase) throws -> [String: GoldenValues] {
        let nepochs = try c.integer("nepochs"), warm = try c.integer("warmup_teacher_temp_epochs")
        try c.require(
            (1...100_000).contains(nepochs) && (0...nepochs).contains(warm),
            "nepochs \(nepochs), warmup \(warm) out of range")
        let s = Schedule.teacherTemperature(
            warmup: try c.number("warmup_teacher_temp"), final: try c.number("teacher_temp"),
            warmupEpochs: warm, epochs: nepochs)
        return ["schedule": GoldenValues(shape: [s.count], data: s)]
    }

    static func layerNorm<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let x = try c.input("x"), w = try c.input("weight"), b = try c.input("bias"), dy = try c.input("dy")
        try c.require(
            x.shape.count >= 2 && x.count > 0 && w.count == x.cols && b.count == x.cols
                && dy.shape == x.shape,
            "x [rows, C], weight and bias [C], dy like x needed; got \(x.shape), \(w.shape), \(b.shape), \(dy.shape)"
        )
        var y = Tensor(shape: x.shape), mean = Tensor(shape: [x.rows]), rstd = Tensor(shape: [x.rows])
        K.layerNorm(
            x, weight: w, bias: b, epsilon: Float(try c.number("eps")), into: &y, mean: &mean, rstd: &rstd)
        var dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: b.shape)
        K.layerNormBackward(dy, x, weight: w, mean: mean, rstd: rstd, dx: &dx, dWeight: &dw, dBias: &db)
        return [
            "y": GoldenValues(y), "grad_x": GoldenValues(dx), "grad_weight": GoldenValues(dw),
            "grad_bias": GoldenValues(db),
        ]
    }

    static func gelu<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        if let mode = c.params["approximate"] as? String, mode != "none" {
            throw GoldenError(
                file: c.path, problem: "GELU approximation '\(mode)' is not the exact GELU DINO uses")
        }
        let x = try c.input("x"), dy = try c.input("dy")
        try c.require(dy.shape == x.shape, "dy \(dy.shape) must have x's shape \(x.shape)")
        var y = Tensor(shape: x.shape), dx = Tensor(shape: x.shape)
        K.gelu(x, into: &y)
        K.geluBackward(dy, x, output: y, into: &dx)
        return ["y": GoldenValues(y), "grad_x": GoldenValues(dx)]
    }

    static func linear<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let x = try c.input("x"), w = try c.input("weight"), b = try c.input("bias"), dy = try c.input("dy")
        try c.require(
            x.shape.count >= 2 && w.shape.count == 2 && x.cols == w.cols && b.count == w.rows
                && dy.shape == Array(x.shape.dropLast()) + [w.rows],
            "x [.., in], weight [out, in], bias [out], dy [.., out] needed; got \(x.shape), \(w.shape), \(b.shape), \(dy.shape)"
        )
        var y = Tensor(shape: Array(x.shape.dropLast()) + [w.rows])
        Linear<K>.forward(x, weight: w, bias: b, into: &y)
        var dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape), db = Tensor(shape: b.shape)
        Linear<K>.parameterGradients(dy, x: x, dWeight: &dw, dBias: &db)
        Linear<K>.inputGradient(dy, weight: w, into: &dx)
        return [
            "y": GoldenValues(y), "grad_x": GoldenValues(dx), "grad_weight": GoldenValues(dw),
            "grad_bias": GoldenValues(db),
        ]
    }

    /// The official `Attention` module: qkv linear, the attention core, proj linear; and back.
    static func attention<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let x = try c.input("x"), wq = try c.input("qkv.weight"), bq = try c.input("qkv.bias")
        let wp = try c.input("proj.weight"), bp = try c.input("proj.bias"), dy = try c.input("dy")
        guard x.shape.count == 3 else {
            throw GoldenError(file: c.path, problem: "x must be [B, N, C], got \(x.shape)")
        }
        let (b, n, ch) = (x.shape[0], x.shape[1], x.shape[2]), heads = try c.integer("num_heads")
        try c.require(
            b >= 1 && n >= 1 && heads >= 1 && ch % heads == 0 && wq.shape == [3 * ch, ch]
                && bq.count == 3 * ch
                && wp.shape == [ch, ch] && bp.count == ch && dy.shape == x.shape,
            "num_heads \(heads) must divide C = \(ch); qkv.weight [3C, C], qkv.bias [3C], proj [C, C] and [C], dy like x"
        )
        let scale =
            c.params["scale"] is NSNumber ? Float(try c.number("scale")) : 1 / Float(ch / heads).squareRoot()
        var qkv = Tensor(shape: [b, n, 3 * ch]), o = Tensor(shape: [b, n, ch]),
            lse = Tensor(shape: [b, heads, n])
        Linear<K>.forward(x, weight: wq, bias: bq, into: &qkv)
        K.attention(qkv, heads: heads, scale: scale, into: &o, logSumExp: &lse)
        var y = Tensor(shape: [b, n, ch]), attn = Tensor(shape: [b, heads, n, n])
        Linear<K>.forward(o, weight: wp, bias: bp, into: &y)
        K.attentionProbabilities(qkv, heads: heads, scale: scale, queries: n, into: &attn)
        var dwp = Tensor(shape: wp.shape), dbp = Tensor(shape: bp.shape), dO = Tensor(shape: o.shape)
        Linear<K>.parameterGradients(dy, x: o, dWeight: &dwp, dBias: &dbp)
        Linear<K>.inputGradient(dy, weight: wp, into: &dO)
        var dqkv = Tensor(shape: qkv.shape)
        K.attentionBackward(dO, qkv: qkv, out: o, logSumExp: lse, heads: heads, scale: scale, into: &dqkv)
        var dwq = Tensor(shape: wq.shape), dbq = Tensor(shape: bq.shape), dx = Tensor(shape: x.shape)
        Linear<K>.parameterGradients(dqkv, x: x, dWeight: &dwq, dBias: &dbq)
        Linear<K>.inputGradient(dqkv, weight: wq, into: &dx)
        return [
            "y": GoldenValues(y), "attn": GoldenValues(attn), "grad_x": GoldenValues(dx),
            "grad_qkv.weight": GoldenValues(dwq), "grad_qkv.bias": GoldenValues(dbq),
            "grad_proj.weight": GoldenValues(dwp), "grad_proj.bias": GoldenValues(dbp),
        ]
    }

    static func positionEmbedding<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let table = try c.input("pos_embed")
        let grid = try c.integer("grid"), h = try c.integer("img_h"), w = try c.integer("img_w"),
            patch = try c.integer("patch_size")
        try c.require(
            grid >= 1 && table.shape.count == 3 && table.shape[0] == 1 && table.shape[1] == 1 + grid * grid
                && (1...1024).contains(patch) && (patch...16_384).contains(h) && (patch...16_384).contains(w),
            "pos_embed must be [1, 1 + grid², D] and patch ≤ img_h, img_w ≤ 16384; got \(table.shape), grid \(grid)"
        )
        let out = ViT<K>.positionEmbedding(table, sourceGrid: grid, height: h, width: w, patch: patch)
        return ["pos_embed": GoldenValues(out.table.reshaped([1, out.table.rows, out.table.cols]))]
    }

    /// `DINOHead` with the case's weights (names without the `head.` prefix).
    static func dinoHead<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let x = try c.input("x"), dy = try c.input("dy")
        var layers = 0
        while c.inputs["mlp.\(2 * layers).weight"] != nil { layers += 1 }
        let first = try c.input("mlp.0.weight"), v = try c.input("last_layer.weight_v")
        try c.require(
            x.shape.count == 2 && first.shape.count == 2 && v.shape.count == 2
                && dy.shape == [x.rows, v.rows],
            "x [B, in], mlp.0.weight and last_layer.weight_v 2-D, dy [B, K] needed; got \(x.shape), \(dy.shape)"
        )
        let config = DINOHeadConfig(
            inDim: x.cols, outDim: v.rows, hiddenDim: first.rows, bottleneckDim: v.cols, layers: layers,
            normLastLayer: try c.flag("norm_last_layer", default: true))
        var head = try DINOHead<K>(config, seed: 0)
        for i in head.parameters.indices {
            let name = head.parameters[i].name
            let value = try c.input(name)
            guard value.shape == head.parameters[i].value.shape else {
                throw GoldenError(
                    file: c.path,
                    problem:
                        "input '\(name)' has shape \(value.shape), the head needs \(head.parameters[i].value.shape)"
                )
            }
            head.parameters[i].value = value
        }
        let y = head.forward(x)
        let dx = head.backward(dy)
        var out = ["y": GoldenValues(y), "grad_x": GoldenValues(dx.reshaped(x.shape))]
        for p in head.parameters where p.trainable { out["grad_" + p.name] = GoldenValues(p.grad) }
        return out
    }

    /// The official `DINOHead(use_bn=True)` in train mode: a forward of `x`, the backward of
    /// `sum(output · R)` (so dy = R), the running statistics after it, then a second forward of
    /// `x2` and the statistics after that (`ROLE:head.NAME` outputs).
    static func batchNormHead<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        guard let cfg = c.json["config"] as? [String: Any], let file = c.json["weights"] as? String else {
            throw GoldenError(file: c.path, problem: "needs a config and a weights file")
        }
        let config = DINOHeadConfig(
            inDim: try c.integer("in_dim", in: cfg), outDim: try c.integer("out_dim", in: cfg),
            hiddenDim: try c.integer("hidden_dim", in: cfg),
            bottleneckDim: try c.integer("bottleneck_dim", in: cfg),
            layers: try c.integer("nlayers", in: cfg), normLastLayer: try c.flag("norm_last_layer", in: cfg),
            batchNorm: try c.flag("use_bn", in: cfg))
        try c.require(
            Float(try c.number("bn_eps", in: cfg)) == DINOHead<K>.batchNormEpsilon
                && (try c.number("bn_momentum", in: cfg)) == DINOHead<K>.batchNormMomentum,
            "only BatchNorm1d's defaults (eps 1e-5, momentum 0.1) are supported")
        var head = try DINOHead<K>(config, seed: 0)
        var tensors: [String: Tensor] = [:]
        for (name, t) in try Safetensors.readDictionary(c.sibling(file)) {
            tensors[name.hasPrefix("head.") ? String(name.dropFirst(5)) : name] = t
        }
        try head.load(tensors)
        let x = try c.input("x"), r = try c.input("R"), x2 = try c.input("x2")
        try c.require(
            x.shape == [x.rows, config.inDim] && r.shape == [x.rows, config.outDim]
                && x2.cols == config.inDim,
            "x [B, \(config.inDim)], R [B, \(config.outDim)] and x2 [B', \(config.inDim)] needed")
        let y = head.forward(x)
        var out = [
            "output": GoldenValues(y),
            "loss": GoldenValues(
                scalar: zip(y.storage, r.storage).reduce(0) { $0 + Double($1.0) * Double($1.1) }),
        ]
        out["grad_x"] = GoldenValues(head.backward(r))
        for p in head.parameters where p.trainable { out["grad:head." + p.name] = GoldenValues(p.grad) }
        func buffers(_ role: String) {
            for (name, t) in head.stateDict where head.bufferNames.contains(name) {
                out[role + ":head." + name] = GoldenValues(t)
            }
        }
        buffers("after_forward_1")
        out["output_2"] = GoldenValues(head.forward(x2))
        buffers("after_forward_2")
        return out
    }

    static func knn<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let train = try c.input("train_features"), test = try c.input("test_features")
        func labels(_ name: String) throws -> [Int] {
            let values = try c.input(name).storage
            guard values.allSatisfy({ $0 >= 0 && $0 < 1_000_000 && $0.rounded() == $0 }) else {
                throw GoldenError(file: c.path, problem: "\(name) must hold whole class numbers ≥ 0")
            }
            return values.map { Int($0) }
        }
        let trainLabels = try labels("train_labels")
        let testLabels = try labels("test_labels")
        let classes = try c.integer("num_classes"), k = try c.integer("k")
        try c.require(
            train.shape.count == 2 && test.shape.count == 2 && train.cols == test.cols
                && train.rows == trainLabels.count
                && test.rows == testLabels.count && classes >= 2 && k >= 1
                && (trainLabels + testLabels).allSatisfy { $0 < classes },
            "features [N, D] with one label each, labels below num_classes, k ≥ 1 needed")
        let r = try WeightedKNN.classify(
            K.self, train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
            k: k, temperature: Float(try c.number("T")), classes: classes)
        return [
            "scores": GoldenValues(r.scores),
            "predictions": GoldenValues(shape: [r.predictions.count], data: r.predictions.map(Double.init)),
            "top1": GoldenValues(scalar: r.top1 ?? .nan),
        ]
    }

    // MARK: Model cases

    /// The backbone and head configurations of a model case's `config`, refusing features this
    /// implementation does not have (BatchNorm heads, qkv without bias, a custom qk scale).
    static func configs(_ c: GoldenCase) throws -> (ViTConfig, DINOHeadConfig, local: Int) {
        guard let cfg = c.json["config"] as? [String: Any] else {
            throw GoldenError(file: c.path, problem: "no config")
        }
        func n(_ k: String) throws -> Double { try c.number(k, in: cfg) }
        func i(_ k: String) throws -> Int { try c.integer(k, in: cfg) }
        if try c.flag("qkv_bias", in: cfg, default: true) == false {
            throw GoldenError(file: c.path, problem: "qkv_bias = false is not supported")
        }
        if try c.flag("head_use_bn", in: cfg, default: false) {
            throw GoldenError(file: c.path, problem: "head_use_bn = true is not supported")
        }
        if let scale = cfg["qk_scale"], !(scale is NSNull) {
            throw GoldenError(file: c.path, problem: "a custom qk_scale is not supported")
        }
        for key in ["drop_rate", "attn_drop_rate"] where ((cfg[key] as? NSNumber)?.doubleValue ?? 0) != 0 {
            throw GoldenError(file: c.path, problem: "\(key) ≠ 0 is not supported (DINO uses 0)")
        }
        let vit = ViTConfig(
            imageSize: try i("img_size"), patchSize: try i("patch_size"), channels: try i("in_chans"),
            dim: try i("embed_dim"), depth: try i("depth"), heads: try i("num_heads"),
            mlpRatio: try n("mlp_ratio"),
            dropPathRate: 0, layerNormEpsilon: Float(try n("layernorm_eps")))
        let head = DINOHeadConfig(
            inDim: vit.dim, outDim: try i("out_dim"), hiddenDim: try i("head_hidden_dim"),
            bottleneckDim: try i("head_bottleneck_dim"), layers: try i("head_nlayers"),
            normLastLayer: try c.flag("norm_last_layer", in: cfg, default: true))
        return (vit, head, (try? i("local_img_size")) ?? vit.imageSize)
    }

    /// Images `[B, C, H, W]` a ViT of `config` can take: its channel count, at least one patch.
    static func requireImages(_ c: GoldenCase, _ images: Tensor, _ config: ViTConfig, name: String) throws {
        let s = images.shape
        try c.require(
            s.count == 4 && s[0] >= 1 && s[1] == config.channels && s[2] >= config.patchSize
                && s[3] >= config.patchSize,
            "\(name) must be [B, \(config.channels), H, W] with H, W ≥ \(config.patchSize), got \(s)")
    }

    static func network<K: KernelSet>(
        _: K.Type, _ c: GoldenCase, weights key: String
    ) throws -> DINONetwork<K> {
        let (vit, headConfig, _) = try configs(c)
        guard let file = c.json[key] as? String else {
            throw GoldenError(file: c.path, problem: "no \"\(key)\" file")
        }
        var net = try DINONetwork<K>(backbone: vit, head: headConfig, seed: 0)
        try net.load(from: c.sibling(file))
        return net
    }

    static func vitForward<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        if let cfg = c.json["config"] as? [String: Any], cfg["out_dim"] == nil {
            return try backboneForward(K.self, c)
        }
        var net = try network(K.self, c, weights: "weights")
        var out: [String: GoldenValues] = [:]
        for resolution in ["global", "local"] {
            let images = try c.input("images_" + resolution)
            try requireImages(c, images, net.backbone.config, name: "images_" + resolution)
            let cls = net.backbone.forward(images)
            let attention = net.backbone.lastBlockAttention(queries: 1)
            out["cls_" + resolution] = GoldenValues(cls)
            out["attn_cls_" + resolution] = GoldenValues(
                attention.reshaped([attention.shape[0], attention.shape[1], attention.shape[3]]))
            out["head_" + resolution] = GoldenValues(net.head.forward(cls))
        }
        return out
    }

    /// A backbone-only `vit_forward` (the released `*_pretrain.pth` layout: bare names, no head):
    /// the CLS features and CLS attention of `images_global` at any size, and the position table
    /// interpolated to it.
    static func backboneForward<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        guard let cfg = c.json["config"] as? [String: Any], let file = c.json["weights"] as? String else {
            throw GoldenError(file: c.path, problem: "needs a config and a weights file")
        }
        let config = ViTConfig(
            imageSize: try c.integer("img_size", in: cfg), patchSize: try c.integer("patch_size", in: cfg),
            channels: try c.integer("in_chans", in: cfg), dim: try c.integer("embed_dim", in: cfg),
            depth: try c.integer("depth", in: cfg), heads: try c.integer("num_heads", in: cfg),
            mlpRatio: try c.number("mlp_ratio", in: cfg), dropPathRate: 0,
            layerNormEpsilon: Float(try c.number("layernorm_eps", in: cfg)))
        try config.validate()
        var vit = try ViT<K>(config, seed: 0)
        try vit.load(try Safetensors.readDictionary(c.sibling(file)))
        let images = try c.input("images_global")
        try requireImages(c, images, config, name: "images_global")
        let cls = vit.forward(images)
        let attention = vit.lastBlockAttention(queries: 1)
        var out = [
            "cls_global": GoldenValues(cls),
            "attn_cls_global": GoldenValues(
                attention.reshaped([attention.shape[0], attention.shape[1], attention.shape[3]])),
        ]
        if c.expected["pos_embed_interpolated"] != nil {
            let table = vit.parameters.first { $0.name == "pos_embed" }!.value
            let p = config.patchSize
            let moved = ViT<K>.positionEmbedding(
                table, sourceGrid: config.imageSize / p, height: images.shape[2], width: images.shape[3],
                patch: p)
            out["pos_embed_interpolated"] = GoldenValues(
                moved.table.reshaped([1, moved.table.rows, moved.table.cols]))
        }
        return out
    }

    static func trainStep<K: KernelSet>(_: K.Type, _ c: GoldenCase) throws -> [String: GoldenValues] {
        let student = try network(K.self, c, weights: "weights"),
            teacher = try network(K.self, c, weights: "teacher_weights")
        // The parameter lists of the case must be the ones this implementation derives.
        let names = student.parameterNames, params = student.allParameters
        func check(_ key: String, _ ours: [String]) throws {
            guard let theirs = c.params[key] as? [String] else { return }
            guard theirs == ours else {
                let first =
                    (0..<min(theirs.count, ours.count)).first { theirs[$0] != ours[$0] }
                    ?? min(theirs.count, ours.count)
                let problem =
                    "\(key) differs from this model's at position \(first) (\(theirs.count) vs \(ours.count) names)"
                throw GoldenError(file: c.path, problem: problem)
            }
        }
        try check("param_order", names)
        try check("grad_norm_params", zip(names, params).filter { $0.1.trainable }.map(\.0))
        try check("regularized_params", zip(names, params).filter { $0.1.regularized }.map(\.0))
        if let optimizer = c.params["optimizer"] as? String, optimizer != "adamw" {
            throw GoldenError(file: c.path, problem: "optimizer '\(optimizer)' is not supported (AdamW only)")
        }
        if let step = c.params["adam_step"] as? NSNumber, step.intValue != 1 {
            throw GoldenError(
                file: c.path, problem: "adam_step \(step) needs optimiser state the case does not provide")
        }

        var step = DINOTrainStep<K>(
            student: student, teacher: teacher, studentTemperature: Float(try c.number("student_temp")),
            centerMomentum: Float(try c.number("center_momentum")))
        let center = try c.input("center")
        try c.require(
            center.count == student.head.config.outDim,
            "center has \(center.count) values, the head \(student.head.config.outDim)")
        step.loss.center = center.reshaped([1, center.count])
        func crops(_ name: String) throws -> [Tensor] {
            let all = try c.input(name)
            guard all.shape.count == 5 else {
                throw GoldenError(
                    file: c.path, problem: "\(name) must be [crops, B, C, H, W], got \(all.shape)")
            }
            try requireImages(
                c, Tensor(shape: Array(all.shape.dropFirst())), student.backbone.config, name: name)
            if name == "crops_global" {
                try c.require(all.shape[0] == 2, "crops_global must hold 2 crops, got \(all.shape[0])")
            }
            if name == "crops_local", let g = c.inputs["crops_global"]?.tensor, g.shape.count == 5 {
                try c.require(
                    all.shape[1] == g.shape[1],
                    "crops_local has batch \(all.shape[1]), crops_global \(g.shape[1])")
            }
            let per = all.count / max(all.shape[0], 1), inner = Array(all.shape.dropFirst())
            return (0..<all.shape[0]).map {
                Tensor(shape: inner, Array(all.storage[($0 * per)..<(($0 + 1) * per)]))
            }
        }
        let lr = Float(try c.number("lr")), weightDecay = Float(try c.number("weight_decay"))
        let teacherTemperature = Float(try c.number("teacher_temp")),
            momentum = Float(try c.number("teacher_momentum"))
        let freeze = try c.flag("freeze_last_layer_active", default: false),
            clip = Float(try c.number("clip_grad"))
        let beta1 = Float(try c.number("adam_beta1")), beta2 = Float(try c.number("adam_beta2"))
        let eps = Float(try c.number("adam_eps"))
        let hyper = TrainStepHyper(
            lr: lr, weightDecay: weightDecay, teacherTemperature: teacherTemperature,
            teacherMomentum: momentum, freezeLastLayer: freeze, clipGrad: clip,
            beta1: beta1, beta2: beta2, eps: eps)
        let r = step.step(
            globals: try crops("crops_global"),
            locals: c.inputs["crops_local"] == nil ? [] : try crops("crops_local"),
            hyper: hyper)
        var out: [String: GoldenValues] = [
            "loss": GoldenValues(scalar: Double(r.loss)),
            "grad_norms": GoldenValues(shape: [r.gradNorms.count], data: r.gradNorms.map { Double($0.norm) }),
            "grad_total_norm": GoldenValues(scalar: Double(r.gradTotalNorm)),
            "new_center": GoldenValues(step.loss.center.reshaped(center.shape)),
            "teacher_out": GoldenValues(r.teacherOut), "student_out": GoldenValues(r.studentOut),
        ]
        for (name, p) in zip(step.student.parameterNames, step.student.allParameters) {
            out["student:" + name] = GoldenValues(p.value)
            if p.trainable && !(hyper.freezeLastLayer && name.contains("last_layer")) {
                out["student_grad:" + name] = GoldenValues(p.grad)
            }
        }
        for (name, p) in zip(step.teacher.parameterNames, step.teacher.allParameters) {
            out["teacher:" + name] = GoldenValues(p.value)
        }
        return out
    }
}
