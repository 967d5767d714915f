import DINOCore
import Foundation

/// Applies `vector` to 8 elements at a time and `scalar` to the ragged tail.
@inline(__always)
func forEachLane(
    _ count: Int, _ body8: (Int) -> Void, tail: (Int) -> Void
) {
    var i = 0
    while i + lanes <= count { body8(i); i += lanes }
    while i < count { tail(i); i += 1 }
}

extension SIMDKernels {
    public static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        KernelContract.add(a, b, into: c)
        a.storage.withUnsafeBufferPointer { x in
            b.storage.withUnsafeBufferPointer { y in
                c.storage.withUnsafeMutableBufferPointer { z in
                    let x = x.baseAddress!, y = y.baseAddress!, out = SharedPointer(base: z.baseAddress!)
                    parallelRows(a.count, work: a.count, minimumWork: 1 << 17) { r in
                        let x = x + r.lowerBound, y = y + r.lowerBound, z = out.base + r.lowerBound
                        forEachLane(
                            r.count, { storeV(loadV(x + $0) + loadV(y + $0), z + $0) },
                            tail: { z[$0] = x[$0] + y[$0] })
                    }
                }
            }
        }
    }

    public static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor) {
        KernelContract.scale(x, into: y)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                let x = xp.baseAddress!, y = yp.baseAddress!
                forEachLane(
                    xp.count, { storeV(alpha * loadV(x + $0), y + $0) }, tail: { y[$0] = alpha * x[$0] })
            }
        }
    }

    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        KernelContract.axpy(x, y)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                let x = xp.baseAddress!, out = SharedPointer(base: yp.baseAddress!)
                let a = FV(repeating: alpha)
                parallelRows(xp.count, work: xp.count, minimumWork: 1 << 17) { r in
                    let x = x + r.lowerBound, y = out.base + r.lowerBound
                    forEachLane(
                        r.count, { storeV(loadV(y + $0).addingProduct(a, loadV(x + $0)), y + $0) },
                        tail: { y[$0] += alpha * x[$0] })
                }
            }
        }
    }

    public static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor) {
        KernelContract.addRow(x, v, into: y)
        let cols = x.cols
        x.storage.withUnsafeBufferPointer { xp in
            v.storage.withUnsafeBufferPointer { vp in
                y.storage.withUnsafeMutableBufferPointer { yp in
                    let a = FV(repeating: alpha), v = vp.baseAddress!
                    for i in 0..<x.rows {
                        let xr = xp.baseAddress! + i * cols, yr = yp.baseAddress! + i * cols
                        forEachLane(
                            cols, { storeV(loadV(xr + $0).addingProduct(a, loadV(v + $0)), yr + $0) },
                            tail: { yr[$0] = xr[$0] + alpha * v[$0] })
                    }
                }
            }
        }
    }

    /// Exact GELU, eight lanes at a time. Φ(x) = ½·erfc(-x/√2) with the Numerical Recipes
    /// `erfcc` Chebyshev fit (fractional error < 1.2e-7 everywhere, so the tails stay accurate)
    /// on top of `expV`.
    /// - Costs: ≈ 4-8 ulp relative against the Double reference.
    /// - Twin: ``ReferenceKernels/gelu(_:into:)``
    public static func gelu(_ x: Tensor, into y: inout Tensor) {
        KernelContract.gelu(x, into: y)
        x.storage.withUnsafeBufferPointer { xp in
            y.storage.withUnsafeMutableBufferPointer { yp in
                let x = xp.baseAddress!, out = SharedPointer(base: yp.baseAddress!)
                parallelRows(xp.count, work: xp.count, minimumWork: 1 << 15) { r in
                    geluRange(x + r.lowerBound, out.base + r.lowerBound, r.count)
                }
            }
        }
    }

    /// Reads Φ(x) = y/x from the forward's output, so the slope costs one `expV` and a division
    /// instead of the erfc fit (an `expV`, a division and a degree-9 polynomial) plus an `expV`.
    /// - Costs: Φ from y/x carries y's 4-8 ulp; near 0 (|x| < 2⁻¹⁰) Φ = ½ + x·φ(0) instead,
    ///   exact to x³/15 < 1e-10.
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor) {
        KernelContract.geluBackward(dy, x, output: y, into: dx)
        dy.storage.withUnsafeBufferPointer { gp in
            x.storage.withUnsafeBufferPointer { xp in
                y.storage.withUnsafeBufferPointer { yp in
                    dx.storage.withUnsafeMutableBufferPointer { dp in
                        let g = gp.baseAddress!, x = xp.baseAddress!, y = yp.baseAddress!
                        let out = SharedPointer(base: dp.baseAddress!)
                        parallelRows(xp.count, work: xp.count, minimumWork: 1 << 15) { r in
                            geluBackwardRange(
                                g + r.lowerBound, x + r.lowerBound, y + r.lowerBound,
                                out.base + r.lowerBound, r.count)
                        }
                    }
                }
            }
        }
    }
}

