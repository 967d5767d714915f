import Foundation

/// How far a computed value may be from a reference value: `|Δ| ≤ absolute + relative·|reference|`.
///
/// All tolerances of the project live in this file, each derived in a comment, so that none is
/// widened quietly to make a test pass. `u = 2⁻²⁴ ≈ 6e-8` is the unit round-off of Float32.
public struct Tolerance: Sendable, Equatable, CustomStringConvertible {
    public var absolute: Float
    public var relative: Float
    public init(absolute: Float, relative: Float) {
        self.absolute = absolute
        self.relative = relative
    }

    /// The largest allowed |Δ| at a reference value.
    @inline(__always) public func limit(_ reference: Float) -> Float { absolute + relative * abs(reference) }

    public static let unitRoundoff: Float = 0x1p-24

    /// One or two rounded Float32 operations per element (add, scale, axpy, EMA, AdamW): the
    /// SIMD core may fuse a multiply-add (one rounding fewer) or order them differently, so the
    /// two results differ by a few ulps of the operands. 8u relative, plus an absolute floor of
    /// 8u·(typical operand ≈ 1) for results that cancel to near zero.
    public static let elementwise = Tolerance(absolute: 8 * unitRoundoff, relative: 8 * unitRoundoff)

    /// A sum of `count` products or terms of either sign: the reference accumulates in Double
    /// (its error is one final rounding); the SIMD core accumulates Float32 in blocked lane order.
    /// Each Float32 addition rounds with error ≤ u·|partial sum|, and partial sums of random-sign
    /// terms grow like √k·σ, so the accumulated error is a random walk of about u·σ·count/√2
    /// (Higham, Accuracy and Stability §4.2, the statistical bound). We allow 8× that, writing
    /// `rms` for σ (the root-mean-square of one term), plus 4u relative for the final rounding.
    /// A genuine bug (a dropped or doubled term) moves the result by ≈ σ, far beyond this limit
    /// for any count below ~10⁶.
    public static func reduction(count: Int, rms: Float) -> Tolerance {
        Tolerance(absolute: 8 * unitRoundoff * rms * Float(max(count, 1)), relative: 4 * unitRoundoff)
    }

    /// Transcendental functions (exp, log, erf) with max-shift: Foundation's libm is within 1-2
    /// ulp and the SIMD core's polynomial approximations are within a few ulp; `exp(z - max)`
    /// amplifies the argument's rounding by |z - max| (≤ 100+ for sharp teacher logits at τ=0.04),
    /// so the error of one probability is about (|z| + 4)·u relative. `sharpness` = max |x/τ|.
    public static func transcendental(sharpness: Float, count: Int = 1) -> Tolerance {
        let rel = (sharpness + 8 + 2 * Float(count).squareRoot()) * 4 * unitRoundoff
        return Tolerance(absolute: rel * 1e-2, relative: rel)
    }

    public var description: String {
        "|Δ| ≤ \(fmt(absolute)) + \(fmt(relative))·|ref|"
    }
}

@inline(__always) func fmt(_ x: Float) -> String {
    String(format: "%.1e", Double(x))
}
