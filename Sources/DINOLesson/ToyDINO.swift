import DINOCore
import Foundation

// A DINO small enough to train in a second, for lessons 03 (the two collapses) and 05 (the
// momentum teacher). It keeps the parts of the official head that decide the collapse physics
// (an L2-normalised bottleneck and unit-norm prototypes, so logits are cosines in [-1, 1]) and
// replaces the ViT by one linear layer with a bias. Generic over the kernel core.

/// Points drawn around `clusters` random centres in `dim` dimensions: data with structure a
/// toy DINO can discover (the labels are never shown to it; lesson 05 uses them for k-NN).
public struct ToyClusters: Sendable {
    /// `[clusters, dim]`, each centre N(0, separation²) per coordinate.
    public let centres: Tensor
    /// Standard deviation of a point around its centre.
    public let spread: Float

    public init(clusters: Int, dim: Int, separation: Float, spread: Float, rng: inout SplitMix64) {
        precondition(clusters >= 1 && dim >= 1, "ToyClusters: need ≥ 1 cluster and ≥ 1 dimension")
        centres = rng.normalTensor([clusters, dim], std: separation)
        self.spread = spread
    }

    public var clusters: Int { centres.rows }
    public var dim: Int { centres.cols }

    /// `count` points, `[count, dim]`, and the cluster each came from.
    public func sample(_ count: Int, rng: inout SplitMix64) -> (points: Tensor, labels: [Int]) {
        var points = Tensor(shape: [count, dim])
        var labels = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let c = Int(rng.next() % UInt64(clusters))
            labels[i] = c
            for j in 0..<dim { points[i, j] = centres[c, j] + spread * rng.normal() }
        }
        return (points, labels)
    }

    /// An "augmented view" of every row: the point plus fresh N(0, noise²) per coordinate, the
    /// toy's stand-in for a random crop (a different nuisance every time, same underlying point).
    public static func view(of x: Tensor, noise: Float, rng: inout SplitMix64) -> Tensor {
        var v = x
        for i in 0..<v.count { v.storage[i] += noise * rng.normal() }
        return v
    }
}

/// A linear "backbone" followed by the last two steps of `DINOHead`:
///
///     u = x·Aᵀ + b          (rows, width)     the backbone feature (k-NN uses it)
///     ê = u / ‖u‖           (rows, width)     L2-normalised bottleneck (eps 1e-12)
///     ŵ_k = w_k / ‖w_k‖     (K, width)        weight-normed prototypes, g = 1 frozen
///     z = ê·Ŵᵀ               (rows, K)         logits: cosines in [-1, 1]
///
/// Parameters are `[A, b, W]`, in that order, for the optimiser and the EMA.
public struct ToyDINOHead: Sendable {
    public var parameters: [Tensor]
    public var inputs: Int { parameters[0].cols }
    public var width: Int { parameters[0].rows }
    public var outDim: Int { parameters[2].rows }

    /// A with entries N(0, 1/inputs) (so A·x has the scale of x), b with entries N(0, biasStd²),
    /// prototypes N(0, 1) (their scale does not matter: only their directions are used).
    public init(inputs: Int, width: Int, outDim: Int, biasStd: Float, rng: inout SplitMix64) {
        let a = rng.normalTensor([width, inputs], std: 1 / Float(inputs).squareRoot())
        let b = rng.normalTensor([width], std: biasStd)
        let w = rng.normalTensor([outDim, width], std: 1)
        parameters = [a, b, w]
    }

    /// What the backward pass needs from the forward pass.
    public struct Cache: Sendable {
        public var x: Tensor, u: Tensor, uNorms: Tensor, e: Tensor
        public var wHat: Tensor, wNorms: Tensor
        /// The logits `[rows, K]`.
        public var logits: Tensor
    }

    /// Runs the network on `x` (`[rows, inputs]`).
    public func forward<K: KernelSet>(_ kernels: K.Type, _ x: Tensor) -> Cache {
        precondition(
            x.cols == inputs, "ToyDINOHead: input has \(x.cols) columns, the layer expects \(inputs)")
        let rows = x.rows
        var u = Tensor(shape: [rows, width])
        K.matmul(x, parameters[0], layout: .nt, bias: parameters[1], accumulate: false, into: &u)
        var e = Tensor(shape: [rows, width]), uNorms = Tensor(shape: [rows])
        K.l2Normalize(u, epsilon: 1e-12, into: &e, norms: &uNorms)
        var wHat = Tensor(shape: parameters[2].shape), wNorms = Tensor(shape: [outDim])
        K.l2Normalize(parameters[2], epsilon: 1e-12, into: &wHat, norms: &wNorms)
        var z = Tensor(shape: [rows, outDim])
        K.matmul(e, wHat, layout: .nt, bias: nil, accumulate: false, into: &z)
        return Cache(x: x, u: u, uNorms: uNorms, e: e, wHat: wHat, wNorms: wNorms, logits: z)
    }

