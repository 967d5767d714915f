import Foundation

/// SplitMix64: a tiny, fast, seedable generator (Steele, Lea & Flood 2014). Every random draw in
/// the project comes from one of these, so a seed reproduces a run bit for bit on any machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits (exactly representable as Float).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }
    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniformDouble() }

    /// Standard normal by Box-Muller (one value per call; simple over fast).
    public mutating func normal() -> Float {
        let u1 = max(uniformDouble(), 0x1p-60), u2 = uniformDouble()
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    /// Normal(0, std) truncated to [lo, hi] by rejection (PyTorch's trunc_normal_ bounds are
    /// absolute, so with std 0.02 and bounds ±2 it is effectively untruncated).
    public mutating func truncatedNormal(std: Float, lo: Float = -2, hi: Float = 2) -> Float {
        while true {
            let x = normal() * std
            if x >= lo && x <= hi { return x }
        }
    }

    /// A tensor of i.i.d. uniform values in [lo, hi).
    public mutating func uniformTensor(_ shape: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.storage[i] = uniform(lo, hi) }
        return t
    }

    /// A tensor of i.i.d. normal values with standard deviation `std`.
    public mutating func normalTensor(_ shape: [Int], std: Float = 1) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.storage[i] = normal() * std }
        return t
    }
}
