import DINOCore

/// The shape of DINO's projection head (`vision_transformer.py`'s `DINOHead`).
public struct DINOHeadConfig: Sendable, Equatable, CustomStringConvertible {
    /// Input width: the backbone's D.
    public var inDim: Int
    /// K, the number of prototypes (65536 in the paper; a few thousand is plenty on a CPU).
    public var outDim: Int
    public var hiddenDim: Int
    public var bottleneckDim: Int
    /// Linear layers of the MLP (3 in DINO): in→hid, (hid→hid)×(n-2), hid→bottleneck.
    public var layers: Int
    /// g fixed at 1 (each prototype is a unit vector, logits are cosines); official default on.
    public var normLastLayer: Bool
    /// The official `use_bn` option: BatchNorm1d (training-mode batch statistics, ε 1e-5) after
    /// every hidden Linear, before its GELU. Off in the paper's ViT runs; small-data runs need it.
    public var batchNorm: Bool

    public init(
        inDim: Int, outDim: Int, hiddenDim: Int = 2048, bottleneckDim: Int = 256, layers: Int = 3,
        normLastLayer: Bool = true, batchNorm: Bool = false
    ) {
        self.inDim = inDim
        self.outDim = outDim
        self.hiddenDim = hiddenDim
        self.bottleneckDim = bottleneckDim
        self.layers = layers
        self.normLastLayer = normLastLayer
        self.batchNorm = batchNorm
    }

    public func validate() throws {
        guard inDim >= 1, outDim >= 1, hiddenDim >= 1, bottleneckDim >= 1 else {
            throw ModelError("DINO head \(self): every width must be ≥ 1")
        }
        guard inDim <= 16_384, outDim <= 1_048_576, hiddenDim <= 65_536, bottleneckDim <= 16_384, layers <= 64
        else {
            throw ModelError(
                "DINO head \(self): a width is above its bound (in 16384, out 1048576, hidden 65536, bottleneck 16384, 64 layers)"
            )
        }
        guard layers >= 2 else {
            throw ModelError(
                "DINO head \(self): needs at least 2 MLP layers (the official 1-layer head names its layer `mlp`, not `mlp.0`)"
            )
        }
    }

    /// (in, out) of MLP layer i.
    func layerShape(_ i: Int) -> (inputs: Int, outputs: Int) {
        (i == 0 ? inDim : hiddenDim, i == layers - 1 ? bottleneckDim : hiddenDim)
    }

    /// The `nn.Sequential` index of Linear i: `mlp.{2i}` (GELUs at the odd indices), or
    /// `mlp.{3i}` with BatchNorm (BN at 3i + 1, GELU at 3i + 2).
    public func linearIndex(_ i: Int) -> Int { batchNorm ? 3 * i : 2 * i }

    public var description: String {
        "\(inDim)→\((0..<(layers - 1)).map { _ in "\(hiddenDim)" }.joined(separator: "→"))→\(bottleneckDim)→ℓ2→\(outDim)"
            + (normLastLayer ? " (g = 1)" : "") + (batchNorm ? " with BatchNorm" : "")
    }
}

/// Activations the head saves for its backward, keyed by row count.
final class HeadWorkspace {
    var input: Tensor
    var pre: [Tensor], act: [Tensor]  // per MLP layer: x·Wᵀ + b, and GELU of it (not for the last)
    var normed: [Tensor], bnMean: [Tensor], bnRstd: [Tensor]  // BatchNorm output and statistics (BN heads)
    var unit: Tensor, norms: Tensor  // L2-normalised bottleneck (R, bot) and its row norms
    var weight: Tensor, weightNorms: Tensor  // the weight-normed prototypes (out, bot), ‖v‖ per row
    // Backward scratch.
    var dUnit: Tensor, dWeight: Tensor, dG: Tensor
    var dPre: [Tensor], dAct: [Tensor], dInput: Tensor
    var dNormed: [Tensor]

