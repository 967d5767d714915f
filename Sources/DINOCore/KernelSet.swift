/// The operations DINO needs, stated once. Two cores conform: `ReferenceKernels` (plain loops,
/// the specification) and `SIMDKernels` (fast). Model code is generic over `K: KernelSet`, so an
/// operation missing from either core is a compile error, not a silent fallback.
///
/// The protocol is a composition of small groups, one file each, so a later group (attention,
/// patch embedding, …) is added without touching the others.
///
/// Conventions, for every requirement:
/// - Tensors are row-major; a kernel sees a tensor as a matrix `[rows, cols]` (see ``Tensor``).
/// - Outputs are `inout` and must already have the right element count (shapes and arguments
///   are checked once for both cores, by the requirement's ``KernelContract`` function in
///   `Contracts.swift`, with a message naming the op). Outputs are overwritten unless the
///   requirement says *accumulate*: parameter gradients accumulate (`+=`) because the student
///   runs the global and local crops through the same weights in separate passes.
/// - Inputs and outputs never alias unless the requirement says so.
///
/// Where each group's two twins are: the same file name in `Sources/ReferenceCore/` and in
/// `Sources/SIMDCoreAVX2/` (which `Sources/SIMDCoreAVX512/` and `Sources/SIMDCoreAVX512OnAVX2/`
/// link to; `Sources/SIMDCore/SIMDKernels.swift` picks a build per call).
///
/// | group | requirements | ReferenceCore | SIMDCoreAVX2 |
/// | --- | --- | --- | --- |
/// | contracts | the argument checks of every requirement (``KernelContract``) | `DINOCore/Contracts.swift` | `DINOCore/Contracts.swift` (the same, shared) |
/// | matmul | ``LinearAlgebraKernels``: matmul | `Matmul.swift` | `Matmul.swift`, with `GemmDriver.swift`, `GemmPacking.swift`, `GemmMicroKernel.swift` |
/// | elementwise | ``ElementwiseKernels``: add, scale, axpy, addRow, gelu, geluBackward | `Elementwise.swift` | `Elementwise.swift` |
/// | row kernels | ``RowKernels``: softmax, logSoftmax, rowEntropy, rowCrossEntropy, softmaxCrossEntropy, l2Normalize, rowSums, columnSums | `RowKernels.swift` | `RowKernels.swift` |
/// | layer norm | ``NormalizationKernels``: layerNorm, layerNormBackward | `LayerNorm.swift` | `LayerNorm.swift` |
/// | batch norm | ``NormalizationKernels``: batchNorm, batchNormBackward | `BatchNorm.swift` | `BatchNorm.swift` |
/// | optimiser | ``OptimizerKernels``: emaUpdate, adamWStep, sumOfSquares | `Optimizer.swift` | `Optimizer.swift` |
/// | attention | ``ModelKernels``: attention, attentionBackward, attentionProbabilities | `Attention.swift` | `Attention.swift` |
/// | patch embedding | ``ModelKernels``: patchEmbed, patchEmbedBackward | `PatchEmbed.swift` | `PatchEmbed.swift` |
/// | position embedding | ``ModelKernels``: resamplePositionEmbedding, resamplePositionEmbeddingBackward | `PositionEmbedding.swift` | `PositionEmbedding.swift` |
/// | weight norm | ``ModelKernels``: weightNorm, weightNormBackward, l2NormalizeBackward | `WeightNorm.swift` | `WeightNorm.swift` |
/// | the core itself | the conformance, shared helpers | `ReferenceKernels.swift` | `SIMDKernels.swift` (lane types, loads, row splitting), `VectorMath.swift` (expV, logV), `Peak.swift` (the FMA ceiling, no kernel); `dot`, `sum` and `forEachRow` are in `RowKernels.swift`, `forEachLane` in `Elementwise.swift` |
public typealias KernelSet = LinearAlgebraKernels & ElementwiseKernels & RowKernels
    & NormalizationKernels & OptimizerKernels & ModelKernels

