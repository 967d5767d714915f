import DINOCore
import Foundation

/// A labelled image dataset held in memory: `count` images of one size as contiguous 8-bit
/// `[N, C, H, W]` storage (a quarter of the Float size: Fashion-MNIST's 60 000 training images
/// take 47 MB), labels, and class names. Pixels become Float in [0, 1] only when used.
public struct Dataset: Sendable, ImageSource {
    public var name: String
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `[N, C, H, W]` row-major, 0…255.
    public let pixels: [UInt8]
    /// One class index per image, in `0..<classCount`.
    public let labels: [Int]
    public let classNames: [String]
    /// Object masks `[N, H, W]`, 0 or 1 per pixel, when the dataset has them (scenes): what the
    /// attention's segmentation is measured against.
    public let masks: [UInt8]?

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }
    /// Values per image, C·H·W.
    public var imageSize: Int { channels * height * width }

    /// - Throws: ``DataError`` (path `name`) when the pixel count is not N·C·H·W or a label is
    ///   outside `0..<classNames.count`.
    public init(
        name: String, channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int],
        classNames: [String], masks: [UInt8]? = nil
    ) throws {
        guard channels == 1 || channels == 3 else {
            throw DataError(name, "\(channels) channels, expected 1 or 3")
        }
        guard height > 0, width > 0 else {
            throw DataError(name, "image size \(width)x\(height) must be positive")
        }
        guard pixels.count == labels.count * channels * height * width else {
            throw DataError(
                name,
                "\(pixels.count) pixel values for \(labels.count) labels of \(channels)x\(height)x\(width)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classNames.count }) {
            throw DataError(
                name, "label \(labels[bad]) of image \(bad) is outside 0..<\(classNames.count) classes")
        }
        if let masks {
            guard masks.count == labels.count * height * width else {
                throw DataError(
                    name, "\(masks.count) mask values for \(labels.count) images of \(height)x\(width)")
            }
            if let bad = masks.firstIndex(where: { $0 > 1 }) {
                throw DataError(name, "mask value \(masks[bad]) at \(bad): masks hold 0 or 1")
            }
        }
        self.name = name
        self.masks = masks
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// Image `i` as Float in [0, 1].
    public func image(_ i: Int) -> Image {
        precondition(i >= 0 && i < count, "Dataset \(name): image \(i) outside 0..<\(count)")
        var out = [Float](repeating: 0, count: imageSize)
        out.withUnsafeMutableBufferPointer { copyPixels(of: i, into: $0.baseAddress!) }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// Images `indices` as one `[n, C, H, W]` tensor in [0, 1].
    public func tensor(_ indices: [Int]) -> Tensor {
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        out.withUnsafeMutableBufferPointer { buffer in
            for (k, i) in indices.enumerated() {
                copyPixels(of: i, into: buffer.baseAddress! + k * imageSize)
            }
        }
        return Tensor(shape: [indices.count, channels, height, width], out)
    }

    /// A dataset holding only `indices` (in that order).
    public func subset(_ indices: [Int]) -> Dataset {
        var px = [UInt8]()
        px.reserveCapacity(indices.count * imageSize)
        for i in indices { px += pixels[i * imageSize..<(i + 1) * imageSize] }
        let plane = height * width
        let mk = masks.map { m in indices.flatMap { m[$0 * plane..<($0 + 1) * plane] } }
        // Already validated: the labels and sizes come from this dataset.
        return try! Dataset(
            name: name, channels: channels, height: height, width: width, pixels: px,
            labels: indices.map { labels[$0] }, classNames: classNames, masks: mk)
    }

    /// The first `n` images.
    public func prefix(_ n: Int) -> Dataset { subset(Array(0..<min(n, count))) }

    /// Per-channel mean and standard deviation of all pixel values in [0, 1] (what
    /// ``Normalization`` needs), accumulated exactly in integers.
    public func channelStatistics() -> (mean: [Double], std: [Double]) {
        var sum = [Int](repeating: 0, count: channels)
        var sumSquares = [Int](repeating: 0, count: channels)
        let plane = height * width
        pixels.withUnsafeBufferPointer { px in
            for i in 0..<count {
                for c in 0..<channels {
                    let base = i * imageSize + c * plane
                    var s = 0
                    var q = 0
                    for k in 0..<plane {
                        let v = Int(px[base + k])
                        s += v
                        q += v * v
                    }
                    sum[c] += s
                    sumSquares[c] += q
                }
            }
        }
        let n = Double(count * plane)
        let mean = sum.map { Double($0) / n / 255 }
        let std = (0..<channels).map { c in
            (Double(sumSquares[c]) / n / (255 * 255) - mean[c] * mean[c]).squareRoot()
        }
        return (mean, std)
    }

    // MARK: ImageSource

    public func channels(of index: Int) -> Int { channels }
    public func size(of index: Int) -> (width: Int, height: Int) { (width, height) }
    public func copyPixels(of index: Int, into buffer: UnsafeMutablePointer<Float>) {
        let n = imageSize
        pixels.withUnsafeBufferPointer { px in
            unitLevels.withUnsafeBufferPointer { level in
                let src = px.baseAddress! + index * n
                for k in 0..<n { buffer[k] = level[Int(src[k])] }
            }
        }
    }
}

// MARK: - MNIST-format IDX files

extension Dataset {
    public enum Split: String, Sendable, CaseIterable {
        case train, test
    }

    /// Where the Debian image keeps Fashion-MNIST.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    public static let fashionMNISTClasses = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Ankle boot",
    ]

    /// Fashion-MNIST (Xiao et al. 2017): 60 000 training or 10 000 test images, 28 × 28 gray, 10
    /// classes, from `{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz` in `directory`.
    public static func fashionMNIST(split: Split, directory: String = fashionMNISTDirectory) throws -> Dataset
    {
        let stem = split == .train ? "train" : "t10k"
        let masks = "\(directory)/\(stem)-masks-idx3-ubyte.gz"
        var dataset = try idx(
            images: "\(directory)/\(stem)-images-idx3-ubyte.gz",
            labels: "\(directory)/\(stem)-labels-idx1-ubyte.gz",
            masks: FileManager.default.fileExists(atPath: masks) ? masks : nil,
            classNames: fashionMNISTClasses)
        dataset.name =
            directory == fashionMNISTDirectory
            ? "Fashion-MNIST \(split.rawValue)" : "\(directory) \(split.rawValue)"
        return dataset
    }

    /// A pair of MNIST-format IDX files (raw or gzipped): images `[N, H, W]` and labels `[N]`,
    /// optionally masks `[N, H, W]` of 0 or 1 (the scenes' object masks).
    /// Class names default to "0", "1", … up to the largest label.
    /// - Throws: ``DataError`` for anything wrong in any file, a wrong rank, or a count or size mismatch.
    public static func idx(
        images imagesPath: String, labels labelsPath: String, masks masksPath: String? = nil,
        classNames: [String]? = nil
    )
        throws
        -> Dataset
    {
        let images = try IDXArray.read(imagesPath)
        let labels = try IDXArray.read(labelsPath)
        guard images.dimensions.count == 3 else {
            throw DataError(
                imagesPath,
                "wrong magic number for images: \(images.dimensions.count) dimensions, expected 3 (N, rows, cols)"
            )
        }
        guard labels.dimensions.count == 1 else {
            throw DataError(
                labelsPath,
                "wrong magic number for labels: \(labels.dimensions.count) dimensions, expected 1 (N)")
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw DataError(
                labelsPath,
                "label/image count mismatch: \(labels.dimensions[0]) labels for \(images.dimensions[0]) images in \(imagesPath)"
            )
        }
        var maskValues: [UInt8]?
        if let masksPath {
            let m = try IDXArray.read(masksPath)
            guard m.dimensions == images.dimensions else {
                throw DataError(
                    masksPath,
                    "masks of shape \(m.dimensions) for images of shape \(images.dimensions) in \(imagesPath)"
                )
            }
            if let bad = m.values.firstIndex(where: { $0 > 1 }) {
                throw DataError(
                    masksPath, "mask value \(m.values[bad]) at position \(bad): masks hold 0 or 1")
            }
            maskValues = m.values
        }
        let intLabels = labels.values.map(Int.init)
        let names = classNames ?? (0...(intLabels.max() ?? 0)).map(String.init)
        if let bad = intLabels.firstIndex(where: { $0 >= names.count }) {
            throw DataError(
                labelsPath, "label \(intLabels[bad]) of image \(bad) is outside 0..<\(names.count) classes")
        }
        return try Dataset(
            name: URL(fileURLWithPath: imagesPath).lastPathComponent, channels: 1,
            height: images.dimensions[1], width: images.dimensions[2], pixels: images.values,
            labels: intLabels, classNames: names, masks: maskValues)
    }
}

// MARK: - CIFAR-10 binary

extension Dataset {
    public static let cifar10Classes = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// CIFAR-10's binary version (`data_batch_1.bin` … `test_batch.bin`): records of 1 label byte
    /// then 3072 pixel bytes, R plane, G plane, B plane of 32 × 32 (already planar CHW).
    /// - Throws: ``DataError`` naming the file if it is missing, empty, not a whole number of
    ///   3073-byte records (truncated), or holds a label above 9.
    public static func cifar10(files: [String]) throws -> Dataset {
        guard !files.isEmpty else { throw DataError("CIFAR-10", "no files given") }
        let record = 1 + 3 * 32 * 32
        var pixels: [UInt8] = []
        var labels: [Int] = []
        for path in files {
            let bytes = try readBytes(path)
            guard !bytes.isEmpty else {
                throw DataError(path, "empty file, expected 3073-byte CIFAR-10 records")
            }
            guard bytes.count % record == 0 else {
                throw DataError(
                    path,
                    "truncated CIFAR-10 file: \(bytes.count) bytes is \(bytes.count / record) whole 3073-byte records and \(bytes.count % record) bytes more"
                )
            }
            pixels.reserveCapacity(pixels.count + bytes.count)
            for r in 0..<(bytes.count / record) {
                let label = Int(bytes[r * record])
                guard label < 10 else {
                    throw DataError(path, "record \(r): label \(label) is not a CIFAR-10 class (0-9)")
                }
                labels.append(label)
                pixels += bytes[(r * record + 1)..<((r + 1) * record)]
            }
        }
        return try Dataset(
            name: "CIFAR-10", channels: 3, height: 32, width: 32, pixels: pixels, labels: labels,
            classNames: cifar10Classes)
    }

    /// CIFAR-10 from its `cifar-10-batches-bin` folder: `data_batch_1…5.bin` or `test_batch.bin`.
    public static func cifar10(directory: String, split: Split) throws -> Dataset {
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        var dataset = try cifar10(files: names.map { directory + "/" + $0 })
        dataset.name = "CIFAR-10 \(split.rawValue)"
        return dataset
    }
}

// MARK: - Folders of pictures: class sub-folders (ImageFolder) or unlabelled

extension Dataset {
    /// The file names that are read as pictures: PNG and JPEG, by extension, any case.
    public static let pictureExtensions: Set<String> = ["png", "jpg", "jpeg"]

    /// torchvision's `ImageFolder` layout: `root/<class>/<picture>`, PNG or JPEG. Classes are the
    /// sub-folders in sorted order, pictures sorted by name; other files are skipped.
    /// - Parameters:
    ///   - channels: 1 or 3 converts every picture; nil keeps gray when every picture is gray and
    ///     otherwise turns all into RGB (gray repeated), as the official loader's `convert("RGB")`
    ///     does for colour data.
    ///   - size: resize every picture that is not `size × size` (the shorter side to `size`,
    ///     bilinear, then the centre: torchvision's `Resize(size)` + `CenterCrop(size)`); nil keeps
    ///     the pictures as they are, which must then share one size.
    /// - Throws: ``DataError`` for a missing root, a root without class folders, a class folder
    ///   without pictures, an unreadable file, or a size mismatch (naming the file).
    public static func imageFolder(_ root: String, channels: Int? = nil, size: Int? = nil) throws -> Dataset {
        try checkFolder(
            root, channels: channels, size: size, expecting: "a folder with one sub-folder per class")
        let fm = FileManager.default
        let classes = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &d)
                && d.boolValue
        }.sorted()
        guard !classes.isEmpty else {
            throw DataError(
                root, "empty folder: no class sub-folders (expected root/<class>/<picture>.png or .jpg)")
        }
        var stack = PictureStack(size: size)
        var labels: [Int] = []
        for (label, className) in classes.enumerated() {
            let folder = root + "/" + className
            let files = pictureFiles(in: folder, recursive: false)
            guard !files.isEmpty else {
                throw DataError(folder, "empty class folder: no .png or .jpg files")
            }
            for file in files {
                try stack.append(folder + "/" + file)
                labels.append(label)
            }
        }
        return try stack.dataset(
            name: URL(fileURLWithPath: root).lastPathComponent, channels: channels, labels: labels,
            classNames: classes)
    }

    /// Every PNG and JPEG under `root` (sub-folders included, sorted by path), without labels:
    /// the data of a self-supervised run on your own pictures. All images get label 0 of one
    /// class named "unlabelled"; `channels` and `size` as in ``imageFolder(_:channels:size:)``.
    /// - Throws: ``DataError`` for a missing or empty folder, an unreadable file or, without
    ///   `size`, pictures of different sizes.
    public static func unlabelledImages(
        _ root: String, channels: Int? = nil, size: Int? = nil
    ) throws -> Dataset {
        try checkFolder(root, channels: channels, size: size, expecting: "a folder of .png or .jpg pictures")
        let files = pictureFiles(in: root, recursive: true)
        guard !files.isEmpty else {
            throw DataError(root, "no .png or .jpg pictures in this folder or its sub-folders")
        }
        var stack = PictureStack(size: size)
        for file in files { try stack.append(root + "/" + file) }
        return try stack.dataset(
            name: URL(fileURLWithPath: root).lastPathComponent, channels: channels,
            labels: [Int](repeating: 0, count: files.count), classNames: ["unlabelled"])
    }

    private static func checkFolder(_ root: String, channels: Int?, size: Int?, expecting: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw DataError(root, "no such folder")
        }
        guard isDirectory.boolValue else { throw DataError(root, "is a file, expected \(expecting)") }
        if let channels, channels != 1 && channels != 3 {
            throw DataError(root, "channels \(channels): expected 1 or 3")
        }
        if let size, !(1...4096).contains(size) {
            throw DataError(root, "resize to \(size): expected a side from 1 to 4096 pixels")
        }
    }

    /// The pictures in `folder` (relative paths, sorted; hidden files and folders skipped).
    static func pictureFiles(in folder: String, recursive: Bool) -> [String] {
        let fm = FileManager.default
        let names: [String]
        if recursive {
            names = (fm.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? [])
                .filter { !$0.split(separator: "/").contains { $0.hasPrefix(".") } }
        } else {
            names = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
        }
        return names.filter { name in
            let ext = (name as NSString).pathExtension.lowercased()
            var d: ObjCBool = false
            return pictureExtensions.contains(ext)
                && fm.fileExists(atPath: folder + "/" + name, isDirectory: &d) && !d.boolValue
        }.sorted()
    }
}

