import DINOCore

extension SIMDKernels {
    /// LayerNorm, eight lanes at a time, two passes over each row (mean, then centred variance:
    /// the one-pass E[x²] - μ² loses every digit on rows with tiny variance).
    /// - Twin: ``ReferenceKernels/layerNorm(_:weight:bias:epsilon:into:mean:rstd:)``
    public static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        let c = KernelContract.layerNorm(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
        x.storage.withUnsafeBufferPointer { xp in
            weight.storage.withUnsafeBufferPointer { wp in
                bias.storage.withUnsafeBufferPointer { bp in
                    y.storage.withUnsafeMutableBufferPointer { yp in
                        mean.storage.withUnsafeMutableBufferPointer { mp in
                            rstd.storage.withUnsafeMutableBufferPointer { rp in
                                let out = SharedPointer(base: yp.baseAddress!)
                                let means = SharedPointer(base: mp.baseAddress!),
                                    rstds = SharedPointer(base: rp.baseAddress!)
                                let w = wp.baseAddress!, b = bp.baseAddress!
                                forEachRow(x.rows, cols: c) { i in
                                    let xr = xp.baseAddress! + i * c, yr = out.base + i * c
                                    let mu = sum(xr, c) / Float(c)
                                    let variance = centredSquares(xr, c, mu) / Float(c)
                                    let m8 = FV(repeating: mu)
                                    let r = 1 / (variance + epsilon).squareRoot()
                                    means.base[i] = mu
                                    rstds.base[i] = r
                                    let r8 = FV(repeating: r)
                                    forEachLane(
                                        c,
                                        { j in
                                            storeV(
                                                loadV(b + j).addingProduct(
                                                    (loadV(xr + j) - m8) * r8, loadV(w + j)), yr + j)
                                        }, tail: { j in yr[j] = (xr[j] - mu) * r * w[j] + b[j] })
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// LayerNorm backward: per row two reductions (mean(g), mean(g·x̂)) then one pass for dx;
    /// the parameter gradients are reduced over rows per thread and added at the end.
    public static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let c = KernelContract.layerNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: dx, dWeight: dWeight, dBias: dBias)
        let rows = x.rows
        let threads = rows * c >= 1 << 15 ? max(1, min(Threads.count, rows)) : 1
        // Per-thread partial sums of dw and db, so threads never write the same memory.  // (threads, 2, c)
        var partial = [Float](repeating: 0, count: threads * 2 * c)
        dy.storage.withUnsafeBufferPointer { gp in
            x.storage.withUnsafeBufferPointer { xp in
                weight.storage.withUnsafeBufferPointer { wp in
                    dx.storage.withUnsafeMutableBufferPointer { dp in
                        partial.withUnsafeMutableBufferPointer { pp in
                            let out = SharedPointer(base: dp.baseAddress!),
                                parts = SharedPointer(base: pp.baseAddress!)
                            let w = wp.baseAddress!
                            let per = (rows + threads - 1) / threads
                            Threads.parallelFor(threads) { t in
                                let dw = parts.base + t * 2 * c, db = dw + c
                                for i in (t * per)..<min(rows, (t + 1) * per) {
                                    let xr = xp.baseAddress! + i * c, gr = gp.baseAddress! + i * c,
                                        dr = out.base + i * c
                                    let mu = FV(repeating: mean.storage[i]),
                                        r = FV(repeating: rstd.storage[i])
                                    let muS = mean.storage[i], rS = rstd.storage[i]
                                    var sg = FV(), sgx = FV()
                                    var sgT: Float = 0, sgxT: Float = 0
                                    forEachLane(
                                        c,
                                        { j in
                                            let xh = (loadV(xr + j) - mu) * r, d = loadV(gr + j)
                                            let g = d * loadV(w + j)
                                            sg += g
                                            sgx = sgx.addingProduct(g, xh)
                                            storeV(loadV(dw + j).addingProduct(d, xh), dw + j)
                                            storeV(loadV(db + j) + d, db + j)
                                        },
                                        tail: { j in
                                            let xh = (xr[j] - muS) * rS, g = gr[j] * w[j]
                                            sgT += g; sgxT += g * xh
                                            dw[j] += gr[j] * xh; db[j] += gr[j]
                                        })
                                    let meanG = (sg.sum() + sgT) / Float(c),
                                        meanGX = (sgx.sum() + sgxT) / Float(c)
                                    let mg = FV(repeating: meanG), mgx = FV(repeating: meanGX)
                                    forEachLane(
                                        c,
                                        { j in
                                            let xh = (loadV(xr + j) - mu) * r
                                            let g = loadV(gr + j) * loadV(w + j)
                                            storeV(r * (g - mg - xh * mgx), dr + j)
                                        },
                                        tail: { j in
                                            let xh = (xr[j] - muS) * rS
                                            dr[j] = rS * (gr[j] * w[j] - meanG - xh * meanGX)
                                        })
                                }
                            }
                        }
                    }
                }
            }
        }
        for t in 0..<threads {
            for j in 0..<c {
                dWeight.storage[j] += partial[t * 2 * c + j]
                dBias.storage[j] += partial[t * 2 * c + c + j]
            }
        }
    }
}

/// `Σ (x_j - μ)²` over `n` floats. Four independent accumulators: with one, every FMA waits for
/// the previous one (4 cycles), and at 192 features that chain was a fifth of the forward pass.
@inline(__always) func centredSquares(_ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    let m8 = FV(repeating: mu)
    var s0 = FV(), s1 = FV(), s2 = FV(), s3 = FV()
    var j = 0
    while j + 4 * lanes <= n {
        let d0 = loadV(x + j) - m8, d1 = loadV(x + j + lanes) - m8
        let d2 = loadV(x + j + 2 * lanes) - m8, d3 = loadV(x + j + 3 * lanes) - m8
        s0 = s0.addingProduct(d0, d0); s1 = s1.addingProduct(d1, d1)
        s2 = s2.addingProduct(d2, d2); s3 = s3.addingProduct(d3, d3)
        j += 4 * lanes
    }
    while j + lanes <= n { let d = loadV(x + j) - m8; s0 = s0.addingProduct(d, d); j += lanes }
    var total = ((s0 + s1) + (s2 + s3)).sum()
    while j < n { let d = x[j] - mu; total += d * d; j += 1 }
    return total
}
