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
