import DINOCore

/// The shape of a Vision Transformer (`vision_transformer.py`'s `VisionTransformer`).
public struct ViTConfig: Sendable, Equatable, CustomStringConvertible {
    /// Side of the training images (global crops); the position table has `(imageSize/patch)²`
    /// patch rows. Other resolutions are served by resampling it.
    public var imageSize: Int
    public var patchSize: Int
    public var channels: Int
    /// D, the token width.
    public var dim: Int
    public var depth: Int
    public var heads: Int
    /// MLP hidden width = `Int(dim · mlpRatio)` (4 in every DINO ViT).
    public var mlpRatio: Double
    /// Stochastic depth of the last block; block i gets `rate·i/(depth-1)` (student only, 0.1
    /// in DINO; the teacher is built with 0).
    public var dropPathRate: Float
    /// LayerNorm ε, 1e-6 in the DINO factories (PyTorch's default 1e-5 is wrong here).
    public var layerNormEpsilon: Float

    public init(
        imageSize: Int = 224, patchSize: Int = 16, channels: Int = 3, dim: Int = 192, depth: Int = 12,
        heads: Int = 3, mlpRatio: Double = 4, dropPathRate: Float = 0, layerNormEpsilon: Float = 1e-6
    ) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.channels = channels
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.dropPathRate = dropPathRate
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Patches per side of a training image.
    public var grid: Int { imageSize / patchSize }
    public var mlpHidden: Int { Int(Double(dim) * mlpRatio) }
    public var headWidth: Int { dim / heads }
    /// Drop-path rate of block `i`: `linspace(0, rate, depth)` as the official code builds it.
    public func dropPath(block i: Int) -> Float { depth > 1 ? dropPathRate * Float(i) / Float(depth - 1) : 0 }

    /// The DINO factories (patch 16 or 8, 224-pixel images).
    public static func tiny(patch: Int = 16) -> ViTConfig { ViTConfig(patchSize: patch, dim: 192, heads: 3) }
    public static func small(patch: Int = 16) -> ViTConfig { ViTConfig(patchSize: patch, dim: 384, heads: 6) }
    public static func base(patch: Int = 16) -> ViTConfig { ViTConfig(patchSize: patch, dim: 768, heads: 12) }

    /// Checks the numbers fit together; the message names what is wrong.
    public func validate() throws {
        func fail(_ m: String) -> ModelError { ModelError("ViT config \(self): \(m)") }
        guard imageSize >= 1, patchSize >= 1, channels >= 1, dim >= 1, depth >= 1, heads >= 1 else {
            throw fail("every size must be ≥ 1")
        }
        guard imageSize >= patchSize else {
            throw fail("patch \(patchSize) is larger than the image \(imageSize)")
        }
        guard dim % heads == 0 else { throw fail("\(heads) heads do not divide the width \(dim)") }
        guard mlpHidden >= 1 else { throw fail("mlp ratio \(mlpRatio) gives no hidden units") }
        guard (0..<1).contains(dropPathRate) else { throw fail("drop path rate must be in [0, 1)") }
        guard mlpRatio.isFinite, mlpRatio <= 64 else {
            throw fail("mlp ratio \(mlpRatio) must be finite and at most 64")
        }
        guard imageSize <= 16_384, patchSize <= 1024, channels <= 64, dim <= 16_384, depth <= 256,
            heads <= 1024
        else {
            throw fail(
                "a size is above its bound (image 16384, patch 1024, channels 64, width 16384, depth 256, heads 1024)"
            )
        }
    }

    public var description: String {
        "img \(imageSize) patch \(patchSize) ch \(channels) D \(dim) depth \(depth) heads \(heads) mlp ×\(mlpRatio)"
            + (dropPathRate > 0 ? " drop-path \(dropPathRate)" : "")
    }
}