/// `y = x·Φ(x)` on `n` floats: two independent 8-lane chains per step (the erfc polynomial is
/// one long dependency chain, so a second chain fills the FMA pipes while the first waits).
@inline(__always)
private func geluRange(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 2 * lanes <= n {
        let v0 = loadV(x + i), v1 = loadV(x + i + lanes)
        let c0 = phiCDFV(v0), c1 = phiCDFV(v1)
        storeV(v0 * c0, y + i)
        storeV(v1 * c1, y + i + lanes)
        i += 2 * lanes
    }
    while i < n {
        var v = FV()
        let m = min(lanes, n - i)
        for l in 0..<m { v[l] = x[i + l] }
        let r = v * phiCDFV(v)
        for l in 0..<m { y[i + l] = r[l] }
        i += m
    }
}

/// `dx = dy·(Φ(x) + x·φ(x))`, φ(x) = exp(-x²/2)/√(2π), Φ(x) = y/x, on `n` floats, two chains per step.
@inline(__always)
private func geluBackwardRange(
    _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
    _ d: UnsafeMutablePointer<Float>, _ n: Int
) {
    @inline(__always) func slope(_ v: FV, _ out: FV) -> FV {
        let density = expV(-0.5 * v * v) * 0.398_942_280_401_432_7
        let nearZero = v * v .< FV(repeating: 0x1p-20)  // |x| < 2⁻¹⁰
        let cdf = (out / v).replacing(
            with: FV(repeating: 0.5).addingProduct(v, 0.398_942_280_401_432_7), where: nearZero)
        return cdf.addingProduct(v, density)
    }
    var i = 0
    while i + 2 * lanes <= n {
        let s0 = slope(loadV(x + i), loadV(y + i)), s1 = slope(loadV(x + i + lanes), loadV(y + i + lanes))
        storeV(loadV(g + i) * s0, d + i)
        storeV(loadV(g + i + lanes) * s1, d + i + lanes)
        i += 2 * lanes
    }
    while i < n {
        var v = FV(repeating: 1), out = FV(repeating: 1), gv = FV()
        let m = min(lanes, n - i)
        for l in 0..<m { v[l] = x[i + l]; out[l] = y[i + l]; gv[l] = g[i + l] }
        let r = gv * slope(v, out)
        for l in 0..<m { d[i + l] = r[l] }
        i += m
    }
}

/// Φ(x) = ½·erfc(-x/√2) on 8 lanes. erfc(z) for z ≥ 0 is `t·exp(-z² + poly(t))`,
/// `t = 1/(1 + z/2)` (Numerical Recipes §6.2); for z < 0, erfc(z) = 2 - erfc(-z).
@_transparent func phiCDFV(_ x: FV) -> FV {
    let z = -x * 0.707_106_781_186_547_5
    let az = z.replacing(with: -z, where: z .< 0)
    let t = 1 / (1 + 0.5 * az)
    // The degree-9 polynomial by Estrin's scheme: pairs, then powers t², t⁴, t⁸. Horner's
    // nine dependent FMAs were the longest chain in GELU (36 cycles of latency per vector).
    let t2 = t * t, t4 = t2 * t2, t8 = t4 * t4
    let q01 = FV(repeating: -1.26551223).addingProduct(t, FV(repeating: 1.00002368))
    let q23 = FV(repeating: 0.37409196).addingProduct(t, FV(repeating: 0.09678418))
    let q45 = FV(repeating: -0.18628806).addingProduct(t, FV(repeating: 0.27886807))
    let q67 = FV(repeating: -1.13520398).addingProduct(t, FV(repeating: 1.48851587))
    let q89 = FV(repeating: -0.82215223).addingProduct(t, FV(repeating: 0.17087277))
    let r03 = q01.addingProduct(q23, t2), r47 = q45.addingProduct(q67, t2)
    let p = r03.addingProduct(r47, t4).addingProduct(q89, t8)
    let erfcAbs = t * expV(-az * az + p)
    let erfc = erfcAbs.replacing(with: 2 - erfcAbs, where: z .< 0)
    return 0.5 * erfc
}
