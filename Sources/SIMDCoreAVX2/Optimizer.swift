import DINOCore
import Foundation

extension SIMDKernels {
    /// `θt = θt·m + (1 - m)·θs`, eight lanes at a time (same two roundings as the reference:
    /// no FMA here, so the EMA is bit-identical across cores).
    public static func emaUpdate(_ teacher: inout Tensor, toward student: Tensor, momentum: Float) {
        KernelContract.emaUpdate(teacher, toward: student)
        let m = FV(repeating: momentum), oneMinus = FV(repeating: 1 - momentum)
        student.storage.withUnsafeBufferPointer { sp in
            teacher.storage.withUnsafeMutableBufferPointer { tp in
                let s = sp.baseAddress!, t = tp.baseAddress!
                forEachLane(
                    sp.count, { storeV(loadV(t + $0) * m + oneMinus * loadV(s + $0), t + $0) },
                    tail: { t[$0] = t[$0] * momentum + (1 - momentum) * s[$0] })
            }
        }
    }

    /// AdamW on eight lanes. The bias corrections are computed once per call in Double.
    public static func adamWStep(
        _ param: inout Tensor, grad: Tensor, m: inout Tensor, v: inout Tensor, step: Int,
        hyper h: AdamWHyper
    ) {
        KernelContract.adamWStep(param, grad: grad, m: m, v: v, step: step)
        let bc1 = 1 - pow(Double(h.beta1), Double(step)), bc2 = 1 - pow(Double(h.beta2), Double(step))
        let stepSize = Float(Double(h.lr) / bc1), invBC2Root = Float(1 / bc2.squareRoot())
        let decay = 1 - h.lr * h.weightDecay
        let b1 = FV(repeating: h.beta1), b2 = FV(repeating: h.beta2)
        let c1 = FV(repeating: 1 - h.beta1), c2 = FV(repeating: 1 - h.beta2)
        grad.storage.withUnsafeBufferPointer { gp in
            param.storage.withUnsafeMutableBufferPointer { pp in
                m.storage.withUnsafeMutableBufferPointer { mp in
                    v.storage.withUnsafeMutableBufferPointer { vp in
                        let g = gp.baseAddress!, p = pp.baseAddress!, mm = mp.baseAddress!,
                            vv = vp.baseAddress!
                        forEachLane(
                            gp.count,
                            { i in
                                let gi = loadV(g + i)
                                let mi = b1 * loadV(mm + i) + c1 * gi
                                let vi = b2 * loadV(vv + i) + c2 * gi * gi
                                storeV(mi, mm + i)
                                storeV(vi, vv + i)
                                let denominator = vi.squareRoot() * invBC2Root + h.eps
                                storeV(loadV(p + i) * decay - stepSize * mi / denominator, p + i)
                            },
                            tail: { i in
                                let gi = g[i]
                                mm[i] = h.beta1 * mm[i] + (1 - h.beta1) * gi
                                vv[i] = h.beta2 * vv[i] + (1 - h.beta2) * gi * gi
                                p[i] =
                                    p[i] * decay - stepSize * mm[i]
                                    / (vv[i].squareRoot() * invBC2Root + h.eps)
                            })
                    }
                }
            }
        }
    }

    public static func sumOfSquares(_ x: Tensor) -> Double {
        // Float32 lanes per block of 4096, then Double across blocks: exact enough for a norm.
        var total = 0.0
        x.storage.withUnsafeBufferPointer { xp in
            var start = 0
            while start < xp.count {
                let n = min(4096, xp.count - start)
                total += Double(dot(xp.baseAddress! + start, xp.baseAddress! + start, n))
                start += n
            }
        }
        return total
    }
}