/// A model-level error (bad config, bad state dict, wrong input shape), naming the problem.
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Identifies one forward pass by its shape: the backward of a pass uses the activations saved
/// by the last forward of the same shape (llm.c's workspaces, keyed by batch, grid and whether
/// the last block ran for every token).
public struct ViTPass: Hashable, Sendable, CustomStringConvertible {
    public let batch: Int
    public let gridRows: Int
    public let gridCols: Int
    /// true: the last block ran for every token (``ViT/lastBlockOutputs(_:pass:)`` needs them);
    /// false: for the CLS row only, all the CLS feature depends on.
    public let allTokens: Bool
    public init(batch: Int, gridRows: Int, gridCols: Int, allTokens: Bool = false) {
        self.batch = batch
        self.gridRows = gridRows
        self.gridCols = gridCols
        self.allTokens = allTokens
    }
    /// Tokens per image: CLS + patches.
    public var tokens: Int { 1 + gridRows * gridCols }
    /// Rows per image after the last block's attention: every token, or the CLS row.
    public var lastBlockRows: Int { allTokens ? tokens : 1 }
    public var description: String {
        "B\(batch) grid \(gridRows)×\(gridCols)" + (allTokens ? " all tokens" : "")
    }
}

/// The activations one block saves for its backward. A class so that several of its buffers
/// can be `inout` arguments of one kernel call. LN1 and qkv cover every token (all of them are
/// keys and values); from the attention output on, a block keeps `queries` rows per image: every
/// token, or only the CLS row in a last block whose other rows nothing reads.
final class BlockActivations {
    let queries: Int
    var ln1, qkv, attention, mid, ln2, fc1, act: Tensor
    var mean1, rstd1, mean2, rstd2, logSumExp: Tensor
    /// Per-sample drop-path factors of the attention and MLP branches (0 or 1/keep), nil when
    /// the block kept every sample.
    var keepAttention: [Float]?, keepMLP: [Float]?

    init(batch: Int, tokens: Int, queries: Int, dim: Int, hidden: Int, heads: Int) {
        self.queries = queries
        ln1 = Tensor(shape: [batch, tokens, dim])
        qkv = Tensor(shape: [batch, tokens, 3 * dim])
        mean1 = Tensor(shape: [batch * tokens]); rstd1 = mean1
        attention = Tensor(shape: [batch, queries, dim]); ln2 = attention; mid = attention
        fc1 = Tensor(shape: [batch, queries, hidden]); act = fc1
        mean2 = Tensor(shape: [batch * queries]); rstd2 = mean2
        logSumExp = Tensor(shape: [batch, heads, queries])
    }
}

/// Forward and backward scratch of one row count: `branch` (attention projection or MLP
/// output) and the gradients of a block's activations.
final class BlockScratch {
    var branch, dStream, dNormed, dBranch, dAttention: Tensor  // (B, rows, D)
    var dAct, dFC1: Tensor  // (B, rows, Hm)

    init(batch: Int, rows: Int, dim: Int, hidden: Int) {
        branch = Tensor(shape: [batch, rows, dim]); dStream = branch; dNormed = branch; dBranch = branch;
        dAttention = branch
        dAct = Tensor(shape: [batch, rows, hidden]); dFC1 = dAct
    }
}

/// Everything one pass keeps: inputs, the residual stream after every block, block activations,
/// and backward scratch (allocated once per pass shape, reused afterwards).
final class PassWorkspace {
    let pass: ViTPass
    var images: Tensor
    var patches: Tensor  // (B, n, D) patch embeddings
    var positions: Tensor  // (1 + n, D) the position table for this grid
    var resampled = false
    /// depth + 1 residual states, (B, T, D); the last one (B, Q, D) with Q = `pass.lastBlockRows`.
    var stream: [Tensor]
    var blocks: [BlockActivations]
    var normed, normMean, normRstd: Tensor  // the final LayerNorm, (B, Q, D)
    /// Scratch of every-token blocks, and of the last block (the same object when Q = T).
    let scratch: BlockScratch, lastScratch: BlockScratch
    var dQKV: Tensor  // (B, T, 3D)

    init(_ pass: ViTPass, config c: ViTConfig) {
        self.pass = pass
        let b = pass.batch, t = pass.tokens, q = pass.lastBlockRows
        images = Tensor(shape: [0])
        patches = Tensor(shape: [b, t - 1, c.dim])
        positions = Tensor(shape: [t, c.dim])
        stream =
            Array(repeating: Tensor(shape: [b, t, c.dim]), count: c.depth) + [Tensor(shape: [b, q, c.dim])]
        blocks = (0..<c.depth).map { l in
            BlockActivations(
                batch: b, tokens: t, queries: l == c.depth - 1 ? q : t, dim: c.dim, hidden: c.mlpHidden,
                heads: c.heads)
        }
        normed = Tensor(shape: [b, q, c.dim]); normMean = Tensor(shape: [b * q]); normRstd = normMean
        scratch = BlockScratch(batch: b, rows: t, dim: c.dim, hidden: c.mlpHidden)
        lastScratch = q == t ? scratch : BlockScratch(batch: b, rows: q, dim: c.dim, hidden: c.mlpHidden)
        dQKV = Tensor(shape: [b, t, 3 * c.dim])
    }

