import DINOCore
import Foundation
import Testing
import SIMDCore
@testable import SIMDCoreAVX2
@testable import SIMDCoreAVX512
@testable import SIMDCoreAVX512OnAVX2

/// The SIMD core's polynomial `expV` and `logV` (every build: 8 lanes, 16 lanes on AVX2, and 16
/// lanes on AVX-512 where the CPU has it) against libm in Double, lane by lane, measured in
/// units in the last place of the Float result. Softmax, GELU and the entropy of the loss are built
/// on these two; the parity registry checks those ops, this checks the functions themselves over
/// their whole range.
@Suite("SIMD exp and log")
struct SIMDMathTests {
    /// Error of `got` in ulps of the correctly rounded Float result.
    static func ulps(_ got: Float, _ exact: Double) -> Double {
        let rounded = Float(exact)
        return abs(Double(got) - exact) / Double(rounded.ulp == 0 ? Float.leastNonzeroMagnitude : rounded.ulp)
    }

    /// Runs `f` over `inputs` one vector at a time (with a ragged tail) and returns the worst error.
    static func worst<V: SIMD>(
        _ inputs: [Float], _ f: (V) -> V, _ exact: (Double) -> Double
    ) -> (ulps: Double, at: Float)
    where V.Scalar == Float {
        var worst = (ulps: 0.0, at: Float.nan)
        var i = 0
        while i < inputs.count {
            var v = V(repeating: inputs[i])
            for l in 0..<min(V.scalarCount, inputs.count - i) { v[l] = inputs[i + l] }
            let y = f(v)
            for l in 0..<min(V.scalarCount, inputs.count - i) {
                let e = ulps(y[l], exact(Double(v[l])))
                if !(e <= worst.ulps) { worst = (e, v[l]) }
            }
            i += V.scalarCount
        }
        return worst
    }

    /// Every build of `f` this CPU can run, by name.
    static func builds(
        _ avx2: @escaping (SIMD8<Float>) -> SIMD8<Float>,
        _ onAVX2: @escaping (SIMD16<Float>) -> SIMD16<Float>,
        _ avx512: @escaping (SIMD16<Float>) -> SIMD16<Float>,
        _ check: (String, ([Float]) -> (ulps: Double, at: Float)) -> Void,
        exact: @escaping (Double) -> Double
    ) {
        check("avx2") { worst($0, avx2, exact) }
        check("avx512-on-avx2") { worst($0, onAVX2, exact) }
        if SIMDPath.cpuHasAVX512 { check("avx512") { worst($0, avx512, exact) } }
    }

    @Test func logIsWithinTwoUlpsOverEveryBinade() {
        var rng = SplitMix64(seed: 7)
        var xs: [Float] = []
        // Every binade of the normal floats, random mantissas, plus the neighbourhood of 1
        // (where log x → 0 and only a relative error bound is meaningful) and the edges.
        for e in -126...127 {
            for _ in 0..<64 {
                xs.append(Float(sign: .plus, exponent: e, significand: Float.random(in: 1..<2, using: &rng)))
            }
        }
        for _ in 0..<20_000 { xs.append(Float.random(in: 0.5...2, using: &rng)) }
        let one: Float = 1
        xs += [
            one, one.nextUp, one.nextDown, 0.707_106_77, 0.707_106_8, 1.414_213_5, .leastNormalMagnitude,
            .greatestFiniteMagnitude, one / 2048,
        ]
        Self.builds(
            { SIMDCoreAVX2.logV($0) }, { SIMDCoreAVX512OnAVX2.logV($0) }, { SIMDCoreAVX512.logV($0) },
            { name, run in
                let w = run(xs)
                #expect(w.ulps <= 2, "\(name): logV is \(w.ulps) ulps off at \(w.at)")
            }, exact: { Foundation.log($0) })
    }

    @Test func expIsWithinTwoUlpsWhereItIsNormal() {
        var rng = SplitMix64(seed: 7)
        var xs = (0..<50_000).map { _ in Float.random(in: -87...88, using: &rng) }
        xs += [0, -0.0, 1, -1, 0.346_573_6, -0.346_573_6, 88, -87] as [Float]
        Self.builds(
            { SIMDCoreAVX2.expV($0) }, { SIMDCoreAVX512OnAVX2.expV($0) }, { SIMDCoreAVX512.expV($0) },
            { name, run in
                let w = run(xs)
                #expect(w.ulps <= 2, "\(name): expV is \(w.ulps) ulps off at \(w.at)")
            }, exact: { Foundation.exp($0) })
        // Below the clamp the result flushes to 0 instead of going subnormal.
        #expect(SIMDCoreAVX2.expV(SIMD8<Float>(repeating: -100)) == SIMD8<Float>())
        #expect(SIMDCoreAVX512OnAVX2.expV(SIMD16<Float>(repeating: -100)) == SIMD16<Float>())
    }
}