    init(rows: Int, config c: DINOHeadConfig) {
        input = Tensor(shape: [rows, c.inDim])
        pre = (0..<c.layers).map { Tensor(shape: [rows, c.layerShape($0).outputs]) }
        act = pre
        normed = c.batchNorm ? pre : []
        bnMean = c.batchNorm ? (0..<c.layers).map { Tensor(shape: [c.layerShape($0).outputs]) } : []
        bnRstd = bnMean
        dNormed = normed
        unit = Tensor(shape: [rows, c.bottleneckDim]); norms = Tensor(shape: [rows])
        weight = Tensor(shape: [c.outDim, c.bottleneckDim]); weightNorms = Tensor(shape: [c.outDim])
        dUnit = unit; dWeight = weight; dG = Tensor(shape: [c.outDim, 1])
        dPre = pre; dAct = pre; dInput = input
    }
}

final class HeadStore {
    var workspaces: [Int: HeadWorkspace] = [:]
}

/// DINO's projection head on kernel core `K`:
///
///     z = MLP(x)  (Linear, GELU, …, Linear)            [R, bottleneck]
///     u = z / max(‖z‖₂, 1e-12)                          row-wise L2 normalisation
///     W[o] = g[o]·v[o] / ‖v[o]‖₂                        weight-normalised prototypes, no bias
///     y = u·Wᵀ                                          [R, K] logits (cosines when g = 1)
///
/// Parameters in state-dict order: `mlp.{0,2,4}.{weight,bias}` (with BatchNorm `mlp.{0,3,6}` and
/// `mlp.{1,4}.{weight,bias}` for the norms), `last_layer.weight_g [K, 1]`, `last_layer.weight_v
/// [K, bottleneck]`. BatchNorm normalises with the batch's statistics (DINO never puts the head
/// in eval mode) and, like `nn.BatchNorm1d` in train mode, keeps running statistics beside them
/// (``runningStatistics``): saved under the official buffer names, so a checkpoint loads into the
/// official head with `strict=True`. Without the L2 bottleneck a 3-layer head collapses
/// (paper, appendix C); with norm_last_layer g is frozen at 1.
public struct DINOHead<K: KernelSet> {
    public let config: DINOHeadConfig
    public var parameters: [Parameter]
    /// One per BatchNorm layer (empty without BatchNorm): buffers, not parameters, so neither
    /// the optimiser nor the teacher's EMA touches them; each network's own forwards update them.
    public var runningStatistics: [BatchNormRunningStatistics]
    public private(set) var lastRows: Int?
    private var store = HeadStore()
    /// ε of the bottleneck normalisation (`F.normalize`'s default).
    public static var l2Epsilon: Float { 1e-12 }

    var gSlot: Int { parameters.count - 2 }
    var vSlot: Int { parameters.count - 1 }
    /// Slot of Linear i's weight (its bias follows), and of BatchNorm i's weight (bias follows).
    private let linearSlots: [Int], normSlots: [Int]
    /// BatchNorm ε (`nn.BatchNorm1d`'s default).
    public static var batchNormEpsilon: Float { 1e-5 }

    /// The official initialisation from `seed`: trunc-normal(0.02) MLP weights, zero biases,
    /// BatchNorm 1 and 0, v with PyTorch's default Linear init (U(±1/√bottleneck): v is created
    /// after the init hook ran), g = 1.
    public init(_ config: DINOHeadConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        var rng = SplitMix64(seed: seed)
        var ps: [Parameter] = []
        var linear: [Int] = [], norms: [Int] = []
        for i in 0..<config.layers {
            let (inputs, outputs) = config.layerShape(i), index = config.linearIndex(i)
            linear.append(ps.count)
            ps.append(Parameter("mlp.\(index).weight", Initializer.truncatedNormal([outputs, inputs], &rng)))
            ps.append(Parameter("mlp.\(index).bias", Tensor(shape: [outputs])))
            if config.batchNorm && i < config.layers - 1 {
                norms.append(ps.count)
                ps.append(Parameter("mlp.\(index + 1).weight", Tensor(shape: [outputs], repeating: 1)))
                ps.append(Parameter("mlp.\(index + 1).bias", Tensor(shape: [outputs])))
            }
        }
        ps.append(
            Parameter(
                "last_layer.weight_g", Tensor(shape: [config.outDim, 1], repeating: 1),
                trainable: !config.normLastLayer))
        ps.append(
            Parameter(
                "last_layer.weight_v",
                Initializer.kaimingUniform(
                    [config.outDim, config.bottleneckDim], fanIn: config.bottleneckDim, &rng)))
        parameters = ps
        linearSlots = linear
        normSlots = norms
        runningStatistics = (0..<norms.count).map {
            BatchNormRunningStatistics(features: config.layerShape($0).outputs)
        }
    }

