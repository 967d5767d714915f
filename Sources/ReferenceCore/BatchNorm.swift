import DINOCore

extension ReferenceKernels {
    /// BatchNorm1d (training mode), two-pass in Double per column: μ_j = mean over rows,
    /// σ²_j = mean((x - μ_j)²) (biased, as PyTorch normalises with), r_j = 1/√(σ²_j + ε).
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        let c = KernelContract.batchNorm(x, weight: weight, bias: bias, into: y, mean: mean, rstd: rstd)
        let rows = x.rows
        for j in 0..<c {
            var mu = 0.0
            for i in 0..<rows { mu += Double(x[i, j]) }
            mu /= Double(rows)
            var variance = 0.0
            for i in 0..<rows { variance += (Double(x[i, j]) - mu) * (Double(x[i, j]) - mu) }
            variance /= Double(rows)
            let r = 1 / (variance + Double(epsilon)).squareRoot()
            mean.storage[j] = Float(mu)
            rstd.storage[j] = Float(r)
            for i in 0..<rows {
                y[i, j] = Float(
                    (Double(x[i, j]) - mu) * r * Double(weight.storage[j]) + Double(bias.storage[j]))
            }
        }
    }

    /// With `x̂ = (x - μ)·r` per column: `dx = w·r·(dy - mean(dy) - x̂·mean(dy·x̂))` (means over
    /// the rows: every row's normaliser depends on every other row of its column),
    /// `dw += Σ dy·x̂`, `db += Σ dy`.
    public static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        let c = KernelContract.batchNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: dx, dWeight: dWeight, dBias: dBias)
        let rows = x.rows
        for j in 0..<c {
            let mu = Double(mean.storage[j]), r = Double(rstd.storage[j])
            var sumG = 0.0, sumGX = 0.0
            for i in 0..<rows {
                let g = Double(dy[i, j])
                sumG += g
                sumGX += g * (Double(x[i, j]) - mu) * r
            }
            let meanG = sumG / Double(rows), meanGX = sumGX / Double(rows), wr = Double(weight.storage[j]) * r
            for i in 0..<rows {
                let xh = (Double(x[i, j]) - mu) * r
                dx[i, j] = Float(wr * (Double(dy[i, j]) - meanG - xh * meanGX))
            }
            dWeight.storage[j] = Float(Double(dWeight.storage[j]) + sumGX)
            dBias.storage[j] = Float(Double(dBias.storage[j]) + sumG)
        }
    }
}