    func scratch(block l: Int) -> BlockScratch { l == blocks.count - 1 ? lastScratch : scratch }
}

/// The workspaces of one model, copied lazily: a copy of the model (the teacher made from the
/// student) gets its own workspaces on its first forward instead of sharing the student's.
final class WorkspaceStore {
    var passes: [ViTPass: PassWorkspace] = [:]
}

/// A Vision Transformer exactly as DINO's `vision_transformer.py` builds it, on kernel core `K`:
/// patch embedding (conv, kernel = stride = p), CLS token, learned position table resampled
/// bicubically for other resolutions, pre-norm blocks (LayerNorm ε 1e-6, multi-head attention
/// with qkv bias and scale Dh^-0.5, MLP with exact GELU), per-sample drop path when training,
/// final LayerNorm; the output is the CLS row.
///
/// Every layer has a hand-written backward (llm.c style): `forward` saves what `backward`
/// needs in a workspace keyed by the pass shape (``ViTPass``), `backward` accumulates into
/// ``Parameter/grad``. A value type: `var teacher = student` is a real, independent copy.
public struct ViT<K: KernelSet> {
    public let config: ViTConfig
    /// State-dict order: cls_token, pos_embed, patch_embed.proj.{weight,bias}, per block
    /// norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2 (weight, bias each), norm.{weight,bias}.
    public var parameters: [Parameter]
    /// Drop-path randomness (student only).
    public var rng: SplitMix64
    /// The shape of the most recent forward pass.
    public private(set) var lastPass: ViTPass?
    private var store = WorkspaceStore()

    // Parameter slots, in state-dict order.
    static var cls: Int { 0 }
    static var pos: Int { 1 }
    static var patchWeight: Int { 2 }
    static var patchBias: Int { 3 }
    static func block(_ l: Int, _ slot: BlockSlot) -> Int { 4 + BlockSlot.allCases.count * l + slot.rawValue }
    var norm: Int { 4 + BlockSlot.allCases.count * config.depth }

    /// The parameters of one transformer block, in state-dict order.
    enum BlockSlot: Int, CaseIterable {
        case norm1Weight, norm1Bias, qkvWeight, qkvBias, projWeight, projBias
        case norm2Weight, norm2Bias, fc1Weight, fc1Bias, fc2Weight, fc2Bias

        /// The name in the official state dict (after `blocks.<l>.`).
        var stateDictName: String {
            switch self {
            case .norm1Weight: "norm1.weight"
            case .norm1Bias: "norm1.bias"
            case .qkvWeight: "attn.qkv.weight"
            case .qkvBias: "attn.qkv.bias"
            case .projWeight: "attn.proj.weight"
            case .projBias: "attn.proj.bias"
            case .norm2Weight: "norm2.weight"
            case .norm2Bias: "norm2.bias"
            case .fc1Weight: "mlp.fc1.weight"
            case .fc1Bias: "mlp.fc1.bias"
            case .fc2Weight: "mlp.fc2.weight"
            case .fc2Bias: "mlp.fc2.bias"
            }
        }
    }

    /// The parameter names of one block, in state-dict order (slot k = index in this list).
    static var blockNames: [String] { BlockSlot.allCases.map(\.stateDictName) }