    /// `nn.BatchNorm1d`'s default momentum: running = (1 − 0.1)·running + 0.1·batch.
    public static var batchNormMomentum: Double { 0.1 }

    /// The state dict in PyTorch's order: each module's parameters, then its buffers
    /// (`mlp.1.running_mean`, `mlp.1.running_var`, `mlp.1.num_batches_tracked` after `mlp.1.bias`).
    public var stateDict: [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (slot, p) in parameters.enumerated() {
            out.append((p.name, p.value))
            if let i = normSlots.firstIndex(of: slot - 1) {
                out += runningStatistics[i].stateDict(prefix: "mlp.\(config.linearIndex(i) + 1).")
            }
        }
        return out
    }

    /// The buffer names, in state-dict order.
    public var bufferNames: [String] {
        runningStatistics.indices.flatMap { i in
            BatchNormRunningStatistics.names.map { "mlp.\(config.linearIndex(i) + 1)." + $0 }
        }
    }

    /// Loads a head state dict (bare names: `mlp.0.weight`, …, `last_layer.weight_v`, and a
    /// BatchNorm head's buffers): every parameter with its shape, no other tensor. Unchanged
    /// unless everything fits.
    public mutating func load(_ tensors: [String: Tensor]) throws {
        for p in parameters {
            guard let t = tensors[p.name] else {
                throw CheckpointError.missingTensor("head." + p.name, count: 1)
            }
            guard t.shape == p.value.shape else {
                throw CheckpointError.wrongShape("head." + p.name, expected: p.value.shape, found: t.shape)
            }
        }
        let known = Set(parameters.map(\.name) + bufferNames)
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.unexpectedTensor(
                "head." + extra, count: tensors.keys.filter { !known.contains($0) }.count)
        }
        try loadBuffers(tensors)
        for i in parameters.indices { parameters[i].value = tensors[parameters[i].name]! }
    }

    /// Sets the running statistics from `tensors` (bare head names). Every buffer must be there
    /// with its shape, or none of them (a checkpoint written before they were saved: the
    /// statistics then stay at their initial values, as PyTorch does for an old BatchNorm).
    mutating func loadBuffers(_ tensors: [String: Tensor]) throws {
        let names = bufferNames
        let present = names.filter { tensors[$0] != nil }
        if present.isEmpty { return }
        if let missing = names.first(where: { tensors[$0] == nil }) {
            throw CheckpointError.missingTensor("head." + missing, count: names.count - present.count)
        }
        var updated = runningStatistics
        for i in updated.indices {
            let prefix = "mlp.\(config.linearIndex(i) + 1)."
            try updated[i].load(prefix: prefix, from: tensors)
        }
        runningStatistics = updated
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public mutating func zeroGradients() {
        for i in parameters.indices { parameters[i].zeroGradient() }
    }

    private mutating func workspace(rows: Int) -> HeadWorkspace {
        if !isKnownUniquelyReferenced(&store) { store = HeadStore() }
        if let ws = store.workspaces[rows] { return ws }
        let ws = HeadWorkspace(rows: rows, config: config)
        store.workspaces[rows] = ws
        return ws
    }

    /// Logits `[R, K]` of features `[R, inDim]`.
    public mutating func forward(_ x: Tensor) -> Tensor {
        precondition(
            x.cols == config.inDim, "DINOHead: input has \(x.cols) features, expected \(config.inDim)")
        let rows = x.rows
        let ws = workspace(rows: rows)
        lastRows = rows
        ws.input = x.reshaped([rows, config.inDim])
        var h = ws.input
        for i in 0..<config.layers {
            let w = linearSlots[i]
            Linear<K>.forward(h, weight: parameters[w].value, bias: parameters[w + 1].value, into: &ws.pre[i])
            if i < config.layers - 1 {
                if config.batchNorm {
                    let n = normSlots[i]
                    K.batchNorm(
                        ws.pre[i], weight: parameters[n].value, bias: parameters[n + 1].value,
                        epsilon: Self.batchNormEpsilon, into: &ws.normed[i], mean: &ws.bnMean[i],
                        rstd: &ws.bnRstd[i])
                    runningStatistics[i].update(
                        batch: ws.pre[i], mean: ws.bnMean[i], momentum: Self.batchNormMomentum)
                    K.gelu(ws.normed[i], into: &ws.act[i])
                } else {
                    K.gelu(ws.pre[i], into: &ws.act[i])
                }
                h = ws.act[i]
            }
        }
        K.l2Normalize(ws.pre[config.layers - 1], epsilon: Self.l2Epsilon, into: &ws.unit, norms: &ws.norms)
        K.weightNorm(
            parameters[vSlot].value, g: parameters[gSlot].value, into: &ws.weight, norms: &ws.weightNorms)
        var y = Tensor(shape: [rows, config.outDim])
        K.matmul(ws.unit, ws.weight, layout: .nt, bias: nil, accumulate: false, into: &y)
        return y
    }

    /// Backward of the last forward with `rows` rows (default: the most recent): parameter
    /// gradients accumulate (not g when it is frozen); returns `dx [R, inDim]`.
    @discardableResult
    public mutating func backward(_ dy: Tensor, rows: Int? = nil) -> Tensor {
        guard let r = rows ?? lastRows, let ws = store.workspaces[r] else {
            preconditionFailure("DINOHead.backward: no forward pass with \(rows ?? -1) rows")
        }
        precondition(
            dy.rows == r && dy.cols == config.outDim,
            "DINOHead.backward: dy is \(dy.shape), expected [\(r), \(config.outDim)]")
        // y = u·Wᵀ: dW = dyᵀ·u, du = dy·W.
        K.matmul(dy, ws.unit, layout: .tn, bias: nil, accumulate: false, into: &ws.dWeight)
        K.matmul(dy, ws.weight, layout: .nn, bias: nil, accumulate: false, into: &ws.dUnit)
        // Weight norm: dv (and dg, into scratch when g is frozen).
        let v = parameters[vSlot].value, g = parameters[gSlot].value
        if parameters[gSlot].trainable {
            parameters.withGradients(vSlot, gSlot) { dV, dG in
                K.weightNormBackward(ws.dWeight, v: v, g: g, norms: ws.weightNorms, dV: &dV, dG: &dG)
            }
        } else {
            for i in 0..<ws.dG.count { ws.dG.storage[i] = 0 }
            K.weightNormBackward(
                ws.dWeight, v: v, g: g, norms: ws.weightNorms, dV: &parameters[vSlot].grad, dG: &ws.dG)
        }
        // L2 normalisation, then the MLP from the last layer down.
        let last = config.layers - 1
        K.l2NormalizeBackward(
            ws.dUnit, y: ws.unit, norms: ws.norms, epsilon: Self.l2Epsilon, into: &ws.dPre[last])
        for i in stride(from: last, through: 0, by: -1) {
            let input = i == 0 ? ws.input : ws.act[i - 1], w = linearSlots[i]
            K.matmul(ws.dPre[i], input, layout: .tn, bias: nil, accumulate: true, into: &parameters[w].grad)
            K.columnSums(ws.dPre[i], accumulate: true, into: &parameters[w + 1].grad)
            if i > 0 {
                Linear<K>.inputGradient(ws.dPre[i], weight: parameters[w].value, into: &ws.dAct[i - 1])
                if config.batchNorm {
                    // GELU, then BatchNorm back to the Linear's output.
                    K.geluBackward(
                        ws.dAct[i - 1], ws.normed[i - 1], output: ws.act[i - 1], into: &ws.dNormed[i - 1])
                    let n = normSlots[i - 1], weight = parameters[n].value
                    parameters.withGradients(n, n + 1) { dW, dB in
                        K.batchNormBackward(
                            ws.dNormed[i - 1], ws.pre[i - 1], weight: weight, mean: ws.bnMean[i - 1],
                            rstd: ws.bnRstd[i - 1], dx: &ws.dPre[i - 1], dWeight: &dW, dBias: &dB)
                    }
                } else {
                    K.geluBackward(
                        ws.dAct[i - 1], ws.pre[i - 1], output: ws.act[i - 1], into: &ws.dPre[i - 1])
                }
            } else {
                Linear<K>.inputGradient(ws.dPre[0], weight: parameters[w].value, into: &ws.dInput)
            }
        }
        return ws.dInput
    }
}

