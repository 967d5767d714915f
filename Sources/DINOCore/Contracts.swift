/// The argument contract of every ``KernelSet`` requirement, stated once for both cores.
///
/// Each function checks what its requirement accepts (shapes, element counts, temperatures,
/// step numbers), stops with a message naming the op when a call breaks it, and returns the
/// sizes the kernel needs. `ReferenceKernels` and `SIMDKernels` (every build) call the same
/// function first thing, so the two cores can never disagree on what a valid call is; their
/// loops only compute. One function per requirement, named after it, in protocol order.
/// `sumOfSquares` takes any tensor and has none.
public enum KernelContract {}

/// Stops with `message` when `condition` is false: the one precondition every contract uses.
@inline(__always) func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    precondition(condition, message())
}

// MARK: LinearAlgebraKernels

extension KernelContract {
    /// ``LinearAlgebraKernels/matmul(_:_:layout:bias:accumulate:into:)``: (M, K, N) of
    /// `C = op(A)·op(B)`, with C `[M, N]` and the bias N values.
    public static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, into c: Tensor
    ) -> (m: Int, k: Int, n: Int) {
        let (m, k, n) = layout.dimensions(a, b)
        check(c.rows == m && c.cols == n, "matmul \(layout): C is \(c.shape), expected [\(m), \(n)]")
        if let bias { check(bias.count == n, "matmul: bias has \(bias.count) values, expected \(n)") }
        return (m, k, n)
    }
}

// MARK: ElementwiseKernels

extension KernelContract {
    /// ``ElementwiseKernels/add(_:_:into:)``: three equal element counts.
    public static func add(_ a: Tensor, _ b: Tensor, into c: Tensor) {
        check(a.count == b.count && c.count == a.count, "add: \(a.shape) + \(b.shape) into \(c.shape)")
    }

    /// ``ElementwiseKernels/scale(_:by:into:)``: equal element counts.
    public static func scale(_ x: Tensor, into y: Tensor) {
        check(x.count == y.count, "scale: \(x.shape) into \(y.shape)")
    }

    /// ``ElementwiseKernels/axpy(_:_:_:)``: equal element counts.
    public static func axpy(_ x: Tensor, _ y: Tensor) {
        check(x.count == y.count, "axpy: \(x.shape) into \(y.shape)")
    }

    /// ``ElementwiseKernels/addRow(_:_:scale:into:)``: `v` has `x.cols` values, `y` as many as `x`.
    public static func addRow(_ x: Tensor, _ v: Tensor, into y: Tensor) {
        check(v.count == x.cols && y.count == x.count, "addRow: \(x.shape) + row \(v.shape) into \(y.shape)")
    }

    /// ``ElementwiseKernels/gelu(_:into:)``: equal element counts.
    public static func gelu(_ x: Tensor, into y: Tensor) {
        check(x.count == y.count, "gelu: \(x.shape) into \(y.shape)")
    }

    /// ``ElementwiseKernels/geluBackward(_:_:output:into:)``: four equal element counts.
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: Tensor) {
        check(
            dy.count == x.count && y.count == x.count && dx.count == x.count,
            "geluBackward: dy \(dy.shape), x \(x.shape), y \(y.shape), dx \(dx.shape)")
    }
}

// MARK: RowKernels

extension KernelContract {
    /// ``RowKernels/softmax(_:temperature:into:)``: `p` shaped as `x`, τ > 0.
    public static func softmax(_ x: Tensor, temperature: Float, into p: Tensor) {
        check(p.shape == x.shape, "softmax: \(x.shape) into \(p.shape)")
        check(temperature > 0, "softmax: temperature must be > 0, got \(temperature)")
    }

    /// ``RowKernels/logSoftmax(_:temperature:into:)``: `lp` shaped as `x`, τ > 0.
    public static func logSoftmax(_ x: Tensor, temperature: Float, into lp: Tensor) {
        check(lp.shape == x.shape, "logSoftmax: \(x.shape) into \(lp.shape)")
        check(temperature > 0, "logSoftmax: temperature must be > 0, got \(temperature)")
    }