    /// A ViT with the official initialisation drawn from `seed`: trunc-normal(0.02) for every
    /// Linear weight, cls_token and pos_embed; Linear biases 0; LayerNorm 1 and 0; the patch
    /// conv keeps PyTorch's default (Kaiming-uniform weight and uniform bias, ±1/√(Cin·p²)).
    public init(_ config: ViTConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        var rng = SplitMix64(seed: seed)
        let d = config.dim, hidden = config.mlpHidden, p = config.patchSize, fanIn = config.channels * p * p
        var ps: [Parameter] = []
        ps.append(Parameter("cls_token", Initializer.truncatedNormal([1, 1, d], &rng)))
        ps.append(
            Parameter("pos_embed", Initializer.truncatedNormal([1, 1 + config.grid * config.grid, d], &rng)))
        ps.append(
            Parameter(
                "patch_embed.proj.weight",
                Initializer.kaimingUniform([d, config.channels, p, p], fanIn: fanIn, &rng)))
        ps.append(Parameter("patch_embed.proj.bias", Initializer.kaimingUniform([d], fanIn: fanIn, &rng)))
        for l in 0..<config.depth {
            let shapes: [[Int]] = [
                [d], [d], [3 * d, d], [3 * d], [d, d], [d], [d], [d], [hidden, d], [hidden], [d, hidden], [d],
            ]
            for (k, name) in Self.blockNames.enumerated() {
                let full = "blocks.\(l).\(name)"
                if name.hasSuffix("norm1.weight") || name.hasSuffix("norm2.weight") {
                    ps.append(Parameter(full, Tensor(shape: shapes[k], repeating: 1)))
                } else if name.hasSuffix(".weight") {
                    ps.append(Parameter(full, Initializer.truncatedNormal(shapes[k], &rng)))
                } else {
                    ps.append(Parameter(full, Tensor(shape: shapes[k])))
                }
            }
        }
        ps.append(Parameter("norm.weight", Tensor(shape: [d], repeating: 1)))
        ps.append(Parameter("norm.bias", Tensor(shape: [d])))
        parameters = ps
        self.rng = SplitMix64(seed: seed ^ 0xD509_A7B1_0C4E_55E1)
    }

    /// Number of learnable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

    public mutating func zeroGradients() {
        for i in parameters.indices { parameters[i].zeroGradient() }
    }

    /// The workspace of `pass`, created on first use; a copied model stops sharing them here.
    private mutating func workspace(_ pass: ViTPass) -> PassWorkspace {
        if !isKnownUniquelyReferenced(&store) { store = WorkspaceStore() }
        if let ws = store.passes[pass] { return ws }
        let ws = PassWorkspace(pass, config: config)
        store.passes[pass] = ws
        return ws
    }

    private func saved(_ pass: ViTPass?) -> PassWorkspace {
        guard let pass = pass ?? lastPass, let ws = store.passes[pass] else {
            preconditionFailure(
                "ViT: no forward pass of shape \(pass.map(\.description) ?? "-") to read from")
        }
        return ws
    }

    // MARK: Position table

    /// The official `interpolate_pos_encoding` for an image of `height × width` pixels: the
    /// table itself when the patch count and the aspect match (`n == N` and `H == W`), otherwise
    /// the bicubic resampling with the +0.1 offsets (``ModelKernels/resamplePositionEmbedding(_:sourceGrid:rows:cols:into:)``).
    /// - Returns: `[1 + rows·cols, D]` and whether it was resampled.
    public static func positionEmbedding(
        _ table: Tensor, sourceGrid g: Int, height: Int, width: Int, patch: Int
    )
        -> (table: Tensor, resampled: Bool)
    {
        let rows = height / patch, cols = width / patch, d = table.cols
        if rows * cols == g * g && height == width { return (table.reshaped([1 + g * g, d]), false) }
        var out = Tensor(shape: [1 + rows * cols, d])
        K.resamplePositionEmbedding(table, sourceGrid: g, rows: rows, cols: cols, into: &out)
        return (out, true)
    }

    // MARK: Forward

    /// The CLS feature after the final LayerNorm, `[B, D]`, of images `[B, C, H, W]` of any
    /// size with `H, W ≥ patch`. `training` turns on drop path (student only).
    ///
    /// The last block runs its attention for the CLS query only, and its projection, MLP and
    /// the final LayerNorm on the CLS row only: every token is still a key and a value, but no
    /// other row of that block reaches the CLS feature, so the feature and every gradient are
    /// those of the full network (the official code computes the unused rows). That block costs
    /// its LayerNorm and qkv on T rows plus the rest on one; 16 + 1 tokens at depth 4 save ~15%
    /// of a training step. `allTokens: true` runs it in full, for ``lastBlockOutputs(_:pass:)``.
    public mutating func forward(_ images: Tensor, training: Bool = false, allTokens: Bool = false) -> Tensor
    {
        let ws = run(images, training: training, allTokens: allTokens)
        return Self.firstRows(ws.normed, 1).reshaped([ws.pass.batch, config.dim])
    }

