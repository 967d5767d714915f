import DINOCore

extension SIMDKernels {
    /// BatchNorm1d (training mode): column statistics with the rows streamed front to back,
    /// eight columns per vector (three passes: Σx, Σ(x - μ)², y), so every access is a
    /// contiguous row segment. The head's matrices are small (≈ 1000 × 256): one thread.
    /// - Twin: ``ReferenceKernels/batchNorm(_:weight:bias:epsilon:into:mean:rstd:)``
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        let c = KernelContract.batchNorm(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
        let rows = x.rows
        let inverseRows = 1 / Float(rows)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                mean.storage.withUnsafeMutableBufferPointer { mp in
                    rstd.storage.withUnsafeMutableBufferPointer { rp in
                        let x = xp.baseAddress!, y = yp.baseAddress!, mu = mp.baseAddress!,
                            r = rp.baseAddress!
                        forEachColumnBlock(c) { j, width in
                            var s = FV(), v = FV()
                            for i in 0..<rows { s += loadColumns(x + i * c + j, width) }
                            let m = s * inverseRows
                            for i in 0..<rows {
                                let d = loadColumns(x + i * c + j, width) - m; v = v.addingProduct(d, d)
                            }
                            let variance = v * inverseRows
                            var rs = FV()
                            for l in 0..<width { rs[l] = 1 / (variance[l] + epsilon).squareRoot() }
                            for l in 0..<width { mu[j + l] = m[l]; r[j + l] = rs[l] }
                            let w = loadColumns(weight.storage, j, width) * rs,
                                b = loadColumns(bias.storage, j, width)
                            for i in 0..<rows {
                                storeColumns(
                                    b.addingProduct(loadColumns(x + i * c + j, width) - m, w), y + i * c + j,
                                    width)
                            }
                        }
                    }
                }
            }
        }
    }

    /// BatchNorm backward: per block of eight columns, one pass for Σdy and Σdy·x̂, one for dx.
    /// - Twin: ``ReferenceKernels/batchNormBackward(_:_:weight:mean:rstd:dx:dWeight:dBias:)``
    public static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let c = KernelContract.batchNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: dx, dWeight: dWeight, dBias: dBias)
        let rows = x.rows
        let inverseRows = 1 / Float(rows)
        dy.storage.withUnsafeBufferPointer { gp in
            x.storage.withUnsafeBufferPointer { xp in
                dx.storage.withUnsafeMutableBufferPointer { dp in
                    let g = gp.baseAddress!, x = xp.baseAddress!, d = dp.baseAddress!
                    forEachColumnBlock(c) { j, width in
                        let m = loadColumns(mean.storage, j, width), r = loadColumns(rstd.storage, j, width)
                        var sg = FV(), sgx = FV()
                        for i in 0..<rows {
                            let gi = loadColumns(g + i * c + j, width)
                            sg += gi
                            sgx = sgx.addingProduct(gi, (loadColumns(x + i * c + j, width) - m) * r)
                        }
                        let meanG = sg * inverseRows, meanGX = sgx * inverseRows
                        let wr = loadColumns(weight.storage, j, width) * r
                        for i in 0..<rows {
                            let xh = (loadColumns(x + i * c + j, width) - m) * r
                            let gi = loadColumns(g + i * c + j, width)
                            storeColumns(wr * (gi - meanG - xh * meanGX), d + i * c + j, width)
                        }
                        for l in 0..<width {
                            dWeight.storage[j + l] += sgx[l]
                            dBias.storage[j + l] += sg[l]
                        }
                    }
                }
            }
        }
    }
}

/// Calls `body(j, width)` for column blocks `j ..< j + width` of 8 columns (the last may be narrower).
@inline(__always)
private func forEachColumnBlock(_ cols: Int, _ body: (Int, Int) -> Void) {
    var j = 0
    while j < cols { body(j, min(lanes, cols - j)); j += lanes }
}

/// Up to 8 floats from `p` (the rest of the vector 0): a full vector load when width is 8.
@inline(__always)
private func loadColumns(_ p: UnsafePointer<Float>, _ width: Int) -> FV {
    if width == lanes { return loadV(p) }
    var v = FV()
    for l in 0..<width { v[l] = p[l] }
    return v
}

@inline(__always)
private func loadColumns(_ a: [Float], _ j: Int, _ width: Int) -> FV {
    var v = FV()
    for l in 0..<width { v[l] = a[j + l] }
    return v
}

@inline(__always)
private func storeColumns(_ v: FV, _ p: UnsafeMutablePointer<Float>, _ width: Int) {
    if width == lanes { storeV(v, p); return }
    for l in 0..<width { p[l] = v[l] }
}
