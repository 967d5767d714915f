import DINOCore
import Foundation

/// Reads head `h`'s query (t = 0), key (1) or value (2) element `d` of token `n` of image `b`.
@inline(__always)
private func qkvIndex(
    _ b: Int, _ n: Int, _ t: Int, _ h: Int, _ d: Int, tokens: Int, width c: Int, headWidth: Int
) -> Int {
    ((b * tokens + n) * 3 + t) * c + h * headWidth + d
}

extension ReferenceKernels {
    /// One (image, head) at a time: the full score matrix `S = scale·Q Kᵀ` in Double, a
    /// max-shifted softmax per row, then `O = A V`. This is the specification; it keeps the
    /// whole `N × N` matrix because clarity beats memory here.
    public static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor
    ) {
        let (batch, n, c, dh, q) = KernelContract.attention(
            qkv, heads: heads, into: out, logSumExp: logSumExp)
        let at = { (b: Int, i: Int, t: Int, h: Int, d: Int) in
            Double(qkv.storage[qkvIndex(b, i, t, h, d, tokens: n, width: c, headWidth: dh)])
        }
        for b in 0..<batch {
            for h in 0..<heads {
                let a = probabilities(b, h, n: n, dh: dh, scale: scale, at: at)
                for i in 0..<q {
                    logSumExp.storage[(b * heads + h) * q + i] = Float(a.logSumExp[i])
                    for d in 0..<dh {
                        var sum = 0.0
                        for j in 0..<n { sum += a.p[i][j] * at(b, j, 2, h, d) }
                        out.storage[(b * q + i) * c + h * dh + d] = Float(sum)
                    }
                }
            }
        }
    }

    /// The softmax of `scale·Q_h K_hᵀ` of one (image, head), and each row's log-sum-exp.
    private static func probabilities(
        _ b: Int, _ h: Int, n: Int, dh: Int, scale: Float, at: (Int, Int, Int, Int, Int) -> Double
    ) -> (p: [[Double]], logSumExp: [Double]) {
        var p = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var lse = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var s = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var dotQK = 0.0
                for d in 0..<dh { dotQK += at(b, i, 0, h, d) * at(b, j, 1, h, d) }
                s[j] = Double(scale) * dotQK
            }
            let top = s.max() ?? 0
            let total = s.reduce(0.0) { $0 + exp($1 - top) }
            for j in 0..<n { p[i][j] = exp(s[j] - top) / total }
            lse[i] = top + log(total)
        }
        return (p, lse)
    }

    /// The backward as the equations read, with full `[N, N]` matrices in Double. `A` is
    /// recomputed from the scores in Double (the specification does not need the saved
    /// log-sum-exp; the SIMD twin rebuilds `A` from it).
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor
    ) {
        let (batch, n, c, dh, q) = KernelContract.attentionBackward(
            dOut, qkv: qkv, out: out, logSumExp: logSumExp, heads: heads, into: dQKV)
        let at = { (b: Int, i: Int, t: Int, h: Int, d: Int) in
            Double(qkv.storage[qkvIndex(b, i, t, h, d, tokens: n, width: c, headWidth: dh)])
        }
        let dO = { (b: Int, i: Int, h: Int, d: Int) in Double(dOut.storage[(b * q + i) * c + h * dh + d]) }
        for b in 0..<batch {
            for h in 0..<heads {
                let a = probabilities(b, h, n: n, dh: dh, scale: scale, at: at).p
                // dA = dO Vᵀ, then dS = A ⊙ (dA - rowsum(dA ⊙ A)), for the Q query rows (the
                // other rows of dS are 0: no output was asked of those queries).
                var dS = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
                for i in 0..<q {
                    var dA = [Double](repeating: 0, count: n)
                    for j in 0..<n {
                        for d in 0..<dh { dA[j] += dO(b, i, h, d) * at(b, j, 2, h, d) }
                    }
                    var rowDot = 0.0
                    for j in 0..<n { rowDot += dA[j] * a[i][j] }
                    for j in 0..<n { dS[i][j] = a[i][j] * (dA[j] - rowDot) }
                }
                for i in 0..<n {
                    for d in 0..<dh {
                        var dq = 0.0, dk = 0.0, dv = 0.0
                        for j in 0..<n { dq += dS[i][j] * at(b, j, 1, h, d) }  // dQ = scale·dS K
                        for j in 0..<q {
                            dk += dS[j][i] * at(b, j, 0, h, d)  // dK = scale·dSᵀ Q
                            dv += a[j][i] * dO(b, j, h, d)  // dV = Aᵀ dO
                        }
                        dQKV.storage[qkvIndex(b, i, 0, h, d, tokens: n, width: c, headWidth: dh)] = Float(
                            Double(scale) * dq)
                        dQKV.storage[qkvIndex(b, i, 1, h, d, tokens: n, width: c, headWidth: dh)] = Float(
                            Double(scale) * dk)
                        dQKV.storage[qkvIndex(b, i, 2, h, d, tokens: n, width: c, headWidth: dh)] = Float(dv)
                    }
                }
            }
        }
    }

    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor
    ) {
        let (batch, n, c, dh) = KernelContract.attentionProbabilities(
            qkv, heads: heads, queries: queries, into: probs)
        let at = { (b: Int, i: Int, t: Int, h: Int, d: Int) in
            Double(qkv.storage[qkvIndex(b, i, t, h, d, tokens: n, width: c, headWidth: dh)])
        }
        for b in 0..<batch {
            for h in 0..<heads {
                let a = probabilities(b, h, n: n, dh: dh, scale: scale, at: at).p
                for i in 0..<queries {
                    for j in 0..<n { probs.storage[((b * heads + h) * queries + i) * n + j] = Float(a[i][j]) }
                }
            }
        }
    }
}
