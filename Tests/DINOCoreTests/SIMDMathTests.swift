import Foundation
import Testing
@testable import SIMDCore

/// The SIMD core's polynomial `exp8` and `log8` against libm in Double, lane by lane, measured in
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

    /// Runs `f` over `inputs` eight at a time (with a ragged tail) and returns the worst error.
    static func worst(_ inputs: [Float], _ f: (F8) -> F8, _ exact: (Double) -> Double) -> (ulps: Double, at: Float) {
        var worst = (ulps: 0.0, at: Float.nan)
        var i = 0
        while i < inputs.count {
            var v = F8(repeating: inputs[i])
            for l in 0..<min(8, inputs.count - i) { v[l] = inputs[i + l] }
            let y = f(v)
            for l in 0..<min(8, inputs.count - i) {
                let e = ulps(y[l], exact(Double(v[l])))
                if !(e <= worst.ulps) { worst = (e, v[l]) }
            }
            i += 8
        }
        return worst
    }

    @Test func logIsWithinTwoUlpsOverEveryBinade() {
        var rng = SystemRandomNumberGenerator()
        var xs: [Float] = []
        // Every binade of the normal floats, random mantissas, plus the neighbourhood of 1
        // (where log x → 0 and only a relative error bound is meaningful) and the edges.
        for e in -126...127 { for _ in 0..<64 { xs.append(Float(sign: .plus, exponent: e, significand: Float.random(in: 1..<2, using: &rng))) } }
        for _ in 0..<20_000 { xs.append(Float.random(in: 0.5...2, using: &rng)) }
        let one: Float = 1
        xs += [one, one.nextUp, one.nextDown, 0.707_106_77, 0.707_106_8, 1.414_213_5, .leastNormalMagnitude, .greatestFiniteMagnitude, one / 2048]
        let w = Self.worst(xs, { log8($0) }, { Foundation.log($0) })
        #expect(w.ulps <= 2, "log8 is \(w.ulps) ulps off at \(w.at)")
    }

    @Test func expIsWithinTwoUlpsWhereItIsNormal() {
        var rng = SystemRandomNumberGenerator()
        var xs = (0..<50_000).map { _ in Float.random(in: -87...88, using: &rng) }
        xs += [0, -0.0, 1, -1, 0.346_573_6, -0.346_573_6, 88, -87] as [Float]
        let w = Self.worst(xs, { exp8($0) }, { Foundation.exp($0) })
        #expect(w.ulps <= 2, "exp8 is \(w.ulps) ulps off at \(w.at)")
        // Below the clamp the result flushes to 0 instead of going subnormal.
        #expect(exp8(F8(repeating: -100)) == F8())
    }
}
