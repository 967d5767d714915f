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
