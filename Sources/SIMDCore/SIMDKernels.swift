import CCPUID
import DINOCore
import Foundation
import SIMDCoreAVX2
import SIMDCoreAVX512
import SIMDCoreAVX512OnAVX2

/// The fast core as the rest of the project sees it: one `KernelSet` whose every kernel runs
/// the 512-bit build of the SIMD sources (`SIMDKernelsAVX512`: `SIMD16<Float>` lanes, 32 zmm
/// registers, an 8×32 GEMM tile) on a CPU with AVX-512 F/BW/DQ/VL, and the x86-64-v3 build
/// (`SIMDKernelsAVX2`: `SIMD8<Float>`, a 6×16 tile) elsewhere. They are the same source files
/// (`Sources/SIMDCoreAVX2`, linked into `Sources/SIMDCoreAVX512` and
/// `Sources/SIMDCoreAVX512OnAVX2`) compiled with different `-march` flags and conditions,
/// because Swift has no per-function target attribute. The choice costs one switch and one
/// witness-table call per kernel, on ``SIMDPath/current``.
public enum SIMDKernels: KernelSet {}

/// Which build of the SIMD sources runs.
public enum SIMDPath: String, Sendable, CaseIterable, CustomStringConvertible {
    /// x86-64-v3: 8-float vectors (ymm), a 6×16 GEMM tile.
    case avx2
    /// x86-64-v4: 16-float vectors (zmm), an 8×32 GEMM tile. Only where CPUID reports AVX-512.
    case avx512
    /// The 512-bit build's sources (16-float vectors, the 8×32 tile, every 16-lane loop and
    /// tail) compiled for AVX2, where LLVM splits each 16-float vector into two ymm halves: slow,
    /// but it runs on any AVX2 CPU, so the wide path's logic is checked even on a CPU without
    /// AVX-512. Only ever chosen by name (`DINO_ISA=avx512-on-avx2`, `dino check`).
    case avx512OnAVX2 = "avx512-on-avx2"

    /// Whether the CPU and the OS support AVX-512 F, BW, DQ and VL (CPUID leaf 7, XGETBV).
    public static let cpuHasAVX512: Bool = {
        #if arch(x86_64)
            return dino_cpu_has_avx512() != 0
        #else
            return false
        #endif
    }()

    /// The paths this CPU can run, narrowest first.
    public static var supported: [SIMDPath] {
        cpuHasAVX512 ? [.avx2, .avx512OnAVX2, .avx512] : [.avx2, .avx512OnAVX2]
    }

    /// The fastest path this CPU supports: the default.
    public static var best: SIMDPath { cpuHasAVX512 ? .avx512 : .avx2 }

    /// `DINO_ISA` read once: nil when unset, else the path it names or why it cannot be used.
    private static let environment: Result<SIMDPath, EnvironmentProblem>? = {
        guard let text = ProcessInfo.processInfo.environment["DINO_ISA"] else { return nil }
        guard let path = SIMDPath(rawValue: text.lowercased()) else {
            return .failure(
                EnvironmentProblem(
                    message:
                        "DINO_ISA=\(text): expected one of \(allCases.map(\.rawValue).joined(separator: ", "))"
                ))
        }
        guard supported.contains(path) else {
            return .failure(
                EnvironmentProblem(
                    message:
                        "DINO_ISA=\(text): this CPU (or its OS) has no AVX-512 F/BW/DQ/VL; use avx2 or avx512-on-avx2"
                ))
        }
        return .success(path)
    }()

    private struct EnvironmentProblem: Error { let message: String }

    /// The path `DINO_ISA` asks for, when it is set and usable.
    public static var requested: SIMDPath? { try? environment?.get() }

    /// The path chosen at start-up: `DINO_ISA`'s if set and usable, else the fastest the CPU
    /// supports. A bad `DINO_ISA` is reported by ``environmentProblem`` (the CLI and the lessons
    /// refuse to start on it) and otherwise ignored.
    public static let startup: SIMDPath = requested ?? best

    /// A message naming `DINO_ISA`'s bad value, or nil when it is unset or usable.
    public static var environmentProblem: String? {
        if case .failure(let problem)? = environment { return problem.message }
        return nil
    }

    @TaskLocal static var scoped: SIMDPath?

    /// The path in force here: the innermost ``with(_:_:)``, else ``startup``.
    public static var current: SIMDPath {
        @inline(__always) get { scoped ?? startup }
    }

    /// Runs `body` on `path` for this task only (as ``Threads/with(_:_:)``): the kernels it calls
    /// run that build (their own worker threads are already inside it).
    public static func with<R>(_ path: SIMDPath, _ body: () throws -> R) rethrows -> R {
        precondition(supported.contains(path), "SIMDPath.with(\(path.rawValue)): not supported by this CPU")
        return try $scoped.withValue(path, operation: body)
    }

    public var description: String {
        switch self {
        case .avx2: return "avx2 (x86-64-v3: 8-float ymm vectors, 6×16 GEMM tile)"
        case .avx512: return "avx512 (x86-64-v4: 16-float zmm vectors, 8×32 GEMM tile)"
        case .avx512OnAVX2:
            return "avx512-on-avx2 (the avx512 sources compiled for AVX2: 16-float vectors as ymm pairs)"
        }
    }
}

extension SIMDKernels {
    /// The build of the SIMD sources that runs here: one witness-table call per kernel.
    @inline(__always) static var chosen: any KernelSet.Type {
        switch SIMDPath.current {
        case .avx2: return SIMDKernelsAVX2.self
        case .avx512: return SIMDKernelsAVX512.self
        case .avx512OnAVX2: return SIMDKernelsAVX512OnAVX2.self
        }
    }

