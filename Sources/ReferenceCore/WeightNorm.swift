import DINOCore

extension ReferenceKernels {
    /// `W[o, :] = g[o]·v[o, :] / ‖v[o, :]‖`, norms in Double.
    public static func weightNorm(_ v: Tensor, g: Tensor, into w: inout Tensor, norms: inout Tensor) {
        KernelContract.weightNorm(v, g: g, into: w, norms: norms)
        for o in 0..<v.rows {
            var sum = 0.0
            for i in 0..<v.cols { sum += Double(v[o, i]) * Double(v[o, i]) }
            let norm = sum.squareRoot()
            norms.storage[o] = Float(norm)
            for i in 0..<v.cols { w[o, i] = Float(Double(g.storage[o]) * Double(v[o, i]) / norm) }
        }
    }

    /// With `v̂ = v/‖v‖` per row: `dv += (g/‖v‖)·(dW - v̂·(v̂·dW))`, `dg += v̂·dW`.
    public static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: inout Tensor, dG: inout Tensor
    ) {
        KernelContract.weightNormBackward(dW, v: v, g: g, norms: norms, dV: dV, dG: dG)
        for o in 0..<v.rows {
            let norm = Double(norms.storage[o])
            var projection = 0.0
            for i in 0..<v.cols { projection += Double(v[o, i]) / norm * Double(dW[o, i]) }
            dG.storage[o] = Float(Double(dG.storage[o]) + projection)
            let gain = Double(g.storage[o]) / norm
            for i in 0..<v.cols {
                let vHat = Double(v[o, i]) / norm
                dV[o, i] = Float(Double(dV[o, i]) + gain * (Double(dW[o, i]) - vHat * projection))
            }
        }
    }

    /// `dx = (dy - y·(y·dy)) / ‖x‖` for rows with `‖x‖ > ε`, `dy/ε` otherwise, in Double.
    public static func l2NormalizeBackward(
        _ dy: Tensor, y: Tensor, norms: Tensor, epsilon: Float, into dx: inout Tensor
    ) {
        KernelContract.l2NormalizeBackward(dy, y: y, norms: norms, into: dx)
        for r in 0..<y.rows {
            let norm = Double(norms.storage[r])
            if norm > Double(epsilon) {
                var along = 0.0
                for i in 0..<y.cols { along += Double(y[r, i]) * Double(dy[r, i]) }
                for i in 0..<y.cols { dx[r, i] = Float((Double(dy[r, i]) - Double(y[r, i]) * along) / norm) }
            } else {
                for i in 0..<y.cols { dx[r, i] = Float(Double(dy[r, i]) / Double(epsilon)) }
            }
        }
    }
}
