// Vector exp and log on every lane of this build's `FV` (8 or 16 floats), in Swift SIMD types
// only: `expV` under softmax, log-softmax, the fused cross-entropy, GELU and attention, `logV`
// under the row entropy. Tests/DINOCoreTests/SIMDMathTests.swift measures both against libm
// over their whole range, in every build.

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
    var r = v.addingProduct(n, FV(repeating: -0.693_145_751_953_125))  // ln2 high part (exact in Float)
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
    y = y.addingProduct(e, FV(repeating: -2.121_944_400_5e-4))  // ln 2 low part
    y = y.addingProduct(f2, FV(repeating: -0.5))
    return (f + y).addingProduct(e, FV(repeating: 0.693_359_375))  // ln 2 high part (exact)
}