/// The three matmul layouts backprop needs, named by which operand is transposed.
public enum MatmulLayout: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `C = A·B`, A `[M, K]`, B `[K, N]` (input gradient of a linear layer: `dx = dy·W`).
    case nn
    /// `C = A·Bᵀ`, A `[M, K]`, B `[N, K]` (linear forward: `y = x·Wᵀ`, W in PyTorch `[out, in]`).
    case nt
    /// `C = Aᵀ·B`, A `[K, M]`, B `[K, N]` (weight gradient: `dW = dyᵀ·x`).
    case tn

    public var description: String {
        switch self {
        case .nn: "A·B"
        case .nt: "A·Bᵀ"
        case .tn: "Aᵀ·B"
        }
    }

    /// (M, K, N) of `C = op(A)·op(B)` for these operands, checking that the inner sizes agree.
    public func dimensions(_ a: Tensor, _ b: Tensor) -> (m: Int, k: Int, n: Int) {
        switch self {
        case .nn:
            precondition(a.cols == b.rows, "matmul A·B: A is \(a.shape), B is \(b.shape), inner sizes differ")
            return (a.rows, a.cols, b.cols)
        case .nt:
            precondition(
                a.cols == b.cols, "matmul A·Bᵀ: A is \(a.shape), B is \(b.shape), inner sizes differ")
            return (a.rows, a.cols, b.rows)
        case .tn:
            precondition(
                a.rows == b.rows, "matmul Aᵀ·B: A is \(a.shape), B is \(b.shape), inner sizes differ")
            return (a.cols, a.rows, b.cols)
        }
    }
}

public protocol LinearAlgebraKernels {
    /// `C = op(A)·op(B) (+ bias)`, or `C += …` when `accumulate`.
    ///
    /// - Parameters:
    ///   - layout: which operand is transposed (``MatmulLayout``).
    ///   - bias: `[N]`, added to every row of the product, or nil.
    ///   - c: `[M, N]` as a matrix (its leading dimensions may be split, e.g. `[B, T, N]`).
    static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, accumulate: Bool,
        into c: inout Tensor)
}

public protocol ElementwiseKernels {
    /// `c = a + b`, element-wise, same element count.
    static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor)
    /// `y = α·x`, element-wise.
    static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor)
    /// `y += α·x`, element-wise (BLAS axpy).
    static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor)
    /// `y[i, :] = x[i, :] + α·v` for every row: bias add, or centring with `α = -1`.
    static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor)
    /// Exact GELU, `y = x·Φ(x) = ½·x·(1 + erf(x/√2))` (not the tanh approximation).
    static func gelu(_ x: Tensor, into y: inout Tensor)
    /// `dx = dy·(Φ(x) + x·φ(x))`, `φ(x) = exp(-x²/2)/√(2π)`. `output` is the forward's
    /// `y = gelu(x)`, which the backward pass keeps anyway (for the next Linear's weight
    /// gradient): a core may read `Φ(x) = y/x` from it instead of evaluating erf a second time.
    static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor)
}

public protocol RowKernels {
    /// Row-wise softmax of `x / τ`, stable: `p_j = exp(z_j - max z) / Σ_k exp(z_k - max z)`.
    static func softmax(_ x: Tensor, temperature: Float, into p: inout Tensor)
    /// Row-wise log-softmax of `x / τ`: `z_j - max z - ln Σ_k exp(z_k - max z)`.
    static func logSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor)
    /// Row entropy in nats, `h_i = -Σ_j p_ij ln p_ij` with `0·ln 0 = 0`. `h` has `rows` elements.
    static func rowEntropy(_ p: Tensor, into h: inout Tensor)
    /// Row cross-entropy `H_i = -Σ_j t_ij·ls_ij` of a target distribution `t` against
    /// log-probabilities `ls` (the DINO loss of one teacher/student pair, before the batch mean).
    static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: inout Tensor)
    /// Soft-target cross-entropy against `softmax(x/τ)` with its gradient, in one call (the
    /// student side of the DINO loss): `H_i = -Σ_j t_ij·ls_ij` with `ls = logSoftmax(x/τ)`, and
    /// `dx_ij = α·(n_i·softmax(x/τ)_ij - t_ij)`, `n_i = Σ_j t_ij`, which is `α·τ·∂H_i/∂x_ij`.
    /// The targets need not sum to 1 (a crop with two teachers has n = 2).
    static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, gradientScale alpha: Float,
        loss h: inout Tensor, gradient dx: inout Tensor)
    /// `y_i = x_i / max(‖x_i‖₂, ε)`; `norms` (rows elements) receives `‖x_i‖₂`.
    static func l2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor)
    /// `s_i = Σ_j x_ij` (`rows` elements).
    static func rowSums(_ x: Tensor, into s: inout Tensor)
    /// `s_j = Σ_i x_ij` (`cols` elements); accumulates into `s` when `accumulate`.
    static func columnSums(_ x: Tensor, accumulate: Bool, into s: inout Tensor)
}