    /// Runs the network and returns the filled workspace.
    @discardableResult
    mutating func run(_ images: Tensor, training: Bool, allTokens: Bool = false) -> PassWorkspace {
        let c = config
        precondition(
            images.shape.count == 4 && images.shape[1] == c.channels,
            "ViT: images must be [B, \(c.channels), H, W], got \(images.shape)")
        precondition(
            images.shape[2] >= c.patchSize && images.shape[3] >= c.patchSize,
            "ViT: images of \(images.shape[2])×\(images.shape[3]) are smaller than one \(c.patchSize)-pixel patch"
        )
        let grid = K.patchGrid(height: images.shape[2], width: images.shape[3], patch: c.patchSize)
        let pass = ViTPass(
            batch: images.shape[0], gridRows: grid.rows, gridCols: grid.cols, allTokens: allTokens)
        let ws = workspace(pass)
        lastPass = pass
        ws.images = images
        let batch = pass.batch, t = pass.tokens, d = c.dim, n = t - 1

        // Patch embedding, CLS token and position table: x0[b] = [cls; patches[b]] + pos.
        K.patchEmbed(
            images, weight: parameters[Self.patchWeight].value, bias: parameters[Self.patchBias].value,
            patch: c.patchSize, into: &ws.patches)
        let pos = Self.positionEmbedding(
            parameters[Self.pos].value, sourceGrid: c.grid, height: images.shape[2],
            width: images.shape[3], patch: c.patchSize)
        ws.positions = pos.table
        ws.resampled = pos.resampled
        let cls = parameters[Self.cls].value
        assemble(
            &ws.stream[0], cls: cls, patches: ws.patches, positions: ws.positions, batch: batch,
            tokens: n + 1, dim: d)

        let scale = 1 / Float(c.headWidth).squareRoot()
        for l in 0..<c.depth {
            let blk = ws.blocks[l], sc = ws.scratch(block: l), q = blk.queries
            func w(_ slot: BlockSlot) -> Tensor { parameters[Self.block(l, slot)].value }
            let x = ws.stream[l]
            // Attention branch: mid = x + keep·proj(attn(qkv(LN1(x)))), on the q query rows.
            K.layerNorm(
                x, weight: w(.norm1Weight), bias: w(.norm1Bias), epsilon: c.layerNormEpsilon, into: &blk.ln1,
                mean: &blk.mean1, rstd: &blk.rstd1)
            Linear<K>.forward(blk.ln1, weight: w(.qkvWeight), bias: w(.qkvBias), into: &blk.qkv)
            K.attention(
                blk.qkv, heads: c.heads, scale: scale, into: &blk.attention, logSumExp: &blk.logSumExp)
            Linear<K>.forward(blk.attention, weight: w(.projWeight), bias: w(.projBias), into: &sc.branch)
            blk.keepAttention = training ? dropPathMask(rate: c.dropPath(block: l), batch: batch) : nil
            addBranch(
                q == t ? x : Self.firstRows(x, q), sc.branch, keep: blk.keepAttention, tokens: q,
                into: &blk.mid)
            // MLP branch: x' = mid + keep·fc2(GELU(fc1(LN2(mid)))).
            K.layerNorm(
                blk.mid, weight: w(.norm2Weight), bias: w(.norm2Bias), epsilon: c.layerNormEpsilon,
                into: &blk.ln2, mean: &blk.mean2, rstd: &blk.rstd2)
            Linear<K>.forward(blk.ln2, weight: w(.fc1Weight), bias: w(.fc1Bias), into: &blk.fc1)
            K.gelu(blk.fc1, into: &blk.act)
            Linear<K>.forward(blk.act, weight: w(.fc2Weight), bias: w(.fc2Bias), into: &sc.branch)
            blk.keepMLP = training ? dropPathMask(rate: c.dropPath(block: l), batch: batch) : nil
            addBranch(blk.mid, sc.branch, keep: blk.keepMLP, tokens: q, into: &ws.stream[l + 1])
        }
        K.layerNorm(
            ws.stream[c.depth], weight: parameters[norm].value, bias: parameters[norm + 1].value,
            epsilon: c.layerNormEpsilon, into: &ws.normed, mean: &ws.normMean, rstd: &ws.normRstd)
        return ws
    }

