import DINOCore
import DINOModel
import Foundation
import KernelCheck
import ReferenceCore
import SIMDCore
import Testing

@Suite("ViT and DINO head behaviour")
struct ModelBehaviourTests {
    @Test func shapesAndInspectionOutputs() throws {
        var vit = try ViT<ReferenceKernels>(
            ViTConfig(imageSize: 16, patchSize: 4, channels: 3, dim: 12, depth: 3, heads: 3), seed: 1)
        var rng = SplitMix64(seed: 2)
        let images = rng.uniformTensor([2, 3, 12, 20], -1, 1)  // a 3×5 grid: resampled table
        let cls = vit.forward(images)
        #expect(cls.shape == [2, 12])
        #expect(vit.lastPass == ViTPass(batch: 2, gridRows: 3, gridCols: 5))
        let attention = vit.lastBlockAttention(queries: 1)
        #expect(attention.shape == [2, 3, 1, 16])
        for row in 0..<(2 * 3) {  // each CLS row is a distribution
            let sum = attention.storage[(row * 16)..<((row + 1) * 16)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-5)
        }
        // Every token's block outputs need the full last block.
        let full = vit.forward(images, allTokens: true)
        #expect(vit.lastPass == ViTPass(batch: 2, gridRows: 3, gridCols: 5, allTokens: true))
        let outputs = vit.lastBlockOutputs(2)
        #expect(outputs.count == 2 && outputs.allSatisfy { $0.shape == [2, 16, 12] })
        for b in 0..<2 {
            #expect(Array(outputs[1].storage[(b * 16 * 12)..<(b * 16 * 12 + 12)]) == full.row(b))
        }
        for (a, b) in zip(full.storage, cls.storage) { #expect(abs(a - b) <= 1e-6) }
    }

    /// The CLS-only last block is an optimisation, not a different network: the feature and every
    /// parameter gradient match the full last block, with drop path on (the same masks drawn),
    /// on both cores, for one block (the last block is also the first) and for three.
    @Test(arguments: [1, 3]) func clsOnlyLastBlockMatchesTheFullBlock(depth: Int) throws {
        func check<K: KernelSet>(_: K.Type) throws {
            let config = ViTConfig(
                imageSize: 12, patchSize: 4, channels: 2, dim: 12, depth: depth, heads: 3, dropPathRate: 0.5)
            var rng = SplitMix64(seed: 7)
            let images = rng.uniformTensor([5, 2, 12, 12], -1, 1), dCLS = rng.uniformTensor([5, 12], -1, 1)
            var results: [(cls: Tensor, grads: [Tensor])] = []
            for allTokens in [false, true] {
                var vit = try ViT<K>(config, seed: 3)
                vit.rng = SplitMix64(seed: 11)
                let cls = vit.forward(images, training: true, allTokens: allTokens)
                vit.backward(dCLS)
                results.append((cls, vit.parameters.map(\.grad)))
            }
            for (a, b) in zip(results[0].cls.storage, results[1].cls.storage) {
                #expect(abs(a - b) <= 1e-6, "\(K.self) feature")
            }
            let names = try ViT<K>(config, seed: 3).parameters.map(\.name)
            for (i, (a, b)) in zip(results[0].grads, results[1].grads).enumerated() {
                let scale = max(1e-3, b.storage.map { abs($0) }.max() ?? 0)
                let gap = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
                #expect(gap <= 1e-5 * scale, "\(K.self) \(names[i]): max |Δ| \(gap) of \(scale)")
            }
        }
        try check(ReferenceKernels.self)
        try check(SIMDKernels.self)
    }

    @Test func positionTableIsUsedAsIsOnlyForTheTrainingGrid() throws {
        let table = Tensor(shape: [1, 17, 3], (0..<51).map { Float($0) })
        let same = ViT<ReferenceKernels>.positionEmbedding(
            table, sourceGrid: 4, height: 16, width: 16, patch: 4)
        #expect(!same.resampled && same.table.storage == table.storage)
        // 4×4 patches of a 16×16 non-square equivalent: the official code resamples when H ≠ W.
        let wide = ViT<ReferenceKernels>.positionEmbedding(
            table, sourceGrid: 4, height: 8, width: 32, patch: 4)
        #expect(wide.resampled && wide.table.shape == [17, 3])
        // Even the same grid through the resampler is not the identity (the +0.1 offset).
        var out = Tensor(shape: [17, 3])
        ReferenceKernels.resamplePositionEmbedding(table, sourceGrid: 4, rows: 4, cols: 4, into: &out)
        #expect(out != same.table)
    }

    @Test func theTeacherIsAnIndependentCopy() throws {
        let student = try tinyNetwork(ReferenceKernels.self)
        var step = DINOTrainStep(student: student)
        var rng = SplitMix64(seed: 3)
        let globals = [rng.uniformTensor([2, 2, 12, 12], -1, 1), rng.uniformTensor([2, 2, 12, 12], -1, 1)]
        let locals = [rng.uniformTensor([2, 2, 8, 8], -1, 1)]
        let before = step.teacher.stateDict.map(\.tensor)
        #expect(before == step.student.stateDict.map(\.tensor))
        let r = step.step(
            globals: globals, locals: locals,
            hyper: TrainStepHyper(lr: 1e-3, weightDecay: 0.04, teacherTemperature: 0.04, teacherMomentum: 0.9)
        )
        #expect(r.loss.isFinite && r.studentOut.shape == [6, 7] && r.teacherOut.shape == [4, 7])
        let student1 = step.student.stateDict.map(\.tensor), teacher1 = step.teacher.stateDict.map(\.tensor)
        #expect(student1 != before)
        #expect(teacher1 != before && teacher1 != student1)
        // EMA with m = 0.9 from identical starts: teacher = m·θ0 + (1 - m)·θ1, element by element,
        // in the official float32 expression (1 - m is 0.100000024 in float32, not 0.1).
        let m: Float = 0.9
        for (i, t) in teacher1.enumerated() {
            for k in 0..<t.count {
                let expected = before[i].storage[k] * m + (1 - m) * student1[i].storage[k]
                #expect(t.storage[k] == expected)
            }
        }
        // weight_g is frozen at 1 in both.
        #expect(
            step.student.head.parameters.first { $0.name == "last_layer.weight_g" }?.value.storage.allSatisfy
            { $0 == 1 } == true)
    }

