// Lessons/10-kernel-ladder/SoftmaxRungs.swift · Lesson 10 · rungs 1-3 of the softmax ladder
// p[i, j] = exp(x[i, j]/τ - m_i) / Σ_j' exp(x[i, j']/τ - m_i), m_i = max_j x[i, j]/τ, for every row
// of a rows × cols Float32 matrix. main.swift runs, times and checks them; the shipped kernel is
// SIMDKernels.softmax (Sources/SIMDCoreAVX2/Softmax.swift).
import Foundation

/// A softmax rung: `p = softmax(x / temperature)` row by row, `x` and `p` both `rows × cols`.
typealias SoftmaxRung = (
    _ x: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int,
    _ temperature: Float
) -> Void

// MARK: Rung 1 · naive: three passes, Foundation's exp, three divisions per element
/// The stable formula as written (lesson 02's `stableSoftmax`), in Float, one row at a time:
/// pass 1 finds m = max x/τ, pass 2 writes e_j = exp(x_j/τ - m) and sums them, pass 3 divides
/// every e_j by the sum. Every element costs one call of libm's `expf` (scalar, ~20 instructions
/// and a function call) and three divisions (x/τ twice, e/Σ once; a division takes 3-5 cycles
/// even when its neighbours are independent, a multiplication half a cycle).
func softmaxNaive(
    _ x: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int,
    _ temperature: Float
) {
    for i in 0..<rows {
        let xr = x + i * cols, pr = p + i * cols
        var top = -Float.infinity
        for j in 0..<cols { top = max(top, xr[j] / temperature) }
        var sum: Float = 0
        for j in 0..<cols {
            let e = Foundation.exp(xr[j] / temperature - top)
            pr[j] = e
            sum += e
        }
        for j in 0..<cols { pr[j] /= sum }
    }
}

// MARK: Rung 2 · fused: the max on x itself, 1/τ and 1/Σ as multiplications
/// The same three loops, with the arithmetic around `exp` taken out of them.
///
/// What changed: since τ > 0, max(x/τ) = max(x)/τ, so pass 1 compares raw x (no division), and
/// pass 2 computes exp((x_j - max x)·(1/τ)), the shift and the scaling fused into one subtract and
/// one multiply. The normalisation multiplies by 1/Σ, computed once per row; that loop has no
/// dependency between elements, so LLVM vectorises it. Only the `expf` call per element is left:
/// it is now the whole cost. (The "online" softmax, which finds the max and the sum in one pass by
/// rescaling the sum whenever the max grows, saves a pass over the row at the price of a second
/// exp per element: the right trade on a GPU whose softmax waits on memory, the wrong one here,
/// where a row of 4096 floats is 16 KiB and stays in the 32 KiB L1 for all three loops.)
func softmaxFused(
    _ x: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int,
    _ temperature: Float
) {
    let invT = 1 / temperature
    for i in 0..<rows {
        let xr = x + i * cols, pr = p + i * cols
        var top = -Float.infinity
        for j in 0..<cols where xr[j] > top { top = xr[j] }
        var sum: Float = 0
        for j in 0..<cols {
            let e = Foundation.exp((xr[j] - top) * invT)
            pr[j] = e
            sum += e
        }
        let inv = 1 / sum
        for j in 0..<cols { pr[j] *= inv }
    }
}