    /// Per-sample keep factors of DropPath: `floor(keep + U[0,1))` (1 with probability keep)
    /// divided by keep, or nil when the rate is 0 (nothing is dropped, nothing is scaled).
    private mutating func dropPathMask(rate: Float, batch: Int) -> [Float]? {
        guard rate > 0 else { return nil }
        let keep = 1 - rate
        return (0..<batch).map { _ in (keep + rng.uniform()).rounded(.down) / keep }
    }

    /// `out = x + keep_b·branch` per sample b (plain `x + branch` without drop path).
    private func addBranch(_ x: Tensor, _ branch: Tensor, keep: [Float]?, tokens: Int, into out: inout Tensor)
    {
        guard let keep else { K.add(x, branch, into: &out); return }
        let rowsPerSample = tokens * x.cols
        out.storage.withUnsafeMutableBufferPointer { o in
            for b in 0..<keep.count {
                let base = b * rowsPerSample, f = keep[b]
                for i in base..<(base + rowsPerSample) { o[i] = x.storage[i] + f * branch.storage[i] }
            }
        }
    }

    /// The first `q` token rows of every image of `x` `[B, T, D]`: `[B, q, D]`.
    private static func firstRows(_ x: Tensor, _ q: Int) -> Tensor {
        let batch = x.shape[0], t = x.shape[1], d = x.shape[2]
        var out = Tensor(shape: [batch, q, d])
        out.storage.withUnsafeMutableBufferPointer { o in
            x.storage.withUnsafeBufferPointer { s in
                for b in 0..<batch {
                    (o.baseAddress! + b * q * d).update(from: s.baseAddress! + b * t * d, count: q * d)
                }
            }
        }
        return out
    }

    /// `x0[b, 0] = cls + pos[0]`, `x0[b, 1 + i] = patches[b, i] + pos[1 + i]`.
    private func assemble(
        _ x0: inout Tensor, cls: Tensor, patches: Tensor, positions: Tensor, batch: Int, tokens t: Int,
        dim d: Int
    ) {
        x0.storage.withUnsafeMutableBufferPointer { x in
            for b in 0..<batch {
                for k in 0..<d { x[b * t * d + k] = cls.storage[k] + positions.storage[k] }
                for i in 1..<t {
                    let row = (b * t + i) * d, src = (b * (t - 1) + i - 1) * d
                    for k in 0..<d { x[row + k] = patches.storage[src + k] + positions.storage[i * d + k] }
                }
            }
        }
    }

    // MARK: Inspection

    /// Attention probabilities of the LAST block for the first `queries` query tokens of the
    /// most recent forward (or of `pass`): `[B, H, queries, T]`. `queries = 1` is the CLS row
    /// the DINO attention maps show (`get_last_selfattention(...)[:, :, 0, :]`).
    public func lastBlockAttention(queries: Int = 1, pass: ViTPass? = nil) -> Tensor {
        let ws = saved(pass)
        let t = ws.pass.tokens
        var probs = Tensor(shape: [ws.pass.batch, config.heads, queries, t])
        K.attentionProbabilities(
            ws.blocks[config.depth - 1].qkv, heads: config.heads,
            scale: 1 / Float(config.headWidth).squareRoot(), queries: queries, into: &probs)
        return probs
    }

    /// The outputs of the last `n` blocks, each through the final LayerNorm (the official
    /// `get_intermediate_layers`, used by the linear probe): `n` tensors `[B, T, D]`, oldest first.
    public func lastBlockOutputs(_ n: Int, pass: ViTPass? = nil) -> [Tensor] {
        precondition(
            (1...config.depth).contains(n), "lastBlockOutputs: n must be in 1...\(config.depth), got \(n)")
        let ws = saved(pass)
        precondition(
            ws.pass.allTokens,
            "lastBlockOutputs: the pass \(ws.pass) ran its last block for the CLS row only; "
                + "run forward(_:training:allTokens: true) first")
        return ((config.depth - n + 1)...config.depth).map { l in
            if l == config.depth { return ws.normed }
            var y = Tensor(shape: ws.normed.shape), mean = Tensor(shape: [ws.normed.rows]), rstd = mean
            K.layerNorm(
                ws.stream[l], weight: parameters[norm].value, bias: parameters[norm + 1].value,
                epsilon: config.layerNormEpsilon, into: &y, mean: &mean, rstd: &rstd)
            return y
        }
    }

    // MARK: Backward

