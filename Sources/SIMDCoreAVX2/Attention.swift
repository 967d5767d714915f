import DINOCore
import Foundation

@inline(__always) private func roundUp8(_ x: Int) -> Int { (x + 7) & ~7 }

/// `dst[0..<n] = src[0..<n]`, eight lanes at a time (a short row: a `memmove` call per row cost
/// more than the copy).
@inline(__always) private func copyFloats(
    _ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int
) {
    var k = 0
    while k + 8 <= n { store8(load8(src + k), dst + k); k += 8 }
    while k < n { dst[k] = src[k]; k += 1 }
}

/// `C[i, 0..<cols8] = α·Σ_p A(i, p)·B[p, 0..<cols8]` for `i < rows`, the one small product
/// every attention step is made of. `A(i, p) = a[i·ars + p·aps]` is read one scalar at a time
/// and broadcast, so the same routine serves A and Aᵀ (swap the strides); B's rows are
/// contiguous, zero-padded to `cols8` (a multiple of 8), stride `ldb`; C's rows have stride `ldc`.
/// A 4 × 16 register tile (eight accumulators, enough independent FMA chains to hide the FMA
/// latency): per depth step two B loads, four broadcasts, eight FMAs.
@inline(__always)
private func smallGemm(
    rows: Int, depth: Int, cols8: Int, alpha: Float,
    a: UnsafePointer<Float>, ars: Int, aps: Int,
    b: UnsafePointer<Float>, ldb: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    let al = F8(repeating: alpha)
    var col = 0
    while col < cols8 {
        let wide = col + 16 <= cols8
        var i = 0
        while i + 4 <= rows {
            let a0 = a + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars
            var c00 = F8(), c10 = F8(), c20 = F8(), c30 = F8()
            if wide {
                var c01 = F8(), c11 = F8(), c21 = F8(), c31 = F8()
                for p in 0..<depth {
                    let bp = b + p * ldb + col, off = p * aps
                    let b0 = load8(bp), b1 = load8(bp + 8)
                    let x0 = F8(repeating: a0[off]), x1 = F8(repeating: a1[off])
                    let x2 = F8(repeating: a2[off]), x3 = F8(repeating: a3[off])
                    c00 = c00.addingProduct(x0, b0); c01 = c01.addingProduct(x0, b1)
                    c10 = c10.addingProduct(x1, b0); c11 = c11.addingProduct(x1, b1)
                    c20 = c20.addingProduct(x2, b0); c21 = c21.addingProduct(x2, b1)
                    c30 = c30.addingProduct(x3, b0); c31 = c31.addingProduct(x3, b1)
                }
                let r = c + i * ldc + col
                store8(al * c00, r); store8(al * c01, r + 8)
                store8(al * c10, r + ldc); store8(al * c11, r + ldc + 8)
                store8(al * c20, r + 2 * ldc); store8(al * c21, r + 2 * ldc + 8)
                store8(al * c30, r + 3 * ldc); store8(al * c31, r + 3 * ldc + 8)
            } else {
                for p in 0..<depth {
                    let b0 = load8(b + p * ldb + col), off = p * aps
                    c00 = c00.addingProduct(F8(repeating: a0[off]), b0)
                    c10 = c10.addingProduct(F8(repeating: a1[off]), b0)
                    c20 = c20.addingProduct(F8(repeating: a2[off]), b0)
                    c30 = c30.addingProduct(F8(repeating: a3[off]), b0)
                }
                let r = c + i * ldc + col
                store8(al * c00, r); store8(al * c10, r + ldc)
                store8(al * c20, r + 2 * ldc); store8(al * c30, r + 3 * ldc)
            }
            i += 4
        }
        while i < rows {
            let a0 = a + i * ars
            var c00 = F8(), c01 = F8()
            for p in 0..<depth {
                let bp = b + p * ldb + col, x0 = F8(repeating: a0[p * aps])
                c00 = c00.addingProduct(x0, load8(bp))
                if wide { c01 = c01.addingProduct(x0, load8(bp + 8)) }
            }
            let r = c + i * ldc + col
            store8(al * c00, r)
            if wide { store8(al * c01, r + 8) }
            i += 1
        }
        col += wide ? 16 : 8
    }
}