    /// Gradients of the parameters, `[dA, db, dW]`, given `∂loss/∂z`.
    public func backward<K: KernelSet>(
        _ kernels: K.Type, _ cache: Cache, logitGradient dz: Tensor
    ) -> [Tensor] {
        precondition(
            dz.shape == cache.logits.shape,
            "ToyDINOHead: logit gradient \(dz.shape), logits \(cache.logits.shape)")
        // z = ê·Ŵᵀ:  dê = dz·Ŵ (rows, width),  dŴ = dzᵀ·ê (K, width)
        var de = Tensor(shape: cache.e.shape), dwHat = Tensor(shape: cache.wHat.shape)
        K.matmul(dz, cache.wHat, layout: .nn, bias: nil, accumulate: false, into: &de)
        K.matmul(dz, cache.e, layout: .tn, bias: nil, accumulate: false, into: &dwHat)
        // y = v/‖v‖ has the Jacobian (I - y yᵀ)/‖v‖: remove the radial part, divide by the norm.
        let du = Self.normalizeBackward(de, normalized: cache.e, norms: cache.uNorms)
        let dw = Self.normalizeBackward(dwHat, normalized: cache.wHat, norms: cache.wNorms)
        // u = x·Aᵀ + b:  dA = duᵀ·x (width, inputs),  db = Σ_rows du
        var da = Tensor(shape: parameters[0].shape), db = Tensor(shape: [width])
        K.matmul(du, cache.x, layout: .tn, bias: nil, accumulate: false, into: &da)
        K.columnSums(du, accumulate: false, into: &db)
        return [da, db, dw]
    }

    /// `dv_i = (dy_i - y_i·(y_i·dy_i)) / max(‖v_i‖, 1e-12)` for every row.
    static func normalizeBackward(_ dy: Tensor, normalized y: Tensor, norms: Tensor) -> Tensor {
        var dv = dy
        let rows = y.rows, cols = y.cols
        y.storage.withUnsafeBufferPointer { yp in
            dy.storage.withUnsafeBufferPointer { gp in
                dv.storage.withUnsafeMutableBufferPointer { vp in
                    for i in 0..<rows {
                        let yr = yp.baseAddress! + i * cols, gr = gp.baseAddress! + i * cols,
                            vr = vp.baseAddress! + i * cols
                        var radial: Float = 0
                        for j in 0..<cols { radial += yr[j] * gr[j] }
                        let inv = 1 / max(norms.storage[i], 1e-12)
                        for j in 0..<cols { vr[j] = (gr[j] - yr[j] * radial) * inv }
                    }
                }
            }
        }
        return dv
    }
}

/// AdamW state for a list of parameter tensors, stepping through the kernel core.
public struct ToyAdamW: Sendable {
    public var hyper: AdamWHyper
    public private(set) var step = 0
    var m: [Tensor], v: [Tensor]

    public init(for parameters: [Tensor], hyper: AdamWHyper) {
        self.hyper = hyper
        m = parameters.map { Tensor(shape: $0.shape) }
        v = parameters.map { Tensor(shape: $0.shape) }
    }

    /// One AdamW step on every tensor. `decay[i]` false exempts tensor i from weight decay (biases).
    public mutating func update<K: KernelSet>(
        _ kernels: K.Type, _ parameters: inout [Tensor], gradients: [Tensor],
        decay: [Bool]
    ) {
        precondition(
            parameters.count == gradients.count && parameters.count == m.count && decay.count == m.count,
            "ToyAdamW: \(parameters.count) parameters, \(gradients.count) gradients, \(m.count) states")
        step += 1
        for i in parameters.indices {
            var h = hyper
            if !decay[i] { h.weightDecay = 0 }
            K.adamWStep(&parameters[i], grad: gradients[i], m: &m[i], v: &v[i], step: step, hyper: h)
        }
    }
}

/// Weighted k-NN of the official `eval_knn.py` on L2-normalised features: each of the `k`
/// nearest training points (cosine similarity) votes `exp(sim/T)` for its label.
/// - Returns: the fraction of `test` rows whose prediction equals their label.
public func knnAccuracy(
    train: Tensor, trainLabels: [Int], test: Tensor, testLabels: [Int], classes: Int,
    k: Int = 20, temperature: Double = 0.07
) -> Double {
    precondition(
        train.rows == trainLabels.count && test.rows == testLabels.count && train.cols == test.cols,
        "knnAccuracy: train \(train.shape) with \(trainLabels.count) labels, test \(test.shape) with \(testLabels.count)"
    )
    func normalized(_ t: Tensor) -> [[Double]] {
        (0..<t.rows).map { i in
            let r = t.row(i).map(Double.init)
            let n = max(r.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return r.map { $0 / n }
        }
    }
    let a = normalized(train), b = normalized(test)
    let kk = min(k, a.count)
    var correct = 0
    for (i, q) in b.enumerated() {
        var sims = a.indices.map { j in (sim: zip(q, a[j]).reduce(0.0) { $0 + $1.0 * $1.1 }, j: j) }
        sims.sort { $0.sim > $1.sim || ($0.sim == $1.sim && $0.j < $1.j) }
        var votes = [Double](repeating: 0, count: classes)
        for n in sims.prefix(kk) { votes[trainLabels[n.j]] += exp(n.sim / temperature) }
        let predicted = votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!
        if predicted == testLabels[i] { correct += 1 }
    }
    return Double(correct) / Double(max(b.count, 1))
}
