import DINOCore
import Foundation

/// Everything that can be wrong with a checkpoint, naming the file, the tensor or the byte
/// offset, so a user reads "ckpt.safetensors: tensor 'head.last_layer.weight_v': shape [4096,
/// 256] in the file, the model needs [65536, 256]" instead of a crash.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable, Equatable {
        case missingTensor, unexpectedTensor, wrongShape, wrongDType, truncated, badHeader, unreadable,
            unwritable
    }
    public var kind: Kind
    public var path: String?
    public var tensor: String?
    public var offset: Int?
    public var problem: String

    public init(
        _ kind: Kind, path: String? = nil, tensor: String? = nil, offset: Int? = nil, _ problem: String
    ) {
        self.kind = kind
        self.path = path
        self.tensor = tensor
        self.offset = offset
        self.problem = problem
    }

    public var description: String {
        var s = path.map { "\($0): " } ?? ""
        if let tensor { s += "tensor '\(tensor)': " }
        if let offset { s += "at byte offset \(offset): " }
        return s + problem
    }

    /// The same error, attributed to `path`.
    public func at(_ path: String) -> CheckpointError {
        var e = self
        if e.path == nil { e.path = path }
        return e
    }

    static func missingTensor(_ name: String, count: Int) -> CheckpointError {
        CheckpointError(
            .missingTensor, tensor: name,
            "missing from the checkpoint" + (count > 1 ? " (and \(count - 1) more tensors)" : ""))
    }

    static func unexpectedTensor(_ name: String, count: Int) -> CheckpointError {
        CheckpointError(
            .unexpectedTensor, tensor: name,
            "is not a parameter of this model"
                + (count > 1 ? " (and \(count - 1) more unexpected tensors)" : ""))
    }

    static func wrongShape(_ name: String, expected: [Int], found: [Int]) -> CheckpointError {
        CheckpointError(
            .wrongShape, tensor: name, "shape \(found) in the checkpoint, the model needs \(expected)")
    }
}

/// The safetensors format (`huggingface/safetensors`): an 8-byte little-endian header length
/// n, n bytes of JSON `{"NAME": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
/// "__metadata__": {string: string}}`, then the data buffer (offsets are relative to it). Every
/// DINO tensor is F32 but one: BatchNorm's `num_batches_tracked`, an int64 counter in PyTorch,
/// is written as I64 (shape `[]`) so that the official module loads it as it saved it; I64
/// entries are read as Float when they are whole numbers below 2^24.
public enum Safetensors {
    /// A header larger than this is not a checkpoint of ours (the format itself caps it at 100 MB).
    static let maximumHeader = 100_000_000

    /// Reads every tensor of a file, in the order of their data in the file.
    public static func read(_ path: String) throws -> [(name: String, tensor: Tensor)] {
        try readWithMetadata(path).tensors
    }

