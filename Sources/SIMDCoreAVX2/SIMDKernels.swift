import DINOCore
import Foundation

// The fast core's kernels: Swift SIMD types, register-blocked micro-kernels, packing, cache
// blocking and both CPU cores through the worker pool. No BLAS, no Accelerate, no C. It never
// imports `ReferenceCore`: agreement with the specification is checked from outside, by
// `KernelCheck`'s parity registry.
//
// These source files are compiled twice (Package.swift): as `SIMDCoreAVX2` with
// `-march=x86-64-v3` (AVX2 + FMA, 16 ymm registers) and, through the symbolic links in
// `Sources/SIMDCoreAVX512`, as `SIMDCoreAVX512` with `-march=x86-64-v4` and `DINO_AVX512`
// defined (AVX-512, 32 zmm registers), and once more as `SIMDCoreAVX512OnAVX2` (the 512-bit
// condition with the AVX2 flags, to check the 16-lane logic on CPUs without AVX-512). The
// condition picks the lane type `FV` (8 or 16 floats) and the GEMM tile; everything else is the
// same text. `SIMDCore` chooses between the builds at run time.

#if DINO_AVX512 && DINO_ON_AVX2
/// The 512-bit build's sources compiled for AVX2 (`DINO_ISA=avx512-on-avx2`): checks the
/// 16-lane logic on CPUs that cannot run AVX-512.
public enum SIMDKernelsAVX512OnAVX2: KernelSet {}
typealias SIMDKernels = SIMDKernelsAVX512OnAVX2
/// The vector of this build: 16 floats (a pair of ymm registers here).
typealias FV = SIMD16<Float>
typealias UV = SIMD16<UInt32>
#elseif DINO_AVX512
/// The 512-bit build of the SIMD core (chosen by `SIMDCore.SIMDKernels` on AVX-512 CPUs).
public enum SIMDKernelsAVX512: KernelSet {}
typealias SIMDKernels = SIMDKernelsAVX512
/// The vector of this build: 16 floats, one zmm register.
typealias FV = SIMD16<Float>
typealias UV = SIMD16<UInt32>
#else
/// The 256-bit build of the SIMD core (x86-64-v3: AVX2 + FMA).
public enum SIMDKernelsAVX2: KernelSet {}
typealias SIMDKernels = SIMDKernelsAVX2
/// The vector of this build: 8 floats, one ymm register.
typealias FV = SIMD8<Float>
typealias UV = SIMD8<UInt32>
#endif

/// Floats per vector of this build (8 or 16), a constant the optimiser folds.
@inline(__always) var lanes: Int { FV.scalarCount }

/// Eight floats, whatever the build: the 8×8 transposes of the GEMM packing work on these.
public typealias F8 = SIMD8<Float>

@inline(__always) func load8(_ p: UnsafePointer<Float>) -> F8 {
    UnsafeRawPointer(p).loadUnaligned(as: F8.self)
}

@inline(__always) func store8(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
}

/// One vector of this build (8 or 16 floats) from `p`, unaligned.
@inline(__always) func loadV(_ p: UnsafePointer<Float>) -> FV {
    UnsafeRawPointer(p).loadUnaligned(as: FV.self)
}

@inline(__always) func storeV(_ v: FV, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: FV.self)
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