    @Test func freezingTheLastLayerSkipsItEntirely() throws {
        var step = DINOTrainStep(student: try tinyNetwork(ReferenceKernels.self))
        var rng = SplitMix64(seed: 4)
        let globals = [rng.uniformTensor([2, 2, 12, 12], -1, 1), rng.uniformTensor([2, 2, 12, 12], -1, 1)]
        let v0 = step.student.head.parameters.last!.value
        _ = step.step(
            globals: globals, locals: [],
            hyper: TrainStepHyper(
                lr: 1e-2, weightDecay: 0.4, teacherTemperature: 0.04, teacherMomentum: 0.99,
                freezeLastLayer: true))
        #expect(step.student.head.parameters.last!.name == "last_layer.weight_v")
        #expect(step.student.head.parameters.last!.value == v0)  // no step, no decay
        #expect(step.adamSteps.last == 0 && step.adamSteps.first == 1)
    }

    /// The whole network on both cores from the same weights and images: the SIMD forward and
    /// backward agree with the reference to float32 accumulation error.
    @Test func referenceAndSIMDAgreeOnTheWholeNetwork() throws {
        var reference = try tinyNetwork(ReferenceKernels.self)
        var simd = try DINONetwork<SIMDKernels>(
            backbone: reference.backbone.config, head: reference.head.config, seed: 0)
        try simd.load(Dictionary(uniqueKeysWithValues: reference.stateDict.map { ($0.name, $0.tensor) }))
        let crops = NetworkGradientTests.crops(8)
        var rng = SplitMix64(seed: 9)
        let dy = rng.uniformTensor([6, 7], -1, 1)
        let a = reference.forward(crops), b = simd.forward(crops)
        reference.zeroGradients(); simd.zeroGradients()
        reference.backward(dy); simd.backward(dy)
        // Logits are cosines (|y| ≤ 1) after ~10 chained float32 layers of width ≤ 16: each
        // layer's sums differ by ≈ √16·u relative, amplified at most ×10 by LayerNorm and the
        // normalisations, so 1e-5 absolute on logits and 1e-4 relative to each gradient
        // tensor's scale leave room; an error in any op moves them by ≥ 1e-2.
        #expect(zip(a.storage, b.storage).allSatisfy { abs($0 - $1) <= 1e-5 })
        for (p, q) in zip(reference.allParameters, simd.allParameters) where p.trainable {
            let scale = Stats.maxAbs(p.grad)
            let worst = zip(p.grad.storage, q.grad.storage).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4 * scale + 1e-7, "\(p.name): max |Δgrad| \(worst), scale \(scale)")
        }
    }

    @Test func configErrorsAreExplained() {
        #expect(throws: ModelError.self) { try ViT<ReferenceKernels>(ViTConfig(dim: 10, heads: 3), seed: 0) }
        #expect(throws: ModelError.self) {
            try ViT<ReferenceKernels>(ViTConfig(imageSize: 8, patchSize: 16), seed: 0)
        }
        #expect(throws: ModelError.self) {
            try DINOHead<ReferenceKernels>(DINOHeadConfig(inDim: 4, outDim: 8, layers: 1), seed: 0)
        }
    }

    @Test func officialInitialisation() throws {
        let vit = try ViT<ReferenceKernels>(
            ViTConfig(imageSize: 32, patchSize: 8, channels: 3, dim: 64, depth: 2, heads: 2), seed: 7)
        func p(_ name: String) -> Tensor { vit.parameters.first { $0.name == name }!.value }
        // trunc-normal(0.02): std ≈ 0.02 on thousands of values, nothing beyond ±2.
        let qkv = p("blocks.0.attn.qkv.weight")
        let std = (qkv.storage.reduce(0.0) { $0 + Double($1 * $1) } / Double(qkv.count)).squareRoot()
        #expect(abs(std - 0.02) < 0.001)
        #expect(
            p("blocks.1.mlp.fc2.bias").storage.allSatisfy { $0 == 0 }
                && p("norm.weight").storage.allSatisfy { $0 == 1 })
        // The patch conv keeps PyTorch's default: uniform within ±1/√(3·8·8).
        let bound = 1 / Float(3 * 64).squareRoot()
        let conv = p("patch_embed.proj.weight")
        #expect(conv.storage.allSatisfy { abs($0) <= bound } && Stats.maxAbs(conv) > 0.9 * bound)
        let head = try DINOHead<ReferenceKernels>(
            DINOHeadConfig(inDim: 64, outDim: 100, hiddenDim: 32, bottleneckDim: 16), seed: 1)
        #expect(
            head.parameters.map(\.name) == [
                "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight",
                "mlp.4.bias", "last_layer.weight_g", "last_layer.weight_v",
            ])
        #expect(!head.parameters[6].trainable && head.parameters[6].value.shape == [100, 1])
        #expect(Stats.maxAbs(head.parameters[7].value) <= 0.25)  // U(±1/√16)
    }

    @Test func parameterGroupsFollowGetParamsGroups() throws {
        let net = try tinyNetwork(ReferenceKernels.self)
        let regularized = zip(net.parameterNames, net.allParameters).filter { $0.1.regularized }.map(\.0)
        #expect(regularized.contains("backbone.cls_token") && regularized.contains("backbone.pos_embed"))
        #expect(
            regularized.contains("backbone.patch_embed.proj.weight")
                && regularized.contains("head.last_layer.weight_v"))
        #expect(
            !regularized.contains("head.last_layer.weight_g")
                && !regularized.contains { $0.hasSuffix(".bias") })
        #expect(!regularized.contains("backbone.blocks.0.norm1.weight"))
    }

    @Test func modelParityCasesAreRegistered() {
        let ops = Set(ParityCase.modelCases.map(\.op))
        #expect(ops == ["attention", "patchEmbed", "resamplePositions", "weightNorm"])
        #expect(ParityCase.all.count > ParityCase.modelCases.count)
    }
}

