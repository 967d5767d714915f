import DINOCore

extension ReferenceKernels {
    /// LayerNorm, two-pass in Double: μ = mean(x), σ² = mean((x - μ)²) (biased), r = 1/√(σ² + ε).
    public static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        let c = KernelContract.layerNorm(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
        for i in 0..<x.rows {
            var mu = 0.0
            for j in 0..<c { mu += Double(x[i, j]) }
            mu /= Double(c)
            var variance = 0.0
            for j in 0..<c { variance += (Double(x[i, j]) - mu) * (Double(x[i, j]) - mu) }
            variance /= Double(c)
            let r = 1 / (variance + Double(epsilon)).squareRoot()
            mean.storage[i] = Float(mu)
            rstd.storage[i] = Float(r)
            for j in 0..<c {
                y[i, j] = Float(
                    (Double(x[i, j]) - mu) * r * Double(weight.storage[j]) + Double(bias.storage[j]))
            }
        }
    }

    /// With `x̂ = (x - μ)·r` and `g = dy·w`: `dx = r·(g - mean(g) - x̂·mean(g·x̂))`,
    /// `dw += Σ dy·x̂`, `db += Σ dy`.
    public static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let c = KernelContract.layerNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: dx, dWeight: dWeight, dBias: dBias)
        var dw = dWeight.storage.map(Double.init), db = dBias.storage.map(Double.init)
        for i in 0..<x.rows {
            let mu = Double(mean.storage[i]), r = Double(rstd.storage[i])
            var meanG = 0.0, meanGX = 0.0
            for j in 0..<c {
                let xh = (Double(x[i, j]) - mu) * r
                let g = Double(dy[i, j]) * Double(weight.storage[j])
                meanG += g
                meanGX += g * xh
                dw[j] += Double(dy[i, j]) * xh
                db[j] += Double(dy[i, j])
            }
            meanG /= Double(c)
            meanGX /= Double(c)
            for j in 0..<c {
                let xh = (Double(x[i, j]) - mu) * r
                let g = Double(dy[i, j]) * Double(weight.storage[j])
                dx[i, j] = Float(r * (g - meanG - xh * meanGX))
            }
        }
        dWeight.storage = dw.map(Float.init)
        dBias.storage = db.map(Float.init)
    }
}
