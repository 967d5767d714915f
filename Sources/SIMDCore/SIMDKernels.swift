import DINOCore
import Foundation

/// The fast core: Swift SIMD types (`SIMD8<Float>`, AVX2 + FMA with the package's flags),
/// register-blocked micro-kernels, packing, cache blocking and both CPU cores through Dispatch.
/// No BLAS, no Accelerate, no C. It never imports `ReferenceCore`: agreement with the
/// specification is checked from outside, by `KernelCheck`'s parity registry.
public enum SIMDKernels: KernelSet {}

public typealias F8 = SIMD8<Float>

@inline(__always) func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    precondition(condition, message())
}

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> F8 {
    UnsafeRawPointer(p).loadUnaligned(as: F8.self)
}

@inline(__always) func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
}

/// Splits `0..<count` rows into at most `Threads.count` contiguous chunks (only when there is
/// enough work, `work` = multiply-adds or element touches) and runs them in parallel.
@inline(__always)
func parallelRows(_ count: Int, work: Int, minimumWork: Int = 1 << 16, _ body: (Range<Int>) -> Void) {
    let threads = work >= minimumWork ? min(Threads.count, count) : 1
    if threads <= 1 {
        body(0..<count)
        return
    }
    let per = (count + threads - 1) / threads
    Threads.parallelFor(threads) { t in
        let lo = t * per, hi = min(count, lo + per)
        if lo < hi { body(lo..<hi) }
    }
}

/// A mutable pointer that may cross into a concurrentPerform closure: chunks write disjoint rows.
struct SharedPointer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
}

/// Horizontal sum of 8 lanes.
@inline(__always) func hsum(_ v: F8) -> Float { v.sum() }
@inline(__always) func hmax(_ v: F8) -> Float { v.max() }

/// `exp` on 8 lanes: n = round(x·log2 e), r = x - n·ln 2 (two-constant Cody-Waite), a degree-7
/// Taylor polynomial for e^r on |r| ≤ ln2/2 (truncation ≤ 0.35⁸/8! ≈ 5e-9), and 2ⁿ built
/// directly in the exponent bits. Rounding uses the 1.5·2²³ trick because Swift's SIMD
/// float→int conversion compiles to a per-lane loop. Inputs below -87 flush to 0.
@_transparent func exp8(_ x: F8) -> F8 {
    let lo = F8(repeating: -87.33), hi = F8(repeating: 88.37)
    var v = x.replacing(with: lo, where: x .< lo)
    v = v.replacing(with: hi, where: v .> hi)
    let magic = F8(repeating: 12_582_912)  // 1.5·2²³
    let t = magic.addingProduct(v, F8(repeating: 1.442_695_040_888_963_4))
    let n = t - magic
    var r = v.addingProduct(n, F8(repeating: -0.693_145_751_953_125))   // ln2 high part (exact in Float)
    r = r.addingProduct(n, F8(repeating: -1.428_606_765_330_187_0e-06))  // ln2 low part
    // Degree 7 by Estrin's scheme (pairs, then r², r⁴): three FMA levels instead of Horner's
    // seven dependent ones, which GELU and softmax wait on.
    let r2 = r * r, r4 = r2 * r2
    let q01 = F8(repeating: 1).addingProduct(r, F8(repeating: 1))
    let q23 = F8(repeating: 0.5).addingProduct(r, F8(repeating: 1.0 / 6))
    let q45 = F8(repeating: 1.0 / 24).addingProduct(r, F8(repeating: 1.0 / 120))
    let q67 = F8(repeating: 1.0 / 720).addingProduct(r, F8(repeating: 1.0 / 5040))
    let p = q01.addingProduct(q23, r2).addingProduct(q45.addingProduct(q67, r2), r4)
    // 2ⁿ: the low mantissa bits of t hold n + 2²² (as an integer); shift into the exponent.
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127
    let scale = unsafeBitCast(bits &<< 23, to: F8.self)
    let result = p * scale
    return result.replacing(with: 0, where: x .< lo)
}

/// Natural log on 8 lanes, for normal positive inputs (callers mask zeros and subnormals).
/// x = m·2ᵉ with m in [√½, √2): the exponent comes straight from the bits (ORed into the
/// mantissa of 2²³, so no float↔int conversion, which Swift compiles to a per-lane loop), and
/// log m = f - f²/2 + f³·P(f), f = m - 1, with Cephes' degree-8 minimax P (≈ 1 ulp on [√½-1, √2-1]),
/// evaluated by Estrin's scheme; e·ln 2 is added in two parts (Cody-Waite).
@_transparent func log8(_ x: F8) -> F8 {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    // m in [0.5, 1): keep the mantissa, force the exponent field to 126.
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: F8.self)
    // The biased exponent field as a float, 8 388 608 + field, built without conversion.
    let field = unsafeBitCast(((bits &>> 23) & 0xFF) | 0x4B00_0000, to: F8.self)
    var e = field - F8(repeating: 8_388_608 + 126)
    // Bring m into [√½, √2): below √½, double it and take one from e.
    let small = m .< F8(repeating: 0.707_106_781_186_547_5)
    e = e.replacing(with: e - 1, where: small)
    m = m.replacing(with: m + m, where: small)
    let f = m - 1
    let f2 = f * f, f4 = f2 * f2
    let c01 = F8(repeating: 3.333_333_117_4e-1).addingProduct(f, F8(repeating: -2.499_999_399_3e-1))
    let c23 = F8(repeating: 2.000_071_476_5e-1).addingProduct(f, F8(repeating: -1.666_805_766_5e-1))
    let c45 = F8(repeating: 1.424_932_278_7e-1).addingProduct(f, F8(repeating: -1.242_014_084_6e-1))
    let c67 = F8(repeating: 1.167_699_874_0e-1).addingProduct(f, F8(repeating: -1.151_461_031_0e-1))
    let c8 = F8(repeating: 7.037_683_629_2e-2)
    let poly = c01.addingProduct(c23, f2).addingProduct(c45.addingProduct(c67, f2).addingProduct(c8, f4), f4)
    var y = f2 * f * poly
    y = y.addingProduct(e, F8(repeating: -2.121_944_400_5e-4))     // ln 2 low part
    y = y.addingProduct(f2, F8(repeating: -0.5))
    return (f + y).addingProduct(e, F8(repeating: 0.693_359_375))   // ln 2 high part (exact)
}