    /// ``RowKernels/rowEntropy(_:into:)``: one value per row.
    public static func rowEntropy(_ p: Tensor, into h: Tensor) {
        check(h.count == p.rows, "rowEntropy: \(p.rows) rows into \(h.count) values")
    }

    /// ``RowKernels/rowCrossEntropy(target:logProbs:into:)``: `t` shaped as `ls`, one value per row.
    public static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: Tensor) {
        check(
            t.shape == ls.shape && h.count == t.rows,
            "rowCrossEntropy: \(t.shape) vs \(ls.shape) into \(h.count)")
    }

    /// ``RowKernels/softmaxCrossEntropy(_:temperature:target:gradientScale:loss:gradient:)``:
    /// target and gradient shaped as the logits, one loss per row, τ > 0.
    public static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, loss h: Tensor, gradient dx: Tensor
    ) {
        check(
            t.shape == x.shape && dx.shape == x.shape && h.count == x.rows,
            "softmaxCrossEntropy: logits \(x.shape), target \(t.shape), gradient \(dx.shape), loss \(h.count)"
        )
        check(temperature > 0, "softmaxCrossEntropy: temperature must be > 0, got \(temperature)")
    }

    /// ``RowKernels/l2Normalize(_:epsilon:into:norms:)``: `y` shaped as `x`, one norm per row.
    public static func l2Normalize(_ x: Tensor, into y: Tensor, norms: Tensor) {
        check(
            y.shape == x.shape && norms.count == x.rows,
            "l2Normalize: \(x.shape) into \(y.shape), norms \(norms.count)")
    }

    /// ``RowKernels/rowSums(_:into:)``: one sum per row.
    public static func rowSums(_ x: Tensor, into s: Tensor) {
        check(s.count == x.rows, "rowSums: \(x.rows) rows into \(s.count)")
    }

    /// ``RowKernels/columnSums(_:accumulate:into:)``: one sum per column.
    public static func columnSums(_ x: Tensor, into s: Tensor) {
        check(s.count == x.cols, "columnSums: \(x.cols) columns into \(s.count)")
    }
}

// MARK: NormalizationKernels

/// LayerNorm's and BatchNorm's shapes, which differ only in the statistics: one mean and rstd
/// per row (LayerNorm) or per column (BatchNorm). Returns C = `x.cols`.
private func normalizationShape(
    _ op: String, _ x: Tensor, weight: Tensor, bias: Tensor, y: Tensor, mean: Tensor, rstd: Tensor,
    statistics: Int, note: String
) -> Int {
    let c = x.cols
    check(
        weight.count == c && bias.count == c,
        "\(op): weight \(weight.shape), bias \(bias.shape) for \(c) features")
    check(
        y.shape == x.shape && mean.count == statistics && rstd.count == statistics,
        "\(op): \(x.shape) into \(y.shape), mean \(mean.count), rstd \(rstd.count)\(note)")
    return c
}

/// The backward's shapes of both: `dy` and `dx` shaped as `x`, C values per parameter and its
/// gradient, `statistics` saved means and rstds. Returns C.
private func normalizationBackwardShape(
    _ op: String, _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
    dx: Tensor, dWeight: Tensor, dBias: Tensor, statistics: Int
) -> Int {
    let c = x.cols
    check(dy.shape == x.shape && dx.shape == x.shape, "\(op): dy \(dy.shape), x \(x.shape), dx \(dx.shape)")
    check(
        weight.count == c && dWeight.count == c && dBias.count == c,
        "\(op): parameter sizes for \(c) features")
    check(mean.count == statistics && rstd.count == statistics, "\(op): mean/rstd need \(statistics) values")
    return c
}

