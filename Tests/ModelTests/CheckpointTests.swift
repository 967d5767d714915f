import DINOCore
import DINOModel
import KernelCheck
import Foundation
import ReferenceCore
import Testing

/// A fresh temporary folder per test.
func temporaryFolder(_ name: String) -> String {
    let path =
        NSTemporaryDirectory() + "dino-model-tests-\(name)-\(ProcessInfo.processInfo.processIdentifier)"
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The error a throwing call raised, as a CheckpointError (nil if it did not throw one).
func checkpointError(_ body: () throws -> Void) -> CheckpointError? {
    do { try body() } catch let e as CheckpointError { return e } catch { return nil }
    return nil
}

@Suite("safetensors checkpoints with the official names")
struct CheckpointTests {
    @Test func roundTripKeepsEveryTensorAndTheOrder() throws {
        let folder = temporaryFolder("roundtrip")
        let net = try tinyNetwork(ReferenceKernels.self)
        let path = folder + "/student.safetensors"
        try net.save(to: path, metadata: ["epoch": "3"])
        let read = try Safetensors.readWithMetadata(path)
        #expect(read.tensors.map(\.name) == net.parameterNames)
        #expect(read.metadata["epoch"] == "3")
        for (a, b) in zip(read.tensors, net.stateDict) { #expect(a.tensor == b.tensor, "\(a.name)") }
        var other = try DINONetwork<ReferenceKernels>(
            backbone: net.backbone.config, head: net.head.config, seed: 99)
        #expect(other.stateDict.map(\.tensor) != net.stateDict.map(\.tensor))
        try other.load(from: path)
        #expect(other.stateDict.map(\.tensor) == net.stateDict.map(\.tensor))
        // The header is standard safetensors: 8-byte length, JSON padded to 8 bytes, F32 data.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + n) % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any]
        #expect((header?["backbone.cls_token"] as? [String: Any])?["dtype"] as? String == "F32")
    }

    @Test func theGoldenStateDictLoadsAndADDPPrefixIsStripped() throws {
        let tensors = try Safetensors.readDictionary(goldenDirectory + "/models/vit_forward.safetensors")
        let vit = ViTConfig(imageSize: 16, patchSize: 4, channels: 3, dim: 16, depth: 2, heads: 2)
        #expect(try ViTConfig.inferred(from: tensors, heads: 2) == vit)
        let headConfig = try DINOHeadConfig.inferred(from: tensors)
        #expect(headConfig == DINOHeadConfig(inDim: 16, outDim: 24, hiddenDim: 32, bottleneckDim: 8))
        var net = try DINONetwork<ReferenceKernels>(backbone: vit, head: headConfig, seed: 0)
        try net.load(Dictionary(uniqueKeysWithValues: tensors.map { ("module." + $0.key, $0.value) }))
        #expect(net.stateDict.allSatisfy { tensors[$0.name] == $0.tensor })
        // A backbone-only dict (the released *_pretrain.pth layout): bare names.
        var backbone = try ViT<ReferenceKernels>(vit, seed: 5)
        let bare = Dictionary(
            uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("backbone.") }.map {
                (String($0.key.dropFirst(9)), $0.value)
            })
        try backbone.load(bare)
        #expect(backbone.parameters.allSatisfy { tensors["backbone." + $0.name] == $0.value })
    }

    /// Weights PyTorch wrote, loaded and saved again by this library, give PyTorch's outputs:
    /// the re-saved file replaces the golden one and the `vit_forward` case still passes.
    @Test func goldenWeightsSurviveASaveByThisLibrary() throws {
        let folder = temporaryFolder("resave")
        try FileManager.default.createDirectory(atPath: folder + "/models", withIntermediateDirectories: true)
        for file in ["vit_forward.json", "vit_forward.safetensors"] {
            try FileManager.default.copyItem(
                atPath: goldenDirectory + "/models/" + file, toPath: folder + "/models/" + file)
        }
        let tensors = try Safetensors.readDictionary(folder + "/models/vit_forward.safetensors")
        var net = try DINONetwork<ReferenceKernels>(
            backbone: try ViTConfig.inferred(from: tensors, heads: 2),
            head: try DINOHeadConfig.inferred(from: tensors), seed: 3)
        try net.load(tensors)
        try net.save(
            to: folder + "/models/vit_forward.safetensors", metadata: ["source": "golden vit_forward"])
        #expect(
            try Safetensors.read(folder + "/models/vit_forward.safetensors").map(\.name) == net.parameterNames
        )
        let r = GoldenRunner.run(ReferenceKernels.self, directory: folder, path: "models/vit_forward")
        #expect(r.passed, "\(r) \(r.problems)")
    }

    @Test func stateDictErrorsNameTheTensor() throws {
        let folder = temporaryFolder("errors")
        let net = try tinyNetwork(ReferenceKernels.self)
        var target = net
        var dict = Dictionary(uniqueKeysWithValues: net.stateDict.map { ($0.name, $0.tensor) })

        dict["head.mlp.2.bias"] = nil
        var e = checkpointError { try target.load(dict) }
        #expect(e?.kind == .missingTensor && e?.tensor == "head.mlp.2.bias", "\(String(describing: e))")

        dict = Dictionary(uniqueKeysWithValues: net.stateDict.map { ($0.name, $0.tensor) })
        dict["backbone.head.weight"] = Tensor(shape: [3])
        e = checkpointError { try target.load(dict) }
        #expect(
            e?.kind == .unexpectedTensor && e?.tensor == "backbone.head.weight", "\(String(describing: e))")

        dict = Dictionary(uniqueKeysWithValues: net.stateDict.map { ($0.name, $0.tensor) })
        dict["backbone.blocks.1.attn.qkv.weight"] = Tensor(shape: [24, 9])
        e = checkpointError { try target.load(dict) }
        #expect(
            e?.kind == .wrongShape && e?.tensor == "backbone.blocks.1.attn.qkv.weight",
            "\(String(describing: e))")
        #expect(e.map { "\($0)" }?.contains("[24, 9]") == true)
        // A failed load leaves the model as it was.
        #expect(target.stateDict.map(\.tensor) == net.stateDict.map(\.tensor))

        // Through a file the path is named too.
        let path = folder + "/short.safetensors"
        try Safetensors.write(net.stateDict.filter { $0.name != "backbone.norm.bias" }, to: path)
        e = checkpointError { try target.load(from: path) }
        #expect(e?.path == path && e?.tensor == "backbone.norm.bias")
    }

    @Test func fileErrorsNameTheTensorOrTheByteOffset() throws {
        let folder = temporaryFolder("files")
        let net = try tinyNetwork(ReferenceKernels.self)
        let good = Safetensors.encode(net.stateDict)
        func readBytes(_ bytes: [UInt8]) -> CheckpointError? {
            let path = folder + "/bad.safetensors"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            return checkpointError { _ = try Safetensors.read(path) }
        }
        let bytes = [UInt8](good)
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }

        // Truncated inside the data: names the tensor whose data runs past the end, and the offset.
        var e = readBytes(Array(bytes.dropLast(10)))
        #expect(
            e?.kind == .truncated && e?.tensor == "head.last_layer.weight_v" && e?.offset == bytes.count,
            "\(String(describing: e))")
        // Truncated inside the header, and shorter than the length field.
        e = readBytes(Array(bytes.prefix(8 + n / 2)))
        #expect(e?.kind == .truncated && e?.offset == 8 + n / 2, "\(String(describing: e))")
        e = readBytes(Array(bytes.prefix(5)))
        #expect(e?.kind == .truncated && e?.offset == 0)
        // A header that is not JSON.
        var broken = bytes
        broken[8] = UInt8(ascii: "#")
        e = readBytes(broken)
        #expect(e?.kind == .badHeader && e?.offset == 8, "\(String(describing: e))")
        // A wrong dtype names the tensor.
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        let f16 = header.replacingOccurrences(
            of: "\"backbone.pos_embed\":{\"dtype\":\"F32\"", with: "\"backbone.pos_embed\":{\"dtype\":\"F16\""
        )
        #expect(f16 != header)
        e = readBytes(Array(bytes[0..<8]) + Array(f16.utf8) + Array(bytes[(8 + n)...]))
        #expect(e?.kind == .wrongDType && e?.tensor == "backbone.pos_embed", "\(String(describing: e))")
        // A missing file and an unwritable destination.
        e = checkpointError { _ = try Safetensors.read(folder + "/nope.safetensors") }
        #expect(e?.kind == .unreadable)
        #expect(FileManager.default.createFile(atPath: folder + "/file", contents: Data()))
        e = checkpointError { try net.save(to: folder + "/file/x.safetensors") }
        #expect(e?.kind == .unwritable, "\(String(describing: e))")
    }

    @Test func aFailedWriteKeepsThePreviousCheckpoint() throws {
        let folder = temporaryFolder("atomic")
        let net = try tinyNetwork(ReferenceKernels.self)
        let path = folder + "/ckpt.safetensors"
        try net.save(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // A duplicate name is refused before anything is written.
        #expect(
            checkpointError {
                try Safetensors.write([("a", Tensor(shape: [1])), ("a", Tensor(shape: [1]))], to: path)
            }?.tensor == "a")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(leftovers == ["ckpt.safetensors"])
    }
}