/// `exp` on every lane: n = round(x·log2 e), r = x - n·ln 2 (two-constant Cody-Waite), a degree-7
/// Taylor polynomial for e^r on |r| ≤ ln2/2 (truncation ≤ 0.35⁸/8! ≈ 5e-9), and 2ⁿ built
/// directly in the exponent bits. Rounding uses the 1.5·2²³ trick because Swift's SIMD
/// float→int conversion compiles to a per-lane loop. Inputs below -87 flush to 0.
@_transparent func expV(_ x: FV) -> FV {
    let lo = FV(repeating: -87.33), hi = FV(repeating: 88.37)
    var v = x.replacing(with: lo, where: x .< lo)
    v = v.replacing(with: hi, where: v .> hi)
    let magic = FV(repeating: 12_582_912)  // 1.5·2²³
    let t = magic.addingProduct(v, FV(repeating: 1.442_695_040_888_963_4))
    let n = t - magic
    var r = v.addingProduct(n, FV(repeating: -0.693_145_751_953_125))   // ln2 high part (exact in Float)
    r = r.addingProduct(n, FV(repeating: -1.428_606_765_330_187_0e-06))  // ln2 low part
    // Degree 7 by Estrin's scheme (pairs, then r², r⁴): three FMA levels instead of Horner's
    // seven dependent ones, which GELU and softmax wait on.
    let r2 = r * r, r4 = r2 * r2
    let q01 = FV(repeating: 1).addingProduct(r, FV(repeating: 1))
    let q23 = FV(repeating: 0.5).addingProduct(r, FV(repeating: 1.0 / 6))
    let q45 = FV(repeating: 1.0 / 24).addingProduct(r, FV(repeating: 1.0 / 120))
    let q67 = FV(repeating: 1.0 / 720).addingProduct(r, FV(repeating: 1.0 / 5040))
    let p = q01.addingProduct(q23, r2).addingProduct(q45.addingProduct(q67, r2), r4)
    // 2ⁿ: the low mantissa bits of t hold n + 2²² (as an integer); shift into the exponent.
    let bits = unsafeBitCast(t, to: UV.self) &- 0x4B40_0000 &+ 127
    let scale = unsafeBitCast(bits &<< 23, to: FV.self)
    let result = p * scale
    return result.replacing(with: 0, where: x .< lo)
}

/// Natural log on every lane, for normal positive inputs (callers mask zeros and subnormals).
/// x = m·2ᵉ with m in [√½, √2): the exponent comes straight from the bits (ORed into the
/// mantissa of 2²³, so no float↔int conversion, which Swift compiles to a per-lane loop), and
/// log m = f - f²/2 + f³·P(f), f = m - 1, with Cephes' degree-8 minimax P (≈ 1 ulp on [√½-1, √2-1]),
/// evaluated by Estrin's scheme; e·ln 2 is added in two parts (Cody-Waite).
@_transparent func logV(_ x: FV) -> FV {
    let bits = unsafeBitCast(x, to: UV.self)
    // m in [0.5, 1): keep the mantissa, force the exponent field to 126.
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: FV.self)
    // The biased exponent field as a float, 8 388 608 + field, built without conversion.
    let field = unsafeBitCast(((bits &>> 23) & 0xFF) | 0x4B00_0000, to: FV.self)
    var e = field - FV(repeating: 8_388_608 + 126)
    // Bring m into [√½, √2): below √½, double it and take one from e.
    let small = m .< FV(repeating: 0.707_106_781_186_547_5)
    e = e.replacing(with: e - 1, where: small)
    m = m.replacing(with: m + m, where: small)
    let f = m - 1
    let f2 = f * f, f4 = f2 * f2
    let c01 = FV(repeating: 3.333_333_117_4e-1).addingProduct(f, FV(repeating: -2.499_999_399_3e-1))
    let c23 = FV(repeating: 2.000_071_476_5e-1).addingProduct(f, FV(repeating: -1.666_805_766_5e-1))
    let c45 = FV(repeating: 1.424_932_278_7e-1).addingProduct(f, FV(repeating: -1.242_014_084_6e-1))
    let c67 = FV(repeating: 1.167_699_874_0e-1).addingProduct(f, FV(repeating: -1.151_461_031_0e-1))
    let c8 = FV(repeating: 7.037_683_629_2e-2)
    let poly = c01.addingProduct(c23, f2).addingProduct(c45.addingProduct(c67, f2).addingProduct(c8, f4), f4)
    var y = f2 * f * poly
    y = y.addingProduct(e, FV(repeating: -2.121_944_400_5e-4))     // ln 2 low part
    y = y.addingProduct(f2, FV(repeating: -0.5))
    return (f + y).addingProduct(e, FV(repeating: 0.693_359_375))   // ln 2 high part (exact)
}