@Suite("golden runner on other folders")
struct GoldenRunnerTests {
    /// Copies the shared folder without index.json (so the runner must glob) and breaks one case.
    @Test func globsAndFailsOnAWrongExpectedValue() throws {
        let folder = temporaryFolder("golden-copy")
        let fm = FileManager.default
        for sub in ["ops", "models"] {
            try fm.copyItem(atPath: goldenDirectory + "/" + sub, toPath: folder + "/" + sub)
        }
        #expect(try GoldenRunner.casePaths(in: folder).count == 21)
        // Shift one expected attention probability by 1e-3 (tolerance there: 1e-5 + 1e-4·|e|).
        let path = folder + "/ops/attention.json"
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            as! [String: Any]
        var expected = json["expected"] as! [String: Any], attn = expected["attn"] as! [String: Any]
        var data = attn["data"] as! [Double]
        data[3] += 1e-3
        attn["data"] = data; expected["attn"] = attn; json["expected"] = expected
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let broken = GoldenRunner.run(SIMDKernels.self, directory: folder, path: "ops/attention")
        #expect(!broken.passed && broken.problems.contains { $0.contains("attn[3]") }, "\(broken.problems)")
        #expect(
            broken.description.hasPrefix("ops/attention max_abs=1.0") && broken.description.hasSuffix("FAIL"))
        // A case that cannot be read is a failure printed with nan.
        try fm.removeItem(atPath: folder + "/models/vit_forward.safetensors")
        let missing = GoldenRunner.run(ReferenceKernels.self, directory: folder, path: "models/vit_forward")
        #expect(missing.description == "models/vit_forward max_abs=nan max_rel=nan FAIL")
        #expect(missing.problems.first?.contains("vit_forward.safetensors") == true)
    }

    @Test func formatMatchesTheReadme() {
        let r = GoldenResult(
            path: "ops/dino_loss", maxAbs: 2.979e-07, maxRel: 1.182e-06, passed: true, problems: [])
        #expect(r.description == "ops/dino_loss max_abs=2.979e-07 max_rel=1.182e-06 PASS")
    }
}
