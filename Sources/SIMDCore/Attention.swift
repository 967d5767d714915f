import DINOCore
import Foundation

/// The shapes of one attention call, checked once.
private func attentionShape(_ qkv: Tensor, heads: Int, _ op: String) -> (b: Int, n: Int, c: Int, dh: Int) {
    check(qkv.shape.count == 3 && qkv.shape[2] % 3 == 0, "\(op): qkv must be [B, N, 3C], got \(qkv.shape)")
    let c = qkv.shape[2] / 3
    check(heads >= 1 && c % heads == 0, "\(op): \(heads) heads do not divide the width \(c)")
    return (qkv.shape[0], qkv.shape[1], c, c / heads)
}

@inline(__always) private func roundUp8(_ x: Int) -> Int { (x + 7) & ~7 }

/// Per-thread buffers for one (image, head) pair, carved out of one allocation. Nothing here
/// is `N × N`: the scores live one query row at a time, so a thread holds O(N·Dh) floats.
private struct HeadScratch {
    let n: Int, n8: Int, dh: Int, dh8: Int
    /// Keys and values transposed, `[Dh, N8]`, pad columns 0: a score panel is 8 contiguous keys.
    let keysT: UnsafeMutablePointer<Float>, valuesT: UnsafeMutablePointer<Float>
    /// Keys and values as rows, `[N, Dh8]`, pad columns 0: the weighted row sums read these.
    let keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>
    /// One query row of scores / probabilities and its gradient, `[N8]` each.
    let scores: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>
    /// One padded query row, one padded dO row and one output row, `[Dh8]` each.
    let query: UnsafeMutablePointer<Float>, dOutRow: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>
    /// Key and value gradients of the pair, `[N, Dh8]` each (backward only).
    let dKeys: UnsafeMutablePointer<Float>, dValues: UnsafeMutablePointer<Float>

    static func floats(n: Int, dh: Int) -> Int {
        let n8 = roundUp8(n), dh8 = roundUp8(dh)
        return 2 * dh * n8 + 4 * n * dh8 + 2 * n8 + 3 * dh8 + 8
    }

    init(_ base: UnsafeMutablePointer<Float>, n: Int, dh: Int) {
        self.n = n; self.dh = dh
        n8 = roundUp8(n); dh8 = roundUp8(dh)
        var p = base
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { p += count }; return p }
        keysT = take(dh * n8); valuesT = take(dh * n8)
        keys = take(n * dh8); values = take(n * dh8)
        dKeys = take(n * dh8); dValues = take(n * dh8)
        scores = take(n8); dScores = take(n8)
        query = take(dh8); dOutRow = take(dh8); row = take(dh8)
    }

    /// Copies head h's keys and values of one image out of the qkv rows (token stride 3C).
    func load(_ qkv: UnsafePointer<Float>, c: Int, head h: Int, transposed: Bool) {
        for j in 0..<n {
            let k = qkv + j * 3 * c + c + h * dh, v = k + c
            for d in 0..<dh {
                keys[j * dh8 + d] = k[d]
                values[j * dh8 + d] = v[d]
                if transposed { keysT[d * n8 + j] = k[d]; valuesT[d * n8 + j] = v[d] }
            }
        }
    }
}

/// `s[j] = scale·Σ_d q[d]·kT[d, j]` for all `n8` columns: each step broadcasts one query
/// element against 8 keys; four panels at once keep four independent FMA chains in flight.
@inline(__always)
private func dotRow(_ q: UnsafePointer<Float>, _ kT: UnsafePointer<Float>, dh: Int, n8: Int, scale: Float,
                    into s: UnsafeMutablePointer<Float>) {
    var p = 0
    while p + 32 <= n8 {
        var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
        for d in 0..<dh {
            let qd = F8(repeating: q[d]), r = kT + d * n8 + p
            a0 = a0.addingProduct(qd, load8(r)); a1 = a1.addingProduct(qd, load8(r + 8))
            a2 = a2.addingProduct(qd, load8(r + 16)); a3 = a3.addingProduct(qd, load8(r + 24))
        }
        store8(a0 * scale, s + p); store8(a1 * scale, s + p + 8)
        store8(a2 * scale, s + p + 16); store8(a3 * scale, s + p + 24)
        p += 32
    }
    while p < n8 {
        var a0 = F8()
        for d in 0..<dh { a0 = a0.addingProduct(F8(repeating: q[d]), load8(kT + d * n8 + p)) }
        store8(a0 * scale, s + p)
        p += 8
    }
}