    /// Reads every tensor of a file into a dictionary.
    public static func readDictionary(_ path: String) throws -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: try read(path).map { ($0.name, $0.tensor) })
    }

    public static func readWithMetadata(
        _ path: String
    ) throws
        -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String])
    {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CheckpointError(
                .unreadable, path: path, "cannot read the file (\(error.localizedDescription))")
        }
        do { return try decode(data) } catch let e as CheckpointError { throw e.at(path) }
    }

    /// Parses a safetensors buffer.
    public static func decode(
        _ data: Data
    ) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw CheckpointError(
                .truncated, offset: 0,
                "the file has \(bytes.count) bytes, fewer than the 8-byte header length")
        }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n >= 2 && n <= maximumHeader else {
            throw CheckpointError(
                .badHeader, offset: 0, "header length \(n) is not plausible (not a safetensors file?)")
        }
        guard 8 + n <= bytes.count else {
            throw CheckpointError(
                .truncated, offset: bytes.count,
                "the \(n)-byte header starting at byte 8 runs past the end of the file (\(bytes.count) bytes)"
            )
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) } catch {
            throw CheckpointError(.badHeader, offset: 8, "the header (bytes 8..<\(8 + n)) is not valid JSON")
        }
        guard let header = json as? [String: Any] else {
            throw CheckpointError(.badHeader, offset: 8, "the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] as? [String: Any] {
            for (k, v) in m { metadata[k] = v as? String ?? "\(v)" }
        }
        let bufferStart = 8 + n
        var entries: [(name: String, shape: [Int], begin: Int, end: Int, width: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                offsets.count == 2
            else {
                throw CheckpointError(
                    .badHeader, tensor: name, offset: 8, "header entry lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" || dtype == "I64" else {
                throw CheckpointError(
                    .wrongDType, tensor: name,
                    "dtype \(dtype); only F32 (float32) tensors and I64 counters are supported")
            }
            let width = dtype == "I64" ? 8 : 4
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw CheckpointError(
                    .badHeader, tensor: name, offset: 8, "negative dimension in shape \(shape)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            let needed = shape.reduce(1, *) * width
            guard begin >= 0, end - begin == needed else {
                throw CheckpointError(
                    .badHeader, tensor: name, offset: bufferStart + max(begin, 0),
                    "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, shape \(shape) needs \(needed)"
                )
            }
            guard bufferStart + end <= bytes.count else {
                throw CheckpointError(
                    .truncated, tensor: name, offset: bufferStart + end,
                    "the data ends at byte offset \(bufferStart + end) but the file has only \(bytes.count) bytes"
                )
            }
            entries.append((name, shape, begin, end, width))
        }
        entries.sort { ($0.begin, $0.name) < ($1.begin, $1.name) }
        // In file order: F32 values by bit pattern, the I64 counters as whole-number Floats.
        var tensors: [(name: String, tensor: Tensor)] = []
        for e in entries {
            var values = [Float](repeating: 0, count: (e.end - e.begin) / e.width)
            var p = bufferStart + e.begin
            for i in values.indices {
                if e.width == 8 {
                    var v: Int64 = 0
                    for j in 0..<8 { v |= Int64(bytes[p + j]) << (8 * Int64(j)) }
                    guard v >= 0 && v < 16_777_216 else {
                        throw CheckpointError(
                            .wrongDType, tensor: e.name,
                            "I64 value \(v) is outside 0..<2^24 (not a batch counter)")
                    }
                    values[i] = Float(v)
                } else {
                    let bits =
                        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16
                        | UInt32(bytes[p + 3]) << 24
                    values[i] = Float(bitPattern: bits)
                }
                p += e.width
            }
            tensors.append((e.name, Tensor(shape: e.shape, values)))
        }
        return (tensors, metadata)
    }

    /// Encodes tensors (kept in the given order) as safetensors, header padded with spaces to a
    /// multiple of 8 bytes as the reference writer does.
    public static func encode(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]
    ) -> Data {
        var header = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            parts.append(
                "\"__metadata__\":{"
                    + metadata.sorted { $0.key < $1.key }
                    .map { "\(quote($0.key)):\(quote($0.value))" }.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, t) in tensors {
            let size = t.count * (isCounter(name) ? 8 : 4)
            parts.append(
                "\(quote(name)):{\"dtype\":\"\(isCounter(name) ? "I64" : "F32")\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],"
                    + "\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += parts.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        var out = Data(capacity: 8 + headerBytes.count + offset)
        var n = UInt64(headerBytes.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for (name, t) in tensors {
            if isCounter(name) {
                let le = t.storage.map { Int64($0).littleEndian }
                le.withUnsafeBytes { out.append(contentsOf: $0) }
            } else {
                let le = t.storage.map { $0.bitPattern.littleEndian }
                le.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// PyTorch's one integer tensor in a DINO state dict: BatchNorm's batch counter.
    static func isCounter(_ name: String) -> Bool { name.hasSuffix("num_batches_tracked") }

    /// Writes tensors atomically (a temporary file, then a rename: a crash never leaves half a
    /// checkpoint and an earlier version survives a failed write).
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String
    ) throws {
        let names = tensors.map(\.name)
        if let dup = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw CheckpointError(.unwritable, path: path, tensor: dup, "appears twice")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        do {
            try encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CheckpointError(
                .unwritable, path: path, "cannot write the checkpoint (\(error.localizedDescription))")
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension DINONetwork {
    /// Saves the state dict under the official names (`backbone.*`, `head.*`), atomically.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        var meta = metadata
        meta["format"] = meta["format"] ?? "dino-swift/1"
        try Safetensors.write(stateDict, metadata: meta, to: path)
    }

    /// Loads a safetensors state dict (official names; a `module.` prefix is stripped); every
    /// error names the file and the tensor. The network is unchanged when loading fails.
    public mutating func load(from path: String) throws {
        let tensors = try Safetensors.readDictionary(path)
        do { try load(tensors) } catch let e as CheckpointError { throw e.at(path) }
    }
}

extension ViT {
    /// Loads a backbone-only state dict, such as the released `dino_vits16_pretrain.pth`
    /// converted to safetensors (bare names `cls_token`, `blocks.0…`), or the `backbone.*`
    /// part of a full checkpoint (other tensors, e.g. `head.*`, are then ignored).
    public mutating func load(_ tensors: [String: Tensor]) throws {
        var bare: [String: Tensor] = [:]
        let prefixed = tensors.keys.contains { $0.hasPrefix("backbone.") || $0.hasPrefix("module.backbone.") }
        for (name, t) in tensors {
            var n = name.hasPrefix("module.") ? String(name.dropFirst(7)) : name
            if prefixed {
                guard n.hasPrefix("backbone.") else { continue }
                n = String(n.dropFirst(9))
            }
            bare[n] = t
        }
        for p in parameters {
            guard let t = bare[p.name] else { throw CheckpointError.missingTensor(p.name, count: 1) }
            guard t.shape == p.value.shape else {
                throw CheckpointError.wrongShape(p.name, expected: p.value.shape, found: t.shape)
            }
        }
        let known = Set(parameters.map(\.name))
        if let extra = bare.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.unexpectedTensor(
                extra, count: bare.keys.filter { !known.contains($0) }.count)
        }
        for i in parameters.indices { parameters[i].value = bare[parameters[i].name]! }
    }
}

extension ViTConfig {
    /// The backbone shape a state dict implies (`backbone.`/`module.` prefixes allowed). The
    /// head count is not stored in a checkpoint, so it is an argument (6 for ViT-S, 12 for
    /// ViT-B, 3 for ViT-Ti).
    public static func inferred(from tensors: [String: Tensor], heads: Int) throws -> ViTConfig {
        func find(_ suffix: String) throws -> Tensor {
            for key in [suffix, "backbone." + suffix, "module.backbone." + suffix] {
                if let t = tensors[key] { return t }
            }
            throw CheckpointError.missingTensor(suffix, count: 1)
        }
        let patchWeight = try find("patch_embed.proj.weight"), pos = try find("pos_embed"),
            fc1 = try find("blocks.0.mlp.fc1.weight")
        guard patchWeight.shape.count == 4 else {
            throw CheckpointError.wrongShape(
                "patch_embed.proj.weight", expected: [-1, -1, -1, -1], found: patchWeight.shape)
        }
        let dim = patchWeight.shape[0], p = patchWeight.shape[2]
        let grid = Int(Double(pos.rows - 1).squareRoot().rounded())
        guard grid * grid == pos.rows - 1 else {
            throw CheckpointError(
                .wrongShape, tensor: "pos_embed", "\(pos.rows - 1) patch rows do not form a square grid")
        }
        var depth = 0
        while tensors.keys.contains(where: { $0.hasSuffix("blocks.\(depth).norm1.weight") }) { depth += 1 }
        let config = ViTConfig(
            imageSize: grid * p, patchSize: p, channels: patchWeight.shape[1], dim: dim, depth: depth,
            heads: heads, mlpRatio: Double(fc1.shape[0]) / Double(dim))
        try config.validate()
        return config
    }
}

extension DINOHeadConfig {
    /// The head shape a state dict implies (`head.` prefix, optionally under `module.`).
    public static func inferred(from tensors: [String: Tensor]) throws -> DINOHeadConfig {
        func find(_ suffix: String) -> Tensor? {
            tensors["head." + suffix] ?? tensors["module.head." + suffix]
        }
        guard let first = find("mlp.0.weight") else {
            throw CheckpointError.missingTensor("head.mlp.0.weight", count: 1)
        }
        guard let v = find("last_layer.weight_v") else {
            throw CheckpointError.missingTensor("head.last_layer.weight_v", count: 1)
        }
        // With BatchNorm, mlp.1 is a norm (a GELU has no parameters) and Linears sit at 3i.
        let batchNorm = find("mlp.1.weight") != nil, stride = batchNorm ? 3 : 2
        var layers = 1
        while find("mlp.\(stride * layers).weight") != nil { layers += 1 }
        let g = find("last_layer.weight_g")
        // A frozen g is exactly 1 everywhere; a trained one is not.
        let normLast = g.map { $0.storage.allSatisfy { $0 == 1 } } ?? true
        return DINOHeadConfig(
            inDim: first.cols, outDim: v.rows, hiddenDim: first.rows, bottleneckDim: v.cols,
            layers: layers, normLastLayer: normLast, batchNorm: batchNorm)
    }
}
