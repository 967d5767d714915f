import DINOCore
import Foundation

/// Runs `body(row)` over the rows of an `[rows, cols]` problem, split across threads when large.
@inline(__always)
func forEachRow(_ rows: Int, cols: Int, _ body: (Int) -> Void) {
    parallelRows(rows, work: rows * cols * 8) { range in for i in range { body(i) } }
}

/// Max of `n` floats, 8 lanes at a time.
@inline(__always) func rowMax(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    // Four independent maxima: one chain would wait on vmaxps latency every step.
    var m0 = FV(repeating: -.infinity), m1 = m0, m2 = m0, m3 = m0
    var j = 0
    while j + 4 * lanes <= n {
        m0 = pointwiseMaxFast(m0, loadV(p + j))
        m1 = pointwiseMaxFast(m1, loadV(p + j + lanes))
        m2 = pointwiseMaxFast(m2, loadV(p + j + 2 * lanes))
        m3 = pointwiseMaxFast(m3, loadV(p + j + 3 * lanes))
        j += 4 * lanes
    }
    while j + lanes <= n { m0 = pointwiseMaxFast(m0, loadV(p + j)); j += lanes }
    var top = pointwiseMaxFast(pointwiseMaxFast(m0, m1), pointwiseMaxFast(m2, m3)).max()
    while j < n { top = max(top, p[j]); j += 1 }
    return top
}

/// `pointwiseMax` compiles to a per-lane loop in Swift 6.3; a compare + blend does not.
@inline(__always) func pointwiseMaxFast(_ a: FV, _ b: FV) -> FV { a.replacing(with: b, where: b .> a) }

/// `Σ exp((x_j - top)·invT)` written into `out` (unnormalised), returning the sum.
@inline(__always)
func expShifted(
    _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int, top: Float, invT: Float
) -> Float {
    var sum = FV(), sum2 = FV()
    var j = 0
    let shift = FV(repeating: top), s = FV(repeating: invT)
    while j + 2 * lanes <= n {
        let e0 = expV((loadV(x + j) - shift) * s), e1 = expV((loadV(x + j + lanes) - shift) * s)
        storeV(e0, out + j)
        storeV(e1, out + j + lanes)
        sum += e0
        sum2 += e1
        j += 2 * lanes
    }
    sum += sum2
    while j + lanes <= n {
        let e = expV((loadV(x + j) - shift) * s)
        storeV(e, out + j)
        sum += e
        j += lanes
    }
    var total = sum.sum()
    if j < n {
        var v = FV(repeating: -.infinity)
        for l in 0..<(n - j) { v[l] = x[j + l] }
        let e = expV((v - shift) * s)
        for l in 0..<(n - j) { out[j + l] = e[l]; total += e[l] }
    }
    return total
}

extension SIMDKernels {
    /// Row-wise softmax of `x / τ`, eight lanes at a time, rows split across threads.
    /// - Faster: one pass for the max, one fused pass for exp + sum (`expV`), one scaling pass.
    /// - Costs: Float32 sums in lane order; `expV` is within ~2 ulp of libm.
    /// - Twin: ``ReferenceKernels/softmax(_:temperature:into:)``
    public static func softmax(_ x: Tensor, temperature: Float, into p: inout Tensor) {
        KernelContract.softmax(x, temperature: temperature, into: p)
        let cols = x.cols, invT = 1 / temperature
        x.storage.withUnsafeBufferPointer { xp in
            p.storage.withUnsafeMutableBufferPointer { pp in
                let out = SharedPointer(base: pp.baseAddress!)
                forEachRow(x.rows, cols: cols) { i in
                    let xr = xp.baseAddress! + i * cols, pr = out.base + i * cols
                    // max of x/τ = (max x)/τ for τ > 0: shift before scaling, as the reference does.
                    let top = rowMax(xr, cols)
                    let inv = 1 / expShifted(xr, pr, cols, top: top, invT: invT)
                    forEachLane(cols, { storeV(loadV(pr + $0) * inv, pr + $0) }, tail: { pr[$0] *= inv })
                }
            }
        }
    }