extension KernelContract {
    /// ``NormalizationKernels/layerNorm(_:weight:bias:epsilon:into:mean:rstd:)``: C = `x.cols`
    /// parameters each, `y` shaped as `x`, one mean and rstd per row. Returns C.
    public static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, into y: Tensor, mean: Tensor, rstd: Tensor
    ) -> Int {
        normalizationShape(
            "layerNorm", x, weight: weight, bias: bias, y: y, mean: mean, rstd: rstd,
            statistics: x.rows, note: "")
    }

    /// ``NormalizationKernels/layerNormBackward(_:_:weight:mean:rstd:dx:dWeight:dBias:)``: `dy`
    /// and `dx` shaped as `x`, C = `x.cols` values per parameter, one mean and rstd per row.
    /// Returns C.
    public static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: Tensor, dWeight: Tensor, dBias: Tensor
    ) -> Int {
        normalizationBackwardShape(
            "layerNormBackward", dy, x, weight: weight, mean: mean, rstd: rstd,
            dx: dx, dWeight: dWeight, dBias: dBias, statistics: x.rows)
    }

    /// ``NormalizationKernels/batchNorm(_:weight:bias:epsilon:into:mean:rstd:)``: C = `x.cols`
    /// parameters each, `y` shaped as `x`, one mean and rstd per column. Returns C.
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, into y: Tensor, mean: Tensor, rstd: Tensor
    ) -> Int {
        normalizationShape(
            "batchNorm", x, weight: weight, bias: bias, y: y, mean: mean, rstd: rstd,
            statistics: x.cols, note: " (one per column)")
    }

    /// ``NormalizationKernels/batchNormBackward(_:_:weight:mean:rstd:dx:dWeight:dBias:)``: `dy`
    /// and `dx` shaped as `x`, C = `x.cols` values per parameter and per statistic. Returns C.
    public static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: Tensor, dWeight: Tensor, dBias: Tensor
    ) -> Int {
        normalizationBackwardShape(
            "batchNormBackward", dy, x, weight: weight, mean: mean, rstd: rstd,
            dx: dx, dWeight: dWeight, dBias: dBias, statistics: x.cols)
    }
}

// MARK: OptimizerKernels

extension KernelContract {
    /// ``OptimizerKernels/emaUpdate(_:toward:momentum:)``: equal element counts.
    public static func emaUpdate(_ teacher: Tensor, toward student: Tensor) {
        check(teacher.count == student.count, "emaUpdate: teacher \(teacher.shape), student \(student.shape)")
    }

    /// ``OptimizerKernels/adamWStep(_:grad:m:v:step:hyper:)``: four equal element counts, and
    /// `step` counting from 1.
    public static func adamWStep(_ param: Tensor, grad: Tensor, m: Tensor, v: Tensor, step: Int) {
        check(
            param.count == grad.count && m.count == grad.count && v.count == grad.count,
            "adamWStep: param \(param.shape), grad \(grad.shape), m \(m.shape), v \(v.shape)")
        check(step >= 1, "adamWStep: step counts from 1, got \(step)")
    }
}

// MARK: ModelKernels

/// The shapes of an attention call: `qkv` is `[B, N, 3C]` with `heads` dividing C. Returns B,
/// N, C and Dh = C/heads; stops with a message naming `op`.
private func attentionShape(_ qkv: Tensor, heads: Int, _ op: String) -> (b: Int, n: Int, c: Int, dh: Int) {
    check(qkv.shape.count == 3 && qkv.shape[2] % 3 == 0, "\(op): qkv must be [B, N, 3C], got \(qkv.shape)")
    let c = qkv.shape[2] / 3
    check(heads >= 1 && c % heads == 0, "\(op): \(heads) heads do not divide the width \(c)")
    return (qkv.shape[0], qkv.shape[1], c, c / heads)
}

/// The query count Q of an attention output `[B, Q, C]` (1 ≤ Q ≤ N), or a stop naming the shapes.
private func attentionQueries(_ out: Tensor, batch: Int, tokens n: Int, width c: Int, _ what: String) -> Int {
    check(
        out.shape.count == 3 && out.shape[0] == batch && out.shape[2] == c && (1...n).contains(out.shape[1]),
        "\(what) is \(out.shape), expected [\(batch), Q, \(c)] with 1 ≤ Q ≤ \(n)")
    return out.shape[1]
}

