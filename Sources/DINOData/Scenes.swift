import DINOCore
import Foundation

/// Cluttered scenes: one Fashion-MNIST item on an `S × S` canvas of clutter, with its exact mask.
///
/// On a bare 28-px item the object *is* the image, so "attention that finds the object" cannot
/// be seen. A scene hides the item among fragments of other items (cluttered MNIST's recipe):
///
/// 1. `clutter` fragments of `fragment × fragment` pixels, each cut at a uniform place from a
///    uniformly drawn item of the same split and pasted at a uniform place; where fragments
///    overlap the brighter pixel stays;
/// 2. the item pasted at a uniform position, its pixels replacing the canvas wherever the item
///    is > 0;
/// 3. the **mask**: the item's pixels > 0.1 (byte ≥ 26), about 12% of a 56-px canvas; the label
///    is the item's class.
///
/// Everything stays in bytes, so a scene is exact and a whole bank of 60 000 scenes takes 188 MB.
public struct SceneConfig: Sendable, Equatable, Codable {
    /// Canvas side S (56: an 8 × 8 grid of 7-px patches).
    public var size = 56
    /// Number of clutter fragments.
    public var clutter = 8
    /// Side of a clutter fragment.
    public var fragment = 8
    /// Item pixels above this value (in [0, 1]) form the object mask.
    public var maskThreshold = 0.1

    public init(size: Int = 56, clutter: Int = 8, fragment: Int = 8) {
        self.size = size
        self.clutter = clutter
        self.fragment = fragment
    }

    /// - Throws: ``DataError`` naming the setting when the canvas cannot hold an item of
    ///   `itemSize` or a fragment does not fit in an item.
    public func validate(itemSize: Int) throws {
        guard size >= itemSize else {
            throw DataError("scenes", "canvas size \(size) is smaller than the \(itemSize)-px items")
        }
        guard size <= 1024 else { throw DataError("scenes", "canvas size \(size) is above 1024") }
        guard (0...64).contains(clutter) else {
            throw DataError("scenes", "clutter \(clutter) must lie in 0...64")
        }
        guard fragment >= 1, fragment <= itemSize else {
            throw DataError("scenes", "fragment \(fragment) must lie in 1...\(itemSize) (the item size)")
        }
    }
}

/// Renders scenes from a dataset of items (any square gray items, 28 × 28 for Fashion-MNIST).
public struct SceneGenerator: Sendable {
    public let items: Dataset
    public let config: SceneConfig
    /// The smallest item byte that belongs to the mask: the first byte b with b/255 > threshold.
    public let maskByte: UInt8

    /// - Throws: ``DataError`` when the items are not square single-channel images or the
    ///   config does not fit them.
    public init(items: Dataset, config: SceneConfig = SceneConfig()) throws {
        guard items.channels == 1, items.height == items.width else {
            throw DataError(
                items.name,
                "scene items must be square gray images, got \(items.channels)x\(items.height)x\(items.width)"
            )
        }
        guard items.count > 0 else { throw DataError(items.name, "no items to make scenes of") }
        try config.validate(itemSize: items.width)
        self.items = items
        self.config = config
        var b = 0
        while b < 255 && !(Double(b) / 255 > config.maskThreshold) { b += 1 }
        maskByte = UInt8(b)
    }

    /// Scene of item `item`, drawn from `rng`: pixels `[S·S]` and mask `[S·S]` (0 or 1), bytes.
    /// The draws, in order: per fragment its source item, its cut (row, col), its place (row,
    /// col); then the item's place (row, col).
    public func render(
        item: Int, rng: inout SplitMix64, pixels: UnsafeMutablePointer<UInt8>,
        mask: UnsafeMutablePointer<UInt8>?
    ) {
        let s = config.size, n = items.width, f = config.fragment
        pixels.initialize(repeating: 0, count: s * s)
        func draw(_ bound: Int) -> Int { Int(rng.next() % UInt64(bound)) }
        items.pixels.withUnsafeBufferPointer { px in
            let all = px.baseAddress!
            for _ in 0..<config.clutter {
                let source = all + draw(items.count) * n * n
                let cy = draw(n - f + 1), cx = draw(n - f + 1)
                let dy = draw(s - f + 1), dx = draw(s - f + 1)
                for y in 0..<f {
                    for x in 0..<f {
                        let v = source[(cy + y) * n + cx + x]
                        let o = (dy + y) * s + dx + x
                        if v > pixels[o] { pixels[o] = v }
                    }
                }
            }
            let object = all + item * n * n
            let oy = draw(s - n + 1), ox = draw(s - n + 1)
            mask?.initialize(repeating: 0, count: s * s)
            for y in 0..<n {
                for x in 0..<n {
                    let v = object[y * n + x]
                    let o = (oy + y) * s + ox + x
                    if v > 0 { pixels[o] = v }
                    if v >= maskByte { mask?[o] = 1 }
                }
            }
        }
    }