/// Per-thread buffers for one image, carved out of one allocation. Panels are zero-padded to
/// multiples of 8 so every product runs whole 8-lane vectors.
private struct HeadScratch {
    let n: Int, n8: Int, dh: Int, dh8: Int, heads: Int
    /// Keys and values transposed, `[Dh8, N8]`, of the current head: the B operand of Q·Kᵀ and dO·Vᵀ.
    let keysT: UnsafeMutablePointer<Float>, valuesT: UnsafeMutablePointer<Float>
    /// Queries, keys, values and dO of every head as rows, `[H, N8, Dh8]`: the B operand of
    /// P·V, dS·K, dSᵀ·Q and Pᵀ·dO.
    let allQueries: UnsafeMutablePointer<Float>, allKeys: UnsafeMutablePointer<Float>
    let allValues: UnsafeMutablePointer<Float>, allDOut: UnsafeMutablePointer<Float>
    /// The attention matrix P and its score gradient dS of the current head, `[N, N8]`.
    let probs: UnsafeMutablePointer<Float>, dScores: UnsafeMutablePointer<Float>
    /// One product's result, `[N8, Dh8]`, before it is copied to its strided destination.
    let tile: UnsafeMutablePointer<Float>

    static func floats(n: Int, dh: Int, heads: Int) -> Int {
        let n8 = roundUp8(n), dh8 = roundUp8(dh)
        return 2 * dh8 * n8 + 4 * heads * n8 * dh8 + 2 * n * n8 + n8 * dh8 + 8
    }

    init(_ base: UnsafeMutablePointer<Float>, n: Int, dh: Int, heads: Int) {
        self.n = n; self.dh = dh; self.heads = heads
        n8 = roundUp8(n); dh8 = roundUp8(dh)
        var p = base
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { p += count }; return p }
        keysT = take(dh8 * n8); valuesT = take(dh8 * n8)
        allQueries = take(heads * n8 * dh8); allKeys = take(heads * n8 * dh8)
        allValues = take(heads * n8 * dh8); allDOut = take(heads * n8 * dh8)
        probs = take(n * n8); dScores = take(n * n8)
        tile = take(n8 * dh8)
        // Pad rows and columns are never written below, so zero them once.
        base.initialize(repeating: 0, count: Self.floats(n: n, dh: dh, heads: heads))
    }

    func queries(_ h: Int) -> UnsafeMutablePointer<Float> { allQueries + h * n8 * dh8 }
    func keys(_ h: Int) -> UnsafeMutablePointer<Float> { allKeys + h * n8 * dh8 }
    func values(_ h: Int) -> UnsafeMutablePointer<Float> { allValues + h * n8 * dh8 }
    func dOut(_ h: Int) -> UnsafeMutablePointer<Float> { allDOut + h * n8 * dh8 }

    /// Splits the first `rows` (default N) `[·, width]` rows of one image (`width` = heads·Dh,
    /// stride `stride`) into the heads' `[N8, Dh8]` panels. The image is read front to back, one
    /// sequential stream the hardware prefetcher follows (packing one head at a time read one
    /// cache line every 3C floats, and stalled on each).
    func split(
        _ src: UnsafePointer<Float>, stride: Int, rows: Int? = nil, into dst: UnsafeMutablePointer<Float>
    ) {
        for j in 0..<(rows ?? n) {
            let row = src + j * stride
            for h in 0..<heads { copyFloats(row + h * dh, dst + h * n8 * dh8 + j * dh8, dh) }
        }
    }

    /// `[Dh8, N8]` from packed `[N8, Dh8]` rows, 8 × 8 blocks at a time with SIMD shuffles.
    func transpose(_ rows: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < n8 {
            var d = 0
            while d < dh8 { transpose8x8(rows + j * dh8 + d, ld: dh8, dst + d * n8 + j, ldd: n8); d += 8 }
            j += 8
        }
    }

    /// Copies the first `dh` columns of the tile's first `rows` (default N) rows to `dst` rows of
    /// stride `stride`.
    func unpackTile(to dst: UnsafeMutablePointer<Float>, stride: Int, rows: Int? = nil) {
        for j in 0..<(rows ?? n) { copyFloats(tile + j * dh8, dst + j * stride, dh) }
    }

    /// P = softmax(scale·Q Kᵀ) for the first `rows` queries (queries read from the qkv rows
    /// `q`, stride 3C). With `logSumExp` given, each row is exp(s - lse) (the forward's
    /// normaliser); otherwise it is computed, written to `lseOut` and the row normalised.
    func probabilities(
        q: UnsafePointer<Float>, qStride: Int, rows: Int, scale: Float,
        logSumExp: UnsafePointer<Float>?, lseOut: UnsafeMutablePointer<Float>?
    ) {
        smallGemm(
            rows: rows, depth: dh, cols8: n8, alpha: scale, a: q, ars: qStride, aps: 1,
            b: keysT, ldb: n8, c: probs, ldc: n8)
        for i in 0..<rows {
            let row = probs + i * n8
            if let logSumExp {
                _ = expShifted(row, row, n, top: logSumExp[i], invT: 1)
            } else {
                let top = rowMax(row, n)
                let total = expShifted(row, row, n, top: top, invT: 1)
                lseOut?[i] = top + logf(total)
                let inv = F8(repeating: 1 / total)
                var j = 0
                while j < n8 { store8(load8(row + j) * inv, row + j); j += 8 }
            }
            for j in n..<n8 { row[j] = 0 }
        }
    }
}

