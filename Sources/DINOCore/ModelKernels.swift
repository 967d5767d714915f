/// Operations of the ViT and the DINO head beyond the generic ones: the attention core, patch
/// embedding, position-embedding resampling, weight normalisation and the backward of the L2
/// normalisation. Linear layers are ``LinearAlgebraKernels/matmul(_:_:layout:bias:accumulate:into:)``
/// (`.nt` forward with bias, `.nn` for dx, `.tn` with accumulate for dW) plus
/// ``RowKernels/columnSums(_:accumulate:into:)`` for bias gradients; LayerNorm and GELU are in the
/// other groups.
///
/// Shapes use B images, N tokens, C = D embedding width, H heads, `Dh = C/H` head width.
/// Parameter gradients (`dWeight`, `dBias`, `dV`, `dG`, `dTable`) ACCUMULATE, like everywhere
/// else in ``KernelSet``; activation gradients are overwritten.
public protocol ModelKernels {
    /// The multi-head attention core on the output of the qkv linear layer.
    ///
    ///     qkv[b, n, t·C + h·Dh + d]        t = 0 query, 1 key, 2 value; h = head
    ///     A_h = softmax(scale · Q_h K_hᵀ)    [N, N] per (b, h), softmax over keys
    ///     out[b, n, h·Dh + d] = (A_h V_h)[n, d]   heads concatenated in head order
    ///
    /// Saves `logSumExp[b, h, n] = max_j s_nj + ln Σ_j exp(s_nj - max_j s_nj)` of the scaled
    /// scores, which is all the backward needs to rebuild `A_h` row by row (flash-attention
    /// style), so no `[B, H, N, N]` buffer is ever kept.
    ///
    /// Only the first `Q ≤ N` tokens may be asked for as queries (every token still a key and a
    /// value): `out` then is `[B, Q, C]`. `Q = 1` is the last block of a ViT whose output is the
    /// CLS row: nothing after that block's attention reads the other rows.
    /// - Parameters:
    ///   - qkv: `[B, N, 3C]`.
    ///   - heads: H, dividing C.
    ///   - scale: `Dh^-0.5` in ViT (not `C^-0.5`).
    ///   - out: `[B, Q, C]`, Q = N for full attention.
    ///   - logSumExp: `[B, H, Q]`.
    static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor)

    /// Backward of ``attention(_:heads:scale:into:logSumExp:)``, with `A_h` rebuilt from the
    /// saved log-sum-exp and `δ_n = dO_n · O_n` (= `rowsum(dA ⊙ A)`):
    ///
    ///     dA = dO Vᵀ;  dS = A ⊙ (dA - δ);  dQ = scale·dS K;  dK = scale·dSᵀ Q;  dV = Aᵀ dO
    ///
    /// - Parameters:
    ///   - dOut: `[B, Q, C]`, upstream gradient of `out` (Q from the forward: rows of `dQ`
    ///     past the first Q are 0; `dK` and `dV` sum over the Q queries only).
    ///   - qkv, out, logSumExp: the forward's input and saved outputs.
    ///   - dQKV: `[B, N, 3C]`, overwritten, in the qkv layout.
    static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor)

    /// The attention probabilities of the first `queries` query tokens (1 = the CLS row the
    /// attention maps show, N = every row), for inspection; training never needs them.
    /// - Parameter probs: `[B, H, queries, N]`.
    static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor)

    /// Patch embedding, a convolution with kernel = stride = p and no padding:
    ///
    ///     tokens[b, r·gw + c, o] = bias[o] + Σ_{ch, i, j} W[o, ch, i, j] · img[b, ch, r·p + i, c·p + j]
    ///
    /// with `gh = H div p`, `gw = W div p` (rows and columns beyond the last whole patch are
    /// ignored, as Conv2d does) and patches ordered row-major (the flatten of the official code).
    /// - Parameters:
    ///   - images: `[B, Cin, H, W]`.
    ///   - weight: `[D, Cin, p, p]`.
    ///   - bias: `[D]`.
    ///   - tokens: `[B, gh·gw, D]`.
    static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch: Int, into tokens: inout Tensor)

    /// Parameter gradients of ``patchEmbed(_:weight:bias:patch:into:)`` (images get none: they
    /// are data). `dWeight += Σ dTokensᵀ·patches`, `dBias += Σ dTokens`.
    static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch: Int, dWeight: inout Tensor, dBias: inout Tensor)

    /// The official `interpolate_pos_encoding`: row 0 (CLS) is copied; the `g × g` grid of
    /// the other rows is resampled to `rows × cols` by separable bicubic interpolation
    /// (A = -0.75, align_corners = False) with the "+0.1" scale factors
    ///
    ///     sy = (rows + 0.1)/g,  src = (i + 0.5)/sy - 0.5  (not clamped),  i0 = ⌊src⌋, t = src - i0,
    ///     taps i0-1 … i0+2 clamped to [0, g-1], weights cub(t+1), cub(t), cub(1-t), cub(2-t)
    ///
    /// and the same along columns with `sx = (cols + 0.1)/g`. It always resamples: the model
    /// skips the call when the grid is unchanged (the official code returns the table as is).
    /// - Parameters:
    ///   - table: `[1, 1 + g², D]` or `[1 + g², D]`.
    ///   - out: `1 + rows·cols` rows of D.
    static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor)

    /// The transpose of ``resamplePositionEmbedding(_:sourceGrid:rows:cols:into:)``: each output
    /// gradient row is scattered back onto its 16 taps with the same weights; `dTable +=`.
    static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: inout Tensor)

    /// Weight normalisation per output row: `W[o, :] = g[o]·v[o, :] / ‖v[o, :]‖₂`.
    /// - Parameters:
    ///   - v: `[O, I]`; g: O values (`[O, 1]` in the state dict).
    ///   - w: `[O, I]`; norms: O values, `‖v[o, :]‖₂`, saved for the backward.
    static func weightNorm(_ v: Tensor, g: Tensor, into w: inout Tensor, norms: inout Tensor)

    /// Backward of ``weightNorm(_:g:into:norms:)``, with `v̂ = v/‖v‖`:
    /// `dv[o] += (g[o]/‖v[o]‖)·(dW[o] - v̂[o]·(v̂[o]·dW[o]))`, `dg[o] += v̂[o]·dW[o]`.
    static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: inout Tensor, dG: inout Tensor)

    /// Backward of ``RowKernels/l2Normalize(_:epsilon:into:norms:)``, `y = x / max(‖x‖, ε)`:
    /// `dx = (dy - y·(y·dy)) / ‖x‖` when `‖x‖ > ε`, else `dx = dy/ε` (the clamp is constant).
    static func l2NormalizeBackward(
        _ dy: Tensor, y: Tensor, norms: Tensor, epsilon: Float, into dx: inout Tensor)
}