    /// The fixed set of one scene per item, item `i`'s scene drawn from the stream of
    /// (`seed`, `i`): the k-NN bank (training items) or the test set (test items), with masks.
    public func dataset(seed: UInt64, name: String) -> Dataset {
        let s = config.size, plane = s * s, count = items.count
        var pixels = [UInt8](repeating: 0, count: count * plane)
        var masks = [UInt8](repeating: 0, count: count * plane)
        pixels.withUnsafeMutableBufferPointer { px in
            masks.withUnsafeMutableBufferPointer { mk in
                let p = px.baseAddress!, m = mk.baseAddress!
                let chunks = max(1, min(Threads.count, count))
                Threads.parallelFor(chunks) { c in
                    for i in (c * count / chunks)..<((c + 1) * count / chunks) {
                        var rng = SplitMix64(seed: MultiCrop.streamSeed(seed: seed, epoch: -1, index: i))
                        render(item: i, rng: &rng, pixels: p + i * plane, mask: m + i * plane)
                    }
                }
            }
        }
        // Sizes and labels come from a validated dataset.
        return try! Dataset(
            name: name, channels: 1, height: s, width: s, pixels: pixels, labels: items.labels,
            classNames: items.classNames, masks: masks)
    }

    /// Fresh scenes for training: scene `i` of `epoch` is item `i` on clutter drawn from the
    /// stream of (`seed`, `epoch`, `i`), so every epoch shows every item on new clutter at a new
    /// place, and a resumed run draws the same scenes as an uninterrupted one.
    public func source(seed: UInt64, epoch: Int) -> SceneSource {
        SceneSource(generator: self, seed: seed, epoch: epoch)
    }
}

/// The scenes of one training epoch, rendered when the crops ask for them (``ImageSource``).
public struct SceneSource: ImageSource, Sendable {
    public let generator: SceneGenerator
    public let seed: UInt64
    public let epoch: Int

    public var count: Int { generator.items.count }
    public func channels(of index: Int) -> Int { 1 }
    public func size(of index: Int) -> (width: Int, height: Int) {
        (generator.config.size, generator.config.size)
    }
    public func copyPixels(of index: Int, into buffer: UnsafeMutablePointer<Float>) {
        let plane = generator.config.size * generator.config.size
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: plane)
        defer { bytes.deallocate() }
        var rng = SplitMix64(seed: MultiCrop.streamSeed(seed: seed, epoch: epoch, index: index))
        generator.render(item: index, rng: &rng, pixels: bytes, mask: nil)
        for k in 0..<plane { buffer[k] = Float(bytes[k]) / 255 }
    }
}

extension Dataset {
    /// Writes the dataset as gzipped IDX files in the Fashion-MNIST layout:
    /// `STEM-images-idx3-ubyte.gz`, `STEM-labels-idx1-ubyte.gz` and, when it has masks,
    /// `STEM-masks-idx3-ubyte.gz` (0 or 1 per pixel), each written atomically.
    /// - Throws: ``DataError`` naming the file that cannot be written.
    public func writeIDX(directory: String, stem: String) throws {
        guard channels == 1 else {
            throw DataError(name, "IDX holds gray images only, this one has \(channels) channels")
        }
        var files: [(String, IDXArray)] = [
            ("images-idx3", IDXArray(dimensions: [count, height, width], values: pixels)),
            (
                "labels-idx1",
                IDXArray(dimensions: [count], values: labels.map { UInt8(truncatingIfNeeded: $0) })
            ),
        ]
        if let masks {
            files.append(("masks-idx3", IDXArray(dimensions: [count, height, width], values: masks)))
        }
        for (kind, array) in files {
            let path = "\(directory)/\(stem)-\(kind)-ubyte.gz"
            let bytes = Gzip.compress(array.encoded())
            do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw DataError(path, "cannot write (\(error.localizedDescription))")
            }
        }
    }
}
