import DINOCore

extension SIMDKernels {
    /// Weight normalisation, one row at a time: a SIMD dot for the norm, one scaling pass.
    /// - Twin: ``ReferenceKernels/weightNorm(_:g:into:norms:)``
    public static func weightNorm(_ v: Tensor, g: Tensor, into w: inout Tensor, norms: inout Tensor) {
        KernelContract.weightNorm(v, g: g, into: w, norms: norms)
        let cols = v.cols
        v.storage.withUnsafeBufferPointer { vp in
            w.storage.withUnsafeMutableBufferPointer { wp in
                let out = SharedPointer(base: wp.baseAddress!)
                var rowNorms = [Float](repeating: 0, count: v.rows)
                rowNorms.withUnsafeMutableBufferPointer { np in
                    let nb = SharedPointer(base: np.baseAddress!)
                    forEachRow(v.rows, cols: cols) { o in
                        let vr = vp.baseAddress! + o * cols, wr = out.base + o * cols
                        let norm = dot(vr, vr, cols).squareRoot()
                        nb.base[o] = norm
                        let gain = g.storage[o] / norm, gain8 = FV(repeating: gain)
                        forEachLane(
                            cols, { storeV(loadV(vr + $0) * gain8, wr + $0) },
                            tail: { wr[$0] = vr[$0] * gain })
                    }
                }
                norms.storage = rowNorms
            }
        }
    }

    /// Weight-norm backward per row: one dot `v̂·dW`, one fused pass for dv.
    /// - Twin: ``ReferenceKernels/weightNormBackward(_:v:g:norms:dV:dG:)``
    public static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: inout Tensor, dG: inout Tensor
    ) {
        KernelContract.weightNormBackward(dW, v: v, g: g, norms: norms, dV: dV, dG: dG)
        let cols = v.cols
        var projections = [Float](repeating: 0, count: v.rows)
        dW.storage.withUnsafeBufferPointer { gp in
            v.storage.withUnsafeBufferPointer { vp in
                dV.storage.withUnsafeMutableBufferPointer { dp in
                    projections.withUnsafeMutableBufferPointer { pp in
                        let out = SharedPointer(base: dp.baseAddress!),
                            proj = SharedPointer(base: pp.baseAddress!)
                        forEachRow(v.rows, cols: cols) { o in
                            let vr = vp.baseAddress! + o * cols, gr = gp.baseAddress! + o * cols,
                                dr = out.base + o * cols
                            let inv = 1 / norms.storage[o]
                            let along = dot(vr, gr, cols) * inv  // v̂·dW
                            proj.base[o] = along
                            let gain = g.storage[o] * inv, c = along * inv  // dv = gain·(dW - v·along/‖v‖)
                            let gain8 = FV(repeating: gain), c8 = FV(repeating: -c)
                            forEachLane(
                                cols,
                                { k in
                                    storeV(
                                        loadV(dr + k).addingProduct(
                                            gain8, loadV(gr + k).addingProduct(c8, loadV(vr + k))), dr + k)
                                }, tail: { k in dr[k] += gain * (gr[k] - c * vr[k]) })
                        }
                    }
                }
            }
        }
        for o in 0..<v.rows { dG.storage[o] += projections[o] }
    }

    /// L2-normalisation backward per row: one dot `y·dy`, one fused pass.
    /// - Twin: ``ReferenceKernels/l2NormalizeBackward(_:y:norms:epsilon:into:)``
    public static func l2NormalizeBackward(
        _ dy: Tensor, y: Tensor, norms: Tensor, epsilon: Float, into dx: inout Tensor
    ) {
        KernelContract.l2NormalizeBackward(dy, y: y, norms: norms, into: dx)
        let cols = y.cols
        dy.storage.withUnsafeBufferPointer { gp in
            y.storage.withUnsafeBufferPointer { yp in
                dx.storage.withUnsafeMutableBufferPointer { dp in
                    for r in 0..<y.rows {
                        let yr = yp.baseAddress! + r * cols, gr = gp.baseAddress! + r * cols,
                            dr = dp.baseAddress! + r * cols
                        let norm = norms.storage[r]
                        if norm > epsilon {
                            let along = dot(yr, gr, cols), inv = 1 / norm
                            let a8 = FV(repeating: -along), i8 = FV(repeating: inv)
                            forEachLane(
                                cols,
                                { k in storeV(loadV(gr + k).addingProduct(a8, loadV(yr + k)) * i8, dr + k) },
                                tail: { k in dr[k] = (gr[k] - along * yr[k]) * inv })
                        } else {
                            let inv = 1 / epsilon
                            forEachLane(
                                cols, { k in storeV(loadV(gr + k) * inv, dr + k) },
                                tail: { k in dr[k] = gr[k] * inv })
                        }
                    }
                }
            }
        }
    }
}