/// Pictures read one by one, resized when asked, and packed into a ``Dataset`` at the end
/// (when the channel count of the whole set is known).
private struct PictureStack {
    let size: Int?
    var images: [(path: String, image: Image)] = []

    init(size: Int?) { self.size = size }

    mutating func append(_ path: String) throws {
        var image = try Image.read(path)
        if let size, image.width != size || image.height != size { image = image.centreSquare(size) }
        if let first = images.first?.image, image.width != first.width || image.height != first.height {
            throw DataError(
                path,
                "is \(image.width)x\(image.height), but \(images[0].path) is \(first.width)x\(first.height): "
                    + "pictures of different sizes need a resize (a dataset spec ending in @SIZE, e.g. images:DIR@64)"
            )
        }
        images.append((path, image))
    }

    func dataset(name: String, channels: Int?, labels: [Int], classNames: [String]) throws -> Dataset {
        let c = channels ?? (images.allSatisfy { $0.image.channels == 1 } ? 1 : 3)
        let first = images[0].image
        var pixels: [UInt8] = []
        pixels.reserveCapacity(images.count * c * first.width * first.height)
        for (_, picture) in images {
            let image = picture.channels == c ? picture : (c == 3 ? picture.rgb : picture.gray)
            pixels += image.pixels.map { UInt8(($0 > 0 ? ($0 < 1 ? $0 : 1) : 0) * 255 + 0.5) }
        }
        return try Dataset(
            name: name, channels: c, height: first.height, width: first.width, pixels: pixels, labels: labels,
            classNames: classNames)
    }
}
