import Foundation

/// The schedules of the official `utils.cosine_scheduler` and the teacher-temperature warm-up,
/// in Double as the official code keeps them (numpy float64).
public enum Schedule {
    /// One value per iteration: a linear warm-up from `start` to `base` over
    /// `warmupEpochs·itersPerEpoch` iterations (numpy linspace, both endpoints included, so the
    /// first value is exactly `start`), then `final + ½(base - final)(1 + cos(π·j/L))` for
    /// `j = 0..<L`: the divisor is L, not L-1, so `final` is approached but never reached.
    public static func cosine(
        base: Double, final: Double, epochs: Int, itersPerEpoch: Int, warmupEpochs: Int = 0,
        start: Double = 0
    ) -> [Double] {
        let warm = warmupEpochs * itersPerEpoch
        var out: [Double] = []
        out.reserveCapacity(epochs * itersPerEpoch)
        for i in 0..<warm {
            out.append(warm == 1 ? start : start + Double(i) * (base - start) / Double(warm - 1))
        }
        let rest = epochs * itersPerEpoch - warm
        for j in 0..<max(rest, 0) {
            out.append(final + 0.5 * (base - final) * (1 + cos(Double.pi * Double(j) / Double(rest))))
        }
        return out
    }

    /// Teacher temperature per EPOCH: linspace(warmup, final, W) for the first W epochs
    /// (endpoints included, so the last warm-up epoch already uses `final`), then `final`.
    public static func teacherTemperature(
        warmup: Double, final: Double, warmupEpochs: Int, epochs: Int
    ) -> [Double] {
        (0..<epochs).map { e in
            if e >= warmupEpochs { return final }
            return warmupEpochs == 1
                ? warmup : warmup + Double(e) * (final - warmup) / Double(warmupEpochs - 1)
        }
    }
}
