import DINOCore

/// One learnable tensor under its official state-dict name, with its gradient.
///
/// Gradients accumulate (`+=`) across backward passes until ``zeroGradient()``: the student runs
/// its global and local crops through the same weights in separate passes.
public struct Parameter: Sendable {
    /// The name in the official checkpoint, relative to its module (`blocks.0.attn.qkv.weight`);
    /// ``DINONetwork`` adds the `backbone.` / `head.` prefixes.
    public let name: String
    public var value: Tensor
    public var grad: Tensor
    /// False for a frozen tensor (`last_layer.weight_g` with norm_last_layer): it gets no
    /// gradient and no optimiser step, but is saved, loaded and EMA-updated like the others.
    public var trainable: Bool

    public init(_ name: String, _ value: Tensor, trainable: Bool = true) {
        self.name = name
        self.value = value
        self.grad = Tensor(shape: value.shape)
        self.trainable = trainable
    }

    /// The official `get_params_groups`: weight decay for every trainable tensor with more than
    /// one dimension whose name does not end in `.bias` (so cls_token, pos_embed, the conv
    /// kernel and weight_v ARE decayed); biases and LayerNorm vectors are not.
    public var regularized: Bool { trainable && !name.hasSuffix(".bias") && value.shape.count > 1 }

    public mutating func zeroGradient() {
        for i in 0..<grad.count { grad.storage[i] = 0 }
    }
}

extension Array where Element == Parameter {
    /// Lends the gradients of parameters `i` and `j` to one kernel call (two `inout` elements of
    /// one array would overlap): they are moved out, updated, and moved back, never copied.
    mutating func withGradients(_ i: Int, _ j: Int, _ body: (inout Tensor, inout Tensor) -> Void) {
        var a = self[i].grad, b = self[j].grad
        self[i].grad = Tensor(shape: [0])
        self[j].grad = Tensor(shape: [0])
        body(&a, &b)
        self[i].grad = a
        self[j].grad = b
    }
}

/// Initialisers of the official code, all drawn from one SplitMix64 stream in state-dict order.
enum Initializer {
    /// `trunc_normal_(std=0.02)` (bounds ±2 absolute: effectively untruncated).
    static func truncatedNormal(_ shape: [Int], std: Float = 0.02, _ rng: inout SplitMix64) -> Tensor {
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.storage[i] = rng.truncatedNormal(std: std) }
        return t
    }

    /// PyTorch's default for Conv2d / Linear weights, `kaiming_uniform_(a=√5)`: the gain
    /// √(2/(1+5)) times √(3/fan_in) gives U(-1/√fan_in, 1/√fan_in). The default bias is the same
    /// uniform.
    static func kaimingUniform(_ shape: [Int], fanIn: Int, _ rng: inout SplitMix64) -> Tensor {
        let bound = 1 / Float(fanIn).squareRoot()
        var t = Tensor(shape: shape)
        for i in 0..<t.count { t.storage[i] = rng.uniform(-bound, bound) }
        return t
    }
}

/// A linear layer `y = x·Wᵀ + b` on the kernel core, PyTorch layout `W [out, in]`: the forward is
/// the `.nt` matmul with bias, the input gradient the `.nn` matmul, the weight gradient the `.tn`
/// matmul accumulating into the gradient, the bias gradient a column sum.
public enum Linear<K: KernelSet> {
    /// `y = x·Wᵀ + b`; x `[R, in]`, y `[R, out]` (leading dimensions may be split).
    @inline(__always)
    public static func forward(_ x: Tensor, weight: Tensor, bias: Tensor?, into y: inout Tensor) {
        K.matmul(x, weight, layout: .nt, bias: bias, accumulate: false, into: &y)
    }

    /// `dW += dyᵀ·x` and `db += Σ_rows dy`.
    @inline(__always)
    public static func parameterGradients(_ dy: Tensor, x: Tensor, dWeight: inout Tensor, dBias: inout Tensor)
    {
        K.matmul(dy, x, layout: .tn, bias: nil, accumulate: true, into: &dWeight)
        K.columnSums(dy, accumulate: true, into: &dBias)
    }

    /// `dx = dy·W` (overwritten).
    @inline(__always)
    public static func inputGradient(_ dy: Tensor, weight: Tensor, into dx: inout Tensor) {
        K.matmul(dy, weight, layout: .nn, bias: nil, accumulate: false, into: &dx)
    }
}