    /// Backward of the forward pass `pass` (default: the most recent) for the upstream gradient
    /// of the CLS features `dCLS [B, D]`: every trainable parameter's `grad +=` its gradient.
    public mutating func backward(_ dCLS: Tensor, pass: ViTPass? = nil) {
        let ws = saved(pass)
        let c = config, batch = ws.pass.batch, t = ws.pass.tokens, d = c.dim, q = ws.pass.lastBlockRows
        precondition(
            dCLS.rows == batch && dCLS.cols == d,
            "ViT.backward: dCLS is \(dCLS.shape), expected [\(batch), \(d)]")

        // Final LayerNorm, on the CLS rows only (the other rows get no gradient).
        let clsIn = Self.firstRows(ws.stream[c.depth], 1).reshaped([batch, d])
        var mean = Tensor(shape: [batch]), rstd = Tensor(shape: [batch])
        for b in 0..<batch {
            mean.storage[b] = ws.normMean.storage[b * q]
            rstd.storage[b] = ws.normRstd.storage[b * q]
        }
        var dClsIn = Tensor(shape: [batch, d])
        let normWeight = parameters[norm].value
        parameters.withGradients(norm, norm + 1) { dW, dB in
            K.layerNormBackward(
                dCLS, clsIn, weight: normWeight, mean: mean, rstd: rstd, dx: &dClsIn, dWeight: &dW, dBias: &dB
            )
        }
        let top = ws.lastScratch
        for i in 0..<top.dStream.count { top.dStream.storage[i] = 0 }
        for b in 0..<batch {
            for k in 0..<d { top.dStream.storage[b * q * d + k] = dClsIn.storage[b * d + k] }
        }

        let scale = 1 / Float(c.headWidth).squareRoot()
        for l in stride(from: c.depth - 1, through: 0, by: -1) {
            // `sc.dStream` holds the gradient of this block's output rows (q per image); the
            // block leaves the gradient of its input, every token, in `ws.scratch.dStream`.
            let blk = ws.blocks[l], sc = ws.scratch(block: l), rows = blk.queries
            func w(_ slot: BlockSlot) -> Tensor { parameters[Self.block(l, slot)].value }
            let slot = { (s: BlockSlot) in Self.block(l, s) }
            // MLP branch. dFC2 = keep·dStream (scoped, so dStream is not shared when it is updated).
            do {
                let dFC2 = branchGradient(sc.dStream, keep: blk.keepMLP, tokens: rows, scratch: &sc.dBranch)
                parameters.withGradients(slot(.fc2Weight), slot(.fc2Bias)) { dW, dB in
                    Linear<K>.parameterGradients(dFC2, x: blk.act, dWeight: &dW, dBias: &dB)
                }
                Linear<K>.inputGradient(dFC2, weight: w(.fc2Weight), into: &sc.dAct)
            }
            K.geluBackward(sc.dAct, blk.fc1, output: blk.act, into: &sc.dFC1)
            parameters.withGradients(slot(.fc1Weight), slot(.fc1Bias)) { dW, dB in
                Linear<K>.parameterGradients(sc.dFC1, x: blk.ln2, dWeight: &dW, dBias: &dB)
            }
            Linear<K>.inputGradient(sc.dFC1, weight: w(.fc1Weight), into: &sc.dNormed)
            let norm2Weight = w(.norm2Weight)
            parameters.withGradients(slot(.norm2Weight), slot(.norm2Bias)) { dW, dB in
                K.layerNormBackward(
                    sc.dNormed, blk.mid, weight: norm2Weight, mean: blk.mean2, rstd: blk.rstd2,
                    dx: &sc.dAttention,
                    dWeight: &dW, dBias: &dB)
            }
            K.axpy(1, sc.dAttention, &sc.dStream)  // dMid = dStream + LN2's dx
            // Attention branch. dProj = keep·dMid.
            do {
                let dProj = branchGradient(
                    sc.dStream, keep: blk.keepAttention, tokens: rows, scratch: &sc.dBranch)
                parameters.withGradients(slot(.projWeight), slot(.projBias)) { dW, dB in
                    Linear<K>.parameterGradients(dProj, x: blk.attention, dWeight: &dW, dBias: &dB)
                }
                Linear<K>.inputGradient(dProj, weight: w(.projWeight), into: &sc.dAttention)
            }
            K.attentionBackward(
                sc.dAttention, qkv: blk.qkv, out: blk.attention, logSumExp: blk.logSumExp,
                heads: c.heads, scale: scale, into: &ws.dQKV)
            parameters.withGradients(slot(.qkvWeight), slot(.qkvBias)) { dW, dB in
                Linear<K>.parameterGradients(ws.dQKV, x: blk.ln1, dWeight: &dW, dBias: &dB)
            }
            let full = ws.scratch
            Linear<K>.inputGradient(ws.dQKV, weight: w(.qkvWeight), into: &full.dNormed)
            let norm1Weight = w(.norm1Weight), x = ws.stream[l]
            // dx = dMid (on the rows the residual carried) + LN1's dx (every row). In a block of
            // every token `sc` is `full` and dMid is already in `full.dStream`; in the CLS-only
            // block LN1's dx goes straight into `full.dStream` and the CLS rows of dMid are added.
            func layerNorm1Backward(into dx: inout Tensor) {
                parameters.withGradients(slot(.norm1Weight), slot(.norm1Bias)) { dW, dB in
                    K.layerNormBackward(
                        full.dNormed, x, weight: norm1Weight, mean: blk.mean1, rstd: blk.rstd1, dx: &dx,
                        dWeight: &dW, dBias: &dB)
                }
            }
            if rows == t {
                layerNorm1Backward(into: &full.dAttention)
                K.axpy(1, full.dAttention, &full.dStream)
            } else {
                layerNorm1Backward(into: &full.dStream)
                for b in 0..<batch {
                    for k in 0..<(rows * d) {
                        full.dStream.storage[b * t * d + k] += sc.dStream.storage[b * rows * d + k]
                    }
                }
            }
        }

        // Embedding: dPos = Σ_b dx0[b] (through the resampling when there was one), dCLS = its
        // row 0, dPatches = dx0[:, 1:].
        var dPositions = Tensor(shape: [t, d])
        let dStream = ws.scratch.dStream
        K.columnSums(dStream.reshaped([batch, t * d]), accumulate: false, into: &dPositions)
        for k in 0..<d { parameters[Self.cls].grad.storage[k] += dPositions.storage[k] }
        if ws.resampled {
            K.resamplePositionEmbeddingBackward(
                dPositions, sourceGrid: c.grid, rows: ws.pass.gridRows,
                cols: ws.pass.gridCols, into: &parameters[Self.pos].grad)
        } else {
            K.axpy(1, dPositions, &parameters[Self.pos].grad)
        }
        var dPatches = Tensor(shape: [batch, t - 1, d])
        for b in 0..<batch {
            let src = (b * t + 1) * d, dst = b * (t - 1) * d
            for k in 0..<((t - 1) * d) { dPatches.storage[dst + k] = dStream.storage[src + k] }
        }
        parameters.withGradients(Self.patchWeight, Self.patchBias) { dW, dB in
            K.patchEmbedBackward(dPatches, images: ws.images, patch: c.patchSize, dWeight: &dW, dBias: &dB)
        }
    }