    public static func logSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor) {
        KernelContract.logSoftmax(x, temperature: temperature, into: lp)
        let cols = x.cols, invT = 1 / temperature
        x.storage.withUnsafeBufferPointer { xp in
            lp.storage.withUnsafeMutableBufferPointer { pp in
                let out = SharedPointer(base: pp.baseAddress!)
                forEachRow(x.rows, cols: cols) { i in
                    let xr = xp.baseAddress! + i * cols, pr = out.base + i * cols
                    let top = rowMax(xr, cols)
                    let logSum = Float(log(Double(expShifted(xr, pr, cols, top: top, invT: invT))))
                    let s = FV(repeating: invT), shift = FV(repeating: top), l = FV(repeating: logSum)
                    forEachLane(
                        cols, { storeV((loadV(xr + $0) - shift) * s - l, pr + $0) },
                        tail: { pr[$0] = (xr[$0] - top) * invT - logSum })
                }
            }
        }
    }

    /// Row entropies `h_i = -Σ_j p_ij·log p_ij` (terms with p = 0, or below the smallest normal
    /// float, count as 0), eight lanes at a time with ``logV``, rows split across threads.
    /// - Costs: Float32 sums in lane order against the reference's Double sum of libm logs.
    /// - Twin: ``ReferenceKernels/rowEntropy(_:into:)``
    public static func rowEntropy(_ p: Tensor, into h: inout Tensor) {
        KernelContract.rowEntropy(p, into: h)
        let cols = p.cols
        p.storage.withUnsafeBufferPointer { pp in
            h.storage.withUnsafeMutableBufferPointer { hp in
                let out = SharedPointer(base: hp.baseAddress!)
                forEachRow(p.rows, cols: cols * 4) { i in
                    let r = pp.baseAddress! + i * cols
                    let tiny = FV(repeating: .leastNormalMagnitude)
                    var s0 = FV(), s1 = FV()
                    var j = 0
                    while j + 2 * lanes <= cols {
                        let a = loadV(r + j), b = loadV(r + j + lanes)
                        s0 = s0.addingProduct(a, logV(a).replacing(with: 0, where: a .< tiny))
                        s1 = s1.addingProduct(b, logV(b).replacing(with: 0, where: b .< tiny))
                        j += 2 * lanes
                    }
                    var total = (s0 + s1).sum()
                    while j < cols {
                        if r[j] >= .leastNormalMagnitude { total += r[j] * logf(r[j]) }
                        j += 1
                    }
                    out.base[i] = -total
                }
            }
        }
    }

    /// Row cross-entropies `-Σ_j t_ij·ls_ij` (dot products with four accumulators), rows split
    /// across threads.
    /// - Twin: ``ReferenceKernels/rowCrossEntropy(target:logProbs:into:)``
    public static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: inout Tensor) {
        KernelContract.rowCrossEntropy(target: t, logProbs: ls, into: h)
        let cols = t.cols
        t.storage.withUnsafeBufferPointer { tp in
            ls.storage.withUnsafeBufferPointer { lp in
                h.storage.withUnsafeMutableBufferPointer { hp in
                    let out = SharedPointer(base: hp.baseAddress!)
                    forEachRow(t.rows, cols: cols) { i in
                        out.base[i] = -dot(tp.baseAddress! + i * cols, lp.baseAddress! + i * cols, cols)
                    }
                }
            }
        }
    }

    /// The student side of the DINO loss in one pass over each row's memory: max and Σt, then
    /// `e = exp((x - max)/τ)` written into `dx` with its sum Z, then in one sweep
    /// `ls = (x - max)/τ - ln Z`, `H -= t·ls` and `dx = α·(n/Z)·e - α·t`. A 2048-wide row of x,
    /// t and dx is 24 KB, so the second and third sweeps run in L1; rows split across threads.
    /// The unfused version (log-softmax, softmax, target-weighted dot, axpy, scale) makes about
    /// 15 passes over [V·B, K] arrays and was 7% of the default training step.
    /// - Costs: `expV` (≈ 2 ulp), Float32 sums in lane order, ln Z in Double.
    /// - Twin: ``ReferenceKernels/softmaxCrossEntropy(_:temperature:target:gradientScale:loss:gradient:)``
    public static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, gradientScale alpha: Float,
        loss h: inout Tensor, gradient dx: inout Tensor
    ) {
        KernelContract.softmaxCrossEntropy(x, temperature: temperature, target: t, loss: h, gradient: dx)
        let cols = x.cols, invT = 1 / temperature
        x.storage.withUnsafeBufferPointer { xp in
            t.storage.withUnsafeBufferPointer { tp in
                dx.storage.withUnsafeMutableBufferPointer { gp in
                    h.storage.withUnsafeMutableBufferPointer { hp in
                        let grad = SharedPointer(base: gp.baseAddress!),
                            loss = SharedPointer(base: hp.baseAddress!)
                        forEachRow(x.rows, cols: cols * 3) { i in
                            let xr = xp.baseAddress! + i * cols, tr = tp.baseAddress! + i * cols
                            let gr = grad.base + i * cols
                            let top = rowMax(xr, cols), n = sum(tr, cols)
                            let z = expShifted(xr, gr, cols, top: top, invT: invT)
                            let logZ = Float(log(Double(z)))
                            let a = FV(repeating: alpha), an = FV(repeating: alpha * n / z)
                            let s = FV(repeating: invT), shift = FV(repeating: top), l = FV(repeating: logZ)
                            var c0 = FV(), c1 = FV()
                            var j = 0
                            while j + 2 * lanes <= cols {
                                let t0 = loadV(tr + j), t1 = loadV(tr + j + lanes)
                                c0 = c0.addingProduct(t0, (loadV(xr + j) - shift) * s - l)
                                c1 = c1.addingProduct(t1, (loadV(xr + j + lanes) - shift) * s - l)
                                storeV((an * loadV(gr + j)).addingProduct(-a, t0), gr + j)
                                storeV((an * loadV(gr + j + lanes)).addingProduct(-a, t1), gr + j + lanes)
                                j += 2 * lanes
                            }
                            var cross = (c0 + c1).sum()
                            while j < cols {
                                cross += tr[j] * ((xr[j] - top) * invT - logZ)
                                gr[j] = alpha * n / z * gr[j] - alpha * tr[j]
                                j += 1
                            }
                            loss.base[i] = -cross
                        }
                    }
                }
            }
        }
    }

    public static func l2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor) {
        KernelContract.l2Normalize(x, into: y, norms: norms)
        let cols = x.cols
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                norms.storage.withUnsafeMutableBufferPointer { np in
                    for i in 0..<x.rows {
                        let xr = xp.baseAddress! + i * cols, yr = yp.baseAddress! + i * cols
                        let norm = dot(xr, xr, cols).squareRoot()
                        np[i] = norm
                        let inv = 1 / max(norm, epsilon)
                        forEachLane(
                            cols, { storeV(loadV(xr + $0) * inv, yr + $0) }, tail: { yr[$0] = xr[$0] * inv })
                    }
                }
            }
        }
    }

    public static func rowSums(_ x: Tensor, into s: inout Tensor) {
        KernelContract.rowSums(x, into: s)
        let cols = x.cols
        x.storage.withUnsafeBufferPointer { xp in
            s.storage.withUnsafeMutableBufferPointer { sp in
                for i in 0..<x.rows { sp[i] = sum(xp.baseAddress! + i * cols, cols) }
            }
        }
    }

    /// Column sums (the bias gradients: 4160 × 576 at the lesson's size, 24 per step), the
    /// columns split across threads in 8-lane units: each thread walks every row but only its
    /// share of the columns, so no partial sums need merging. Serial, they were about 1% of a
    /// two-thread step.
    /// - Twin: ``ReferenceKernels/columnSums(_:accumulate:into:)``
    public static func columnSums(_ x: Tensor, accumulate: Bool, into s: inout Tensor) {
        KernelContract.columnSums(x, into: s)
        let cols = x.cols, rows = x.rows
        if !accumulate { for j in 0..<cols { s.storage[j] = 0 } }
        x.storage.withUnsafeBufferPointer { xp in
            s.storage.withUnsafeMutableBufferPointer { sp in
                let out = SharedPointer(base: sp.baseAddress!)
                let units = (cols + 7) / 8
                parallelRows(units, work: rows * cols) { range in
                    // Each thread sums into its own buffer and copies it into s once: summing into s
                    // row by row made the cache line the two column ranges share bounce between
                    // the cores on every row (2 threads measured slower than 1).
                    let lo = range.lowerBound * 8, hi = min(cols, range.upperBound * 8), width = hi - lo
                    // Starting from s's own values keeps the additions in the serial order, so
                    // the results are bit for bit those of one thread.
                    let acc = UnsafeMutablePointer<Float>.allocate(capacity: width)
                    defer { acc.deallocate() }
                    acc.initialize(from: out.base + lo, count: width)
                    for i in 0..<rows {
                        let xr = xp.baseAddress! + i * cols + lo
                        forEachLane(
                            width, { storeV(loadV(acc + $0) + loadV(xr + $0), acc + $0) },
                            tail: { acc[$0] += xr[$0] })
                    }
                    (out.base + lo).update(from: acc, count: width)
                }
            }
        }
    }
}