/// The running statistics of one `nn.BatchNorm1d` in train mode: `running_mean` (starts at 0),
/// `running_var` (starts at 1; fed the *unbiased* batch variance, n/(n − 1) times the one the
/// forward normalises with) and `num_batches_tracked` (an int64 counter in PyTorch). They do not
/// change a training forward, which uses the batch's own statistics; they are what an eval-mode
/// BatchNorm would use, and what `strict=True` loading expects to find.
public struct BatchNormRunningStatistics: Sendable, Equatable {
    public var mean: Tensor
    public var variance: Tensor
    public var batches: Int

    public init(features: Int) {
        mean = Tensor(shape: [features])
        variance = Tensor(shape: [features], repeating: 1)
        batches = 0
    }

    static let names = ["running_mean", "running_var", "num_batches_tracked"]

    /// One train-mode forward of `batch [R, C]` whose column means are `batchMean`: the update
    /// of `torch.nn.functional.batch_norm` (in Double, stored as Float, as PyTorch's CPU kernel).
    mutating func update(batch: Tensor, mean batchMean: Tensor, momentum: Double) {
        let rows = batch.rows, cols = batch.cols
        var sums = [Double](repeating: 0, count: cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let d = Double(batch.storage[r * cols + c]) - Double(batchMean.storage[c])
                sums[c] += d * d
            }
        }
        for c in 0..<cols {
            mean.storage[c] = Float(
                (1 - momentum) * Double(mean.storage[c]) + momentum * Double(batchMean.storage[c]))
            // PyTorch refuses a 1-row batch in train mode; here its variance is left as it was.
            guard rows > 1 else { continue }
            let unbiased = sums[c] / Double(rows - 1)
            variance.storage[c] = Float((1 - momentum) * Double(variance.storage[c]) + momentum * unbiased)
        }
        batches += 1
    }

    /// The three buffers under `prefix` (e.g. `mlp.1.`); the counter is a 0-dimensional tensor.
    func stateDict(prefix: String) -> [(name: String, tensor: Tensor)] {
        [
            (prefix + "running_mean", mean), (prefix + "running_var", variance),
            (prefix + "num_batches_tracked", Tensor(shape: [], [Float(batches)])),
        ]
    }

    mutating func load(prefix: String, from tensors: [String: Tensor]) throws {
        for (name, expected) in [
            ("running_mean", mean.shape), ("running_var", variance.shape), ("num_batches_tracked", []),
        ] {
            let t = tensors[prefix + name]!
            guard t.shape == expected else {
                throw CheckpointError.wrongShape("head." + prefix + name, expected: expected, found: t.shape)
            }
        }
        let counter = tensors[prefix + "num_batches_tracked"]!.storage[0]
        guard counter >= 0, counter == counter.rounded(), counter < 16_777_216 else {
            throw CheckpointError(
                .wrongShape, tensor: "head." + prefix + "num_batches_tracked",
                "\(counter) is not a batch count (a whole number from 0 to 2^24)")
        }
        mean = tensors[prefix + "running_mean"]!
        variance = tensors[prefix + "running_var"]!
        batches = Int(counter)
    }
}
