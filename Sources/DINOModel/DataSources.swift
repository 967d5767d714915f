import DINOCore
import DINOData
import Foundation

/// Resolves the `dataset` setting of a run into train and test sets.
///
/// - `fashion-mnist`: the Debian package's gzipped IDX files (default).
/// - `idx:DIR`: a folder with `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]` (MNIST layout).
/// - `cifar10:DIR`: CIFAR-10's `cifar-10-batches-bin` folder.
/// - `folder:DIR`: torchvision's `ImageFolder` layout, PNG or JPEG: `DIR/train/<class>/*` and,
///   when it exists, `DIR/test/<class>/*`; or `DIR/<class>/*` (training split only). The pictures
///   must share one size unless the spec ends in `@SIZE` (`folder:DIR@64`), which resizes each
///   to SIZE×SIZE (shorter side, then the centre).
/// - `images:DIR[@SIZE]`: every PNG and JPEG under DIR, unlabelled, each resized to SIZE×SIZE
///   (default: the run's `imageSize`). No test split: k-NN is skipped, or runs on the labelled
///   dataset of `knnDataset`.
/// - `scenes`, `scenes:S`, `scenes:S,CLUTTER`: cluttered Fashion-MNIST scenes (``SceneGenerator``)
///   with object masks; the train split is the fixed k-NN bank (one scene per training item,
///   seed 1), the test split one scene per test item (seed 2). Training draws fresh scenes every
///   epoch instead (``sceneGenerator(_:)``).
/// - `synthetic-rgb32`, `synthetic-gray28`: seeded random images (benchmarks only: nothing to learn).
public enum DataSources {
    /// The seeds of the fixed scene sets: the k-NN bank and the test scenes.
    public static let sceneBankSeed: UInt64 = 1, sceneTestSeed: UInt64 = 2

    /// - Parameter imageSize: the side `images:DIR` resizes to when its spec names none (the
    ///   run's `imageSize`); nil requires `images:DIR@SIZE`.
    /// - Throws: ``DataError`` naming the spec or file; for `.test`, also when the dataset has no
    ///   test split (see ``testSplit(_:imageSize:)``, which returns nil instead).
    public static func load(_ name: String, split: Dataset.Split, imageSize: Int? = nil) throws -> Dataset {
        if let folder = try pictureFolder(name, imageSize: imageSize) {
            return try folder.load(split)
        }
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
        if name.hasPrefix("synthetic-") {
            return try synthetic(name, count: split == .train ? 4096 : 512, seed: split == .train ? 1 : 2)
        }
        throw DataError(
            name,
            "unknown dataset: use fashion-mnist, scenes, idx:DIR, cifar10:DIR, folder:DIR, images:DIR or synthetic-rgb32"
        )
    }

    /// The test split of `name`, or nil when it has none (`images:DIR`, a `folder:DIR` without
    /// `test/`).
    public static func testSplit(_ name: String, imageSize: Int? = nil) throws -> Dataset? {
        if let folder = try pictureFolder(name, imageSize: imageSize), !folder.hasTestSplit { return nil }
        return try load(name, split: .test, imageSize: imageSize)
    }

    /// A `folder:` or `images:` spec taken apart: the folder, the resize side, the layout.
    struct PictureFolder {
        var spec: String, root: String, size: Int?, labelled: Bool

        var splitRoot: (train: String, test: String?) {
            let fm = FileManager.default
            guard labelled else { return (root, nil) }
            var d: ObjCBool = false
            guard fm.fileExists(atPath: root + "/train", isDirectory: &d), d.boolValue else {
                return (root, nil)
            }
            let test = root + "/test"
            return (root + "/train", fm.fileExists(atPath: test, isDirectory: &d) && d.boolValue ? test : nil)
        }
        var hasTestSplit: Bool { splitRoot.test != nil }

        func load(_ split: Dataset.Split) throws -> Dataset {
            let (train, test) = splitRoot
            var data: Dataset
            switch (split, labelled) {
            case (.train, true): data = try Dataset.imageFolder(train, size: size)
            case (.train, false): data = try Dataset.unlabelledImages(train, size: size)
            case (.test, _):
                guard let test else {
                    throw DataError(
                        spec,
                        labelled
                            ? "no test split: \(root) has no test/ folder (give a labelled dataset for k-NN)"
                            : "unlabelled pictures have no test split (give a labelled dataset for k-NN)")
                }
                data = try Dataset.imageFolder(test, size: size)
            }
            data.name = spec + (split == .train ? "" : " test")
            return data
        }
    }

    /// `folder:DIR[@SIZE]` or `images:DIR[@SIZE]`; nil for any other spec.
    static func pictureFolder(_ name: String, imageSize: Int?) throws -> PictureFolder? {
        let labelled: Bool
        if name.hasPrefix("folder:") {
            labelled = true
        } else if name.hasPrefix("images:") {
            labelled = false
        } else {
            return nil
        }
        var root = String(name.dropFirst(7)), size: Int?
        if let at = root.lastIndex(of: "@"), !root[root.index(after: at)...].contains("/") {
            guard let s = Int(root[root.index(after: at)...]), s >= 1 else {
                throw DataError(
                    name,
                    "expected a whole number of pixels after @ (e.g. \(labelled ? "folder" : "images"):DIR@64)"
                )
            }
            size = s
            root = String(root[..<at])
        }
        guard !root.isEmpty else {
            throw DataError(name, "no folder after '\(labelled ? "folder" : "images"):'")
        }
        if !labelled && size == nil {
            guard let imageSize else {
                throw DataError(name, "say the side to resize the pictures to: images:DIR@SIZE (e.g. @64)")
            }
            size = imageSize
        }
        return PictureFolder(spec: name, root: root, size: size, labelled: labelled)
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
    public static func training(
        _ spec: String, imageSize: Int? = nil
    ) throws -> (
        train: Dataset, scenes: SceneGenerator?
    ) {
        if let generator = try sceneGenerator(spec) {
            return (fixedScenes(generator, spec: spec, split: .train), generator)
        }
        return (try load(spec, split: .train, imageSize: imageSize), nil)
    }

    /// Everything a run of `config` reads: the training images (and, for scenes, their
    /// generator), the k-NN bank when it is not the training set (`knnDataset`), and the test
    /// images (nil when there are none: the k-NN is then skipped).
    public static func run(
        _ config: TrainingConfig
    ) throws -> (
        train: Dataset, scenes: SceneGenerator?, bank: Dataset?, test: Dataset?
    ) {
        let (train, scenes) = try training(config.dataset, imageSize: config.imageSize)
        guard let knn = config.knnDataset else {
            return (train, scenes, nil, try testSplit(config.dataset, imageSize: config.imageSize))
        }
        guard let test = try testSplit(knn, imageSize: config.imageSize) else {
            throw DataError(knn, "the k-NN dataset (knnDataset) needs a test split to measure with")
        }
        return (train, scenes, try load(knn, split: .train, imageSize: config.imageSize), test)
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
