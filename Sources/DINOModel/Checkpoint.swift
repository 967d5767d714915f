import DINOCore
import Foundation

/// Everything saved at the end of an epoch: both networks under the official state-dict names,
/// the AdamW moments, PyTorch's per-parameter step counts, the DINO centre, the logs and the
/// config. On disk, a run folder holds
///
///     RUN/config.json                     the settings (human-readable)
///     RUN/log.jsonl, RUN/epochs.jsonl     one JSON object per iteration / per epoch
///     RUN/checkpoint/teacher.safetensors  official names (backbone.*, head.*): loads in PyTorch
///     RUN/checkpoint/student.safetensors
///     RUN/checkpoint/optimizer.safetensors  m.<name>, v.<name>, adam_steps, dino_loss.center
///     RUN/checkpoint/state.json           epoch, config, logs
///
/// The checkpoint folder is written as `checkpoint.tmp` and swapped in by renames, so an
/// interrupted write never destroys the previous checkpoint.
public struct Checkpoint {
    public typealias Tensors = [(name: String, tensor: Tensor)]
    public var config: TrainingConfig
    /// The last finished epoch.
    public var epoch: Int
    public var student: Tensors
    public var teacher: Tensors
    public var optimizer: Tensors
    public var steps: [StepRecord]
    public var epochs: [EpochRecord]
    /// The evaluations taken during training (``TrainingConfig/evalsPerEpoch``).
    public var evaluations: [EvalRecord]

    public init(
        config: TrainingConfig, epoch: Int, student: Tensors, teacher: Tensors, optimizer: Tensors,
        steps: [StepRecord], epochs: [EpochRecord], evaluations: [EvalRecord] = []
    ) {
        self.evaluations = evaluations
        self.config = config
        self.epoch = epoch
        self.student = student
        self.teacher = teacher
        self.optimizer = optimizer
        self.steps = steps
        self.epochs = epochs
    }

    public func dictionary(_ part: KeyPath<Checkpoint, Tensors>) -> [String: Tensor] {
        Dictionary(self[keyPath: part].map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    }

    struct State: Codable {
        var epoch: Int
        var config: TrainingConfig
        var steps: [StepRecord]
        var epochs: [EpochRecord]
        /// Optional so that checkpoints written before it existed still load.
        var evaluations: [EvalRecord]?
    }

    /// Writes the checkpoint into `run/checkpoint`, atomically as a whole.
    public func save(run: String) throws {
        let final = run + "/checkpoint", temporary = run + "/checkpoint.tmp",
            previous = run + "/checkpoint.old"
        let fm = FileManager.default
        try Files.ensureDirectory(run)
        try? fm.removeItem(atPath: temporary)
        do { try writeFiles(into: temporary) } catch {
            try? fm.removeItem(atPath: temporary)  // a full disk keeps the last good checkpoint, and its room
            throw error
        }
        // Swap: checkpoint → checkpoint.old, checkpoint.tmp → checkpoint, drop the old one. A
        // checkpoint.old left by an interrupted swap (no checkpoint beside it) is the last good one:
        // it is only dropped once the new checkpoint is in place.
        if fm.fileExists(atPath: final) {
            try? fm.removeItem(atPath: previous)
            try fm.moveItem(atPath: final, toPath: previous)
        }
        try fm.moveItem(atPath: temporary, toPath: final)
        try? fm.removeItem(atPath: previous)
    }

    /// The four files of a checkpoint, into `temporary`.
    private func writeFiles(into temporary: String) throws {
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let configJSON = try config.encoded()
        let meta = ["format": "dino-by-hand/1", "epoch": String(epoch), "dino_config": configJSON]
        try Safetensors.write(
            teacher, metadata: meta.merging(["network": "teacher"]) { a, _ in a },
            to: temporary + "/teacher.safetensors")
        try Safetensors.write(
            student, metadata: meta.merging(["network": "student"]) { a, _ in a },
            to: temporary + "/student.safetensors")
        try Safetensors.write(optimizer, metadata: meta, to: temporary + "/optimizer.safetensors")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Files.atomicWrite(
            encoder.encode(
                State(epoch: epoch, config: config, steps: steps, epochs: epochs, evaluations: evaluations)),
            to: temporary + "/state.json")
    }

    /// The checkpoint folder of a run (or `checkpoint.old` if a swap was interrupted).
    public static func folder(run: String) throws -> String {
        for name in ["checkpoint", "checkpoint.old"]
        where FileManager.default.fileExists(atPath: run + "/" + name + "/state.json") {
            return run + "/" + name
        }
        throw TrainingError("\(run): no checkpoint found (expected \(run)/checkpoint/state.json)")
    }

    /// Loads the checkpoint of run folder `run`.
    public static func load(run: String) throws -> Checkpoint {
        let dir = try folder(run: run)
        let stateData: Data
        do { stateData = try Data(contentsOf: URL(fileURLWithPath: dir + "/state.json")) } catch {
            throw TrainingError("\(dir)/state.json: cannot read (\(error.localizedDescription))")
        }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: stateData) } catch {
            throw TrainingError("\(dir)/state.json: corrupt (\(error))")
        }
        return Checkpoint(
            config: state.config, epoch: state.epoch,
            student: try Safetensors.read(dir + "/student.safetensors"),
            teacher: try Safetensors.read(dir + "/teacher.safetensors"),
            optimizer: try Safetensors.read(dir + "/optimizer.safetensors"),
            steps: state.steps, epochs: state.epochs, evaluations: state.evaluations ?? [])
    }

    /// Teacher weights and config from a checkpoint file (`.safetensors` written by `dino
    /// train`) or a run folder (meaning its latest checkpoint).
    public static func teacher(
        at path: String
    ) throws -> (tensors: [String: Tensor], config: TrainingConfig, source: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TrainingError("\(path): no such checkpoint file or run folder")
        }
        let file = isDirectory.boolValue ? try folder(run: path) + "/teacher.safetensors" : path
        let (tensors, metadata) = try Safetensors.readWithMetadata(file)
        guard let text = metadata["dino_config"] else {
            throw TrainingError(
                "\(file): no dino_config in the safetensors metadata (not written by dino train)")
        }
        return (
            Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
            try TrainingConfig.decoded(text, source: file), file
        )
    }
}
