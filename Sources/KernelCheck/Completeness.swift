import DINOCore
import Foundation

/// Every requirement of ``KernelSet``, by name: what "complete" means for the parity registry
/// and the benchmarks. A new requirement does not compile until ``RecordingKernels`` implements
/// it, and it cannot implement it without a case here; the completeness tests then fail, naming
/// the kernel, until a parity case and a bench case call it.
public enum KernelOp: String, CaseIterable, Sendable {
    case matmul
    case add
    case scale
    case axpy
    case addRow
    case gelu
    case geluBackward
    case softmax
    case logSoftmax
    case rowEntropy
    case rowCrossEntropy
    case softmaxCrossEntropy
    case l2Normalize
    case rowSums
    case columnSums
    case layerNorm
    case layerNormBackward
    case batchNorm
    case batchNormBackward
    case emaUpdate
    case adamWStep
    case sumOfSquares
    case attention
    case attentionBackward
    case attentionProbabilities
    case patchEmbed
    case patchEmbedBackward
    case resamplePositionEmbedding
    case resamplePositionEmbeddingBackward
    case weightNorm
    case weightNormBackward
    case l2NormalizeBackward
}

/// A ``KernelSet`` that computes nothing and records which kernels were called: run a parity
/// case or a bench case on it to learn what it covers. Outputs are left as they are (zeros for
/// fresh tensors), which is enough for every case to run to its end.
public enum RecordingKernels: KernelSet {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var calls: Set<KernelOp> = []

    static func record(_ op: KernelOp) {
        lock.lock()
        calls.insert(op)
        lock.unlock()
    }

    /// The kernels `body` calls on this core (not thread-safe against another `recording`).
    public static func recording(_ body: () -> Void) -> Set<KernelOp> {
        lock.lock()
        calls = []
        lock.unlock()
        body()
        lock.lock()
        defer { lock.unlock() }
        return calls
    }
}

extension RecordingKernels {
    public static func matmul(
        _ a: Tensor, _ b: Tensor, layout: MatmulLayout, bias: Tensor?, accumulate: Bool, into c: inout Tensor
    ) {
        record(.matmul)
    }

    public static func add(_ a: Tensor, _ b: Tensor, into c: inout Tensor) {
        record(.add)
    }
    public static func scale(_ x: Tensor, by alpha: Float, into y: inout Tensor) {
        record(.scale)
    }
    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        record(.axpy)
    }
    public static func addRow(_ x: Tensor, _ v: Tensor, scale alpha: Float, into y: inout Tensor) {
        record(.addRow)
    }
    public static func gelu(_ x: Tensor, into y: inout Tensor) {
        record(.gelu)
    }
    public static func geluBackward(_ dy: Tensor, _ x: Tensor, output y: Tensor, into dx: inout Tensor) {
        record(.geluBackward)
    }

    public static func softmax(_ x: Tensor, temperature: Float, into p: inout Tensor) {
        record(.softmax)
    }
    public static func logSoftmax(_ x: Tensor, temperature: Float, into lp: inout Tensor) {
        record(.logSoftmax)
    }
    public static func rowEntropy(_ p: Tensor, into h: inout Tensor) {
        record(.rowEntropy)
    }
    public static func rowCrossEntropy(target t: Tensor, logProbs ls: Tensor, into h: inout Tensor) {
        record(.rowCrossEntropy)
    }
    public static func softmaxCrossEntropy(
        _ x: Tensor, temperature: Float, target t: Tensor, gradientScale alpha: Float,
        loss h: inout Tensor, gradient dx: inout Tensor
    ) {
        record(.softmaxCrossEntropy)
    }
    public static func l2Normalize(_ x: Tensor, epsilon: Float, into y: inout Tensor, norms: inout Tensor) {
        record(.l2Normalize)
    }
    public static func rowSums(_ x: Tensor, into s: inout Tensor) {
        record(.rowSums)
    }
    public static func columnSums(_ x: Tensor, accumulate: Bool, into s: inout Tensor) {
        record(.columnSums)
    }

    public static func layerNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        record(.layerNorm)
    }
    public static func layerNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        record(.layerNormBackward)
    }
    public static func batchNorm(
        _ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float,
        into y: inout Tensor, mean: inout Tensor, rstd: inout Tensor
    ) {
        record(.batchNorm)
    }
    public static func batchNormBackward(
        _ dy: Tensor, _ x: Tensor, weight: Tensor, mean: Tensor, rstd: Tensor,
        dx: inout Tensor, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        record(.batchNormBackward)
    }

    public static func emaUpdate(_ teacher: inout Tensor, toward student: Tensor, momentum: Float) {
        record(.emaUpdate)
    }
    public static func adamWStep(
        _ param: inout Tensor, grad: Tensor, m: inout Tensor, v: inout Tensor, step: Int, hyper: AdamWHyper
    ) {
        record(.adamWStep)
    }
    public static func sumOfSquares(_ x: Tensor) -> Double {
        record(.sumOfSquares)
        return 0
    }

    public static func attention(
        _ qkv: Tensor, heads: Int, scale: Float, into out: inout Tensor, logSumExp: inout Tensor
    ) {
        record(.attention)
    }
    public static func attentionBackward(
        _ dOut: Tensor, qkv: Tensor, out: Tensor, logSumExp: Tensor, heads: Int, scale: Float,
        into dQKV: inout Tensor
    ) {
        record(.attentionBackward)
    }
    public static func attentionProbabilities(
        _ qkv: Tensor, heads: Int, scale: Float, queries: Int, into probs: inout Tensor
    ) {
        record(.attentionProbabilities)
    }
    public static func patchEmbed(
        _ images: Tensor, weight: Tensor, bias: Tensor, patch: Int, into tokens: inout Tensor
    ) {
        record(.patchEmbed)
    }
    public static func patchEmbedBackward(
        _ dTokens: Tensor, images: Tensor, patch: Int, dWeight: inout Tensor, dBias: inout Tensor
    ) {
        record(.patchEmbedBackward)
    }
    public static func resamplePositionEmbedding(
        _ table: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into out: inout Tensor
    ) {
        record(.resamplePositionEmbedding)
    }
    public static func resamplePositionEmbeddingBackward(
        _ dOut: Tensor, sourceGrid g: Int, rows: Int, cols: Int, into dTable: inout Tensor
    ) {
        record(.resamplePositionEmbeddingBackward)
    }
    public static func weightNorm(_ v: Tensor, g: Tensor, into w: inout Tensor, norms: inout Tensor) {
        record(.weightNorm)
    }
    public static func weightNormBackward(
        _ dW: Tensor, v: Tensor, g: Tensor, norms: Tensor, dV: inout Tensor, dG: inout Tensor
    ) {
        record(.weightNormBackward)
    }
    public static func l2NormalizeBackward(
        _ dy: Tensor, y: Tensor, norms: Tensor, epsilon: Float, into dx: inout Tensor
    ) {
        record(.l2NormalizeBackward)
    }
}