    /// The gradient reaching a residual branch: `dStream` itself, or `keep_b·dStream` per sample.
    private func branchGradient(
        _ dStream: Tensor, keep: [Float]?, tokens: Int, scratch: inout Tensor
    ) -> Tensor {
        guard let keep else { return dStream }
        let perSample = tokens * dStream.cols
        for b in 0..<keep.count {
            for i in (b * perSample)..<((b + 1) * perSample) {
                scratch.storage[i] = keep[b] * dStream.storage[i]
            }
        }
        return scratch
    }
}

extension ViT {
    /// Loads the backbone tensors `prefix + name` of a state dict (the other tensors, a DINO
    /// head or a classifier, are left alone). Every backbone tensor must be there with its shape.
    public mutating func load(_ tensors: [String: Tensor], prefix: String = "backbone.") throws {
        for p in parameters {
            guard let t = tensors[prefix + p.name] ?? tensors["module." + prefix + p.name] else {
                throw CheckpointError.missingTensor(prefix + p.name, count: 1)
            }
            guard t.shape == p.value.shape else {
                throw CheckpointError.wrongShape(prefix + p.name, expected: p.value.shape, found: t.shape)
            }
        }
        for i in parameters.indices {
            let name = prefix + parameters[i].name
            parameters[i].value = tensors[name] ?? tensors["module." + name]!
        }
    }
}
