import Foundation

/// Small exact helpers used by lessons, logs and the trainer. They run in Double, outside the
/// kernel cores, because they report numbers rather than compute the model.
public enum Stats {
    /// Entropy in nats of one probability vector, `-Σ p ln p`, with `0·ln 0 = 0`.
    public static func entropy<C: Collection>(_ p: C) -> Double where C.Element == Float {
        var h = 0.0
        for x in p where x > 0 { h -= Double(x) * log(Double(x)) }
        return h
    }

    /// `KL(p ‖ q) = Σ p (ln p - ln q)` in nats; terms with p = 0 contribute 0.
    public static func kl<C: Collection>(_ p: C, _ q: C) -> Double where C.Element == Float {
        var d = 0.0
        for (a, b) in zip(p, q) where a > 0 {
            d += Double(a) * (log(Double(a)) - log(max(Double(b), 1e-300)))
        }
        return d
    }

    /// Mean of the row entropies of a probability matrix.
    public static func meanRowEntropy(_ p: Tensor) -> Double {
        var h = 0.0
        for i in 0..<p.rows { h += entropy(p.storage[i * p.cols..<(i + 1) * p.cols]) }
        return h / Double(max(p.rows, 1))
    }

    /// Mean over rows of `KL(p_i ‖ q_i)`.
    public static func meanRowKL(_ p: Tensor, _ q: Tensor) -> Double {
        precondition(p.shape == q.shape, "meanRowKL: \(p.shape) vs \(q.shape)")
        var d = 0.0
        for i in 0..<p.rows {
            let r = i * p.cols..<(i + 1) * p.cols
            d += kl(p.storage[r], q.storage[r])
        }
        return d / Double(max(p.rows, 1))
    }

    /// Median of a non-empty list (benchmarks report medians: these machines are noisy).
    public static func median(_ xs: [Double]) -> Double {
        precondition(!xs.isEmpty, "median of an empty list")
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// Largest absolute value of a tensor (0 for an empty one).
    public static func maxAbs(_ x: Tensor) -> Float { x.storage.reduce(0) { max($0, abs($1)) } }
}

extension Stats {
    /// Mean of a tensor's values in Double.
    public static func mean(_ values: Tensor) -> Double {
        values.storage.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
    }
}
