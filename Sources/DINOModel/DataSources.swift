import DINOCore
import DINOData
import Foundation

/// Resolves the `dataset` setting of a run into train and test sets.
///
/// - `fashion-mnist`: the Debian package's gzipped IDX files (default).
/// - `idx:DIR`: a folder with `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` (MNIST layout).
/// - `cifar10:DIR`: CIFAR-10's `cifar-10-batches-bin` folder.
/// - `folder:DIR`: `DIR/train/<class>/*.png` and `DIR/test/<class>/*.png`.
/// - `scenes`, `scenes:S`, `scenes:S,CLUTTER`: cluttered Fashion-MNIST scenes (``SceneGenerator``)
///   with object masks; the train split is the fixed k-NN bank (one scene per training item,
///   seed 1), the test split one scene per test item (seed 2). Training draws fresh scenes every
///   epoch instead (``sceneGenerator(_:)``).
/// - `synthetic-rgb32`, `synthetic-gray28`: seeded random images (benchmarks only: nothing to learn).
public enum DataSources {
    /// The seeds of the fixed scene sets: the k-NN bank and the test scenes.
    public static let sceneBankSeed: UInt64 = 1, sceneTestSeed: UInt64 = 2

    public static func load(_ name: String, split: Dataset.Split) throws -> Dataset {
        if let generator = try sceneGenerator(name, split: split) {
            return fixedScenes(generator, spec: name, split: split)
        }
        if name == "fashion-mnist" { return try Dataset.fashionMNIST(split: split) }
        if name.hasPrefix("idx:") {
            return try Dataset.fashionMNIST(split: split, directory: String(name.dropFirst(4)))
        }
        if name.hasPrefix("cifar10:") {
            return try Dataset.cifar10(directory: String(name.dropFirst(8)), split: split)
        }
        if name.hasPrefix("folder:") {
            return try Dataset.imageFolder(
                String(name.dropFirst(7)) + "/" + (split == .train ? "train" : "test"))
        }
        if name.hasPrefix("synthetic-") {
            return try synthetic(name, count: split == .train ? 4096 : 512, seed: split == .train ? 1 : 2)
        }
        throw DataError(
            name,
            "unknown dataset: use fashion-mnist, scenes, idx:DIR, cifar10:DIR, folder:DIR or synthetic-rgb32")
    }

    /// The fixed scenes of `generator` (made from the items of `split`): the k-NN bank or the test set.
    public static func fixedScenes(_ generator: SceneGenerator, spec: String, split: Dataset.Split) -> Dataset
    {
        generator.dataset(
            seed: split == .train ? sceneBankSeed : sceneTestSeed,
            name: "\(spec) \(split == .train ? "bank" : "test")")
    }

    /// The training split of `spec` and, for scenes, its generator: the bank is made from the
    /// generator's items, so Fashion-MNIST is read once.
    public static func training(_ spec: String) throws -> (train: Dataset, scenes: SceneGenerator?) {
        if let generator = try sceneGenerator(spec) {
            return (fixedScenes(generator, spec: spec, split: .train), generator)
        }
        return (try load(spec, split: .train), nil)
    }

    /// The scene generator of a `scenes[:S[,CLUTTER]]` spec over the Fashion-MNIST items of
    /// `split`, or nil when the spec names another dataset.
    /// - Throws: ``DataError`` naming the spec when its numbers are not whole or out of range.
    public static func sceneGenerator(_ name: String, split: Dataset.Split = .train) throws -> SceneGenerator?
    {
        guard name == "scenes" || name.hasPrefix("scenes:") else { return nil }
        var config = SceneConfig()
        if name.hasPrefix("scenes:") {
            let parts = name.dropFirst(7).split(separator: ",", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let size = Int(parts[0]),
                parts.count == 1 || Int(parts[1]) != nil
            else {
                throw DataError(
                    name,
                    "expected scenes, scenes:SIZE or scenes:SIZE,CLUTTER with whole numbers (e.g. scenes:56,8)"
                )
            }
            config.size = size
            if parts.count == 2 { config.clutter = Int(parts[1])! }
        }
        do { try config.validate(itemSize: 28) } catch let error as DataError {
            throw DataError(name, error.problem)
        }
        return try SceneGenerator(items: try Dataset.fashionMNIST(split: split), config: config)
    }

    /// Random images of the named size (`synthetic-rgb32` = 3×32×32, `synthetic-gray28` = 1×28×28).
    public static func synthetic(_ name: String, count: Int, seed: UInt64) throws -> Dataset {
        let (channels, size): (Int, Int) =
            switch name {
            case "synthetic-rgb32": (3, 32)
            case "synthetic-gray28": (1, 28)
            default: throw DataError(name, "unknown synthetic dataset (synthetic-rgb32 or synthetic-gray28)")
            }
        var rng = SplitMix64(seed: seed)
        let pixels = (0..<(count * channels * size * size)).map { _ in
            UInt8(truncatingIfNeeded: rng.next() >> 56)
        }
        let labels = (0..<count).map { $0 % 10 }
        return try Dataset(
            name: name, channels: channels, height: size, width: size, pixels: pixels, labels: labels,
            classNames: (0..<10).map(String.init))
    }
}