extension ModelKernels {
    /// Output grid of the patch embedding for an image of `height × width` pixels.
    public static func patchGrid(height: Int, width: Int, patch: Int) -> (rows: Int, cols: Int) {
        (height / patch, width / patch)
    }
}

/// The cubic convolution kernel of PyTorch's bicubic interpolation (Keys 1981) with A = -0.75.
/// Shared by both cores, in Double; each core rounds the four tap weights its own way.
public enum Bicubic {
    public static let a = -0.75

    /// `cub(x)` for `|x| ≤ 1` and `1 < |x| < 2`; zero beyond.
    @inlinable public static func weight(_ x: Double) -> Double {
        let t = abs(x)
        if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
        if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return 0
    }

    /// The four taps (clamped indices) and weights of output index `i` when `outSize` points
    /// are sampled from `inSize` with the "+0.1" scale factor `(outSize + 0.1)/inSize`.
    @inlinable public static func taps(
        _ i: Int, outSize: Int, inSize: Int
    ) -> (index: [Int], weight: [Double]) {
        let scale = (Double(outSize) + 0.1) / Double(inSize)
        let src = (Double(i) + 0.5) / scale - 0.5  // align_corners = False, NOT clamped
        let i0 = Int(src.rounded(.down))
        let t = src - Double(i0)
        let index = (-1...2).map { min(max(i0 + $0, 0), inSize - 1) }
        return (index, [weight(t + 1), weight(t), weight(1 - t), weight(2 - t)])
    }
}
