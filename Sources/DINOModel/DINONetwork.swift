import DINOCore

/// Backbone + head, the official `MultiCropWrapper`: crops of equal resolution go through the
/// backbone as ONE batch (consecutive runs of equal size: the 2 globals, then all locals), the
/// CLS features are concatenated crop-major and the head runs once on all of them.
///
/// Parameters carry the official state-dict names: `backbone.<ViT name>` then `head.<head name>`,
/// in that order (the order of a DINO checkpoint's `student`/`teacher` dict).
public struct DINONetwork<K: KernelSet> {
    public var backbone: ViT<K>
    public var head: DINOHead<K>
    /// The backbone passes of the last forward, one per resolution group, with their rows.
    public private(set) var lastGroups: [(pass: ViTPass, rows: Range<Int>)] = []

    public init(backbone: ViT<K>, head: DINOHead<K>) {
        precondition(
            head.config.inDim == backbone.config.dim,
            "DINONetwork: head input \(head.config.inDim) ≠ backbone width \(backbone.config.dim)")
        self.backbone = backbone
        self.head = head
    }

    /// A freshly initialised network: backbone from `seed`, head from `seed + 1`.
    public init(backbone: ViTConfig, head: DINOHeadConfig, seed: UInt64) throws {
        self.init(backbone: try ViT(backbone, seed: seed), head: try DINOHead(head, seed: seed &+ 1))
    }

    // MARK: Forward and backward

    /// Head logits `[V·B, K]` of `crops` (each `[B, C, H, W]`, crop-major output rows).
    public mutating func forward(_ crops: [Tensor], training: Bool = false) -> Tensor {
        let features = backboneFeatures(crops, training: training)
        return head.forward(features)
    }

    /// The backbone's CLS features `[V·B, D]` of `crops`, grouped by resolution like
    /// `MultiCropWrapper` (runs of consecutive crops with equal size share one pass).
    public mutating func backboneFeatures(_ crops: [Tensor], training: Bool = false) -> Tensor {
        precondition(!crops.isEmpty, "DINONetwork: no crops")
        var parts: [Tensor] = []
        lastGroups = []
        var start = 0, row = 0
        while start < crops.count {
            var end = start + 1
            while end < crops.count && crops[end].shape == crops[start].shape { end += 1 }
            let batch = end - start == 1 ? crops[start] : Self.concatenateBatches(Array(crops[start..<end]))
            let cls = backbone.forward(batch, training: training)
            lastGroups.append((backbone.lastPass!, row..<(row + cls.rows)))
            row += cls.rows
            parts.append(cls)
            start = end
        }
        return parts.count == 1 ? parts[0] : Tensor.concatenateRows(parts)
    }

    /// Backward of the last ``forward(_:training:)`` for `dLogits [V·B, K]`: gradients of every
    /// trainable parameter accumulate.
    public mutating func backward(_ dLogits: Tensor) {
        let dFeatures = head.backward(dLogits)
        for group in lastGroups {
            backbone.backward(dFeatures.rowSlice(group.rows), pass: group.pass)
        }
    }

    /// Stacks image batches `[B_i, C, H, W]` of equal image size into `[ΣB_i, C, H, W]`.
    public static func concatenateBatches(_ batches: [Tensor]) -> Tensor {
        let inner = Array(batches[0].shape.dropFirst())
        precondition(
            batches.allSatisfy { Array($0.shape.dropFirst()) == inner },
            "concatenateBatches: image shapes differ \(batches.map(\.shape))")
        return Tensor(shape: [batches.reduce(0) { $0 + $1.shape[0] }] + inner, batches.flatMap(\.storage))
    }

    // MARK: Parameters by official name

    /// Every parameter's full state-dict name, in state-dict order.
    public var parameterNames: [String] {
        backbone.parameters.map { "backbone." + $0.name } + head.parameters.map { "head." + $0.name }
    }

    public var parameterCount: Int { backbone.parameterCount + head.parameterCount }

    /// Visits every parameter in state-dict order with its full name and index.
    public mutating func updateParameters(
        _ body: (_ index: Int, _ name: String, _ parameter: inout Parameter) throws -> Void
    ) rethrows {
        for i in backbone.parameters.indices {
            try body(i, "backbone." + backbone.parameters[i].name, &backbone.parameters[i])
        }
        let offset = backbone.parameters.count
        for i in head.parameters.indices {
            try body(offset + i, "head." + head.parameters[i].name, &head.parameters[i])
        }
    }

    /// All parameters in state-dict order (values and gradients share storage: no copy).
    public var allParameters: [Parameter] { backbone.parameters + head.parameters }

    public mutating func zeroGradients() {
        backbone.zeroGradients()
        head.zeroGradients()
    }

    /// The state dict: (full name, value) in state-dict order, the head's BatchNorm running
    /// statistics included (buffers: they follow their norm's bias, as in PyTorch).
    public var stateDict: [(name: String, tensor: Tensor)] {
        backbone.parameters.map { ("backbone." + $0.name, $0.value) }
            + head.stateDict.map { ("head." + $0.name, $0.tensor) }
    }

    /// Loads a state dict by name. Every parameter must be present with its exact shape and no
    /// other tensor may be there (PyTorch's `strict=True`); the error names the tensor. A
    /// `module.` prefix (DDP's student) is stripped. A BatchNorm head's running statistics are
    /// loaded too (a file without any of them, written before they were saved, keeps the
    /// initial ones). Nothing changes unless all tensors fit.
    public mutating func load(_ tensors: [String: Tensor]) throws {
        var byName: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            byName[name.hasPrefix("module.") ? String(name.dropFirst(7)) : name] = tensor
        }
        let names = parameterNames, params = allParameters
        let missing = names.filter { byName[$0] == nil }
        if !missing.isEmpty {
            throw CheckpointError.missingTensor(missing[0], count: missing.count)
        }
        let known = Set(names + head.bufferNames.map { "head." + $0 })
        if let extra = byName.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.unexpectedTensor(
                extra, count: byName.keys.filter { !known.contains($0) }.count)
        }
        for (name, p) in zip(names, params) where byName[name]!.shape != p.value.shape {
            throw CheckpointError.wrongShape(name, expected: p.value.shape, found: byName[name]!.shape)
        }
        var headBuffers: [String: Tensor] = [:]
        for (name, t) in byName where name.hasPrefix("head.") { headBuffers[String(name.dropFirst(5))] = t }
        try head.loadBuffers(headBuffers)
        updateParameters { _, name, p in p.value = byName[name]! }
    }
}