/// Runs `body(image, scratch)` for every image, the images split into contiguous ranges over
/// `Threads.count` threads, each thread with its own scratch.
@inline(__always)
private func forEachImage(batch: Int, heads: Int, n: Int, dh: Int, _ body: (Int, HeadScratch) -> Void) {
    let work = batch * heads * n * n * dh
    let threads = work >= 1 << 15 ? max(1, min(Threads.count, batch)) : 1
    let per = (batch + threads - 1) / threads
    Threads.parallelFor(threads) { t in
        let count = HeadScratch.floats(n: n, dh: dh, heads: heads)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        let scratch = HeadScratch(buffer, n: n, dh: dh, heads: heads)
        for image in (t * per)..<min(batch, (t + 1) * per) { body(image, scratch) }
    }
}

extension SIMDKernels {
    /// Multi-head attention, one (image, head) pair at a time, as three small products in L1/L2:
    /// S = scale·Q Kᵀ, P = softmax rows of S, O = P V.
    /// - Faster: keys are packed transposed and values as padded rows, so both products run a
    ///   4 × 16 register tile (``smallGemm``) over whole 8-lane vectors; the softmax is `expV` on
    ///   rows in cache. images are split over the threads.
    /// - Costs: Float32 dot products in lane order (≈ Dh·u on a score) and `expV` (≈ 2 ulp).
    ///   Scratch O(N² + N·Dh) floats per thread (N ≈ 200 tokens is ≈ 200 KB).
    /// - Twin: ``ReferenceKernels/attention(_:heads:scale:into:logSumExp:)``
    public static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor
    ) {
        let (batch, n, c, dh, q) = KernelContract.attention(
            qkv, heads: heads, into: out, logSumExp: logSumExp)
        qkv.storage.withUnsafeBufferPointer { qp in
            out.storage.withUnsafeMutableBufferPointer { op in
                logSumExp.storage.withUnsafeMutableBufferPointer { lp in
                    let o = SharedPointer(base: op.baseAddress!), lse = SharedPointer(base: lp.baseAddress!)
                    forEachImage(batch: batch, heads: heads, n: n, dh: dh) { b, s in
                        let image = qp.baseAddress! + b * n * 3 * c
                        s.split(image + c, stride: 3 * c, into: s.allKeys)
                        s.split(image + 2 * c, stride: 3 * c, into: s.allValues)
                        for h in 0..<heads {
                            let pair = b * heads + h
                            s.transpose(s.keys(h), into: s.keysT)
                            s.probabilities(
                                q: image + h * dh, qStride: 3 * c, rows: q, scale: scale,
                                logSumExp: nil, lseOut: lse.base + pair * q)
                            smallGemm(
                                rows: q, depth: n, cols8: s.dh8, alpha: 1, a: s.probs, ars: s.n8, aps: 1,
                                b: s.values(h), ldb: s.dh8, c: s.tile, ldc: s.dh8)
                            s.unpackTile(to: o.base + b * q * c + h * dh, stride: c, rows: q)
                        }
                    }
                }
            }
        }
    }

    /// Attention backward per (image, head) pair: P is rebuilt from the saved log-sum-exp, then
    /// dP = dO Vᵀ, dS = P ⊙ (dP - rowsum(dO ⊙ O)), dQ = scale·dS K, dK = scale·dSᵀ Q, dV = Pᵀ dO,
    /// each the same small product (the transposed ones only swap the strides of A).
    /// - Faster: everything of one image stays in L1/L2; images over threads.
    /// - Costs: Float32 sums in lane order; P rebuilt with `expV` instead of stored.
    /// - Twin: ``ReferenceKernels/attentionBackward(_:qkv:out:logSumExp:heads:scale:into:)``
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor
    ) {
        let (batch, n, c, dh, q) = KernelContract.attentionBackward(
            dOut, qkv: qkv, out: out, logSumExp: logSumExp, heads: heads, into: dQKV)
        qkv.storage.withUnsafeBufferPointer { qp in
            dOut.storage.withUnsafeBufferPointer { gp in
                out.storage.withUnsafeBufferPointer { op in
                    logSumExp.storage.withUnsafeBufferPointer { lp in
                        dQKV.storage.withUnsafeMutableBufferPointer { dp in
                            let dq = SharedPointer(base: dp.baseAddress!)
                            forEachImage(batch: batch, heads: heads, n: n, dh: dh) { b, s in
                                let image = qp.baseAddress! + b * n * 3 * c
                                let gImage = gp.baseAddress! + b * q * c, oImage = op.baseAddress! + b * q * c
                                s.split(image, stride: 3 * c, rows: q, into: s.allQueries)
                                s.split(image + c, stride: 3 * c, into: s.allKeys)
                                s.split(image + 2 * c, stride: 3 * c, into: s.allValues)
                                s.split(gImage, stride: c, rows: q, into: s.allDOut)
                                for h in 0..<heads {
                                    let pair = b * heads + h
                                    let g = gImage + h * dh, o = oImage + h * dh
                                    let dHead = dq.base + b * n * 3 * c + h * dh
                                    s.transpose(s.keys(h), into: s.keysT)
                                    s.transpose(s.values(h), into: s.valuesT)
                                    s.probabilities(
                                        q: image + h * dh, qStride: 3 * c, rows: q, scale: scale,
                                        logSumExp: lp.baseAddress! + pair * q, lseOut: nil)
                                    // dP = dO Vᵀ, then dS = P ⊙ (dP - δ) with δ_i = dO_i · O_i, for
                                    // the Q query rows.
                                    smallGemm(
                                        rows: q, depth: dh, cols8: s.n8, alpha: 1, a: s.dOut(h), ars: s.dh8,
                                        aps: 1,
                                        b: s.valuesT, ldb: s.n8, c: s.dScores, ldc: s.n8)
                                    for i in 0..<q {
                                        let delta = F8(repeating: dot(g + i * c, o + i * c, dh))
                                        let p = s.probs + i * s.n8, ds = s.dScores + i * s.n8
                                        var j = 0
                                        while j < s.n8 {
                                            store8(load8(p + j) * (load8(ds + j) - delta), ds + j); j += 8
                                        }
                                    }
                                    // dQ = scale·dS K (0 past the Q query rows).
                                    smallGemm(
                                        rows: q, depth: n, cols8: s.dh8, alpha: scale, a: s.dScores,
                                        ars: s.n8, aps: 1,
                                        b: s.keys(h), ldb: s.dh8, c: s.tile, ldc: s.dh8)
                                    s.unpackTile(to: dHead, stride: 3 * c, rows: q)
                                    for j in q..<n { (dHead + j * 3 * c).update(repeating: 0, count: dh) }
                                    // dK = scale·dSᵀ Q, summed over the Q queries.
                                    smallGemm(
                                        rows: n, depth: q, cols8: s.dh8, alpha: scale, a: s.dScores, ars: 1,
                                        aps: s.n8,
                                        b: s.queries(h), ldb: s.dh8, c: s.tile, ldc: s.dh8)
                                    s.unpackTile(to: dHead + c, stride: 3 * c)
                                    // dV = Pᵀ dO, summed over the Q queries.
                                    smallGemm(
                                        rows: n, depth: q, cols8: s.dh8, alpha: 1, a: s.probs, ars: 1,
                                        aps: s.n8,
                                        b: s.dOut(h), ldb: s.dh8, c: s.tile, ldc: s.dh8)
                                    s.unpackTile(to: dHead + 2 * c, stride: 3 * c)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first `queries` rows of every head's attention matrix, the forward's way.
    /// - Twin: ``ReferenceKernels/attentionProbabilities(_:heads:scale:queries:into:)``
    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor
    ) {
        let (batch, n, c, dh) = KernelContract.attentionProbabilities(
            qkv, heads: heads, queries: queries, into: probs)
        qkv.storage.withUnsafeBufferPointer { qp in
            probs.storage.withUnsafeMutableBufferPointer { pp in
                let p = SharedPointer(base: pp.baseAddress!)
                forEachImage(batch: batch, heads: heads, n: n, dh: dh) { b, s in
                    let image = qp.baseAddress! + b * n * 3 * c
                    s.split(image + c, stride: 3 * c, into: s.allKeys)
                    for h in 0..<heads {
                        let pair = b * heads + h
                        s.transpose(s.keys(h), into: s.keysT)
                        s.probabilities(
                            q: image + h * dh, qStride: 3 * c, rows: queries, scale: scale,
                            logSumExp: nil, lseOut: nil)
                        for i in 0..<queries {
                            (p.base + (pair * queries + i) * n).update(from: s.probs + i * s.n8, count: n)
                        }
                    }
                }
            }
        }
    }
}