    public static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, accumulate: Bool, into c: inout Tensor
    ) {
        chosen.matmul(a, b, layout: layout, bias: bias, accumulate: accumulate, into: &c)
    }

    public static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        chosen.add(a, b, into: &c)
    }
    public static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor) {
        chosen.scale(x, by: alpha, into: &y)
    }
    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        chosen.axpy(alpha, x, &y)
    }
    public static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor) {
        chosen.addRow(x, v, scale: alpha, into: &y)
    }
    public static func gelu(_ x: Tensor, into y: inout Tensor) {
        chosen.gelu(x, into: &y)
    }
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor) {
        chosen.geluBackward(dy, x, output: y, into: &dx)
    }

    public static func softmax(_ x: Tensor, temperature: Float, into p: inout Tensor) {
        chosen.softmax(x, temperature: temperature, into: &p)
    }
    public static func logSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor) {
        chosen.logSoftmax(x, temperature: temperature, into: &lp)
    }
    public static func rowEntropy(_ p: Tensor, into h: inout Tensor) {
        chosen.rowEntropy(p, into: &h)
    }
    public static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: inout Tensor) {
        chosen.rowCrossEntropy(target: t, logProbs: ls, into: &h)
    }
    public static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, gradientScale alpha: Float,
        loss h: inout Tensor, gradient dx: inout Tensor
    ) {
        chosen.softmaxCrossEntropy(
            x, temperature: temperature, target: t, gradientScale: alpha, loss: &h, gradient: &dx)
    }
    public static func l2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor) {
        chosen.l2Normalize(x, epsilon: epsilon, into: &y, norms: &norms)
    }
    public static func rowSums(_ x: Tensor, into s: inout Tensor) {
        chosen.rowSums(x, into: &s)
    }
    public static func columnSums(_ x: Tensor, accumulate: Bool, into s: inout Tensor) {
        chosen.columnSums(x, accumulate: accumulate, into: &s)
    }

    public static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        chosen.layerNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: &y, mean: &mean, rstd: &rstd)
    }
    public static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        chosen.layerNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: &dx, dWeight: &dWeight, dBias: &dBias)
    }
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        chosen.batchNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: &y, mean: &mean, rstd: &rstd)
    }
    public static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        chosen.batchNormBackward(
            dy, x, weight: weight, mean: mean, rstd: rstd, dx: &dx, dWeight: &dWeight, dBias: &dBias)
    }

    public static func emaUpdate(_ teacher: inout Tensor, toward student: Tensor, momentum: Float) {
        chosen.emaUpdate(&teacher, toward: student, momentum: momentum)
    }
    public static func adamWStep(
        _ param: inout Tensor, grad: Tensor, m: inout Tensor, v: inout Tensor, step: Int, hyper: AdamWHyper
    ) {
        chosen.adamWStep(&param, grad: grad, m: &m, v: &v, step: step, hyper: hyper)
    }
    public static func sumOfSquares(_ x: Tensor) -> Double {
        chosen.sumOfSquares(x)
    }

    public static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor
    ) {
        chosen.attention(qkv, heads: heads, scale: scale, into: &out, logSumExp: &logSumExp)
    }
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor
    ) {
        chosen.attentionBackward(
            dOut, qkv: qkv, out: out, logSumExp: logSumExp, heads: heads, scale: scale, into: &dQKV)
    }
    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor
    ) {
        chosen.attentionProbabilities(qkv, heads: heads, scale: scale, queries: queries, into: &probs)
    }
    public static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch: Int, into tokens: inout Tensor
    ) {
        chosen.patchEmbed(images, weight: weight, bias: bias, patch: patch, into: &tokens)
    }
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch: Int, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        chosen.patchEmbedBackward(dTokens, images: images, patch: patch, dWeight: &dWeight, dBias: &dBias)
    }
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor
    ) {
        chosen.resamplePositionEmbedding(table, sourceGrid: g, rows: rows, cols: cols, into: &out)
    }
    public static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: inout Tensor
    ) {
        chosen.resamplePositionEmbeddingBackward(dOut, sourceGrid: g, rows: rows, cols: cols, into: &dTable)
    }
    public static func weightNorm(_ v: Tensor, g: Tensor, into w: inout Tensor, norms: inout Tensor) {
        chosen.weightNorm(v, g: g, into: &w, norms: &norms)
    }
    public static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: inout Tensor, dG: inout Tensor
    ) {
        chosen.weightNormBackward(dW, v: v, g: g, norms: norms, dV: &dV, dG: &dG)
    }
    public static func l2NormalizeBackward(
        _ dy: Tensor, y: Tensor, norms: Tensor, epsilon: Float, into dx: inout Tensor
    ) {
        chosen.l2NormalizeBackward(dy, y: y, norms: norms, epsilon: epsilon, into: &dx)
    }
}

extension SIMDPath {
    /// The measured FMA ceiling of this path on `threads` threads, GFLOP/s (see `Peak.swift`).
    public func fmaPeak(threads: Int, iterations: Int = 20_000_000, runs: Int = 5) -> Double {
        switch self {
        case .avx2: return SIMDKernelsAVX2.fmaPeak(threads: threads, iterations: iterations, runs: runs)
        case .avx512: return SIMDKernelsAVX512.fmaPeak(threads: threads, iterations: iterations, runs: runs)
        case .avx512OnAVX2:
            return SIMDKernelsAVX512OnAVX2.fmaPeak(threads: threads, iterations: iterations, runs: runs)
        }
    }
}
