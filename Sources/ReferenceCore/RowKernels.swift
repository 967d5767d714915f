import DINOCore
import Foundation

extension ReferenceKernels {
    /// Row-wise softmax of `x / τ`, the specification: max-shift (so `exp` never overflows, even
    /// for teacher logits / 0.04 above 100), `x/τ`, exp and sum all in Double.
    public static func softmax(_ x: Tensor, temperature: Float, into p: inout Tensor) {
        KernelContract.softmax(x, temperature: temperature, into: p)
        for i in 0..<x.rows {
            let z = (0..<x.cols).map { Double(x[i, $0]) / Double(temperature) }
            let top = z.max() ?? 0
            let sum = z.reduce(0.0) { $0 + exp($1 - top) }
            for j in 0..<x.cols { p[i, j] = Float(exp(z[j] - top) / sum) }
        }
    }

    /// Row-wise log-softmax of `x / τ`: `z_j - max z - ln Σ exp(z_k - max z)`.
    public static func logSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor) {
        KernelContract.logSoftmax(x, temperature: temperature, into: lp)
        for i in 0..<x.rows {
            let z = (0..<x.cols).map { Double(x[i, $0]) / Double(temperature) }
            let top = z.max() ?? 0
            let logSum = log(z.reduce(0.0) { $0 + exp($1 - top) })
            for j in 0..<x.cols { lp[i, j] = Float(z[j] - top - logSum) }
        }
    }

    public static func rowEntropy(_ p: Tensor, into h: inout Tensor) {
        KernelContract.rowEntropy(p, into: h)
        for i in 0..<p.rows {
            var sum = 0.0
            for j in 0..<p.cols where p[i, j] > 0 { sum -= Double(p[i, j]) * log(Double(p[i, j])) }
            h.storage[i] = Float(sum)
        }
    }

    public static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: inout Tensor) {
        KernelContract.rowCrossEntropy(target: t, logProbs: ls, into: h)
        for i in 0..<t.rows {
            var sum = 0.0
            for j in 0..<t.cols { sum -= Double(t[i, j]) * Double(ls[i, j]) }
            h.storage[i] = Float(sum)
        }
    }

    /// The specification of the fused loss kernel: the log-softmax of `x/τ` in Double, as in
    /// ``logSoftmax(_:temperature:into:)``, then `H_i = -Σ t·ls` and `dx = α·(n_i·exp(ls) - t)`.
    public static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, gradientScale alpha: Float,
        loss h: inout Tensor, gradient dx: inout Tensor
    ) {
        KernelContract.softmaxCrossEntropy(x, temperature: temperature, target: t, loss: h, gradient: dx)
        for i in 0..<x.rows {
            let z = (0..<x.cols).map { Double(x[i, $0]) / Double(temperature) }
            let top = z.max() ?? 0
            let logSum = log(z.reduce(0.0) { $0 + exp($1 - top) })
            let n = (0..<x.cols).reduce(0.0) { $0 + Double(t[i, $1]) }
            var cross = 0.0
            for j in 0..<x.cols {
                let ls = z[j] - top - logSum, target = Double(t[i, j])
                cross -= target * ls
                dx[i, j] = Float(Double(alpha) * (n * exp(ls) - target))
            }
            h.storage[i] = Float(cross)
        }
    }

    public static func l2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor) {
        KernelContract.l2Normalize(x, into: y, norms: norms)
        for i in 0..<x.rows {
            var sum = 0.0
            for j in 0..<x.cols { sum += Double(x[i, j]) * Double(x[i, j]) }
            let norm = sum.squareRoot()
            norms.storage[i] = Float(norm)
            let denominator = max(norm, Double(epsilon))
            for j in 0..<x.cols { y[i, j] = Float(Double(x[i, j]) / denominator) }
        }
    }

    public static func rowSums(_ x: Tensor, into s: inout Tensor) {
        KernelContract.rowSums(x, into: s)
        for i in 0..<x.rows {
            var sum = 0.0
            for j in 0..<x.cols { sum += Double(x[i, j]) }
            s.storage[i] = Float(sum)
        }
    }

    public static func columnSums(_ x: Tensor, accumulate: Bool, into s: inout Tensor) {
        KernelContract.columnSums(x, into: s)
        for j in 0..<x.cols {
            var sum = accumulate ? Double(s.storage[j]) : 0
            for i in 0..<x.rows { sum += Double(x[i, j]) }
            s.storage[j] = Float(sum)
        }
    }
}