// MARK: Rung 3 · SIMD lanes and a vector exp
/// Rung 2 on `SIMD8<Float>`, 8 columns per step, with `exp8` below instead of libm's scalar
/// `expf`.
///
/// What changed: all three loops now work on 8 lanes at a time, and exp is a short polynomial
/// evaluated on 8 lanes at once (about 20 vector instructions for 8 values, where `expf` spends
/// about as many on one). The max and the sum each use two independent vector accumulators, so
/// consecutive steps do not wait for each other. The last cols % 8 columns run as one padded
/// vector: lanes past the row's end hold -∞, whose exp is exactly 0, so they add nothing to the
/// sum and are never stored.
func softmaxSIMD(
    _ x: UnsafePointer<Float>, _ p: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int,
    _ temperature: Float
) {
    let invT = SIMD8<Float>(repeating: 1 / temperature)
    let full = cols / 8 * 8, rest = cols - full
    for i in 0..<rows {
        let xr = x + i * cols, pr = p + i * cols
        // The tail as one vector padded with -∞ (it cannot be loaded whole: it may end the buffer).
        var tail = SIMD8<Float>(repeating: -.infinity)
        for l in 0..<rest { tail[l] = xr[full + l] }
        // Pass 1: the max, two accumulators.
        var m0 = tail, m1 = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j + 16 <= full {
            let v0 = load8(xr + j), v1 = load8(xr + j + 8)
            m0 = m0.replacing(with: v0, where: v0 .> m0)
            m1 = m1.replacing(with: v1, where: v1 .> m1)
            j += 16
        }
        if j < full { let v = load8(xr + j); m0 = m0.replacing(with: v, where: v .> m0) }
        let top = SIMD8<Float>(repeating: m0.replacing(with: m1, where: m1 .> m0).max())
        // Pass 2: e = exp((x - max)/τ), stored, and summed in two accumulators.
        var s0 = SIMD8<Float>(), s1 = SIMD8<Float>()
        j = 0
        while j + 16 <= full {
            let e0 = exp8((load8(xr + j) - top) * invT), e1 = exp8((load8(xr + j + 8) - top) * invT)
            store8(e0, pr + j)
            store8(e1, pr + j + 8)
            s0 += e0
            s1 += e1
            j += 16
        }
        if j < full { let e = exp8((load8(xr + j) - top) * invT); store8(e, pr + j); s0 += e }
        let eTail = exp8((tail - top) * invT)
        for l in 0..<rest { pr[full + l] = eTail[l] }
        // Pass 3: multiply by 1/Σ.
        let inv = SIMD8<Float>(repeating: 1 / ((s0 + s1).sum() + eTail.sum()))
        j = 0
        while j < full { store8(load8(pr + j) * inv, pr + j); j += 8 }
        for l in 0..<rest { pr[full + l] *= inv[0] }
    }
}

/// e^x on 8 lanes, for the arguments softmax feeds it (x ≤ 0 after the max-shift).
///
/// 1. Range reduction: x = n·ln 2 + r with n = round(x / ln 2), so |r| ≤ ln 2 / 2 and
///    e^x = 2ⁿ·e^r. r is computed as x - n·ln2_hi - n·ln2_lo, where ln2_hi has few enough bits
///    that n·ln2_hi is exact (Cody and Waite): r keeps all its digits even for |n| up to 126.
///    The rounding of x/ln 2 uses the 1.5·2²³ trick: adding it pushes the fraction bits out of the
///    float, so t - 1.5·2²³ is n, and t's low mantissa bits hold n as an integer.
/// 2. e^r by its Taylor polynomial of degree 7, by Horner's rule: the first term dropped,
///    r⁸/8! ≤ 0.347⁸/40320 ≈ 5e-9, is below Float's rounding (6e-8). (The shipped `expV` uses
///    the same polynomial by Estrin's scheme, three levels of FMAs instead of seven dependent ones.)
/// 3. 2ⁿ is built directly: n + 127 in the exponent field of a float.
/// Below -87.33 (where e^x leaves Float's normal range) the result is 0; -∞ gives 0.
@_transparent
func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: -87.33), hi = SIMD8<Float>(repeating: 88.37)
    var v = x.replacing(with: lo, where: x .< lo)
    v = v.replacing(with: hi, where: v .> hi)
    let magic = SIMD8<Float>(repeating: 12_582_912)  // 1.5·2²³
    let t = magic.addingProduct(v, SIMD8<Float>(repeating: 1.442_695_040_888_963_4))  // x·log2(e) + magic
    let n = t - magic
    var r = v.addingProduct(n, SIMD8<Float>(repeating: -0.693_145_751_953_125))  // - n·ln2_hi (exact)
    r = r.addingProduct(n, SIMD8<Float>(repeating: -1.428_606_765_330_187e-06))  // - n·ln2_lo
    // Horner: e^r ≈ 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040)))))).
    @inline(__always) func step(_ e: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
        SIMD8<Float>(repeating: c).addingProduct(e, r)  // c + e·r, one FMA
    }
    var e = step(SIMD8<Float>(repeating: 1.0 / 5040), 1.0 / 720)
    e = step(e, 1.0 / 120)
    e = step(e, 1.0 / 24)
    e = step(e, 1.0 / 6)
    e = step(e, 0.5)
    e = step(e, 1)
    e = step(e, 1)
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
    let twoToN = unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
    return (e * twoToN).replacing(with: 0, where: x .< lo)
}