/// `out[0..<dh8] = Σ_{j<n} w[j]·rows[j, :]` over rows of stride `dh8`, four accumulators.
@inline(__always)
private func weightedRows(_ w: UnsafePointer<Float>, _ rows: UnsafePointer<Float>, n: Int, dh8: Int,
                         into out: UnsafeMutablePointer<Float>) {
    var c = 0
    while c < dh8 {
        var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
        var j = 0
        let col = rows + c
        while j + 4 <= n {
            a0 = a0.addingProduct(F8(repeating: w[j]), load8(col + j * dh8))
            a1 = a1.addingProduct(F8(repeating: w[j + 1]), load8(col + (j + 1) * dh8))
            a2 = a2.addingProduct(F8(repeating: w[j + 2]), load8(col + (j + 2) * dh8))
            a3 = a3.addingProduct(F8(repeating: w[j + 3]), load8(col + (j + 3) * dh8))
            j += 4
        }
        while j < n { a0 = a0.addingProduct(F8(repeating: w[j]), load8(col + j * dh8)); j += 1 }
        store8((a0 + a1) + (a2 + a3), out + c)
        c += 8
    }
}

/// `exp(s[j] - shift)` for j < n written back into `s`, pad lanes set to 0; returns the sum.
@inline(__always)
private func expInPlace(_ s: UnsafeMutablePointer<Float>, n: Int, n8: Int, shift: Float) -> Float {
    let total = expShifted(s, s, n, top: shift, invT: 1)
    for j in n..<n8 { s[j] = 0 }
    return total
}

/// Runs `body(pair, scratch)` for every (image, head) pair, the pairs split into contiguous
/// ranges over `Threads.count` threads, each thread with its own scratch.
@inline(__always)
private func forEachHead(batch: Int, heads: Int, n: Int, dh: Int, _ body: (Int, HeadScratch) -> Void) {
    let pairs = batch * heads
    let work = pairs * n * n * dh
    let threads = work >= 1 << 15 ? max(1, min(Threads.count, pairs)) : 1
    let per = (pairs + threads - 1) / threads
    Threads.parallelFor(threads) { t in
        var buffer = [Float](repeating: 0, count: HeadScratch.floats(n: n, dh: dh))
        buffer.withUnsafeMutableBufferPointer { bp in
            let scratch = HeadScratch(bp.baseAddress!, n: n, dh: dh)
            for pair in (t * per)..<min(pairs, (t + 1) * per) { body(pair, scratch) }
        }
    }
}