/// Checks the shapes of a patch embedding and returns (B, Cin, H, W, D, gh, gw).
private func patchEmbedShape(
    _ images: Tensor, weightShape: [Int], patch p: Int, _ op: String
)
    -> (b: Int, ch: Int, h: Int, w: Int, d: Int, gh: Int, gw: Int)
{
    check(images.shape.count == 4, "\(op): images must be [B, C, H, W], got \(images.shape)")
    let (b, ch, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    check(p >= 1 && h >= p && w >= p, "\(op): patch \(p) does not fit images of \(h)×\(w)")
    check(
        weightShape.count == 4 && weightShape[1] == ch && weightShape[2] == p && weightShape[3] == p,
        "\(op): weight must be [D, \(ch), \(p), \(p)], got \(weightShape)")
    return (b, ch, h, w, weightShape[0], h / p, w / p)
}

/// Checks a position-embedding resampling call and returns the width D.
private func resampleShape(
    table: Tensor, sourceGrid g: Int, out: Tensor, rows: Int, cols: Int, _ op: String
) -> Int {
    check(
        g >= 1 && rows >= 1 && cols >= 1,
        "\(op): grids must be non-empty (source \(g), target \(rows)×\(cols))")
    check(table.rows == 1 + g * g, "\(op): table \(table.shape) must have 1 + \(g)² = \(1 + g * g) rows")
    check(
        out.rows == 1 + rows * cols && out.cols == table.cols,
        "\(op): output \(out.shape) must have 1 + \(rows)·\(cols) = \(1 + rows * cols) rows of \(table.cols)")
    return table.cols
}

extension KernelContract {
    /// ``ModelKernels/attention(_:heads:scale:into:logSumExp:)``: `qkv` `[B, N, 3C]` with
    /// `heads` dividing C, `out` `[B, Q, C]` with 1 ≤ Q ≤ N, `logSumExp` B·H·Q values.
    /// Returns B, N, C, Dh = C/H and Q.
    public static func attention(
        _ qkv: Tensor, heads: Int, into out: Tensor, logSumExp: Tensor
    ) -> (b: Int, n: Int, c: Int, dh: Int, q: Int) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attention")
        let q = attentionQueries(out, batch: batch, tokens: n, width: c, "attention: out")
        check(
            logSumExp.count == batch * heads * q,
            "attention: logSumExp needs \(batch * heads * q) values, has \(logSumExp.count)")
        return (batch, n, c, dh, q)
    }

    /// ``ModelKernels/attentionBackward(_:qkv:out:logSumExp:heads:scale:into:)``: the forward's
    /// shapes, `dOut` shaped as `out`, `dQKV` as `qkv`. Returns B, N, C, Dh and Q.
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, into dQKV: Tensor
    ) -> (b: Int, n: Int, c: Int, dh: Int, q: Int) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attentionBackward")
        let q = attentionQueries(out, batch: batch, tokens: n, width: c, "attentionBackward: out")
        check(dOut.shape == out.shape, "attentionBackward: dOut is \(dOut.shape), out \(out.shape)")
        check(dQKV.shape == qkv.shape, "attentionBackward: dQKV is \(dQKV.shape), expected \(qkv.shape)")
        check(
            logSumExp.count == batch * heads * q,
            "attentionBackward: logSumExp needs \(batch * heads * q) values")
        return (batch, n, c, dh, q)
    }

    /// ``ModelKernels/attentionProbabilities(_:heads:scale:queries:into:)``: `qkv` as for
    /// attention, 1 ≤ queries ≤ N, `probs` B·H·queries·N values. Returns B, N, C and Dh.
    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, queries: Int, into probs: Tensor
    ) -> (b: Int, n: Int, c: Int, dh: Int) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attentionProbabilities")
        check(
            queries >= 1 && queries <= n,
            "attentionProbabilities: queries must be in 1...\(n), got \(queries)")
        check(
            probs.count == batch * heads * queries * n,
            "attentionProbabilities: probs is \(probs.shape), expected [\(batch), \(heads), \(queries), \(n)]"
        )
        return (batch, n, c, dh)
    }

    /// ``ModelKernels/patchEmbed(_:weight:bias:patch:into:)``: images `[B, Cin, H, W]` with
    /// H, W ≥ p, weight `[D, Cin, p, p]`, bias D values, tokens `[B, gh·gw, D]`.
    /// Returns (B, Cin, H, W, D, gh, gw).
    public static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch p: Int, into tokens: Tensor
    ) -> (b: Int, ch: Int, h: Int, w: Int, d: Int, gh: Int, gw: Int) {
        let s = patchEmbedShape(images, weightShape: weight.shape, patch: p, "patchEmbed")
        check(bias.count == s.d, "patchEmbed: bias has \(bias.count) values, expected \(s.d)")
        check(
            tokens.shape == [s.b, s.gh * s.gw, s.d],
            "patchEmbed: tokens is \(tokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        return s
    }

    /// ``ModelKernels/patchEmbedBackward(_:images:patch:dWeight:dBias:)``: the forward's shapes,
    /// with `dWeight` and `dBias` in place of the parameters and `dTokens` of the tokens.
    /// Returns (B, Cin, H, W, D, gh, gw).
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch p: Int, dWeight: Tensor, dBias: Tensor
    ) -> (b: Int, ch: Int, h: Int, w: Int, d: Int, gh: Int, gw: Int) {
        let s = patchEmbedShape(images, weightShape: dWeight.shape, patch: p, "patchEmbedBackward")
        check(dBias.count == s.d, "patchEmbedBackward: dBias has \(dBias.count) values, expected \(s.d)")
        check(
            dTokens.shape == [s.b, s.gh * s.gw, s.d],
            "patchEmbedBackward: dTokens is \(dTokens.shape), expected [\(s.b), \(s.gh * s.gw), \(s.d)]")
        return s
    }

    /// ``ModelKernels/resamplePositionEmbedding(_:sourceGrid:rows:cols:into:)``: non-empty grids,
    /// a table of `1 + g²` rows, an output of `1 + rows·cols` rows as wide as the table.
    /// Returns the width D.
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: Tensor
    ) -> Int {
        resampleShape(
            table: table, sourceGrid: g, out: out, rows: rows, cols: cols, "resamplePositionEmbedding")
    }

    /// ``ModelKernels/resamplePositionEmbeddingBackward(_:sourceGrid:rows:cols:into:)``: the
    /// forward's shapes, `dTable` in place of the table and `dOut` of the output. Returns D.
    public static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: Tensor
    ) -> Int {
        resampleShape(
            table: dTable, sourceGrid: g, out: dOut, rows: rows, cols: cols,
            "resamplePositionEmbeddingBackward")
    }

    /// ``ModelKernels/weightNorm(_:g:into:norms:)``: one gain and one norm per row of `v`, `w`
    /// shaped as `v`.
    public static func weightNorm(_ v: Tensor, g: Tensor, into w: Tensor, norms: Tensor) {
        check(
            g.count == v.rows && w.shape == v.shape && norms.count == v.rows,
            "weightNorm: v \(v.shape), g \(g.shape), w \(w.shape), norms \(norms.shape)")
    }

    /// ``ModelKernels/weightNormBackward(_:v:g:norms:dV:dG:)``: `dW` and `dV` shaped as `v`,
    /// one gain, norm and gain gradient per row.
    public static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: Tensor, dG: Tensor
    ) {
        check(
            dW.shape == v.shape && dV.shape == v.shape && g.count == v.rows && norms.count == v.rows
                && dG.count == v.rows,
            "weightNormBackward: dW \(dW.shape), v \(v.shape), g \(g.shape), norms \(norms.shape), dV \(dV.shape), dG \(dG.shape)"
        )
    }

    /// ``ModelKernels/l2NormalizeBackward(_:y:norms:epsilon:into:)``: `dy` and `dx` shaped as
    /// `y`, one norm per row.
    public static func l2NormalizeBackward(_ dy: Tensor, y: Tensor, norms: Tensor, into dx: Tensor) {
        check(
            dy.shape == y.shape && dx.shape == y.shape && norms.count == y.rows,
            "l2NormalizeBackward: dy \(dy.shape), y \(y.shape), norms \(norms.shape), dx \(dx.shape)")
    }
}