public protocol NormalizationKernels {
    /// LayerNorm over the last axis: `y = (x - μ)·r·w + b`, `r = 1/√(σ² + ε)`, biased variance.
    /// `mean` and `rstd` (rows elements each) are saved for the backward pass.
    static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor)
    /// LayerNorm backward. `dx = r·(g - mean(g) - x̂·mean(g·x̂))` with `g = dy·w`, overwritten;
    /// `dWeight += Σ_rows dy·x̂` and `dBias += Σ_rows dy` accumulate.
    static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor)
    /// BatchNorm1d in training mode (the DINO head's `use_bn` option): statistics over the ROWS,
    /// per column j: `y = (x - μ_j)·r_j·w_j + b_j`, `r_j = 1/√(σ²_j + ε)`, biased variance.
    /// `mean` and `rstd` (cols elements each) are saved for the backward pass.
    static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor)
    /// BatchNorm backward, per column: `dx = w·r·(dy - mean_rows(dy) - x̂·mean_rows(dy·x̂))`,
    /// overwritten; `dWeight += Σ_rows dy·x̂` and `dBias += Σ_rows dy` accumulate.
    static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor)
}

/// AdamW hyper-parameters for one step (PyTorch semantics: decoupled weight decay first).
public struct AdamWHyper: Sendable, Equatable {
    public var lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public init(
        lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
    }
}

public protocol OptimizerKernels {
    /// Teacher EMA: `θt = θt·m + (1 - m)·θs`, element-wise, in that order of operations.
    static func emaUpdate(_ teacher: inout Tensor, toward student: Tensor, momentum: Float)
    /// One AdamW step (`step` counts from 1), PyTorch's order:
    /// `θ ← θ·(1 - lr·wd)`; `m ← β1·m + (1-β1)·g`; `v ← β2·v + (1-β2)·g²`;
    /// `θ ← θ - (lr / (1-β1ᵗ))·m / (√v / √(1-β2ᵗ) + ε)`.
    static func adamWStep(
        _ param: inout Tensor, grad: Tensor, m: inout Tensor, v: inout Tensor, step: Int,
        hyper: AdamWHyper)
    /// `Σ x²` of all elements, accumulated in Double (for per-tensor gradient clipping).
    static func sumOfSquares(_ x: Tensor) -> Double
}

// Conveniences built from the requirements, identical for both cores.
extension RowKernels where Self: ElementwiseKernels {
    /// `m_i = (1/cols)·Σ_j x_ij`.
    public static func rowMeans(_ x: Tensor, into m: inout Tensor) {
        var sums = Tensor(shape: [x.rows])
        rowSums(x, into: &sums)
        scale(sums, by: 1 / Float(x.cols), into: &m)
    }

    /// `m_j = (1/rows)·Σ_i x_ij`.
    public static func columnMeans(_ x: Tensor, into m: inout Tensor) {
        var sums = Tensor(shape: [x.cols])
        columnSums(x, accumulate: false, into: &sums)
        scale(sums, by: 1 / Float(x.rows), into: &m)
    }
}