extension SIMDKernels {
    /// Multi-head attention, one (image, head) pair per task and one query row at a time.
    /// - Faster: keys are packed transposed so a score panel is 8 keys × Dh FMAs (four panels
    ///   in flight); the softmax runs on that row in registers/L1 with `exp8`; `A V` is a
    ///   weighted sum of packed value rows. (image, head) pairs are split over the threads.
    ///   No `N × N` matrix is ever formed: per thread O(N·Dh) scratch.
    /// - Costs: Float32 dot products in lane order (≈ Dh·u on a score) and `exp8` (≈ 2 ulp).
    /// - Twin: ``ReferenceKernels/attention(_:heads:scale:into:logSumExp:)``
    public static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor
    ) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attention")
        check(out.shape == [batch, n, c], "attention: out is \(out.shape), expected [\(batch), \(n), \(c)]")
        check(logSumExp.count == batch * heads * n, "attention: logSumExp needs \(batch * heads * n) values, has \(logSumExp.count)")
        qkv.storage.withUnsafeBufferPointer { qp in
            out.storage.withUnsafeMutableBufferPointer { op in
                logSumExp.storage.withUnsafeMutableBufferPointer { lp in
                    let o = SharedPointer(base: op.baseAddress!), lse = SharedPointer(base: lp.baseAddress!)
                    forEachHead(batch: batch, heads: heads, n: n, dh: dh) { pair, s in
                        let b = pair / heads, h = pair % heads
                        let image = qp.baseAddress! + b * n * 3 * c
                        s.load(image, c: c, head: h, transposed: true)
                        for i in 0..<n {
                            dotRow(image + i * 3 * c + h * dh, s.keysT, dh: dh, n8: s.n8, scale: scale, into: s.scores)
                            let top = rowMax(s.scores, n)
                            let total = expInPlace(s.scores, n: n, n8: s.n8, shift: top)
                            lse.base[pair * n + i] = top + logf(total)
                            weightedRows(s.scores, s.values, n: n, dh8: s.dh8, into: s.row)
                            let inv = 1 / total, dst = o.base + (b * n + i) * c + h * dh
                            for d in 0..<dh { dst[d] = s.row[d] * inv }
                        }
                    }
                }
            }
        }
    }

    /// Attention backward, flash-attention style: per query row the probabilities are rebuilt
    /// from the saved log-sum-exp, then dQ is written and dK, dV accumulate in the pair's scratch.
    /// - Faster: the same packed panels as the forward; no `N × N` buffer; pairs over threads.
    /// - Costs: Float32 sums in lane order; `A` rebuilt with `exp8` instead of stored.
    /// - Twin: ``ReferenceKernels/attentionBackward(_:qkv:out:logSumExp:heads:scale:into:)``
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor
    ) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attentionBackward")
        check(dOut.shape == [batch, n, c] && out.shape == [batch, n, c],
              "attentionBackward: dOut \(dOut.shape) and out \(out.shape) must be [\(batch), \(n), \(c)]")
        check(dQKV.shape == qkv.shape, "attentionBackward: dQKV is \(dQKV.shape), expected \(qkv.shape)")
        check(logSumExp.count == batch * heads * n, "attentionBackward: logSumExp needs \(batch * heads * n) values")
        qkv.storage.withUnsafeBufferPointer { qp in
            dOut.storage.withUnsafeBufferPointer { gp in
                out.storage.withUnsafeBufferPointer { op in
                    logSumExp.storage.withUnsafeBufferPointer { lp in
                        dQKV.storage.withUnsafeMutableBufferPointer { dp in
                            let dq = SharedPointer(base: dp.baseAddress!)
                            forEachHead(batch: batch, heads: heads, n: n, dh: dh) { pair, s in
                                backwardPair(pair, heads: heads, n: n, c: c, dh: dh, scale: scale,
                                             qkv: qp.baseAddress!, dOut: gp.baseAddress!, out: op.baseAddress!,
                                             logSumExp: lp.baseAddress!, dQKV: dq.base, s)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The backward of one (image, head) pair.
    @inline(__always)
    private static func backwardPair(
        _ pair: Int, heads: Int, n: Int, c: Int, dh: Int, scale: Float, qkv: UnsafePointer<Float>,
        dOut: UnsafePointer<Float>, out: UnsafePointer<Float>, logSumExp: UnsafePointer<Float>,
        dQKV: UnsafeMutablePointer<Float>, _ s: HeadScratch
    ) {
        let b = pair / heads, h = pair % heads
        let image = qkv + b * n * 3 * c, dImage = dQKV + b * n * 3 * c
        s.load(image, c: c, head: h, transposed: true)
        for k in 0..<(n * s.dh8) { s.dKeys[k] = 0; s.dValues[k] = 0 }
        for d in dh..<s.dh8 { s.query[d] = 0; s.dOutRow[d] = 0 }
        let scale8 = F8(repeating: scale)
        for i in 0..<n {
            let q = image + i * 3 * c + h * dh
            let g = dOut + (b * n + i) * c + h * dh, o = out + (b * n + i) * c + h * dh
            for d in 0..<dh { s.query[d] = q[d]; s.dOutRow[d] = g[d] }
            // A row: exp(s - lse), the saved log-sum-exp normalises it exactly as the forward did.
            dotRow(q, s.keysT, dh: dh, n8: s.n8, scale: scale, into: s.scores)
            _ = expInPlace(s.scores, n: n, n8: s.n8, shift: logSumExp[pair * n + i])
            // dA = dO_i · V_jᵀ for every key j; δ_i = dO_i · O_i.
            dotRow(g, s.valuesT, dh: dh, n8: s.n8, scale: 1, into: s.dScores)
            let delta = dot(g, o, dh)
            // dS = A ⊙ (dA - δ), pad lanes stay 0 because A is 0 there.
            let delta8 = F8(repeating: delta)
            var j = 0
            while j < s.n8 {
                store8(load8(s.scores + j) * (load8(s.dScores + j) - delta8), s.dScores + j)
                j += 8
            }
            // dQ_i = scale·Σ_j dS_ij K_j.
            weightedRows(s.dScores, s.keys, n: n, dh8: s.dh8, into: s.row)
            let dQ = dImage + i * 3 * c + h * dh
            for d in 0..<dh { dQ[d] = scale * s.row[d] }
            // dK_j += scale·dS_ij Q_i;  dV_j += A_ij dO_i.
            for j in 0..<n {
                let ak = scale8 * F8(repeating: s.dScores[j]), av = F8(repeating: s.scores[j])
                let dk = s.dKeys + j * s.dh8, dv = s.dValues + j * s.dh8
                var d = 0
                while d < s.dh8 {
                    store8(load8(dk + d).addingProduct(ak, load8(s.query + d)), dk + d)
                    store8(load8(dv + d).addingProduct(av, load8(s.dOutRow + d)), dv + d)
                    d += 8
                }
            }
        }
        for j in 0..<n {
            let dk = dImage + j * 3 * c + c + h * dh, dv = dk + c
            for d in 0..<dh { dk[d] = s.dKeys[j * s.dh8 + d]; dv[d] = s.dValues[j * s.dh8 + d] }
        }
    }

    /// The first `queries` rows of every head's attention matrix, the forward's way.
    /// - Twin: ``ReferenceKernels/attentionProbabilities(_:heads:scale:queries:into:)``
    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor
    ) {
        let (batch, n, c, dh) = attentionShape(qkv, heads: heads, "attentionProbabilities")
        check(queries >= 1 && queries <= n, "attentionProbabilities: queries must be in 1...\(n), got \(queries)")
        check(probs.count == batch * heads * queries * n,
              "attentionProbabilities: probs is \(probs.shape), expected [\(batch), \(heads), \(queries), \(n)]")
        qkv.storage.withUnsafeBufferPointer { qp in
            probs.storage.withUnsafeMutableBufferPointer { pp in
                let p = SharedPointer(base: pp.baseAddress!)
                forEachHead(batch: batch, heads: heads, n: n, dh: dh) { pair, s in
                    let b = pair / heads, h = pair % heads
                    let image = qp.baseAddress! + b * n * 3 * c
                    s.load(image, c: c, head: h, transposed: true)
                    for i in 0..<queries {
                        dotRow(image + i * 3 * c + h * dh, s.keysT, dh: dh, n8: s.n8, scale: scale, into: s.scores)
                        let total = expInPlace(s.scores, n: n, n8: s.n8, shift: rowMax(s.scores, n))
                        let inv = 1 / total, dst = p.base + (pair * queries + i) * n
                        for j in 0..<n { dst[j] = s.scores[j] * inv }
                    }
                }
            }
        }
    }
}