/// Dot product of two length-`n` vectors with four independent 8-lane accumulators.
@inline(__always) func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0 = FV(), s1 = FV(), s2 = FV(), s3 = FV()
    var j = 0
    while j + 4 * lanes <= n {
        s0 = s0.addingProduct(loadV(a + j), loadV(b + j))
        s1 = s1.addingProduct(loadV(a + j + lanes), loadV(b + j + lanes))
        s2 = s2.addingProduct(loadV(a + j + 2 * lanes), loadV(b + j + 2 * lanes))
        s3 = s3.addingProduct(loadV(a + j + 3 * lanes), loadV(b + j + 3 * lanes))
        j += 4 * lanes
    }
    while j + lanes <= n { s0 = s0.addingProduct(loadV(a + j), loadV(b + j)); j += lanes }
    var total = ((s0 + s1) + (s2 + s3)).sum()
    while j < n { total += a[j] * b[j]; j += 1 }
    return total
}

/// Sum of `n` floats with four 8-lane accumulators.
@inline(__always) func sum(_ a: UnsafePointer<Float>, _ n: Int) -> Float {
    // Independent sums: one chain would wait on vaddps latency every step.
    var s0 = FV(), s1 = FV(), s2 = FV(), s3 = FV()
    var j = 0
    while j + 4 * lanes <= n {
        s0 += loadV(a + j); s1 += loadV(a + j + lanes); s2 += loadV(a + j + 2 * lanes);
        s3 += loadV(a + j + 3 * lanes)
        j += 4 * lanes
    }
    while j + lanes <= n { s0 += loadV(a + j); j += lanes }
    var total = ((s0 + s1) + (s2 + s3)).sum()
    while j < n { total += a[j]; j += 1 }
    return total
}
