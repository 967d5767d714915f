import DINOCore
import Foundation
import ReferenceCore
import SIMDCore

/// One named output of a parity run, with the tolerance it is held to.
public struct ParityOutput {
    public var name: String
    public var value: Tensor
    public var tolerance: Tolerance
    public init(_ name: String, _ value: Tensor, _ tolerance: Tolerance) {
        self.name = name
        self.value = value
        self.tolerance = tolerance
    }
}

/// One reference-vs-SIMD comparison: an operation on inputs drawn from a seed. `run` is called
/// once with each core and the same seed, so both see identical inputs (llm.c reseeds per
/// kernel the same way). Tests, `dino check`, `dino bench` and lessons all use these cases.
public struct ParityCase: Sendable, CustomStringConvertible {
    /// Operation family, e.g. "matmul" (`dino check softmax` filters on it).
    public let op: String
    /// Full label, e.g. "softmax τ=0.04 64×65".
    public let name: String
    /// Multiply-adds (or element touches) per call, for GFLOP/s and thread decisions.
    public let work: Int
    let body: @Sendable (any KernelSet.Type, inout SplitMix64) -> [ParityOutput]

    public init(
        op: String, name: String, work: Int,
        _ body: @escaping @Sendable (any KernelSet.Type, inout SplitMix64) -> [ParityOutput]
    ) {
        self.op = op
        self.name = name
        self.work = work
        self.body = body
    }

    /// Runs the case on one core from `seed`.
    public func run(_ kernels: any KernelSet.Type, seed: UInt64) -> [ParityOutput] {
        var rng = SplitMix64(seed: seed)
        return body(kernels, &rng)
    }

    public var description: String { name }
}

/// The comparison of one output: largest |Δ|, where, and the headroom against its limit.
public struct OutputComparison: CustomStringConvertible {
    public var output: String
    public var maxAbs: Float = 0
    public var worstIndex: [Int] = []
    /// Largest |Δ| / limit over all elements (1.0 = exactly at the tolerance).
    public var worstRatio: Float = 0
    public var failures: [(index: [Int], reference: Float, simd: Float, limit: Float)] = []
    public var failureCount = 0
    public var shapeError: String?
    public var passed: Bool { shapeError == nil && failureCount == 0 }
    public var description: String { output }
}

public struct ParityReport: CustomStringConvertible {
    public var parityCase: ParityCase
    public var threads: Int
    public var outputs: [OutputComparison]
    public var passed: Bool { outputs.allSatisfy(\.passed) }

    /// The comparison with the least headroom.
    public var worst: OutputComparison? { outputs.max { $0.worstRatio < $1.worstRatio } }

    public var description: String {
        let w = worst ?? OutputComparison(output: "-")
        let name = parityCase.name.padding(
            toLength: max(34, parityCase.name.count), withPad: " ", startingAt: 0)
        var line = "\(passed ? "PASS" : "FAIL") \(name) max|Δ| \(String(format: "%.1e", w.maxAbs))"
        line += String(format: "   %3.0f%% of limit at ", 100 * w.worstRatio) + "\(w.output)\(w.worstIndex)"
        for o in outputs where !o.passed {
            if let e = o.shapeError { line += "\n     \(o.output): \(e)"; continue }
            for f in o.failures {
                line += "\n     \(o.output)\(f.index)  reference \(f.reference)  simd \(f.simd)"
                line += String(format: "  Δ %.1e  limit %.1e", abs(f.reference - f.simd), f.limit)
            }
            line += "   (first \(o.failures.count) of \(o.failureCount) shown)"
        }
        return line
    }
}

/// Multi-index of flat position `flat` in `shape`.
func unflatten(_ flat: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count), rest = flat
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
        index[d] = rest % shape[d]
        rest /= shape[d]
    }
    return index
}

/// Compares one output of the SIMD core with the reference's, element by element.
public func compareOutput(
    _ name: String, reference: Tensor, candidate: Tensor, tolerance: Tolerance
) -> OutputComparison {
    var c = OutputComparison(output: name)
    guard reference.shape == candidate.shape else {
        c.shapeError = "shape \(candidate.shape), reference \(reference.shape)"
        return c
    }
    for i in 0..<reference.count {
        let r = reference.storage[i], s = candidate.storage[i]
        let delta = abs(r - s), limit = tolerance.limit(r)
        let ratio = delta.isNaN || s.isNaN ? Float.infinity : delta / max(limit, .leastNormalMagnitude)
        if ratio > c.worstRatio || c.worstIndex.isEmpty {
            c.worstRatio = ratio
            c.worstIndex = unflatten(i, reference.shape)
        }
        c.maxAbs = max(c.maxAbs, delta.isNaN ? .infinity : delta)
        if !(delta <= limit) {
            c.failureCount += 1
            if c.failures.count < 5 { c.failures.append((unflatten(i, reference.shape), r, s, limit)) }
        }
    }
    return c
}

/// Runs `parityCase` on both cores from one seed under `threads` SIMD threads and compares.
public func compare(
    _ parityCase: ParityCase, seed: UInt64 = 137, threads: Int = Threads.count
) -> ParityReport {
    let reference = parityCase.run(ReferenceKernels.self, seed: seed)
    let simd = Threads.with(threads) { parityCase.run(SIMDKernels.self, seed: seed) }
    precondition(
        reference.map(\.name) == simd.map(\.name),
        "parity case \(parityCase.name) returned different outputs per core")
    let outputs = zip(reference, simd).map { r, s in
        compareOutput(r.name, reference: r.value, candidate: s.value, tolerance: r.tolerance)
    }
    return ParityReport(parityCase: parityCase, threads: threads, outputs: outputs)
}
